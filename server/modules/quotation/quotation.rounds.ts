// Round lifecycle: draft → scheduled → open → closed → published → expired, and cancelled. Opening,
// closing and expiry are scheduled jobs with deterministic ids; each handler re-reads the round and
// only settles what the database says (a close whose time moved later waits for its new time).
import { DelayedError, type Job } from 'bullmq';
import { Types } from 'mongoose';
import { RoundCancelled, RoundClosed, RoundExpired, RoundOpened, RoundPublished, RoundScheduled } from '../../events/quotation';
import type { Actor } from '../../platform/auth';
import { now, platform } from '../../platform/context';
import { ConflictError, NotFoundError, RuleViolationError, ValidationError } from '../../platform/errors';
import { dateTime, msg } from '../../platform/messages';
import { trusted } from '../../platform/mongo';
import { beforeCursor, pageOf } from '../../platform/pagination';
import { formatFen } from '../../platform/money';
import { addDays, businessDay } from '../../platform/time';
import { withCommand, type UnitOfWork } from '../../platform/unit-of-work';
import { currentReferencePrices, getDrugs } from '../catalogue';
import { getSettings } from '../settings';
import { canView, rank, reductionOf } from './quotation.board';
import { closeRoundJob, expireRoundJob, jobIds, openRoundJob } from './quotation.jobs';
import { Counter, Listing, Quote, QuoteEvent, Round, type ListingRecord, type QuoteRecord, type RoundLineRecord, type RoundRecord } from './quotation.model';
import { minimumDecrementFen, roundReport, type RoundReport } from './quotation.rules';
import type { CreateRoundInput, RoundListQueryInput, UpdateRoundInput } from './quotation.schemas';

async function nextRoundNo(at: Date): Promise<string> {
  const year = businessDay(at).slice(0, 4);
  const counter = await Counter.findOneAndUpdate({ _id: `round-no:${year}` }, { $inc: { value: 1 } }, { upsert: true, returnDocument: 'after' }).lean<{ value: number }>();
  return `DQ${year}-${String(counter!.value).padStart(4, '0')}`;
}

/** Resolves lines, prices and settings of a round from its input (defaults from the platform settings). */
async function buildRoundFields(input: CreateRoundInput) {
  const settings = (await getSettings()).quotation;
  const opensAt = new Date(input.opensAt);
  const closesAt = new Date(input.closesAt);
  if (closesAt.getTime() <= opensAt.getTime()) {
    throw new ValidationError({ code: 'INVALID_WINDOW', message: msg('errorCodes.INVALID_WINDOW'), details: [{ path: 'closesAt', message: msg('validationIssues.afterOpens') }] });
  }
  const ids = input.lines.map((l) => l.drugId);
  const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (dupes.length) {
    throw new ValidationError({ code: 'DUPLICATE_LINE', message: msg('errorCodes.DUPLICATE_LINE_4'), details: dupes.map((drugId) => ({ path: 'lines', drugId, message: 'listed twice' })) });
  }
  const drugs = new Map((await getDrugs(ids)).map((d) => [String(d._id), d]));
  const missing = ids.filter((id) => !drugs.has(id));
  if (missing.length) {
    throw new RuleViolationError({ code: 'DRUG_NOT_FOUND', message: msg('errorCodes.DRUG_NOT_FOUND_2'), details: missing.map((drugId) => ({ path: 'lines', drugId })) });
  }
  const prices = await currentReferencePrices(ids, opensAt);
  const noPrice = input.lines.filter((l) => l.referenceFen === undefined && !prices.has(l.drugId));
  if (noPrice.length) {
    throw new RuleViolationError({
      code: 'NO_REFERENCE_PRICE',
      message: msg('errorCodes.NO_REFERENCE_PRICE_2', { value: noPrice.map((l) => drugs.get(l.drugId)!.genericNameZh).join('、') }),
      details: noPrice.map((l) => ({ path: 'lines', drugId: l.drugId })),
    });
  }
  const minDecrementBp = input.minDecrementBp ?? settings.minDecrementBp;
  const lines = input.lines.map((l, i) => {
    const d = drugs.get(l.drugId)!;
    const referenceFen = l.referenceFen ?? prices.get(l.drugId)!.priceFen;
    return {
      _id: new Types.ObjectId(),
      no: i + 1,
      drugId: d._id,
      drug: { genericNameZh: d.genericNameZh, genericNameEn: d.genericNameEn, dosageForm: d.dosageForm, specification: d.specification, packUnit: d.packUnit, manufacturer: d.manufacturer, nhsaCode: d.nhsaCode, standardCode: d.standardCode },
      referenceFen,
      minDecrementFen: minimumDecrementFen(referenceFen, minDecrementBp),
    };
  });
  return {
    title: input.title,
    description: input.description,
    lines,
    opensAt,
    closesAt,
    scheduledClosesAt: closesAt,
    visibility: input.visibility ?? 'rank',
    minDecrementBp,
    antiSniping: {
      windowSec: input.antiSniping?.windowSec ?? settings.antiSnipingWindowSec,
      extendSec: input.antiSniping?.extendSec ?? settings.antiSnipingExtendSec,
      maxExtensions: input.antiSniping?.maxExtensions ?? settings.antiSnipingMaxExtensions,
    },
    listingValidityDays: input.listingValidityDays ?? settings.listingValidityDays,
    clearlyBelowBp: settings.clearlyBelowBp,
  };
}

