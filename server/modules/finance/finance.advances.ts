import { Types } from 'mongoose';
import { AdvanceOverdue, InterestAccrued, RepaymentMade } from '../../events/finance';
import type { Actor } from '../../platform/auth';
import { now, platform } from '../../platform/context';
import { RuleViolationError } from '../../platform/errors';
import { fen, msg } from '../../platform/messages';
import { trusted } from '../../platform/mongo';
import { beforeCursor, pageOf } from '../../platform/pagination';
import { formatFen, sumFen } from '../../platform/money';
import { addDays, businessDay, parseBusinessDay, startOfBusinessDay } from '../../platform/time';
import { withCommand, type UnitOfWork } from '../../platform/unit-of-work';
import { accrueInterest, allocateRepayment } from './finance.interest';
import { accrueAdvanceJob, ensureDailyRun, jobIds, settleInvoiceJob, shiftDay } from './finance.jobs';
import { dueOpenInvoiceIds } from './finance.invoices';
import { accounts, ensureAccounts, isDuplicateEntry, postEntry, readAccounts, shownBalance, type PostingInput } from './finance.ledger';
import { currentBankOf } from './finance.lines';
import { Advance, JournalEntry, LedgerAccount, Repayment, type AccountType, type AdvanceDoc, type AdvanceStatus, type LedgerAccountDoc, type RepaymentDoc } from './finance.model';
import type { RepayInput } from './finance.schemas';

const OWING: AdvanceStatus[] = ['outstanding', 'overdue'];

export { shiftDay };

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

/**
 * Posts the interest of the advance's next day not yet accrued (if that day is at most `through`),
 * in the caller's unit of work: the journal entry `accrue:<advanceId>:<day>`, the advance's running
 * total, the audit entry and `finance.interest_accrued`. Returns the advance as it is after, or
 * undefined when there was nothing to do.
 */
async function accrueNextDay(uow: UnitOfWork, advance: AdvanceDoc, through: string): Promise<AdvanceDoc | undefined> {
  if (advance.status === 'repaid') return undefined;
  const next = advance.accruedThrough ? shiftDay(advance.accruedThrough, 1) : businessDay(advance.advancedAt);
  if (next > through) return undefined;
  const advanceId = String(advance._id);
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
        postedAt: uow.at,
      },
      uow.session,
    );
  }
  const updated = await Advance.findOneAndUpdate(
    { _id: advance._id, accruedThrough: advance.accruedThrough ?? trusted({ $exists: false }), interestAccruedFen: advance.interestAccruedFen },
    { $set: { accruedThrough: next }, $inc: { interestAccruedFen: interest } },
    { session: uow.session, returnDocument: 'after' },
  ).lean<AdvanceDoc>();
  if (!updated) throw new AdvanceChanged();
  uow.audit({ action: 'finance.interest.accrue', targetType: 'advance', targetId: advanceId, summary: msg('finance.audit.interestAccrued', { invoiceNo: advance.invoiceNo, day: next, interest: fen(interest) }) });
  uow.emit(
    InterestAccrued,
    { advanceId, hospitalOrgId: hospital, bankOrgId: bank, day: next, interestFen: interest, interestAccruedFen: updated.interestAccruedFen },
    { key: `interest-accrued:${advanceId}:${next}` },
  );
  return updated;
}

/**
 * Posts the daily interest of an advance for every day not yet accrued up to `through` (never past
 * yesterday), one unit of work and one entry per day under `accrue:<advanceId>:<day>`. Safe to run
 * twice or concurrently.
 */
export async function accrueAdvanceThrough(advanceId: string, through: string = lastCompleteDay()): Promise<void> {
  const limit = lastCompleteDay();
  const target = through < limit ? through : limit;
  const owner = Types.ObjectId.isValid(advanceId) ? await Advance.findById(advanceId, { hospitalOrgId: 1, bankOrgId: 1 }).lean<Pick<AdvanceDoc, 'hospitalOrgId' | 'bankOrgId'>>() : null;
  if (!owner) return;
  await ensureAccounts([accounts.interestReceivable(String(owner.hospitalOrgId), String(owner.bankOrgId)), accounts.interestIncome(String(owner.bankOrgId))]);
  for (let guard = 0; guard < 5000; guard += 1) {
    let step: AdvanceDoc | undefined;
    try {
      step = await withCommand(null, async (uow) => {
        const advance = await Advance.findById(advanceId).session(uow.session).lean<AdvanceDoc>();
        return advance ? accrueNextDay(uow, advance, target) : undefined;
      });
    } catch (err) {
      if (isDuplicateEntry(err) || err instanceof AdvanceChanged) continue;
      throw err;
    }
    if (!step) return;
  }
}

