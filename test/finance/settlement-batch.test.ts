import { expect } from 'chai';
import { Types } from 'mongoose';
import { accountSummary, financeFaults, settleDueInvoices, settleInvoice, SETTLEMENT_BATCH } from '../../server/modules/finance';
import { Advance, Invoice, JournalEntry, type InvoiceDoc } from '../../server/modules/finance/finance.model';
import { Notification } from '../../server/modules/notifications/notifications.model';
import { AuditEntry } from '../../server/platform/audit-log';
import { OutboxEvent } from '../../server/platform/events';
import { trusted } from '../../server/platform/mongo';
import { buildUser } from '../support/factories';
import { testApp, testClock } from '../support/global';
import { advanceDays, buildDistributorOrg, buildGuaranteedHospital, createInvoice, factsHandled, financeHooks, holdFinanceSweep, settlementDone, until } from '../support/finance-factories';

const ids = (invoices: InvoiceDoc[]) => invoices.map((i) => String(i._id));

async function reloadAll(invoices: InvoiceDoc[]): Promise<InvoiceDoc[]> {
  const rows = await Invoice.find({ _id: trusted({ $in: invoices.map((i) => i._id) }) }).lean<InvoiceDoc[]>();
  return invoices.map((i) => rows.find((r) => String(r._id) === String(i._id))!);
}

/** Invoices due in two days (their jobs stay delayed), in the order given; then the clock passes their due date. */
async function dueInvoices(hospitalOrgId: string, distributorOrgId: string, amounts: number[]): Promise<InvoiceDoc[]> {
  const invoices: InvoiceDoc[] = [];
  for (const amount of amounts) invoices.push(await createInvoice(hospitalOrgId, distributorOrgId, amount, { dueInDays: 2 }));
  await factsHandled();
  advanceDays(3);
  return invoices;
}

async function settleJobOf(invoiceId: string) {
  return testApp().platform.queues.getJob(`invoice-settle:${invoiceId}`);
}