/** Operator: creates a draft round from catalogue drugs (reference prices in force at the opening unless given). */
export async function createRound(actor: Actor, input: CreateRoundInput): Promise<RoundRecord> {
  const fields = await buildRoundFields(input);
  const no = await nextRoundNo(fields.opensAt);
  return withCommand(actor, async (uow) => {
    const [doc] = await Round.create([{ ...fields, no, status: 'draft', extensions: 0, seq: 0, createdBy: new Types.ObjectId(actor.id) }], { session: uow.session });
    uow.audit({ action: 'round.create', targetType: 'round', targetId: String(doc!._id), summary: msg('quotation.audit.created', { no, title: fields.title, lines: fields.lines.length }) });
    return doc!.toObject() as RoundRecord;
  });
}

function asInput(round: RoundRecord): CreateRoundInput {
  return {
    title: round.title,
    description: round.description,
    lines: round.lines.map((l) => ({ drugId: String(l.drugId), referenceFen: l.referenceFen })),
    opensAt: round.opensAt.toISOString(),
    closesAt: round.closesAt.toISOString(),
    visibility: round.visibility,
    minDecrementBp: round.minDecrementBp,
    antiSniping: round.antiSniping,
    listingValidityDays: round.listingValidityDays,
  };
}

async function loadRound(id: string): Promise<RoundRecord> {
  const round = Types.ObjectId.isValid(id) ? await Round.findById(id).lean<RoundRecord>() : null;
  if (!round) throw new NotFoundError({ code: 'ROUND_NOT_FOUND', message: msg('errorCodes.ROUND_NOT_FOUND') });
  return round;
}

/** Operator: edits a draft (lines given anew take the reference price in force unless given). */
export async function updateRound(actor: Actor, id: string, patch: UpdateRoundInput): Promise<RoundRecord> {
  const round = await loadRound(id);
  if (round.status !== 'draft') throw new ConflictError({ code: 'ROUND_NOT_EDITABLE', message: msg('errorCodes.ROUND_NOT_EDITABLE') });
  const fields = await buildRoundFields({ ...asInput(round), ...patch, antiSniping: { ...round.antiSniping, ...patch.antiSniping } });
  await withCommand(actor, async (uow) => {
    const res = await Round.updateOne({ _id: round._id, status: 'draft' }, { $set: fields }, { session: uow.session });
    if (res.matchedCount !== 1) throw new ConflictError({ code: 'ROUND_NOT_EDITABLE', message: msg('errorCodes.ROUND_NOT_EDITABLE') });
    uow.audit({ action: 'round.update', targetType: 'round', targetId: id, summary: msg('quotation.audit.updated', { no: round.no, fields: { list: Object.keys(patch) } }) });
  });
  return loadRound(id);
}