/** Brings every owing advance of a hospital's bank up to `through`, in the caller's unit of work. */
async function accrueOwingIn(uow: UnitOfWork, hospital: string, bank: string, through: string): Promise<AdvanceDoc[]> {
  const owing = await Advance.find({ hospitalOrgId: new Types.ObjectId(hospital), bankOrgId: new Types.ObjectId(bank), status: trusted({ $in: OWING }) })
    .session(uow.session)
    .lean<AdvanceDoc[]>();
  const current: AdvanceDoc[] = [];
  for (const a of owing) {
    let latest = a;
    for (let next = await accrueNextDay(uow, latest, through); next; next = await accrueNextDay(uow, latest, through)) latest = next;
    current.push(latest);
  }
  return current;
}

/**
 * Hospital finance: repays its bank — interest first, then the oldest principal — from the
 * working-capital account or by a transfer. Interest not yet accrued up to yesterday is accrued first,
 * in the same unit of work. Refuses more than the debt. Idempotent by `requestKey` (the journal key
 * `repay:<hospital>:<requestKey>`); returns the repayment as the API shows it.
 */
export async function repay(actor: Actor, input: RepayInput, requestKey: string): Promise<ReturnType<typeof repaymentView>> {
  const hospital = actor.orgId;
  const bank = await currentBankOf(hospital);
  if (!bank) throw new RuleViolationError({ code: 'NOTHING_TO_REPAY', message: msg('errorCodes.NOTHING_TO_REPAY') });
  const key = `repay:${hospital}:${requestKey}`;
  await ensureAccounts([
    accounts.workingCapital(hospital, bank),
    accounts.bankClearing(hospital, bank),
    accounts.interestReceivable(hospital, bank),
    accounts.advancePrincipal(hospital, bank),
    accounts.interestIncome(bank),
  ]);
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const posted = await JournalEntry.findOne({ idempotencyKey: key }, { _id: 1 }).lean();
    const replay = posted ? await Repayment.findOne({ entryId: posted._id }).lean<RepaymentDoc>() : null;
    if (replay) return repaymentView(replay);
    try {
      return await withCommand(actor, async (uow) => repaymentView(await repayIn(uow, actor, hospital, bank, input, key, requestKey)));
    } catch (err) {
      if (err instanceof AdvanceChanged || isDuplicateEntry(err)) continue;
      throw err;
    }
  }
  throw new RuleViolationError({ code: 'REPAYMENT_BUSY', message: msg('errorCodes.REPAYMENT_BUSY') });
}