describe('finance: due-date settlement in batches', function () {
  financeHooks();

  it('one job settles every due invoice of the hospital in one unit of work, soonest due first, exactly as one at a time would', async () => {
    // 30,000 in the account and 50,000 of line: 20,000 from the account; 25,000 = 10,000 + 15,000 advanced;
    // 30,000 advanced (line used 45,000); 9,000 cannot be advanced (5,000 left): overdue.
    const { hospital, bank } = await buildGuaranteedHospital({ balanceFen: 30_000, limitFen: 50_000 });
    const distributorUser = await buildUser('distributor');
    const invoices = await dueInvoices(hospital.org.id, distributorUser.org.id, [20_000, 25_000, 30_000, 9_000]);
    const notDue = await createInvoice(hospital.org.id, distributorUser.org.id, 1_000, { dueInDays: 5 });
    for (const id of ids(invoices)) expect(await settleJobOf(id), 'a delayed job per invoice').to.not.equal(undefined);

    const outcome = await settleDueInvoices(String(invoices[1]!._id));
    expect(outcome.state).to.equal('settled');
    const after = await reloadAll(invoices);
    expect(after.map((i) => i.settlement?.outcome)).to.deep.equal(['paid_from_account', 'paid_with_advance', 'paid_with_advance', 'overdue']);
    expect(after.map((i) => [i.settlement?.fromAccountFen, i.settlement?.advanceFen, i.settlement?.unpaidFen])).to.deep.equal([
      [20_000, 0, 0],
      [10_000, 15_000, 0],
      [0, 30_000, 0],
      [0, 0, 9_000],
    ]);
    expect(after.map((i) => i.status)).to.deep.equal(['paid', 'paid', 'paid', 'overdue']);
    // One unit of work: every invoice settled at the same instant, each with its own entry, audit entry and facts.
    expect(new Set(after.map((i) => i.settledAt!.getTime())).size).to.equal(1);
    expect(await JournalEntry.countDocuments({ invoiceId: trusted({ $in: invoices.map((i) => i._id) }), kind: 'settlement' })).to.equal(3);
    expect(await AuditEntry.countDocuments({ action: 'finance.invoice.settle', targetId: trusted({ $in: ids(invoices) }) })).to.equal(4);
    expect(await Advance.countDocuments({ invoiceId: trusted({ $in: invoices.map((i) => i._id) }) })).to.equal(2);
    expect(await OutboxEvent.countDocuments({ key: trusted({ $in: ids(invoices).map((id) => `invoice-settled:${id}`) }) })).to.equal(4);
    expect(await accountSummary(hospital.org.id)).to.include({ balanceFen: 0, principalFen: 45_000, headroomFen: 5_000 });
    expect((await Invoice.findById(notDue._id).lean<InvoiceDoc>())!.status, 'an invoice not yet due is left alone').to.equal('open');

    // The other invoices' jobs had nothing left to do and were dropped; this job's own is the queue's to finish.
    for (const id of ids(invoices)) {
      if (id === String(invoices[1]!._id)) continue;
      expect(await settleJobOf(id), 'job dropped').to.equal(undefined);
    }
    expect(await settleJobOf(String(notDue._id))).to.not.equal(undefined);

    // The follow-up of the batch: each fact handled once (notifications, advances announced).
    await until(async () => (await Promise.all(ids(invoices).map(settlementDone))).every(Boolean));
    expect(await Notification.countDocuments({ kind: 'finance.advance_made', orgId: trusted({ $in: [new Types.ObjectId(hospital.org.id), new Types.ObjectId(bank.org.id)] }) })).to.equal(4);
    expect(await Notification.countDocuments({ kind: 'finance.invoice_overdue', userId: new Types.ObjectId(distributorUser.id) })).to.equal(1);
    // Run again (a job left behind, a redelivered daily run): nothing more happens.
    for (const id of ids(invoices)) expect((await settleDueInvoices(id)).state).to.equal('already');
    expect(await JournalEntry.countDocuments({ invoiceId: trusted({ $in: invoices.map((i) => i._id) }), kind: 'settlement' })).to.equal(3);
  });

  it(`takes at most ${SETTLEMENT_BATCH} invoices in one unit of work, soonest due first, and only those of the job's hospital`, async () => {
    const { hospital } = await buildGuaranteedHospital({ balanceFen: 1_000_000 });
    const other = await buildGuaranteedHospital({ balanceFen: 1_000_000 });
    const distributor = await buildDistributorOrg();
    // More due invoices than one batch holds, inserted directly with no jobs (the ledger stays whole:
    // a settlement entry balances on its own).
    const dueAt = new Date(testClock.now().getTime() - 86_400_000);
    const rawInvoice = (hospitalOrgId: string, n: number) => {
      const _id = new Types.ObjectId();
      return {
        _id,
        invoiceNo: `FPT${String(_id).slice(-12).toUpperCase()}`,
        acceptanceKey: `batch-test-${String(_id)}`,
        orderId: new Types.ObjectId(),
        orderNo: `POT${String(_id).slice(-8)}`,
        hospitalOrgId: new Types.ObjectId(hospitalOrgId),
        distributorOrgId: new Types.ObjectId(distributor.id),
        lines: [{ drugId: new Types.ObjectId(), drugName: '注射用尿激酶', quantity: 1, unitPriceFen: 100, amountFen: 100 }],
        amountFen: 100,
        paidFen: 0,
        acceptedAt: new Date(dueAt.getTime() - 30 * 86_400_000),
        dueAt: new Date(dueAt.getTime() + n * 1000),
        paymentTermDays: 30,
        status: 'open',
        payments: [],
        createdAt: testClock.now(),
      };
    };
    const mine = Array.from({ length: SETTLEMENT_BATCH + 5 }, (_, n) => rawInvoice(hospital.org.id, n));
    const theirs = rawInvoice(other.hospital.org.id, 0);
    // NOTE: the worker's sweep, on its 30 s timer, would queue jobs for these due invoices and settle
    // some of them alongside the calls below.
    const sweep = await holdFinanceSweep();
    try {
      await Invoice.insertMany([...mine, theirs]);
      const last = mine[mine.length - 1]!;

      expect((await settleDueInvoices(String(last._id))).state).to.equal('settled');
      const paid = await Invoice.find({ _id: trusted({ $in: mine.map((i) => i._id) }), status: 'paid' }, { _id: 1 }).lean();
      expect(paid).to.have.length(SETTLEMENT_BATCH);
      const paidIds = new Set(paid.map((i) => String(i._id)));
      expect(paidIds.has(String(last._id)), "the job's own invoice").to.equal(true);
      expect(mine.slice(0, SETTLEMENT_BATCH - 1).every((i) => paidIds.has(String(i._id))), 'the soonest due of the others').to.equal(true);
      expect((await Invoice.findById(theirs._id).lean<InvoiceDoc>())!.status, "another hospital's invoice").to.equal('open');

      expect((await settleDueInvoices(String(mine[SETTLEMENT_BATCH]!._id))).state).to.equal('settled');
      expect(await Invoice.countDocuments({ _id: trusted({ $in: mine.map((i) => i._id) }), status: 'paid' })).to.equal(mine.length);
      expect(await JournalEntry.countDocuments({ invoiceId: trusted({ $in: mine.map((i) => i._id) }), kind: 'settlement' })).to.equal(mine.length);
      expect((await settleDueInvoices(String(theirs._id))).state).to.equal('settled');
    } finally {
      await sweep.release();
    }
  });

  it('a batch with one failing invoice falls back to one at a time: the others settle, the failing one fails its own job and settles when retried', async () => {
    const { hospital } = await buildGuaranteedHospital({ balanceFen: 100_000 });
    const distributor = await buildDistributorOrg();
    const [a, bad, c] = await dueInvoices(hospital.org.id, distributor.id, [10_000, 20_000, 30_000]);
    const badId = String(bad!._id);
    financeFaults.set(`settle:invoice:${badId}`, () => {
      throw new Error('simulated fault in one invoice');
    });

    // The job of another invoice: its batch fails on the bad one, then each settles alone.
    const outcome = await settleDueInvoices(String(a!._id));
    expect(outcome.state).to.equal('settled');
    const [doneA, stillOpen, doneC] = await reloadAll([a!, bad!, c!]);
    expect(doneA).to.include({ status: 'paid', paidFen: 10_000 });
    expect(doneC).to.include({ status: 'paid', paidFen: 30_000 });
    expect(stillOpen).to.include({ status: 'open', paidFen: 0 });
    expect(await JournalEntry.countDocuments({ invoiceId: bad!._id })).to.equal(1); // its invoice entry only
    expect(await settleJobOf(String(c!._id)), 'the settled invoice’s job is dropped').to.equal(undefined);
    expect(await settleJobOf(badId), 'the failing invoice keeps its job').to.not.equal(undefined);

    // Its own job fails as before (the queue retries it) and stores nothing.
    let failed: unknown;
    try {
      await settleDueInvoices(badId);
    } catch (err) {
      failed = err;
    }
    expect((failed as Error | undefined)?.message).to.match(/simulated fault/);
    expect((await reloadAll([bad!]))[0]).to.include({ status: 'open', paidFen: 0 });

    // The retry after the fault is gone settles it, once.
    financeFaults.clear();
    expect((await settleDueInvoices(badId)).state).to.equal('settled');
    expect((await reloadAll([bad!]))[0]).to.include({ status: 'paid', paidFen: 20_000 });
    expect((await settleInvoice(badId)).state).to.equal('already');
    expect(await JournalEntry.countDocuments({ invoiceId: trusted({ $in: [a!._id, bad!._id, c!._id] }), kind: 'settlement' })).to.equal(3);
    expect(await accountSummary(hospital.org.id)).to.include({ balanceFen: 40_000 });
  });

  it('the failing invoice’s own job: the batch falls back, the others settle and the job fails for its invoice alone', async () => {
    const { hospital } = await buildGuaranteedHospital({ balanceFen: 100_000 });
    const distributor = await buildDistributorOrg();
    const [bad, b] = await dueInvoices(hospital.org.id, distributor.id, [5_000, 6_000]);
    financeFaults.set(`settle:invoice:${String(bad!._id)}`, () => {
      throw new Error('simulated fault in one invoice');
    });
    let failed: unknown;
    try {
      await settleDueInvoices(String(bad!._id));
    } catch (err) {
      failed = err;
    }
    expect((failed as Error | undefined)?.message).to.match(/simulated fault/);
    const [stillOpen, doneB] = await reloadAll([bad!, b!]);
    expect(stillOpen).to.include({ status: 'open' });
    expect(doneB).to.include({ status: 'paid', paidFen: 6_000 });
    financeFaults.clear();
    expect((await settleDueInvoices(String(bad!._id))).state).to.equal('settled');
  });

  it('two jobs of one hospital running at once settle every invoice exactly once', async () => {
    const { hospital } = await buildGuaranteedHospital({ balanceFen: 20_000, limitFen: 100_000 });
    const distributor = await buildDistributorOrg();
    const invoices = await dueInvoices(hospital.org.id, distributor.id, [7_000, 8_000, 9_000, 10_000]);
    const outcomes = await Promise.all(ids(invoices).map((id) => settleDueInvoices(id)));
    expect(outcomes.filter((o) => o.state === 'settled').length).to.be.at.least(1);
    expect((await reloadAll(invoices)).every((i) => i.status === 'paid' && i.payments.length === 1)).to.equal(true);
    expect(await JournalEntry.countDocuments({ invoiceId: trusted({ $in: invoices.map((i) => i._id) }), kind: 'settlement' })).to.equal(4);
    expect(await OutboxEvent.countDocuments({ key: trusted({ $in: ids(invoices).map((id) => `invoice-settled:${id}`) }) })).to.equal(4);
    expect(await accountSummary(hospital.org.id)).to.include({ balanceFen: 0, principalFen: 14_000 });
  });
});