/** Operator: schedules a draft; the open and close jobs are queued under deterministic ids. */
export async function scheduleRound(actor: Actor, id: string): Promise<RoundRecord> {
  const round = await loadRound(id);
  if (round.status !== 'draft') throw new ConflictError({ code: 'ROUND_NOT_DRAFT', message: msg('errorCodes.ROUND_NOT_DRAFT') });
  const at = now();
  if (round.closesAt.getTime() <= at.getTime()) {
    throw new RuleViolationError({ code: 'CLOSE_IN_PAST', message: msg('errorCodes.CLOSE_IN_PAST'), details: [{ path: 'closesAt' }] });
  }
  // NOTE: the open and close jobs follow from the fact (a subscriber); should Redis lose them, the
  // schedule sweep finds the round by its times.
  await withCommand(actor, async (uow) => {
    const session = uow.session;
    const res = await Round.updateOne({ _id: round._id, status: 'draft' }, { $set: { status: 'scheduled', scheduledAt: at } }, { session });
    if (res.matchedCount !== 1) throw new ConflictError({ code: 'ROUND_NOT_DRAFT', message: msg('errorCodes.ROUND_NOT_DRAFT') });
    await QuoteEvent.create([{ roundId: round._id, at, type: 'scheduled', closesAt: round.closesAt, message: `opens ${round.opensAt.toISOString()}` }], { session });
    uow.audit({ action: 'round.schedule', targetType: 'round', targetId: id, summary: msg('quotation.audit.scheduled', { no: round.no, opensAt: dateTime(round.opensAt), closesAt: dateTime(round.closesAt) }) });
    uow.emit(RoundScheduled, { roundId: id, no: round.no, opensAt: round.opensAt.toISOString(), closesAt: round.closesAt.toISOString() }, { key: `round-scheduled:${id}` });
  });
  return loadRound(id);
}

/** Operator: cancels a round before it closes; quotes stay in the audit trail, nothing is listed. */
export async function cancelRound(actor: Actor, id: string, reason: string): Promise<RoundRecord> {
  const at = now();
  return withCommand(actor, async (uow) => {
    const session = uow.session;
    const r = Types.ObjectId.isValid(id) ? await Round.findById(id, null, { session }).lean<RoundRecord>() : null;
    if (!r) throw new NotFoundError({ code: 'ROUND_NOT_FOUND', message: msg('errorCodes.ROUND_NOT_FOUND') });
    if (!['draft', 'scheduled', 'open'].includes(r.status)) throw new ConflictError({ code: 'ROUND_NOT_CANCELLABLE', message: msg('errorCodes.ROUND_NOT_CANCELLABLE') });
    if (r.status === 'open' && r.closesAt.getTime() <= at.getTime()) throw new ConflictError({ code: 'ROUND_NOT_CANCELLABLE', message: msg('errorCodes.ROUND_NOT_CANCELLABLE_2') });
    const res = await Round.updateOne({ _id: r._id, seq: r.seq, status: r.status }, { $set: { status: 'cancelled', cancelledAt: at, cancelReason: reason }, $inc: { seq: 1 } }, { session });
    if (res.modifiedCount !== 1) throw new ConflictError({ code: 'ROUND_BUSY', message: msg('errorCodes.ROUND_BUSY_2') });
    await QuoteEvent.create([{ roundId: r._id, at, type: 'cancelled', seq: r.seq + 1, message: reason }], { session });
    uow.audit({ action: 'round.cancel', targetType: 'round', targetId: id, summary: msg('quotation.audit.cancelled', { no: r.no, reason }) });
    uow.emit(RoundCancelled, { roundId: id, no: r.no, title: r.title, reason }, { key: `round-cancelled:${id}` });
    return { ...r, status: 'cancelled' as const, cancelledAt: at, cancelReason: reason, seq: r.seq + 1 };
  });
}

/** Moves a job to a later (business) time so the same job id runs again then. */
async function delayJobUntil(job: Job, at: Date): Promise<never> {
  const realRunAt = Date.now() + Math.max(0, at.getTime() - now().getTime());
  await job.moveToDelayed(realRunAt, job.token);
  throw new DelayedError();
}

/** Job: opens a scheduled round once its opening time has come. Safe to run twice. */
export async function openRound(roundId: string, job?: Job): Promise<'opened' | 'skipped'> {
  const round = await Round.findById(roundId).lean<RoundRecord>();
  if (!round || round.status !== 'scheduled') return 'skipped';
  if (round.opensAt.getTime() > now().getTime()) {
    if (job) await delayJobUntil(job, round.opensAt);
    return 'skipped';
  }
  return withCommand(null, async (uow) => {
    const at = uow.at;
    const res = await Round.updateOne({ _id: round._id, status: 'scheduled' }, { $set: { status: 'open', openedAt: at } }, { session: uow.session });
    if (res.modifiedCount !== 1) return 'skipped' as const;
    await QuoteEvent.create([{ roundId: round._id, at, type: 'opened', closesAt: round.closesAt }], { session: uow.session });
    uow.audit({ action: 'round.open', targetType: 'round', targetId: roundId, summary: msg('quotation.audit.opened', { no: round.no }) });
    uow.emit(RoundOpened, { roundId, no: round.no, title: round.title, closesAt: round.closesAt.toISOString(), lineCount: round.lines.length }, { key: `round-opened:${roundId}` });
    return 'opened' as const;
  });
}

