import { expect } from 'chai';
import { Types } from 'mongoose';
import { accountSummary, accrueAdvanceThrough, dailyRun } from '../../server/modules/finance';
import { debtOf, lastCompleteDay } from '../../server/modules/finance/finance.advances';
import { accrueInterest } from '../../server/modules/finance/finance.interest';
import { Advance, JournalEntry, Repayment, type AdvanceDoc, type EntryKind, type JournalEntryDoc } from '../../server/modules/finance/finance.model';
import { Notification } from '../../server/modules/notifications/notifications.model';
import { OutboxEvent } from '../../server/platform/events';
import { trusted } from '../../server/platform/mongo';
import { businessDay, endOfBusinessDay, parseBusinessDay } from '../../server/platform/time';
import { testApp, testClock } from '../support/global';
import { advanceDays, buildDistributorOrg, buildGuaranteedHospital, createInvoice, factsHandled, financeHooks, relogin, runFinanceSweep, settled, until } from '../support/finance-factories';

async function advanceFor(invoiceId: Types.ObjectId): Promise<AdvanceDoc> {
  return (await Advance.findOne({ invoiceId }).lean<AdvanceDoc>())!;
}

/** A hospital with an approved line and one advance of `principalFen` made now (empty account). */
async function withAdvance(principalFen: number, opts: { annualRateBp?: number; maxTenorDays?: number; limitFen?: number } = {}) {
  const setup = await buildGuaranteedHospital({ limitFen: opts.limitFen ?? 10_000_000, annualRateBp: opts.annualRateBp ?? 500, maxTenorDays: opts.maxTenorDays ?? 90 });
  const distributor = await buildDistributorOrg();
  const invoice = await createInvoice(setup.hospital.org.id, distributor.id, principalFen, { dueInDays: 0 });
  await settled(String(invoice._id));
  return { ...setup, distributor, invoice, advance: await advanceFor(invoice._id) };
}