async function repayIn(uow: UnitOfWork, actor: Actor, hospital: string, bank: string, input: RepayInput, key: string, requestKey: string): Promise<RepaymentDoc> {
  const s = uow.session;
  const at = uow.at;
  const owing = await accrueOwingIn(uow, hospital, bank, lastCompleteDay(at));
  const debt = sumFen(owing.map((a) => a.principalOutstandingFen + interestOutstandingFen(a)));
  if (debt === 0) throw new RuleViolationError({ code: 'NOTHING_TO_REPAY', message: msg('errorCodes.NOTHING_TO_REPAY') });
  if (input.amountFen > debt) {
    throw new RuleViolationError({
      code: 'REPAYMENT_EXCEEDS_DEBT',
      message: msg('errorCodes.REPAYMENT_EXCEEDS_DEBT', { debt: fen(debt) }),
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
      throw new RuleViolationError({ code: 'INSUFFICIENT_FUNDS', message: msg('errorCodes.INSUFFICIENT_FUNDS', { balance: fen(balance), amountFen: fen(input.amountFen) }) });
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
      guards: input.source === 'account' ? [{ account: wc, minShownFen: 0, code: 'INSUFFICIENT_FUNDS', message: msg('errorCodes.INSUFFICIENT_FUNDS_2') }] : [],
      refs: { hospitalOrgId: hospital, bankOrgId: bank, reference: input.reference, actorId: actor.id },
      postedAt: at,
    },
    s,
  );
  const byId = new Map(owing.map((a) => [String(a._id), a]));
  const repaid: string[] = [];
  for (const alloc of allocations) {
    const a = byId.get(alloc.id)!;
    const principalLeft = a.principalOutstandingFen - alloc.principalFen;
    const interestPaid = a.interestPaidFen + alloc.interestFen;
    const done = principalLeft === 0 && interestPaid === a.interestAccruedFen;
    if (done) repaid.push(alloc.id);
    const res = await Advance.updateOne(
      { _id: a._id, principalOutstandingFen: a.principalOutstandingFen, interestPaidFen: a.interestPaidFen, interestAccruedFen: a.interestAccruedFen },
      {
        $set: { principalOutstandingFen: principalLeft, interestPaidFen: interestPaid, ...(done ? { status: 'repaid', repaidAt: at } : {}) },
        ...(alloc.principalFen > 0 ? { $push: { segments: { at, principalFen: principalLeft } } } : {}),
      },
      { session: s },
    );
    if (res.matchedCount !== 1) throw new AdvanceChanged();
  }
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
  const r = repayment!.toObject() as RepaymentDoc;
  const repaymentId = String(r._id);
  uow.audit({
    action: 'finance.repayment',
    targetType: 'repayment',
    targetId: repaymentId,
    summary: msg(`finance.audit.repayment.${input.source}`, { amount: fen(input.amountFen), interest: fen(interest), principal: fen(principal) }),
  });
  uow.emit(
    RepaymentMade,
    { repaymentId, hospitalOrgId: hospital, hospitalName: actor.orgName, bankOrgId: bank, amountFen: input.amountFen, interestFen: interest, principalFen: principal, source: input.source, at: at.toISOString(), advancesRepaid: repaid },
    { key: `repayment:${hospital}:${requestKey}` },
  );
  return r;
}

/**
 * Marks advances past their tenor as overdue, each in its own unit of work with its audit entry and
 * `finance.advance_overdue` (once per advance: the move is guarded). Returns how many it marked.
 */
export async function markOverdueAdvances(at: Date = now()): Promise<number> {
  const late = await Advance.find({ status: 'outstanding', dueAt: trusted({ $lt: at }) }).lean<AdvanceDoc[]>();
  let marked = 0;
  for (const a of late) {
    const moved = await withCommand(null, async (uow) => {
      const res = await Advance.updateOne({ _id: a._id, status: 'outstanding' }, { $set: { status: 'overdue', overdueAt: uow.at } }, { session: uow.session });
      if (res.modifiedCount !== 1) return false;
      const advanceId = String(a._id);
      uow.audit({
        action: 'finance.advance.overdue',
        targetType: 'advance',
        targetId: advanceId,
        summary: msg('finance.audit.advanceOverdue', { invoiceNo: a.invoiceNo, principal: fen(a.principalOutstandingFen), dueAt: { date: a.dueAt.toISOString() } }),
      });
      uow.emit(
        AdvanceOverdue,
        {
          advanceId,
          invoiceId: String(a.invoiceId),
          invoiceNo: a.invoiceNo,
          hospitalOrgId: String(a.hospitalOrgId),
          bankOrgId: String(a.bankOrgId),
          principalOutstandingFen: a.principalOutstandingFen,
          dueAt: a.dueAt.toISOString(),
          at: uow.at.toISOString(),
        },
        { key: `advance-overdue:${advanceId}` },
      );
      return true;
    });
    if (moved) marked += 1;
  }
  return marked;
}

/** Sends a due invoice's settlement job now: promotes the delayed one, or queues it again if it is gone. */
export async function runSettlementNow(invoiceId: string): Promise<void> {
  const { queues } = platform();
  const jobId = jobIds.settle(invoiceId);
  const job = await queues.getJob(jobId);
  if (job) {
    const state = await job.getState();
    if (state === 'delayed') {
      await job.promote();
      return;
    }
    if (state === 'waiting' || state === 'active' || state === 'prioritized' || state === 'waiting-children') return;
    await job.remove().catch(() => undefined);
  }
  await queues.enqueue(settleInvoiceJob, { invoiceId }, { jobId });
}

/**
 * Makes sure a due invoice has a settlement job that will run: a job still pending (delayed, waiting,
 * running) is left alone; a lost job (Redis restarted empty) or a finished one (it ran before the due
 * instant) is queued again to run now. Returns whether it queued one.
 */
async function ensureSettlementJob(invoiceId: string): Promise<boolean> {
  const { queues } = platform();
  const jobId = jobIds.settle(invoiceId);
  const job = await queues.getJob(jobId);
  if (job) {
    const state = await job.getState();
    if (state === 'delayed' || state === 'waiting' || state === 'active' || state === 'prioritized' || state === 'waiting-children') return false;
    await job.remove().catch(() => undefined);
  }
  await queues.enqueue(settleInvoiceJob, { invoiceId }, { jobId });
  return true;
}

/** Queues the accrual, through `through`, of every owing advance that is behind (deterministic job ids). */
async function queueAccrualsBehind(at: Date, through: string, limit = 5000): Promise<number> {
  const behind = await Advance.find(
    {
      status: trusted({ $in: OWING }),
      $or: [{ accruedThrough: trusted({ $lt: through }) }, { accruedThrough: trusted({ $exists: false }), advancedAt: trusted({ $lt: startOfBusinessDay(at) }) }],
    },
    { _id: 1 },
  )
    .limit(limit)
    .lean();
  for (const a of behind) await platform().queues.enqueue(accrueAdvanceJob, { advanceId: String(a._id), day: through }, { jobId: jobIds.accrue(String(a._id), through) });
  return behind.length;
}

/**
 * The daily run (job `finance-daily:<day>`, scheduled by subscribers and the sweep): queues the
 * accrual of every owing advance for the day that just ended, marks advances past their tenor
 * overdue and sends every due invoice's settlement to the worker now.
 */
export async function dailyRun(day: string): Promise<{ day: string; accruals: number; overdue: number; settlements: number }> {
  const at = now();
  const through = lastCompleteDay(at);
  const owing = await Advance.find({ status: trusted({ $in: OWING }) }, { _id: 1 }).lean();
  for (const a of owing) await platform().queues.enqueue(accrueAdvanceJob, { advanceId: String(a._id), day: through }, { jobId: jobIds.accrue(String(a._id), through) });
  const overdue = await markOverdueAdvances(at);
  const due = await dueOpenInvoiceIds(at);
  for (const id of due) await runSettlementNow(id);
  await ensureDailyRun();
  return { day, accruals: owing.length, overdue, settlements: due.length };
}

/**
 * The module's sweep (every schedule interval, in the worker, whatever Redis lost): every due open
 * invoice has a settlement job that will run, every owing advance behind yesterday has its accrual
 * queued, advances past their tenor are overdue, and tomorrow's daily run is scheduled. Idempotent.
 */
export async function sweepFinance(): Promise<{ settlements: number; accruals: number; overdue: number }> {
  const at = now();
  let settlements = 0;
  for (const id of await dueOpenInvoiceIds(at, 1000)) if (await ensureSettlementJob(id)) settlements += 1;
  const accruals = await queueAccrualsBehind(at, lastCompleteDay(at));
  const overdue = await markOverdueAdvances(at);
  await ensureDailyRun();
  return { settlements, accruals, overdue };
}

interface HistoryFilter {
  hospitalOrgId?: string;
  bankOrgId?: string;
}

function historyFilter(filter: HistoryFilter): Record<string, unknown> {
  const q: Record<string, unknown> = {};
  if (filter.hospitalOrgId) q.hospitalOrgId = new Types.ObjectId(filter.hospitalOrgId);
  if (filter.bankOrgId) q.bankOrgId = new Types.ObjectId(filter.bankOrgId);
  return q;
}

/** Advances, oldest first; with `latest`, only the newest that many (a page shows those, the statement the rest). */
export async function listAdvances(filter: HistoryFilter & { status?: string }, opts: { latest?: number } = {}): Promise<AdvanceDoc[]> {
  const q = historyFilter(filter);
  if (filter.status) q.status = filter.status;
  if (opts.latest) return (await Advance.find(q).sort({ advancedAt: -1, _id: -1 }).limit(opts.latest).lean<AdvanceDoc[]>()).reverse();
  return Advance.find(q).sort({ advancedAt: 1, _id: 1 }).limit(2000).lean<AdvanceDoc[]>();
}

/** One page of advances, newest first (`cursor` from the page before). */
export async function pageAdvances(filter: HistoryFilter, page: { cursor?: string; limit: number }): Promise<{ rows: AdvanceDoc[]; nextCursor: string | null }> {
  const rows = await Advance.find({ ...historyFilter(filter), ...beforeCursor('advancedAt', page.cursor) })
    .sort({ advancedAt: -1, _id: -1 })
    .limit(page.limit + 1)
    .lean<AdvanceDoc[]>();
  return pageOf(rows, page.limit, (a) => a.advancedAt);
}

/** Repayments, newest first (at most `latest`, else 2000). */
export async function listRepayments(filter: HistoryFilter, opts: { latest?: number } = {}): Promise<RepaymentDoc[]> {
  return Repayment.find(historyFilter(filter)).sort({ at: -1, _id: -1 }).limit(opts.latest ?? 2000).lean<RepaymentDoc[]>();
}

/** One page of repayments, newest first (`cursor` from the page before). */
export async function pageRepayments(filter: HistoryFilter, page: { cursor?: string; limit: number }): Promise<{ rows: RepaymentDoc[]; nextCursor: string | null }> {
  const rows = await Repayment.find({ ...historyFilter(filter), ...beforeCursor('at', page.cursor) })
    .sort({ at: -1, _id: -1 })
    .limit(page.limit + 1)
    .lean<RepaymentDoc[]>();
  return pageOf(rows, page.limit, (r) => r.at);
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

/** What a hospital owes its bank right now. */
export interface Debt {
  principalFen: number;
  interestFen: number;
  overduePrincipalFen: number;
  /** owing advances */
  advances: number;
}

export const noDebt = (): Debt => ({ principalFen: 0, interestFen: 0, overduePrincipalFen: 0, advances: 0 });

/**
 * What each hospital owes a bank right now (two reads, whatever the number of hospitals): the
 * bank's owing advances and its hospitals' principal and interest accounts; only `hospitalOrgId`'s
 * when given. A hospital that owes nothing has no entry.
 */
export async function debtsOfBank(bankOrgId: string, hospitalOrgId?: string): Promise<Map<string, Debt>> {
  const bank = new Types.ObjectId(bankOrgId);
  const hospital = hospitalOrgId ? { hospitalOrgId: new Types.ObjectId(hospitalOrgId) } : {};
  const [owing, held] = await Promise.all([
    Advance.find({ bankOrgId: bank, ...hospital, status: trusted({ $in: OWING }) }, { hospitalOrgId: 1, status: 1, principalOutstandingFen: 1 }).lean<Pick<AdvanceDoc, 'hospitalOrgId' | 'status' | 'principalOutstandingFen'>[]>(),
    LedgerAccount.find(
      { bankOrgId: bank, ...(hospitalOrgId ? { ownerOrgId: new Types.ObjectId(hospitalOrgId) } : {}), type: trusted({ $in: ['advance_principal', 'interest_receivable'] as AccountType[] }) },
      { ownerOrgId: 1, type: 1, normalSide: 1, balanceFen: 1 },
    ).lean<Pick<LedgerAccountDoc, 'ownerOrgId' | 'type' | 'normalSide' | 'balanceFen'>[]>(),
  ]);
  const debts = new Map<string, Debt>();
  const of = (id: string): Debt => {
    let d = debts.get(id);
    if (!d) debts.set(id, (d = noDebt()));
    return d;
  };
  for (const a of held) {
    if (!a.ownerOrgId) continue;
    const d = of(String(a.ownerOrgId));
    if (a.type === 'advance_principal') d.principalFen = sumFen([d.principalFen, shownBalance(a)]);
    else d.interestFen = sumFen([d.interestFen, shownBalance(a)]);
  }
  for (const a of owing) {
    const d = of(String(a.hospitalOrgId));
    d.advances += 1;
    if (a.status === 'overdue') d.overduePrincipalFen = sumFen([d.overduePrincipalFen, a.principalOutstandingFen]);
  }
  return debts;
}

/** Principal, interest and overdue principal a hospital owes its bank right now (from the advances). */
export async function debtOf(hospitalOrgId: string, bankOrgId: string): Promise<Debt> {
  return (await debtsOfBank(bankOrgId, hospitalOrgId)).get(hospitalOrgId) ?? noDebt();
}