/**
 * Job: closes a round whose close time has come, then publishes its listing. The close is one
 * transaction on the round (so a racing quote is either in or refused); when an extension moved the
 * close later the job waits for the new time instead. Both steps are conditional, so a second run,
 * or a run after a crash between the steps, completes the work exactly once.
 */
export async function closeRound(roundId: string, job?: Job): Promise<'closed' | 'published' | 'skipped'> {
  const round = await Round.findById(roundId).lean<RoundRecord>();
  if (!round) return 'skipped';
  if (round.status === 'scheduled' || round.status === 'open') {
    if (round.closesAt.getTime() > now().getTime()) {
      if (job) await delayJobUntil(job, round.closesAt);
      return 'skipped';
    }
    const closed = await closeTransaction(roundId);
    if (closed === 'moved') {
      const again = await Round.findById(roundId, { closesAt: 1 }).lean<RoundRecord>();
      if (job && again) await delayJobUntil(job, again.closesAt);
      return 'skipped';
    }
    // NOTE: publication follows from the close (a subscriber of `quotation.round_closed`).
    return closed === 'closed' ? 'closed' : 'skipped';
  }
  // A round closed before publication existed as a subscriber (or whose fact is still on its way).
  return (await publishRound(roundId)) ? 'published' : 'skipped';
}

async function closeTransaction(roundId: string): Promise<'closed' | 'moved' | 'skipped'> {
  return withCommand(null, async (uow) => {
    const session = uow.session;
    const at = uow.at;
    const round = await Round.findById(roundId, null, { session }).lean<RoundRecord>();
    if (!round || (round.status !== 'scheduled' && round.status !== 'open')) return 'skipped' as const;
    if (round.closesAt.getTime() > at.getTime()) return 'moved' as const;
    const seq = round.seq + 1;
    const res = await Round.updateOne({ _id: round._id, seq: round.seq }, { $set: { status: 'closed', closedAt: at, seq } }, { session });
    if (res.modifiedCount !== 1) throw new ConflictError({ code: 'ROUND_BUSY', message: msg('errorCodes.ROUND_BUSY_3') });
    const quotes = await Quote.find({ roundId: round._id, status: 'active' }, null, { session }).lean<QuoteRecord[]>();
    const expiresAt = addDays(at, round.listingValidityDays);
    const entries: Omit<ListingRecord, '_id'>[] = [];
    for (const line of round.lines) {
      const ranked = rank(quotes.filter((q) => String(q.lineId) === String(line._id)));
      for (const q of ranked) {
        const quote = quotes.find((x) => String(x._id) === q.quoteId)!;
        entries.push(listingEntry(round, line, quote, q.rank, at, expiresAt));
      }
    }
    if (entries.length) await Listing.insertMany(entries, { session });
    await QuoteEvent.create([{ roundId: round._id, at, type: 'closed', seq, closesAt: round.closesAt, message: `${entries.length} final quotes on ${round.lines.length} lines` }], { session });
    uow.audit({ action: 'round.close', targetType: 'round', targetId: roundId, summary: msg('quotation.audit.closed', { no: round.no, quotes: entries.length, lines: round.lines.length }) });
    uow.emit(RoundClosed, { roundId, no: round.no, seq, closedAt: at.toISOString() }, { key: `round-closed:${roundId}` });
    return 'closed' as const;
  });
}

/** One listing entry from a final quote (also used by the demo data). */
export function listingEntry(round: RoundRecord, line: RoundLineRecord, quote: QuoteRecord, rankValue: number, at: Date, expiresAt: Date): Omit<ListingRecord, '_id'> {
  return {
    roundId: round._id,
    roundNo: round.no,
    roundTitle: round.title,
    lineId: line._id,
    drugId: line.drugId,
    drug: line.drug,
    distributorOrgId: quote.distributorOrgId,
    distributorName: quote.distributorName,
    alias: quote.alias,
    quoteId: quote._id,
    unitPriceFen: quote.priceFen,
    referenceFen: line.referenceFen,
    reductionBp: reductionOf(quote.priceFen, line.referenceFen),
    rank: rankValue,
    quotedAt: quote.receivedAt,
    publishedAt: at,
    expiresAt,
    status: 'listed',
  };
}

