import mongoose, { Types, type ClientSession } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { now, platform } from '../../platform/context';
import { RuleViolationError } from '../../platform/errors';
import { t } from '../../platform/i18n';
import { trusted } from '../../platform/mongo';
import { formatFen, sumFen } from '../../platform/money';
import type { RepaymentRecordedPayload } from '../../platform/realtime.events';
import { addDays, businessDay, parseBusinessDay } from '../../platform/time';
import { recordAudit } from '../audit';
import { getOrganisation } from '../identity';
import { notifyOrganisation } from '../notifications';
import { accrueInterest, allocateRepayment } from './finance.interest';
import { accrueAdvanceJob, ensureDailyRun, settleInvoiceJob } from './finance.jobs';
import { completeSettlementEffects, dueUnsettledInvoiceIds, settledWithoutEffects, settleJobId } from './finance.invoices';
import { accounts, ensureAccounts, financeFaults, isDuplicateEntry, postEntry, readAccounts, shownBalance, type PostingInput } from './finance.ledger';
import { currentBankOf } from './finance.lines';
import { Advance, JournalEntry, Repayment, type AdvanceDoc, type AdvanceStatus, type RepaymentDoc } from './finance.model';
import type { RepayInput } from './finance.schemas';

const OWING: AdvanceStatus[] = ['outstanding', 'overdue'];

/** 'YYYY-MM-DD' + n days. */
export function shiftDay(day: string, n: number): string {
  return businessDay(addDays(parseBusinessDay(day), n));
}

/** Interest still owed on an advance. */
export function interestOutstandingFen(a: Pick<AdvanceDoc, 'interestAccruedFen' | 'interestPaidFen'>): number {
  return a.interestAccruedFen - a.interestPaidFen;
}

/**
 * Interest of one Asia/Shanghai day: the day's share of the principal segment in force at the day's
 * end, so each segment's total is rounded once (half to even) and the days add up to it exactly.
 */
export function interestForDay(advance: Pick<AdvanceDoc, 'segments' | 'annualRateBp'>, day: string): number {
  const dayStart = parseBusinessDay(day);
  const dayEnd = addDays(dayStart, 1);
  let segment: { at: Date; principalFen: number } | undefined;
  for (const s of advance.segments) if (s.at.getTime() < dayEnd.getTime()) segment = s;
  if (!segment || segment.principalFen === 0) return 0;
  const cumulative = (to: Date) => accrueInterest({ principalFen: segment.principalFen, annualRateBp: advance.annualRateBp, from: segment.at, to }).interestFen;
  const before = dayStart.getTime() > segment.at.getTime() ? dayStart : segment.at;
  return cumulative(dayEnd) - cumulative(before);
}

/** The last day whose interest can be posted at `at`: yesterday in Asia/Shanghai. */
export function lastCompleteDay(at: Date = now()): string {
  return shiftDay(businessDay(at), -1);
}

class AdvanceChanged extends Error {}

async function accrueOneDay(advanceId: string, through: string): Promise<'posted' | 'done'> {
  const owner = await Advance.findById(advanceId, { hospitalOrgId: 1, bankOrgId: 1 }).lean<Pick<AdvanceDoc, 'hospitalOrgId' | 'bankOrgId'>>();
  if (!owner) return 'done';
  await ensureAccounts([accounts.interestReceivable(String(owner.hospitalOrgId), String(owner.bankOrgId)), accounts.interestIncome(String(owner.bankOrgId))]);
  return mongoose.connection.transaction(async (s) => {
    const advance = await Advance.findById(advanceId).session(s).lean<AdvanceDoc>();
    if (!advance || advance.status === 'repaid') return 'done';
    const next = advance.accruedThrough ? shiftDay(advance.accruedThrough, 1) : businessDay(advance.advancedAt);
    if (next > through) return 'done';
    const interest = interestForDay(advance, next);
    const hospital = String(advance.hospitalOrgId);
    const bank = String(advance.bankOrgId);
    if (interest > 0) {
      await postEntry(
        {
          idempotencyKey: `accrue:${advanceId}:${next}`,
          kind: 'interest',
          memo: `interest ${next} on advance for ${advance.invoiceNo}`,
          postings: [
            { account: accounts.interestReceivable(hospital, bank), amountFen: interest },
            { account: accounts.interestIncome(bank), amountFen: -interest },
          ],
          refs: { hospitalOrgId: hospital, bankOrgId: bank, advanceId, invoiceId: String(advance.invoiceId), reference: next },
          postedAt: now(),
        },
        s,
      );
    }
    const res = await Advance.updateOne(
      { _id: advance._id, accruedThrough: advance.accruedThrough ?? trusted({ $exists: false }) },
      { $set: { accruedThrough: next }, $inc: { interestAccruedFen: interest } },
      { session: s },
    );
    if (res.matchedCount !== 1) throw new AdvanceChanged();
    return 'posted';
  });
}