describe('finance: advances, interest and repayments', function () {
  financeHooks();

  it('accrues interest per day (actual/365, half to even), once per advance per day, however often it runs', async () => {
    const { advance } = await withAdvance(1_000_000, { annualRateBp: 500 });
    const id = String(advance._id);
    advanceDays(3);
    await accrueAdvanceThrough(id);
    const entries = await JournalEntry.find({ advanceId: advance._id, kind: 'interest' }).sort({ idempotencyKey: 1 }).lean();
    const day0 = businessDay(advance.advancedAt);
    expect(entries.map((e) => e.idempotencyKey)).to.deep.equal([0, 1, 2].map((n) => `accrue:${id}:${businessDay(new Date(advance.advancedAt.getTime() + n * 86_400_000))}`));
    expect(entries[0]!.idempotencyKey.endsWith(day0)).to.equal(true);
    // 1,000,000 × 5% / 365 = 136.99 fen a day; the running total is rounded once: 137, 274, 411.
    expect(entries.map((e) => e.postings[0]!.amountFen)).to.deep.equal([137, 137, 137]);
    expect(await advanceFor(advance.invoiceId)).to.include({ interestAccruedFen: 411, accruedThrough: lastCompleteDay(testClock.now()) });

    await accrueAdvanceThrough(id);
    advanceDays(1);
    await Promise.all([accrueAdvanceThrough(id), accrueAdvanceThrough(id), accrueAdvanceThrough(id)]);
    expect(await JournalEntry.countDocuments({ advanceId: advance._id, kind: 'interest' })).to.equal(4);
    expect((await advanceFor(advance.invoiceId)).interestAccruedFen).to.equal(accrueInterest({ principalFen: 1_000_000, annualRateBp: 500, from: advance.advancedAt, to: new Date(advance.advancedAt.getTime() + 4 * 86_400_000) }).interestFen);
  });

  it('the daily run queues the accrual jobs, and the worker posts the interest', async () => {
    const { advance } = await withAdvance(365_000, { annualRateBp: 1000 });
    advanceDays(2);
    await dailyRun(businessDay(testClock.now()));
    const yesterday = lastCompleteDay(testClock.now());
    await until(async () => (await advanceFor(advance.invoiceId)).accruedThrough === yesterday);
    // 365,000 × 10% / 365 = 100 fen a day, two days.
    expect((await advanceFor(advance.invoiceId)).interestAccruedFen).to.equal(200);
  });

  it('the worker sweep catches up the interest of an advance whose accrual jobs were lost, posting each day once', async () => {
    const { advance } = await withAdvance(365_000, { annualRateBp: 1000 });
    const id = String(advance._id);
    const queues = testApp().platform.queues;
    const firstJob = `accrue:${id}:${businessDay(advance.advancedAt)}`;
    await until(async () => Boolean(await queues.getJob(firstJob)));
    await (await queues.getJob(firstJob))!.remove();
    advanceDays(2);
    await runFinanceSweep();
    await runFinanceSweep();
    const yesterday = lastCompleteDay(testClock.now());
    await until(async () => (await advanceFor(advance.invoiceId)).accruedThrough === yesterday);
    await runFinanceSweep();
    await until(async () => (await queues.getJob(`accrue:${id}:${yesterday}`).then((j) => j?.getState())) === 'completed');
    // 365,000 × 10% / 365 = 100 fen a day, two days, each posted once.
    expect((await advanceFor(advance.invoiceId)).interestAccruedFen).to.equal(200);
    expect(await JournalEntry.countDocuments({ advanceId: advance._id, kind: 'interest' })).to.equal(2);
    expect(await OutboxEvent.countDocuments({ type: 'finance.interest_accrued', 'payload.advanceId': id })).to.equal(2);
    // …and tomorrow's daily run is scheduled.
    expect(await queues.getJob(`finance-daily:${businessDay(new Date(testClock.now().getTime() + 86_400_000))}`)).to.not.equal(undefined);
  });

  it('lists advances and repayments newest first a page at a time, for the hospital, its bank and the operator; a bad page is a 400', async () => {
    const setup = await withAdvance(10_000);
    for (const amountFen of [20_000, 30_000]) {
      advanceDays(1);
      await settled(String((await createInvoice(setup.hospital.org.id, setup.distributor.id, amountFen, { dueInDays: 0 }))._id));
    }
    for (const amountFen of [100, 200, 300]) {
      advanceDays(1);
      // (a session lasts hours: sign in again after the clock moved a day)
      expect((await (await relogin(setup.hospital)).api().post('/api/v1/finance/repayments', { amountFen, source: 'transfer' })).status).to.equal(201);
    }
    const hospital = await relogin(setup.hospital);
    const pages = async (api: typeof hospital.api, path: string) => {
      const first = await api().get(`${path}${path.includes('?') ? '&' : '?'}limit=2`);
      expect(first.status, JSON.stringify(first.body)).to.equal(200);
      expect(first.body.data).to.have.length(2);
      expect(first.body.nextCursor).to.be.a('string');
      const second = await api().get(`${path}${path.includes('?') ? '&' : '?'}limit=2&cursor=${first.body.nextCursor}`);
      expect(second.status, JSON.stringify(second.body)).to.equal(200);
      return { rows: [...first.body.data, ...second.body.data], last: second.body.nextCursor };
    };
    const advances = await pages(hospital.api, '/api/v1/finance/advances');
    expect(advances.rows.map((a: { principalFen: number }) => a.principalFen)).to.deep.equal([30_000, 20_000, 10_000]);
    expect(advances.last).to.equal(null);
    const repayments = await pages(hospital.api, '/api/v1/finance/repayments');
    expect(repayments.rows.map((r: { amountFen: number }) => r.amountFen)).to.deep.equal([300, 200, 100]);
    expect(repayments.last).to.equal(null);
    // the bank sees its hospitals' (this bank serves only this hospital); the operator, this hospital's
    const bank = await relogin(setup.bank);
    expect((await pages(bank.api, '/api/v1/finance/advances')).rows.map((a: { id: string }) => a.id)).to.deep.equal(advances.rows.map((a: { id: string }) => a.id));
    const operator = await relogin(setup.operator);
    expect((await pages(operator.api, `/api/v1/finance/repayments?hospitalOrgId=${setup.hospital.org.id}`)).rows.map((r: { id: string }) => r.id)).to.deep.equal(repayments.rows.map((r: { id: string }) => r.id));
    for (const bad of ['limit=0', 'limit=201', 'limit=x', 'cursor=not*a*cursor', 'cursor=Zm9v', 'page=2']) {
      const res = await hospital.api().get(`/api/v1/finance/advances?${bad}`);
      expect(res.status, bad).to.equal(400);
      expect(res.body.error.code, bad).to.be.oneOf(['VALIDATION_FAILED', 'INVALID_CURSOR']);
    }
  });

  it('applies a repayment to interest first, then the oldest principal', async () => {
    const setup = await withAdvance(50_000, { annualRateBp: 730 });
    advanceDays(1);
    const second = await createInvoice(setup.hospital.org.id, setup.distributor.id, 30_000, { dueInDays: 0 });
    await settled(String(second._id));
    advanceDays(2);
    const hospital = await relogin(setup.hospital);
    const first = await advanceFor(setup.invoice._id);
    // Interest is accrued up to yesterday before the repayment is split.
    const res = await hospital.api().post('/api/v1/finance/repayments', { amountFen: 10_000, source: 'transfer', reference: 'HK-001' });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const a1 = await advanceFor(setup.invoice._id);
    const a2 = await advanceFor(second._id);
    const interest = a1.interestAccruedFen + a2.interestAccruedFen;
    expect(a1.interestAccruedFen).to.be.greaterThan(0);
    expect(res.body).to.include({ amountFen: 10_000, interestFen: interest, principalFen: 10_000 - interest, source: 'transfer' });
    expect(a1.principalOutstandingFen).to.equal(50_000 - (10_000 - interest));
    expect(a2.principalOutstandingFen).to.equal(30_000);
    expect(a1.interestPaidFen + a2.interestPaidFen).to.equal(interest);
    expect(String(first._id)).to.equal(String(a1._id));
    const summary = await accountSummary(setup.hospital.org.id);
    expect(summary).to.include({ interestFen: 0, principalFen: 80_000 - (10_000 - interest), headroomFen: 10_000_000 - 80_000 + (10_000 - interest) });
  });

  it('repays everything from the account: the advance is repaid, the line is whole again and no more interest accrues', async () => {
    const setup = await withAdvance(20_000, { annualRateBp: 365 });
    advanceDays(1);
    const hospital = await relogin(setup.hospital);
    const operator = await relogin(setup.operator);
    expect((await operator.api().post(`/api/v1/finance/accounts/${hospital.org.id}/prepayments`, { amountFen: 50_000 })).status).to.equal(201);
    await accrueAdvanceThrough(String(setup.advance._id));
    const before = await accountSummary(hospital.org.id);
    const debt = before.principalFen + before.interestFen;
    expect(before.interestFen).to.equal(2);
    const res = await hospital.api().post('/api/v1/finance/repayments', { amountFen: debt, source: 'account' });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const advance = await advanceFor(setup.invoice._id);
    expect(advance).to.include({ status: 'repaid', principalOutstandingFen: 0 });
    expect(await accountSummary(hospital.org.id)).to.include({ balanceFen: 50_000 - debt, principalFen: 0, interestFen: 0, headroomFen: 10_000_000 });
    advanceDays(2);
    await accrueAdvanceThrough(String(advance._id));
    expect((await advanceFor(setup.invoice._id)).interestAccruedFen).to.equal(2);
  });

  it('refuses a repayment larger than the debt, without enough money, or when nothing is owed; stores nothing', async () => {
    const setup = await withAdvance(10_000);
    const hospital = setup.hospital;
    const over = await hospital.api().post('/api/v1/finance/repayments', { amountFen: 10_001, source: 'transfer' });
    expect(over.status).to.equal(422);
    expect(over.body.error.code).to.equal('REPAYMENT_EXCEEDS_DEBT');
    const broke = await hospital.api().post('/api/v1/finance/repayments', { amountFen: 5_000, source: 'account' });
    expect(broke.status).to.equal(422);
    expect(broke.body.error.code).to.equal('INSUFFICIENT_FUNDS');
    const other = await buildGuaranteedHospital();
    const none = await other.hospital.api().post('/api/v1/finance/repayments', { amountFen: 1, source: 'transfer' });
    expect(none.status).to.equal(422);
    expect(none.body.error.code).to.equal('NOTHING_TO_REPAY');
    expect(await Repayment.countDocuments({ hospitalOrgId: trusted({ $in: [new Types.ObjectId(hospital.org.id), new Types.ObjectId(other.hospital.org.id)] }) })).to.equal(0);
    expect(await accountSummary(hospital.org.id)).to.include({ principalFen: 10_000 });
  });

  it('refuses malformed repayments (negative, zero, fractional, absurd, unknown fields, wrong source) with 400 and stores nothing', async () => {
    const setup = await withAdvance(10_000);
    const bodies = [
      { amountFen: -100, source: 'transfer' },
      { amountFen: 0, source: 'transfer' },
      { amountFen: 10.5, source: 'transfer' },
      { amountFen: 1e16, source: 'transfer' },
      { amountFen: '100', source: 'transfer' },
      { amountFen: 100, source: 'cash' },
      { amountFen: 100, source: 'transfer', hospitalOrgId: setup.hospital.org.id },
      {},
    ];
    for (const body of bodies) {
      const res = await setup.hospital.api().post('/api/v1/finance/repayments', body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
    }
    expect(await Repayment.countDocuments({ hospitalOrgId: new Types.ObjectId(setup.hospital.org.id) })).to.equal(0);
    const banker = await setup.bank.api().post('/api/v1/finance/repayments', { amountFen: 100, source: 'transfer' });
    expect(banker.status).to.equal(403);
  });

  it('a repeated repayment request (same Idempotency-Key) repays once', async () => {
    const setup = await withAdvance(10_000);
    const send = () => setup.hospital.api().post('/api/v1/finance/repayments', { amountFen: 4_000, source: 'transfer' }).set('Idempotency-Key', 'repay-key-0001');
    const a = await send();
    const b = await send();
    expect(a.status).to.equal(201);
    expect(b.status).to.equal(201);
    expect(b.body.id).to.equal(a.body.id);
    expect(await Repayment.countDocuments({ hospitalOrgId: new Types.ObjectId(setup.hospital.org.id) })).to.equal(1);
    expect((await accountSummary(setup.hospital.org.id)).principalFen).to.equal(6_000);
  });

  it('an advance past its tenor becomes overdue, and the hospital and the bank are told once', async () => {
    const setup = await withAdvance(10_000, { maxTenorDays: 5 });
    advanceDays(4);
    await dailyRun(businessDay(testClock.now()));
    expect((await advanceFor(setup.invoice._id)).status).to.equal('outstanding');
    advanceDays(3);
    await dailyRun(businessDay(testClock.now()));
    await dailyRun(businessDay(testClock.now()));
    expect((await advanceFor(setup.invoice._id)).status).to.equal('overdue');
    await factsHandled();
    expect(await Notification.countDocuments({ kind: 'finance.advance_overdue', orgId: trusted({ $in: [new Types.ObjectId(setup.hospital.org.id), new Types.ObjectId(setup.bank.org.id)] }) })).to.equal(2);
    expect((await accountSummary(setup.hospital.org.id)).overduePrincipalFen).to.equal(10_000);
  });
  it('the bank’s book: each hospital’s debt, and a 90-day series that counts the history before the window without reading it', async () => {
    const a = await withAdvance(50_000, { annualRateBp: 730, maxTenorDays: 365 });
    const b = await buildGuaranteedHospital({ bank: a.bank, operator: a.operator, limitFen: 10_000_000, annualRateBp: 730, maxTenorDays: 365 });
    await settled(String((await createInvoice(b.hospital.org.id, a.distributor.id, 20_000, { dueInDays: 0 }))._id));
    advanceDays(10);
    expect((await (await relogin(a.hospital)).api().post('/api/v1/finance/repayments', { amountFen: 5_000, source: 'transfer' })).status).to.equal(201);
    advanceDays(100);
    await settled(String((await createInvoice(b.hospital.org.id, a.distributor.id, 30_000, { dueInDays: 0 }))._id));
    advanceDays(5);
    expect((await (await relogin(b.hospital)).api().post('/api/v1/finance/repayments', { amountFen: 8_000, source: 'transfer' })).status).to.equal(201);
    expect((await (await relogin(a.hospital)).api().post('/api/v1/finance/repayments', { amountFen: 1_000, source: 'transfer' })).status).to.equal(201);
    advanceDays(2);
    await factsHandled();

    const book = await (await relogin(a.bank)).api().get('/api/v1/finance/bank/summary');
    expect(book.status, JSON.stringify(book.body)).to.equal(200);
    // Each row is the hospital's debt as debtOf reads it alone.
    expect(book.body.hospitals).to.have.length(2);
    for (const h of [a.hospital, b.hospital]) {
      const row = book.body.hospitals.find((r: { hospitalOrgId: string }) => r.hospitalOrgId === h.org.id);
      expect(row, h.org.id).to.include(await debtOf(h.org.id, a.bank.org.id));
    }
    // The series against a replay of every entry of the bank up to each day's end.
    const kinds: EntryKind[] = ['settlement', 'interest', 'repayment'];
    const entries = await JournalEntry.find({ bankOrgId: new Types.ObjectId(a.bank.org.id), kind: trusted({ $in: kinds }) }).lean<JournalEntryDoc[]>();
    const series = book.body.series as { day: string; principalFen: number; interestFen: number }[];
    expect(series).to.have.length(90);
    const windowStart = parseBusinessDay(series[0]!.day);
    expect(entries.filter((e) => e.postedAt < windowStart).length, 'entries before the window').to.be.greaterThan(5);
    const replay = series.map(({ day }) => {
      const dayEnd = endOfBusinessDay(parseBusinessDay(day));
      let principalFen = 0;
      let interestFen = 0;
      for (const e of entries.filter((x) => x.postedAt <= dayEnd)) {
        for (const p of e.postings) {
          if (p.accountKey.startsWith('advance_principal:')) principalFen += p.amountFen;
          else if (p.accountKey.startsWith('interest_receivable:')) interestFen += p.amountFen;
        }
      }
      return { day, principalFen, interestFen };
    });
    expect(series).to.deep.equal(replay);
    // A's 50 000 less the principal part of its 5 000 repayment, and B's first 20 000, all before the window.
    expect(series[0]!.principalFen, 'the advances before the window are in its first day').to.be.within(70_000 - 5_000, 70_000 - 1);
    expect(series.at(-1)!.principalFen).to.equal(book.body.totals.principalFen);
  });
});