/** The round report from its listing: per line and overall. */
export async function computeReport(round: RoundRecord, uow?: UnitOfWork): Promise<RoundReport> {
  const entries = await Listing.find({ roundId: round._id }, { lineId: 1, distributorOrgId: 1, unitPriceFen: 1, quotedAt: 1 }, { session: uow?.session }).lean<ListingRecord[]>();
  return roundReport(
    round.lines.map((line) => ({
      lineId: String(line._id),
      referenceFen: line.referenceFen,
      quotes: entries.filter((e) => String(e.lineId) === String(line._id)).map((e) => ({ distributorId: String(e.distributorOrgId), priceFen: e.unitPriceFen, receivedAt: e.quotedAt })),
    })),
    { clearlyBelowBp: round.clearlyBelowBp },
  );
}

/**
 * Publishes a closed round: its report and listing validity, in one unit of work with the fact that
 * tells hospitals and participants (a subscriber of the close, or the close job for an older round).
 * Returns whether the round is published (now or before).
 */
export async function publishRound(roundId: string, joined?: UnitOfWork): Promise<boolean> {
  const round = await Round.findById(roundId, null, { session: joined?.session }).lean<RoundRecord>();
  if (!round || (round.status !== 'closed' && round.status !== 'published')) return false;
  if (round.status === 'published') return true;
  const report = await computeReport(round, joined);
  const publish = async (uow: UnitOfWork) => {
    const at = round.closedAt ?? uow.at;
    const listingExpiresAt = addDays(at, round.listingValidityDays);
    const res = await Round.updateOne({ _id: round._id, status: 'closed' }, { $set: { status: 'published', publishedAt: at, listingExpiresAt, report } }, { session: uow.session });
    if (res.modifiedCount !== 1) return;
    await QuoteEvent.create([{ roundId: round._id, at: uow.at, type: 'published', message: `${report.overall.quotedLineCount} of ${report.overall.lineCount} lines listed` }], { session: uow.session });
    uow.audit({ action: 'round.publish', targetType: 'round', targetId: roundId, summary: msg('quotation.audit.published', { no: round.no, entries: report.overall.quoteCount }) });
    uow.emit(
      RoundPublished,
      {
        roundId,
        no: round.no,
        title: round.title,
        listingExpiresAt: listingExpiresAt.toISOString(),
        lineCount: report.overall.lineCount,
        quotedLineCount: report.overall.quotedLineCount,
        quoteCount: report.overall.quoteCount,
      },
      { key: `round-published:${roundId}` },
    );
  };
  if (joined) await publish(joined);
  else await withCommand(null, publish);
  return true;
}

/** Job: ends a published round's listing validity. Safe to run twice. */
export async function expireRound(roundId: string, job?: Job): Promise<'expired' | 'skipped'> {
  const round = await Round.findById(roundId).lean<RoundRecord>();
  if (!round || round.status !== 'published' || !round.listingExpiresAt) return 'skipped';
  if (round.listingExpiresAt.getTime() > now().getTime()) {
    if (job) await delayJobUntil(job, round.listingExpiresAt);
    return 'skipped';
  }
  return withCommand(null, async (uow) => {
    const session = uow.session;
    const res = await Round.updateOne({ _id: round._id, status: 'published' }, { $set: { status: 'expired', expiredAt: uow.at } }, { session });
    if (res.modifiedCount !== 1) return 'skipped' as const;
    await Listing.updateMany({ roundId: round._id, status: 'listed' }, { $set: { status: 'expired' } }, { session });
    await QuoteEvent.create([{ roundId: round._id, at: uow.at, type: 'expired' }], { session });
    uow.audit({ action: 'round.expire', targetType: 'round', targetId: roundId, summary: msg('quotation.audit.expired', { no: round.no }) });
    uow.emit(RoundExpired, { roundId, no: round.no }, { key: `round-expired:${roundId}` });
    return 'expired' as const;
  });
}

/** Rounds the actor may see, newest first (operators see drafts too). */
export async function listRounds(actor: Actor, q: RoundListQueryInput) {
  const filter: Record<string, unknown> = { ...beforeCursor('createdAt', q.cursor) };
  if (q.status) filter.status = q.status;
  if (actor.role !== 'operator') {
    if (actor.role === 'bank_officer') return { data: [], nextCursor: null };
    if (q.status === 'draft') return { data: [], nextCursor: null };
    if (!q.status) filter.status = trusted({ $ne: 'draft' });
  }
  const rows = await Round.find(filter, { report: 0 }).sort({ createdAt: -1, _id: -1 }).limit(q.limit + 1).lean<RoundRecord[]>();
  const page = pageOf(rows, q.limit, (r) => r.createdAt);
  return { data: page.rows.map(summaryOf), nextCursor: page.nextCursor };
}