/**
 * Posts the daily interest of an advance for every day not yet accrued up to `through` (never past
 * yesterday), one entry per day under `accrue:<advanceId>:<day>`. Safe to run twice or concurrently.
 */
export async function accrueAdvanceThrough(advanceId: string, through: string = lastCompleteDay()): Promise<void> {
  const limit = lastCompleteDay();
  const target = through < limit ? through : limit;
  for (let guard = 0; guard < 5000; guard += 1) {
    let step: 'posted' | 'done';
    try {
      step = await accrueOneDay(advanceId, target);
    } catch (err) {
      if (isDuplicateEntry(err) || err instanceof AdvanceChanged) continue;
      throw err;
    }
    if (step === 'done') return;
  }
}

/** Accrues every owing advance of a hospital up to yesterday (before a repayment or a statement). */
export async function accrueHospital(hospitalOrgId: string): Promise<void> {
  const owing = await Advance.find({ hospitalOrgId: new Types.ObjectId(hospitalOrgId), status: trusted({ $in: OWING }) }, { _id: 1 }).lean();
  for (const a of owing) await accrueAdvanceThrough(String(a._id));
}

function accrualCurrent(advance: AdvanceDoc, yesterday: string): boolean {
  const first = businessDay(advance.advancedAt);
  return first > yesterday || (advance.accruedThrough !== undefined && advance.accruedThrough >= yesterday);
}

class AccrualBehind extends Error {}

/**
 * Hospital finance: repays its bank — interest first, then the oldest principal — from the
 * working-capital account or by a transfer. Refuses more than the debt. Idempotent by `requestKey`.
 */
export async function repay(actor: Actor, input: RepayInput, requestKey: string): Promise<RepaymentDoc> {
  const hospital = actor.orgId;
  const bank = await currentBankOf(hospital);
  if (!bank) throw new RuleViolationError({ code: 'NOTHING_TO_REPAY', message: 'The hospital owes its bank nothing.' });
  const key = `repay:${hospital}:${requestKey}`;
  await ensureAccounts([accounts.workingCapital(hospital, bank), accounts.bankClearing(hospital, bank), accounts.interestReceivable(hospital, bank), accounts.advancePrincipal(hospital, bank)]);
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const posted = await JournalEntry.findOne({ idempotencyKey: key }, { _id: 1 }).lean();
    const replay = posted ? await Repayment.findOne({ entryId: posted._id }).lean<RepaymentDoc>() : null;
    if (replay) return replay;
    await accrueHospital(hospital);
    try {
      const done = await mongoose.connection.transaction((s) => repayInTransaction(actor, hospital, bank, input, key, s));
      await afterRepayment(actor, done);
      return done;
    } catch (err) {
      if (err instanceof AccrualBehind || err instanceof AdvanceChanged || isDuplicateEntry(err)) continue;
      throw err;
    }
  }
  throw new RuleViolationError({ code: 'REPAYMENT_BUSY', message: 'The debt changed while repaying; try again.' });
}

