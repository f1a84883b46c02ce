import { expect } from 'chai';
import { Types } from 'mongoose';
import { accountSummary, dailyRun, financeFaults, settleInvoice } from '../../server/modules/finance';
import { Advance, GuaranteeLine, Invoice, JournalEntry, LedgerAccount, type AdvanceDoc, type InvoiceDoc } from '../../server/modules/finance/finance.model';
import { Notification } from '../../server/modules/notifications/notifications.model';
import { AuditEntry } from '../../server/platform/audit-log';
import { OutboxEvent } from '../../server/platform/events';
import { trusted } from '../../server/platform/mongo';
import { businessDay } from '../../server/platform/time';
import { redeliver, withLostDispatch } from '../support/events';
import { buildUser, connectSocket, nextEvent } from '../support/factories';
import { testApp, testClock } from '../support/global';
import {
  advanceDays,
  assertLedgerConsistent,
  buildDistributorOrg,
  buildGuaranteedHospital,
  createInvoice,
  financeHooks,
  relogin,
  runFinanceSweep,
  settled,
  settlementDone,
  until,
} from '../support/finance-factories';

async function reload(id: Types.ObjectId | string): Promise<InvoiceDoc> {
  return (await Invoice.findById(id).lean<InvoiceDoc>())!;
}

/** Hands facts already handled to their subscribers once more (a sweep that ran twice after a crash). */
async function deliverAgain(keys: string[]): Promise<void> {
  await OutboxEvent.updateMany({ key: trusted({ $in: keys }) }, { $set: { handled: [] }, $unset: { dispatchedAt: 1 } });
  await redeliver();
}

async function balance(key: string): Promise<number> {
  return (await LedgerAccount.findOne({ key }).lean())?.balanceFen ?? 0;
}

/** An invoice due in a few days, then the clock moved past its due date (its own job stays delayed). */
async function dueInvoice(hospitalOrgId: string, distributorOrgId: string, amountFen: number): Promise<InvoiceDoc> {
  const invoice = await createInvoice(hospitalOrgId, distributorOrgId, amountFen, { dueInDays: 2 });
  advanceDays(3);
  return invoice;
}