export function summaryOf(r: RoundRecord) {
  return {
    id: String(r._id),
    no: r.no,
    title: r.title,
    status: r.status,
    visibility: r.visibility,
    lineCount: r.lines.length,
    opensAt: r.opensAt.toISOString(),
    closesAt: r.closesAt.toISOString(),
    scheduledClosesAt: r.scheduledClosesAt.toISOString(),
    extensions: r.extensions,
    maxExtensions: r.antiSniping.maxExtensions,
    windowSec: r.antiSniping.windowSec,
    extendSec: r.antiSniping.extendSec,
    minDecrementBp: r.minDecrementBp,
    listingValidityDays: r.listingValidityDays,
    publishedAt: r.publishedAt?.toISOString() ?? null,
    listingExpiresAt: r.listingExpiresAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
  };
}

/** The stored report of a published round (operator; hospitals once published). */
export async function reportOf(actor: Actor, roundId: string) {
  const round = Types.ObjectId.isValid(roundId) ? await Round.findById(roundId).lean<RoundRecord>() : null;
  if (!round || !canView(actor, round) || actor.role === 'distributor') throw new NotFoundError({ code: 'ROUND_NOT_FOUND', message: msg('errorCodes.ROUND_NOT_FOUND') });
  if (!round.report) throw new ConflictError({ code: 'REPORT_NOT_READY', message: msg('errorCodes.REPORT_NOT_READY') });
  const report = round.report;
  return {
    round: summaryOf(round),
    overall: report.overall,
    lines: round.lines.map((line) => {
      const r = report.lines.find((x) => x.lineId === String(line._id))!;
      return { lineId: String(line._id), no: line.no, drug: line.drug, referenceFen: line.referenceFen, quoteCount: r.quoteCount, bestPriceFen: r.bestPriceFen, reductionBp: r.reductionBp, clearlyBelowReference: r.clearlyBelowReference };
    }),
    formatted: { totalReference: formatFen(report.overall.totalReferenceFen), totalBest: formatFen(report.overall.totalBestFen) },
  };
}

/**
 * Sweep: what the rounds' times say is due, whatever happened to their jobs (Redis restarted empty,
 * a worker down at the time): rounds past their opening are opened, past their close closed,
 * closed ones published, published ones past their validity expired; the jobs of rounds still to
 * come are queued again under their deterministic ids. Idempotent.
 */
export async function sweepRounds(limit = 200): Promise<number> {
  const at = now();
  const { queues } = platform();
  let done = 0;
  const live = await Round.find({ status: trusted({ $in: ['scheduled', 'open', 'closed', 'published'] }) }, { status: 1, opensAt: 1, closesAt: 1, listingExpiresAt: 1 })
    .limit(limit * 5)
    .lean<Pick<RoundRecord, '_id' | 'status' | 'opensAt' | 'closesAt' | 'listingExpiresAt'>[]>();
  for (const r of live) {
    const id = String(r._id);
    if (r.status === 'scheduled' && r.opensAt.getTime() <= at.getTime()) done += (await openRound(id)) === 'opened' ? 1 : 0;
    if ((r.status === 'scheduled' || r.status === 'open') && r.closesAt.getTime() <= at.getTime()) done += (await closeRound(id)) === 'skipped' ? 0 : 1;
    else if (r.status === 'scheduled') {
      await queues.enqueue(openRoundJob, { roundId: id }, { jobId: jobIds.open(id), runAt: r.opensAt });
      await queues.enqueue(closeRoundJob, { roundId: id }, { jobId: jobIds.close(id), runAt: r.closesAt });
    } else if (r.status === 'open') await queues.enqueue(closeRoundJob, { roundId: id }, { jobId: jobIds.close(id), runAt: r.closesAt });
    if (r.status === 'closed') done += (await publishRound(id)) ? 1 : 0;
    if (r.status === 'published' && r.listingExpiresAt) {
      if (r.listingExpiresAt.getTime() <= at.getTime()) done += (await expireRound(id)) === 'expired' ? 1 : 0;
      else await queues.enqueue(expireRoundJob, { roundId: id }, { jobId: jobIds.expire(id), runAt: r.listingExpiresAt });
    }
  }
  return done;
}