async function repayInTransaction(actor: Actor, hospital: string, bank: string, input: RepayInput, key: string, s: ClientSession): Promise<RepaymentDoc> {
  const at = now();
  const owing = await Advance.find({ hospitalOrgId: new Types.ObjectId(hospital), bankOrgId: new Types.ObjectId(bank), status: trusted({ $in: OWING }) })
    .session(s)
    .lean<AdvanceDoc[]>();
  const yesterday = lastCompleteDay(at);
  if (owing.some((a) => !accrualCurrent(a, yesterday))) throw new AccrualBehind();
  const debt = sumFen(owing.map((a) => a.principalOutstandingFen + interestOutstandingFen(a)));
  if (debt === 0) throw new RuleViolationError({ code: 'NOTHING_TO_REPAY', message: 'The hospital owes its bank nothing.' });
  if (input.amountFen > debt) {
    throw new RuleViolationError({
      code: 'REPAYMENT_EXCEEDS_DEBT',
      message: `The repayment is more than the debt of ${formatFen(debt)}.`,
      details: [{ path: 'amountFen', message: `at most ${debt}`, debtFen: debt }],
    });
  }
  const { allocations } = allocateRepayment({
    amountFen: input.amountFen,
    advances: owing.map((a) => ({ id: String(a._id), principalOutstandingFen: a.principalOutstandingFen, interestOutstandingFen: interestOutstandingFen(a), advancedAt: a.advancedAt })),
  });
  const interest = sumFen(allocations.map((a) => a.interestFen));
  const principal = sumFen(allocations.map((a) => a.principalFen));
  const wc = accounts.workingCapital(hospital, bank);
  if (input.source === 'account') {
    const balance = shownBalance((await readAccounts([wc], s)).get(wc.key));
    if (balance < input.amountFen) {
      throw new RuleViolationError({ code: 'INSUFFICIENT_FUNDS', message: `The working-capital account holds ${formatFen(balance)}; the repayment needs ${formatFen(input.amountFen)}.` });
    }
  }
  const postings: PostingInput[] = [
    { account: input.source === 'account' ? wc : accounts.bankClearing(hospital, bank), amountFen: input.amountFen },
    ...(interest > 0 ? [{ account: accounts.interestReceivable(hospital, bank), amountFen: -interest }] : []),
    ...(principal > 0 ? [{ account: accounts.advancePrincipal(hospital, bank), amountFen: -principal }] : []),
  ];
  const entry = await postEntry(
    {
      idempotencyKey: key,
      kind: 'repayment',
      memo: `repayment ${input.source === 'account' ? 'from the working-capital account' : 'by transfer'}`,
      postings,
      guards: input.source === 'account' ? [{ account: wc, minShownFen: 0, code: 'INSUFFICIENT_FUNDS', message: 'The working-capital account does not hold enough money.' }] : [],
      refs: { hospitalOrgId: hospital, bankOrgId: bank, reference: input.reference, actorId: actor.id },
      postedAt: at,
    },
    s,
  );
  const byId = new Map(owing.map((a) => [String(a._id), a]));
  for (const alloc of allocations) {
    const a = byId.get(alloc.id)!;
    const principalLeft = a.principalOutstandingFen - alloc.principalFen;
    const interestPaid = a.interestPaidFen + alloc.interestFen;
    const repaid = principalLeft === 0 && interestPaid === a.interestAccruedFen;
    const res = await Advance.updateOne(
      { _id: a._id, principalOutstandingFen: a.principalOutstandingFen, interestPaidFen: a.interestPaidFen },
      {
        $set: { principalOutstandingFen: principalLeft, interestPaidFen: interestPaid, ...(repaid ? { status: 'repaid', repaidAt: at } : {}) },
        ...(alloc.principalFen > 0 ? { $push: { segments: { at, principalFen: principalLeft } } } : {}),
      },
      { session: s },
    );
    if (res.matchedCount !== 1) throw new AdvanceChanged();
  }
  financeFaults.hit('repay:after-entry');
  const [repayment] = await Repayment.create(
    [
      {
        hospitalOrgId: new Types.ObjectId(hospital),
        bankOrgId: new Types.ObjectId(bank),
        amountFen: input.amountFen,
        interestFen: interest,
        principalFen: principal,
        source: input.source,
        reference: input.reference,
        allocations: allocations.map((a) => ({ advanceId: new Types.ObjectId(a.id), interestFen: a.interestFen, principalFen: a.principalFen })),
        entryId: entry._id,
        at,
        byUserId: new Types.ObjectId(actor.id),
      },
    ],
    { session: s },
  );
  return repayment!.toObject() as RepaymentDoc;
}