describe('finance: due-date settlement', function () {
  financeHooks();

  it('partial cover: pays what the account holds and advances the shortfall within the line', async () => {
    const { hospital, bank } = await buildGuaranteedHospital({ balanceFen: 30_000, limitFen: 500_000, annualRateBp: 450, maxTenorDays: 60 });
    const distributor = await buildDistributorOrg();
    const invoice = await createInvoice(hospital.org.id, distributor.id, 100_000, { dueInDays: 0 });
    const done = await settled(String(invoice._id));
    expect(done).to.include({ status: 'paid', paidFen: 100_000, paidOnTime: true });
    expect(done.settlement).to.include({ outcome: 'paid_with_advance', fromAccountFen: 30_000, advanceFen: 70_000, unpaidFen: 0 });

    const advance = await Advance.findOne({ invoiceId: invoice._id }).lean();
    expect(advance).to.include({ principalFen: 70_000, principalOutstandingFen: 70_000, annualRateBp: 450, tenorDays: 60, status: 'outstanding' });
    const summary = await accountSummary(hospital.org.id);
    expect(summary).to.include({ balanceFen: 0, principalFen: 70_000, headroomFen: 430_000 });
    // Money went hospital account / bank advance → supervised account → distributor.
    const entry = await JournalEntry.findOne({ idempotencyKey: `settle:${String(invoice._id)}` }).lean();
    expect(entry?.postings.map((p) => [p.accountKey.split(':')[0], p.amountFen])).to.deep.equal([
      ['working_capital', 30_000],
      ['bank_clearing', -30_000],
      ['advance_principal', 70_000],
      ['bank_clearing', -70_000],
      ['supervised', 100_000],
      ['invoice_receivable', -100_000],
      ['distributor_payable', 100_000],
      ['supervised', -100_000],
    ]);
    expect(await balance('supervised')).to.equal(0);
    expect(await balance(`distributor_payable:${distributor.id}:${hospital.org.id}`)).to.equal(0);
    // The bank paid 100,000 and had received 30,000 for this hospital: 70,000 lent.
    expect(await balance(`bank_clearing:${hospital.org.id}:${bank.org.id}`)).to.equal(-70_000);
    const notes = await Notification.find({ kind: 'finance.advance_made', orgId: trustedIn([hospital.org.id, bank.org.id]) }).lean();
    expect(notes).to.have.length(2);
  });

  it('goes overdue when the line cannot cover the shortfall: pays the account balance, no advance, records the fact once and notifies', async () => {
    const { hospital, bank } = await buildGuaranteedHospital({ balanceFen: 10_000, limitFen: 50_000 });
    const distributorUser = await buildUser('distributor');
    const invoice = await createInvoice(hospital.org.id, distributorUser.org.id, 100_000, { dueInDays: 0 });
    const done = await settled(String(invoice._id));
    expect(done).to.include({ status: 'overdue', paidFen: 10_000 });
    expect(done.settlement).to.include({ outcome: 'partially_paid_overdue', fromAccountFen: 10_000, advanceFen: 0, unpaidFen: 90_000 });
    expect(await Advance.countDocuments({ invoiceId: invoice._id })).to.equal(0);
    const events = await OutboxEvent.find({ key: `invoice-overdue:${String(invoice._id)}` }).lean();
    expect(events).to.have.length(1);
    expect(events[0]!.type).to.equal('finance.invoice_overdue');
    expect(events[0]!.payload).to.include({ invoiceId: String(invoice._id), orderNo: invoice.orderNo, hospitalOrgId: hospital.org.id, distributorOrgId: distributorUser.org.id, unpaidFen: 90_000 });
    for (const user of [hospital, distributorUser]) {
      expect(await Notification.countDocuments({ userId: new Types.ObjectId(user.id), kind: 'finance.invoice_overdue' }), user.role).to.equal(1);
    }
    expect(await Notification.countDocuments({ orgId: new Types.ObjectId(bank.org.id), kind: 'finance.invoice_overdue' })).to.equal(1);

    // Later the hospital deposits and pays the rest: paid, but not on time.
    const h = await relogin(hospital);
    expect((await h.api().post('/api/v1/finance/account/deposits', { amountFen: 90_000 })).status).to.equal(201);
    const paid = await h.api().post(`/api/v1/finance/invoices/${String(invoice._id)}/pay`, {});
    expect(paid.status, JSON.stringify(paid.body)).to.equal(200);
    expect(paid.body).to.include({ status: 'paid', paidFen: 100_000, paidOnTime: false });
  });

  it('tells the distributor, the hospital and the bank live when an invoice is settled with an advance', async () => {
    const { hospital, bank } = await buildGuaranteedHospital({ balanceFen: 1_000, limitFen: 100_000 });
    const distributorUser = await buildUser('distributor');
    const sockets = await Promise.all([distributorUser, hospital, bank].map((u) => connectSocket(u.token)));
    try {
      const invoice = await createInvoice(hospital.org.id, distributorUser.org.id, 6_000, { dueInDays: 2 });
      advanceDays(3);
      const [toDistributor, toHospital, toBank, advanceMade] = [
        nextEvent<{ invoiceId: string; status: string; paidFen: number }>(sockets[0]!, 'invoice:settled'),
        nextEvent<{ invoiceId: string }>(sockets[1]!, 'invoice:settled'),
        nextEvent<{ invoiceId: string }>(sockets[2]!, 'invoice:settled'),
        nextEvent<{ invoiceId: string; principalFen: number }>(sockets[2]!, 'advance:made'),
      ];
      await settleInvoice(String(invoice._id));
      expect(await toDistributor).to.include({ invoiceId: String(invoice._id), status: 'paid', paidFen: 6_000 });
      expect((await toHospital).invoiceId).to.equal(String(invoice._id));
      expect((await toBank).invoiceId).to.equal(String(invoice._id));
      expect(await advanceMade).to.include({ invoiceId: String(invoice._id), principalFen: 5_000 });
    } finally {
      for (const s of sockets) s.disconnect();
    }
  });

  it('goes overdue with nothing paid when the hospital has no bank at all', async () => {
    const hospital = await buildUser('hospital_finance');
    const distributor = await buildDistributorOrg();
    const invoice = await createInvoice(hospital.org.id, distributor.id, 7_000, { dueInDays: 0 });
    const done = await settled(String(invoice._id));
    expect(done).to.include({ status: 'overdue', paidFen: 0 });
    expect(done.settlement).to.include({ outcome: 'overdue', unpaidFen: 7_000 });
    expect(await JournalEntry.countDocuments({ invoiceId: invoice._id, kind: 'settlement' })).to.equal(0);
    expect(await OutboxEvent.countDocuments({ key: `invoice-overdue:${String(invoice._id)}` })).to.equal(1);
  });

  it('makes no advance on a suspended or an expired line', async () => {
    const suspended = await buildGuaranteedHospital({ limitFen: 1_000_000 });
    expect((await suspended.bank.api().post(`/api/v1/finance/lines/${suspended.lineId}/suspend`, { reason: '逾期未还款，暂停额度' })).status).to.equal(200);
    const expired = await buildGuaranteedHospital({ limitFen: 1_000_000 });
    await GuaranteeLine.updateOne({ _id: new Types.ObjectId(expired.lineId) }, { $set: { expiresAt: new Date(testClock.now().getTime() - 1000) } });
    const distributor = await buildDistributorOrg();
    for (const { hospital } of [suspended, expired]) {
      const invoice = await createInvoice(hospital.org.id, distributor.id, 5_000, { dueInDays: 0 });
      const done = await settled(String(invoice._id));
      expect(done.status).to.equal('overdue');
      expect(done.settlement?.advanceFen).to.equal(0);
      expect(await Advance.countDocuments({ invoiceId: invoice._id })).to.equal(0);
    }
  });

  it('never advances beyond the line: the second invoice that would exceed it goes overdue', async () => {
    const { hospital } = await buildGuaranteedHospital({ limitFen: 100_000 });
    const distributor = await buildDistributorOrg();
    const first = await createInvoice(hospital.org.id, distributor.id, 80_000, { dueInDays: 2 });
    const second = await createInvoice(hospital.org.id, distributor.id, 30_000, { dueInDays: 2 });
    advanceDays(3);
    expect((await settleInvoice(String(first._id))).state).to.equal('settled');
    expect((await settleInvoice(String(second._id))).state).to.equal('settled');
    expect((await reload(first._id)).settlement).to.include({ advanceFen: 80_000 });
    expect((await reload(second._id)).settlement).to.include({ advanceFen: 0, unpaidFen: 30_000 });
    const summary = await accountSummary(hospital.org.id);
    expect(summary).to.include({ principalFen: 80_000, headroomFen: 20_000 });
  });

  it('does nothing for an invoice that is not due yet', async () => {
    const { hospital } = await buildGuaranteedHospital({ balanceFen: 50_000 });
    const distributor = await buildDistributorOrg();
    const invoice = await createInvoice(hospital.org.id, distributor.id, 10_000, { dueInDays: 5 });
    const outcome = await settleInvoice(String(invoice._id));
    expect(outcome.state).to.equal('not_due');
    expect(await reload(invoice._id)).to.include({ status: 'open', paidFen: 0 });
    expect(await JournalEntry.countDocuments({ invoiceId: invoice._id, kind: 'settlement' })).to.equal(0);
  });

  it('settles exactly once when two settlement jobs run for one invoice at the same moment', async () => {
    const { hospital } = await buildGuaranteedHospital({ balanceFen: 20_000, limitFen: 200_000 });
    const distributor = await buildDistributorOrg();
    const invoice = await dueInvoice(hospital.org.id, distributor.id, 60_000);
    const outcomes = await Promise.all([settleInvoice(String(invoice._id)), settleInvoice(String(invoice._id)), settleInvoice(String(invoice._id))]);
    expect(outcomes.filter((o) => o.state === 'settled')).to.have.length(1);
    expect(outcomes.filter((o) => o.state === 'already')).to.have.length(2);
    expect(await JournalEntry.countDocuments({ invoiceId: invoice._id, kind: 'settlement' })).to.equal(1);
    expect(await Advance.countDocuments({ invoiceId: invoice._id })).to.equal(1);
    const done = await reload(invoice._id);
    expect(done).to.include({ status: 'paid', paidFen: 60_000 });
    expect(done.payments).to.have.length(1);
    expect(await accountSummary(hospital.org.id)).to.include({ balanceFen: 0, principalFen: 40_000 });
  });

  it('a crash right after the journal entry, inside the transaction, stores nothing; the re-run settles once', async () => {
    const { hospital } = await buildGuaranteedHospital({ balanceFen: 10_000, limitFen: 200_000 });
    const distributor = await buildDistributorOrg();
    const invoice = await dueInvoice(hospital.org.id, distributor.id, 25_000);
    financeFaults.set('settle:after-entry', () => {
      throw new Error('simulated crash after the journal entry');
    });
    let crashed = false;
    try {
      await settleInvoice(String(invoice._id));
    } catch (err) {
      crashed = /simulated crash/.test((err as Error).message);
    }
    expect(crashed).to.equal(true);
    expect(await reload(invoice._id)).to.include({ status: 'open', paidFen: 0 });
    expect(await JournalEntry.countDocuments({ invoiceId: invoice._id, kind: 'settlement' })).to.equal(0);
    expect(await Advance.countDocuments({ invoiceId: invoice._id })).to.equal(0);
    await assertLedgerConsistent();
    financeFaults.clear();
    expect((await settleInvoice(String(invoice._id))).state).to.equal('settled');
    expect((await settleInvoice(String(invoice._id))).state).to.equal('already');
    expect(await JournalEntry.countDocuments({ invoiceId: invoice._id, kind: 'settlement' })).to.equal(1);
    expect(await accountSummary(hospital.org.id)).to.include({ balanceFen: 0, principalFen: 15_000 });
  });

  it('a crash after the commit, before what follows, leaves balances whole; redelivery sends the overdue fact, the notifications and the pushes exactly once without paying twice', async () => {
    const { hospital, bank } = await buildGuaranteedHospital({ balanceFen: 1_000, limitFen: 3_000 });
    const distributorUser = await buildUser('distributor');
    const sockets = await Promise.all([hospital, distributorUser, bank].map((u) => connectSocket(u.token)));
    const pushes = sockets.map(() => [] as { invoiceId: string; status: string }[]);
    sockets.forEach((socket, i) => socket.on('invoice:settled', (p: { invoiceId: string; status: string }) => pushes[i]!.push(p)));
    try {
      const invoice = await dueInvoice(hospital.org.id, distributorUser.org.id, 9_000);
      const id = String(invoice._id);
      const mine = () => pushes.map((list) => list.filter((p) => p.invoiceId === id).length);
      // The process dies right after the settlement commits: nothing that follows has happened yet.
      expect((await withLostDispatch(() => settleInvoice(id))).state).to.equal('settled');
      const half = await reload(id);
      expect(half).to.include({ status: 'overdue', paidFen: 1_000 });
      const overdue = await OutboxEvent.findOne({ key: `invoice-overdue:${id}` }).lean<{ dispatchedAt?: Date; payload: Record<string, unknown> }>();
      expect(overdue, 'the overdue fact is committed with the settlement').to.not.equal(null);
      expect(overdue!.dispatchedAt).to.equal(undefined);
      expect(overdue!.payload).to.include({ invoiceId: id, unpaidFen: 8_000, bankOrgId: bank.org.id });
      expect(await Notification.countDocuments({ userId: new Types.ObjectId(hospital.id), kind: 'finance.invoice_overdue' })).to.equal(0);
      expect(mine()).to.deep.equal([0, 0, 0]);
      await assertLedgerConsistent();
      // A repeated job pays nothing more.
      expect((await settleInvoice(id)).state).to.equal('already');

      // After the restart the outbox sweep hands the facts over (here twice over).
      await redeliver();
      await redeliver();
      expect(await settlementDone(id)).to.equal(true);
      for (const user of [hospital, distributorUser, bank]) {
        expect(await Notification.countDocuments({ userId: new Types.ObjectId(user.id), kind: 'finance.invoice_overdue' }), user.role).to.equal(1);
      }
      await until(async () => mine().every((n) => n >= 1));
      await new Promise((r) => setTimeout(r, 300));
      expect(mine(), 'one push to the hospital, the distributor and the bank').to.deep.equal([1, 1, 1]);
      expect(pushes[0]!.find((p) => p.invoiceId === id)).to.include({ status: 'overdue' });
      // Delivered once more, the facts notify nobody twice and the pushes say the same.
      await deliverAgain([`invoice-settled:${id}`, `invoice-overdue:${id}`]);
      for (const user of [hospital, distributorUser, bank]) {
        expect(await Notification.countDocuments({ userId: new Types.ObjectId(user.id), kind: 'finance.invoice_overdue' }), user.role).to.equal(1);
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(pushes.flat().filter((p) => p.invoiceId === id).every((p) => p.status === 'overdue')).to.equal(true);
      expect(await OutboxEvent.countDocuments({ key: trusted({ $in: [`invoice-settled:${id}`, `invoice-overdue:${id}`] }) })).to.equal(2);
      expect(await JournalEntry.countDocuments({ invoiceId: invoice._id, kind: 'settlement' })).to.equal(1);
      expect((await reload(id)).payments).to.have.length(1);
      expect(await accountSummary(hospital.org.id)).to.include({ balanceFen: 0, principalFen: 0 });
    } finally {
      for (const s of sockets) s.disconnect();
    }
  });

  it('an advance whose follow-up was lost with a crash is announced, pushed and scheduled for interest exactly once on redelivery', async () => {
    const { hospital, bank } = await buildGuaranteedHospital({ balanceFen: 2_000, limitFen: 100_000, annualRateBp: 365 });
    const distributor = await buildDistributorOrg();
    const socket = await connectSocket(bank.token);
    const made: { invoiceId: string; principalFen: number }[] = [];
    socket.on('advance:made', (p: { invoiceId: string; principalFen: number }) => made.push(p));
    try {
      const invoice = await dueInvoice(hospital.org.id, distributor.id, 12_000);
      const id = String(invoice._id);
      expect((await withLostDispatch(() => settleInvoice(id))).state).to.equal('settled');
      const advance = await Advance.findOne({ invoiceId: invoice._id }).lean<AdvanceDoc>();
      expect(advance).to.include({ principalFen: 10_000, status: 'outstanding' });
      const jobId = `accrue:${String(advance!._id)}:${businessDay(advance!.advancedAt)}`;
      const queues = testApp().platform.queues;
      expect(await queues.getJob(jobId), 'no accrual scheduled before the facts are handled').to.equal(undefined);
      expect(await Notification.countDocuments({ kind: 'finance.advance_made', orgId: trustedIn([hospital.org.id, bank.org.id]) })).to.equal(0);

      await redeliver();
      await redeliver();
      const job = await queues.getJob(jobId);
      expect(job?.data).to.deep.equal({ advanceId: String(advance!._id), day: businessDay(advance!.advancedAt) });
      expect(await job!.getState()).to.equal('delayed');
      const delayed = (await queues.queue.getDelayed()).filter((j) => j.name === 'finance.accrue-advance' && (j.data as { advanceId: string }).advanceId === String(advance!._id));
      expect(delayed, 'one accrual job for the advance').to.have.length(1);
      expect(await Notification.countDocuments({ kind: 'finance.advance_made', orgId: trustedIn([hospital.org.id, bank.org.id]) })).to.equal(2);
      await until(async () => made.some((p) => p.invoiceId === id));
      await new Promise((r) => setTimeout(r, 300));
      expect(made.filter((p) => p.invoiceId === id), 'one push to the bank').to.have.length(1);
      // Delivered once more: still one accrual job and one notice each.
      await deliverAgain([`advance-made:${id}`]);
      expect((await queues.queue.getDelayed()).filter((j) => j.name === 'finance.accrue-advance' && (j.data as { advanceId: string }).advanceId === String(advance!._id))).to.have.length(1);
      expect(await Notification.countDocuments({ kind: 'finance.advance_made', orgId: trustedIn([hospital.org.id, bank.org.id]) })).to.equal(2);
      await until(async () => made.some((p) => p.invoiceId === id));
      await new Promise((r) => setTimeout(r, 300));
      expect(made.filter((p) => p.invoiceId === id)[0]).to.deep.equal({ advanceId: String(advance!._id), invoiceId: id, invoiceNo: invoice.invoiceNo, principalFen: 10_000, hospitalOrgId: hospital.org.id });
      expect(await accountSummary(hospital.org.id)).to.include({ balanceFen: 0, principalFen: 10_000 });
    } finally {
      socket.disconnect();
    }
  });

  it('a new invoice whose settlement scheduling was lost with a crash gets exactly one settlement job on redelivery', async () => {
    const { hospital } = await buildGuaranteedHospital({ balanceFen: 5_000 });
    const distributor = await buildDistributorOrg();
    const invoice = await withLostDispatch(() => createInvoice(hospital.org.id, distributor.id, 4_000, { dueInDays: 5 }));
    const id = String(invoice._id);
    const queues = testApp().platform.queues;
    expect(await queues.getJob(`invoice-settle:${id}`)).to.equal(undefined);
    await redeliver();
    await redeliver();
    const job = await queues.getJob(`invoice-settle:${id}`);
    expect(job?.data).to.deep.equal({ invoiceId: id });
    expect(await job!.getState()).to.equal('delayed');
    const settleJobs = async () => (await queues.queue.getDelayed()).filter((j) => j.name === 'finance.settle-invoice' && (j.data as { invoiceId: string }).invoiceId === id);
    expect(await settleJobs()).to.have.length(1);
    const created = (await OutboxEvent.findOne({ type: 'finance.invoice_created', 'payload.invoiceId': id }).lean<{ key: string }>())!;
    await deliverAgain([created.key]);
    expect(await settleJobs(), 'still one settlement job').to.have.length(1);
    expect(await OutboxEvent.findOne({ type: 'finance.invoice_created', 'payload.invoiceId': id }, { dispatchedAt: 1 }).lean<{ dispatchedAt?: Date }>()).to.have.property('dispatchedAt');
  });

  it('a settlement scheduled on a late redelivery waits for the invoice\'s due date as stored then, not the one in the event; a paid invoice gets none', async () => {
    const { hospital } = await buildGuaranteedHospital({ balanceFen: 50_000 });
    const distributor = await buildDistributorOrg();
    const queues = testApp().platform.queues;
    // The subscriber's first delivery is lost (Redis down), and the due date moves before it is retried.
    const moved = await withLostDispatch(() => createInvoice(hospital.org.id, distributor.id, 4_000, { dueInDays: 30 }));
    const paid = await withLostDispatch(() => createInvoice(hospital.org.id, distributor.id, 5_000, { dueInDays: 30 }));
    const newDueAt = new Date(testClock.now().getTime() + 86_400_000);
    await Invoice.updateOne({ _id: moved._id }, { $set: { dueAt: newDueAt } });
    await Invoice.updateOne({ _id: paid._id }, { $set: { status: 'paid', paidFen: 5_000 } });
    const before = testClock.now().getTime();
    await redeliver();
    const after = testClock.now().getTime();
    const job = await queues.getJob(`invoice-settle:${String(moved._id)}`);
    expect(await job!.getState()).to.equal('delayed');
    // BullMQ's delay is the wait from enqueueing on the business clock: one day, not thirty.
    expect(job!.opts.delay).to.be.within(newDueAt.getTime() - after, newDueAt.getTime() - before);
    expect(await queues.getJob(`invoice-settle:${String(paid._id)}`), 'no settlement job for a paid invoice').to.equal(undefined);
  });

  it('an invoice whose settlement job was lost (Redis emptied) is settled by the worker sweep after its due date, exactly once', async () => {
    const { hospital } = await buildGuaranteedHospital({ balanceFen: 40_000 });
    const distributor = await buildDistributorOrg();
    const invoice = await createInvoice(hospital.org.id, distributor.id, 15_000, { dueInDays: 2 });
    const id = String(invoice._id);
    const queues = testApp().platform.queues;
    await until(async () => Boolean(await queues.getJob(`invoice-settle:${id}`)));
    await (await queues.getJob(`invoice-settle:${id}`))!.remove();
    // Not due yet: the sweep leaves it alone.
    await runFinanceSweep();
    expect(await queues.getJob(`invoice-settle:${id}`)).to.equal(undefined);
    expect(await reload(id)).to.include({ status: 'open', paidFen: 0 });

    advanceDays(3);
    await runFinanceSweep();
    await runFinanceSweep();
    const done = await settled(id);
    expect(done).to.include({ status: 'paid', paidFen: 15_000, paidOnTime: true });
    expect(done.payments).to.have.length(1);
    expect(done.payments[0]!.at.getTime()).to.equal(done.dueAt.getTime());
    await runFinanceSweep();
    expect(await JournalEntry.countDocuments({ invoiceId: invoice._id, kind: 'settlement' })).to.equal(1);
    expect(await OutboxEvent.countDocuments({ key: `invoice-settled:${id}` })).to.equal(1);
    expect(await AuditEntry.countDocuments({ action: 'finance.invoice.settle', targetId: id })).to.equal(1);
    expect(await accountSummary(hospital.org.id)).to.include({ balanceFen: 25_000 });
    await assertLedgerConsistent();
  });

  it('the daily run sends a due invoice whose job is still waiting to the worker, which settles it', async () => {
    const { hospital } = await buildGuaranteedHospital({ balanceFen: 40_000 });
    const distributor = await buildDistributorOrg();
    const invoice = await createInvoice(hospital.org.id, distributor.id, 15_000, { dueInDays: 3 });
    advanceDays(4);
    const result = await dailyRun('2099-01-02');
    expect(result.settlements).to.be.at.least(1);
    const done = await settled(String(invoice._id));
    expect(done).to.include({ status: 'paid', paidFen: 15_000, paidOnTime: true });
    await until(async () => (await accountSummary(hospital.org.id)).balanceFen === 25_000);
    expect(testClock.now().getTime()).to.be.greaterThan(done.dueAt.getTime());
  });
});

function trustedIn(ids: string[]) {
  return trusted({ $in: ids.map((id) => new Types.ObjectId(id)) });
}