async function afterRepayment(actor: Actor, r: RepaymentDoc): Promise<void> {
  await recordAudit(actor, {
    action: 'finance.repayment',
    targetType: 'repayment',
    targetId: String(r._id),
    summary: `${formatFen(r.amountFen)} (interest ${formatFen(r.interestFen)}, principal ${formatFen(r.principalFen)}) ${r.source}`,
  });
  const vars = { hospital: actor.orgName, amount: formatFen(r.amountFen), interest: formatFen(r.interestFen), principal: formatFen(r.principalFen) };
  await notifyOrganisation(
    r.bankOrgId,
    { kind: 'finance.repayment', title: t('zh', 'finance.notify.repayment.title', vars), body: t('zh', 'finance.notify.repayment.body', vars), link: `/finance/hospitals/${actor.orgId}`, dedupeKey: `repayment:${String(r._id)}` },
    ['bank_officer'],
  );
  const payload: RepaymentRecordedPayload = { repaymentId: String(r._id), hospitalOrgId: actor.orgId, amountFen: r.amountFen, interestFen: r.interestFen, principalFen: r.principalFen };
  platform().broadcaster.toOrg(String(r.bankOrgId), 'repayment:recorded', payload);
  platform().broadcaster.toOrg(actor.orgId, 'repayment:recorded', payload);
}

/** Marks advances past their tenor as overdue and tells the hospital and the bank (once per advance). */
export async function markOverdueAdvances(at: Date = now()): Promise<number> {
  const late = await Advance.find({ status: 'outstanding', dueAt: trusted({ $lt: at }) }).lean<AdvanceDoc[]>();
  let marked = 0;
  for (const a of late) {
    const res = await Advance.updateOne({ _id: a._id, status: 'outstanding' }, { $set: { status: 'overdue', overdueAt: at } });
    if (res.modifiedCount !== 1) continue;
    marked += 1;
    const hospital = await getOrganisation(a.hospitalOrgId);
    const vars = { invoiceNo: a.invoiceNo, hospital: hospital?.name ?? '', principal: formatFen(a.principalOutstandingFen), dueAt: businessDay(a.dueAt) };
    const notice = { kind: 'finance.advance_overdue', title: t('zh', 'finance.notify.advanceOverdue.title', vars), body: t('zh', 'finance.notify.advanceOverdue.body', vars), dedupeKey: `advance-overdue:${String(a._id)}` };
    await notifyOrganisation(a.hospitalOrgId, { ...notice, link: '/finance/account' }, ['hospital_finance']);
    await notifyOrganisation(a.bankOrgId, { ...notice, link: `/finance/hospitals/${String(a.hospitalOrgId)}` }, ['bank_officer']);
    await recordAudit(null, { action: 'finance.advance.overdue', targetType: 'advance', targetId: String(a._id), summary: `${a.invoiceNo}: ${formatFen(a.principalOutstandingFen)} past ${businessDay(a.dueAt)}` });
  }
  return marked;
}

/** Sends a due invoice's settlement job now: promotes the delayed one, or queues it again if it is gone. */
export async function runSettlementNow(invoiceId: string): Promise<void> {
  const { queues } = platform();
  const jobId = settleJobId(invoiceId);
  const job = await queues.getJob(jobId);
  if (job) {
    const state = await job.getState();
    if (state === 'delayed') {
      await job.promote();
      return;
    }
    if (state === 'waiting' || state === 'active' || state === 'prioritized') return;
    await job.remove().catch(() => undefined);
  }
  await queues.enqueue(settleInvoiceJob, { invoiceId }, { jobId });
}

/**
 * The daily run (job `finance-daily:<day>`): queues one accrual per owing advance for the day that
 * just ended, marks advances past their tenor overdue, re-sends settlements that were lost or
 * interrupted, and schedules tomorrow's run.
 */
export async function dailyRun(day: string): Promise<{ day: string; accruals: number; overdue: number; settlements: number }> {
  const at = now();
  const { queues } = platform();
  const through = lastCompleteDay(at);
  const owing = await Advance.find({ status: trusted({ $in: OWING }) }, { _id: 1 }).lean();
  for (const a of owing) {
    await queues.enqueue(accrueAdvanceJob, { advanceId: String(a._id), day: through }, { jobId: `accrue:${String(a._id)}:${through}` });
  }
  const overdue = await markOverdueAdvances(at);
  const due = await dueUnsettledInvoiceIds(at);
  for (const id of due) await runSettlementNow(id);
  for (const id of await settledWithoutEffects()) await completeSettlementEffects(id);
  await ensureDailyRun();
  return { day, accruals: owing.length, overdue, settlements: due.length };
}

/** Advances of a hospital (or of every hospital of a bank), oldest first. */
export async function listAdvances(filter: { hospitalOrgId?: string; bankOrgId?: string; status?: string }): Promise<AdvanceDoc[]> {
  const q: Record<string, unknown> = {};
  if (filter.hospitalOrgId) q.hospitalOrgId = new Types.ObjectId(filter.hospitalOrgId);
  if (filter.bankOrgId) q.bankOrgId = new Types.ObjectId(filter.bankOrgId);
  if (filter.status) q.status = filter.status;
  return Advance.find(q).sort({ advancedAt: 1, _id: 1 }).limit(2000).lean<AdvanceDoc[]>();
}

export async function listRepayments(filter: { hospitalOrgId?: string; bankOrgId?: string }): Promise<RepaymentDoc[]> {
  const q: Record<string, unknown> = {};
  if (filter.hospitalOrgId) q.hospitalOrgId = new Types.ObjectId(filter.hospitalOrgId);
  if (filter.bankOrgId) q.bankOrgId = new Types.ObjectId(filter.bankOrgId);
  return Repayment.find(q).sort({ at: -1, _id: -1 }).limit(2000).lean<RepaymentDoc[]>();
}

/** The JSON shape of an advance, with its status as of now. */
export function advanceView(a: AdvanceDoc) {
  return {
    id: String(a._id),
    hospitalOrgId: String(a.hospitalOrgId),
    bankOrgId: String(a.bankOrgId),
    invoiceId: String(a.invoiceId),
    invoiceNo: a.invoiceNo,
    principalFen: a.principalFen,
    principalOutstandingFen: a.principalOutstandingFen,
    interestAccruedFen: a.interestAccruedFen,
    interestOutstandingFen: interestOutstandingFen(a),
    annualRateBp: a.annualRateBp,
    tenorDays: a.tenorDays,
    advancedAt: a.advancedAt.toISOString(),
    dueAt: a.dueAt.toISOString(),
    status: a.status,
    accruedThrough: a.accruedThrough ?? null,
  };
}

export function repaymentView(r: RepaymentDoc) {
  return {
    id: String(r._id),
    hospitalOrgId: String(r.hospitalOrgId),
    bankOrgId: String(r.bankOrgId),
    amountFen: r.amountFen,
    interestFen: r.interestFen,
    principalFen: r.principalFen,
    source: r.source,
    reference: r.reference ?? undefined,
    at: r.at.toISOString(),
    allocations: r.allocations.map((x) => ({ advanceId: String(x.advanceId), interestFen: x.interestFen, principalFen: x.principalFen })),
  };
}

/** Principal, interest and overdue principal a hospital owes its bank right now (from the advances). */
export async function debtOf(hospitalOrgId: string, bankOrgId: string) {
  const owing = await Advance.find({ hospitalOrgId: new Types.ObjectId(hospitalOrgId), bankOrgId: new Types.ObjectId(bankOrgId), status: trusted({ $in: OWING }) }).lean<AdvanceDoc[]>();
  const held = await readAccounts([accounts.advancePrincipal(hospitalOrgId, bankOrgId), accounts.interestReceivable(hospitalOrgId, bankOrgId)]);
  return {
    principalFen: shownBalance(held.get(accounts.advancePrincipal(hospitalOrgId, bankOrgId).key)),
    interestFen: shownBalance(held.get(accounts.interestReceivable(hospitalOrgId, bankOrgId).key)),
    overduePrincipalFen: sumFen(owing.filter((a) => a.status === 'overdue').map((a) => a.principalOutstandingFen)),
    advances: owing.length,
  };
}
