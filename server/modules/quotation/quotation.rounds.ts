// Round lifecycle: draft → scheduled → open → closed → published → expired, and cancelled. Opening,
// closing and expiry are scheduled jobs with deterministic ids; each handler re-reads the round and
// only settles what the database says (a close whose time moved later waits for its new time).
import { DelayedError, type Job } from 'bullmq';
import mongoose, { Types } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { now, platform } from '../../platform/context';
import { ConflictError, NotFoundError, RuleViolationError, ValidationError } from '../../platform/errors';
import { trusted } from '../../platform/mongo';
import { beforeCursor, pageOf } from '../../platform/pagination';
import { formatFen } from '../../platform/money';
import { addDays, businessDay } from '../../platform/time';
import { recordAudit } from '../audit';
import { currentReferencePrices, getDrugs } from '../catalogue';
import { notifyOrganisation, notifyRoles } from '../notifications';
import { getSettings } from '../settings';
import { canView, publishTiming, rank, reductionOf, roundRooms } from './quotation.board';
import { closeRoundJob, expireRoundJob, jobIds, openRoundJob } from './quotation.jobs';
import { Counter, Listing, Participant, Quote, QuoteEvent, Round, type ListingRecord, type QuoteRecord, type RoundLineRecord, type RoundRecord } from './quotation.model';
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
    throw new ValidationError({ code: 'INVALID_WINDOW', message: 'The close must be after the opening.', details: [{ path: 'closesAt', message: 'must be after opensAt' }] });
  }
  const ids = input.lines.map((l) => l.drugId);
  const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (dupes.length) {
    throw new ValidationError({ code: 'DUPLICATE_LINE', message: 'Each drug may appear only once in a round.', details: dupes.map((drugId) => ({ path: 'lines', drugId, message: 'listed twice' })) });
  }
  const drugs = new Map((await getDrugs(ids)).map((d) => [String(d._id), d]));
  const missing = ids.filter((id) => !drugs.has(id));
  if (missing.length) {
    throw new RuleViolationError({ code: 'DRUG_NOT_FOUND', message: 'Some drugs are not in the catalogue.', details: missing.map((drugId) => ({ path: 'lines', drugId })) });
  }
  const prices = await currentReferencePrices(ids, opensAt);
  const noPrice = input.lines.filter((l) => l.referenceFen === undefined && !prices.has(l.drugId));
  if (noPrice.length) {
    throw new RuleViolationError({
      code: 'NO_REFERENCE_PRICE',
      message: `No reference price is in force at the opening for: ${noPrice.map((l) => drugs.get(l.drugId)!.genericNameZh).join('、')}. Add one in the catalogue or give the line a reference price.`,
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
  const [doc] = await Round.create([{ ...fields, no: await nextRoundNo(fields.opensAt), status: 'draft', extensions: 0, seq: 0, createdBy: new Types.ObjectId(actor.id) }]);
  await recordAudit(actor, { action: 'round.create', targetType: 'round', targetId: String(doc._id), summary: `created ${doc.no} "${fields.title}" with ${fields.lines.length} lines` });
  return doc.toObject() as RoundRecord;
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
  if (!round) throw new NotFoundError({ code: 'ROUND_NOT_FOUND', message: 'No such quotation round.' });
  return round;
}

/** Operator: edits a draft (lines given anew take the reference price in force unless given). */
export async function updateRound(actor: Actor, id: string, patch: UpdateRoundInput): Promise<RoundRecord> {
  const round = await loadRound(id);
  if (round.status !== 'draft') throw new ConflictError({ code: 'ROUND_NOT_EDITABLE', message: 'Only a draft round can be edited.' });
  const fields = await buildRoundFields({ ...asInput(round), ...patch, antiSniping: { ...round.antiSniping, ...patch.antiSniping } });
  const res = await Round.updateOne({ _id: round._id, status: 'draft' }, { $set: fields });
  if (res.matchedCount !== 1) throw new ConflictError({ code: 'ROUND_NOT_EDITABLE', message: 'Only a draft round can be edited.' });
  await recordAudit(actor, { action: 'round.update', targetType: 'round', targetId: id, summary: `changed ${Object.keys(patch).join(', ')}` });
  return loadRound(id);
}

/** Operator: schedules a draft; the open and close jobs are queued under deterministic ids. */
export async function scheduleRound(actor: Actor, id: string): Promise<RoundRecord> {
  const round = await loadRound(id);
  if (round.status !== 'draft') throw new ConflictError({ code: 'ROUND_NOT_DRAFT', message: `The round is ${round.status}, not a draft.` });
  const at = now();
  if (round.closesAt.getTime() <= at.getTime()) {
    throw new RuleViolationError({ code: 'CLOSE_IN_PAST', message: 'The close time has passed; change it before scheduling.', details: [{ path: 'closesAt' }] });
  }
  const res = await Round.updateOne({ _id: round._id, status: 'draft' }, { $set: { status: 'scheduled', scheduledAt: at } });
  if (res.matchedCount !== 1) throw new ConflictError({ code: 'ROUND_NOT_DRAFT', message: 'The round is no longer a draft.' });
  const { queues } = platform();
  try {
    await queues.reschedule(openRoundJob, { roundId: id }, jobIds.open(id), round.opensAt);
    await queues.reschedule(closeRoundJob, { roundId: id }, jobIds.close(id), round.closesAt);
  } catch (err) {
    // NOTE: a scheduled round without its jobs would never open or close, so it goes back to draft.
    await Round.updateOne({ _id: round._id, status: 'scheduled' }, { $set: { status: 'draft' }, $unset: { scheduledAt: 1 } });
    throw err;
  }
  await QuoteEvent.create({ roundId: round._id, at, type: 'scheduled', closesAt: round.closesAt, message: `opens ${round.opensAt.toISOString()}` });
  await recordAudit(actor, { action: 'round.schedule', targetType: 'round', targetId: id, summary: `scheduled ${round.no}: ${round.opensAt.toISOString()} – ${round.closesAt.toISOString()}` });
  return loadRound(id);
}

/** Operator: cancels a round before it closes; quotes stay in the audit trail, nothing is listed. */
export async function cancelRound(actor: Actor, id: string, reason: string): Promise<RoundRecord> {
  const at = now();
  const round = await mongoose.connection.transaction(async (session) => {
    const r = Types.ObjectId.isValid(id) ? await Round.findById(id, null, { session }).lean<RoundRecord>() : null;
    if (!r) throw new NotFoundError({ code: 'ROUND_NOT_FOUND', message: 'No such quotation round.' });
    if (!['draft', 'scheduled', 'open'].includes(r.status)) throw new ConflictError({ code: 'ROUND_NOT_CANCELLABLE', message: `A ${r.status} round cannot be cancelled.` });
    if (r.status === 'open' && r.closesAt.getTime() <= at.getTime()) throw new ConflictError({ code: 'ROUND_NOT_CANCELLABLE', message: 'The round has already closed; it is being published.' });
    const res = await Round.updateOne({ _id: r._id, seq: r.seq, status: r.status }, { $set: { status: 'cancelled', cancelledAt: at, cancelReason: reason }, $inc: { seq: 1 } }, { session });
    if (res.modifiedCount !== 1) throw new ConflictError({ code: 'ROUND_BUSY', message: 'The round changed meanwhile; try again.' });
    await QuoteEvent.create([{ roundId: r._id, at, type: 'cancelled', seq: r.seq + 1, message: reason }], { session });
    return { ...r, status: 'cancelled' as const, cancelledAt: at, cancelReason: reason, seq: r.seq + 1 };
  });
  publishTiming(round);
  await recordAudit(actor, { action: 'round.cancel', targetType: 'round', targetId: id, summary: `cancelled ${round.no}: ${reason}` });
  const participants = await Participant.find({ roundId: round._id }, { distributorOrgId: 1 }).lean<{ distributorOrgId: Types.ObjectId }[]>();
  for (const p of participants) {
    await notifyOrganisation(p.distributorOrgId, { kind: 'round.cancelled', title: `报价轮次已取消：${round.title}`, body: `${round.no} 已取消。原因：${reason}`, link: `/rounds/${id}`, dedupeKey: `round-cancelled:${id}` });
  }
  return round;
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
  const at = now();
  const res = await Round.updateOne({ _id: round._id, status: 'scheduled' }, { $set: { status: 'open', openedAt: at } });
  if (res.modifiedCount !== 1) return 'skipped';
  await QuoteEvent.create({ roundId: round._id, at, type: 'opened', closesAt: round.closesAt });
  publishTiming({ ...round, status: 'open', openedAt: at });
  // NOTE: a live heads-up only: the round list shows open rounds to every distributor, and a stored
  // notification per distributor on every opening would cost more than it tells.
  platform().broadcaster.toRole('distributor', 'round:opened', { roundId, no: round.no, title: round.title, closesAt: round.closesAt.toISOString(), lineCount: round.lines.length });
  return 'opened';
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
  }
  const published = await publishRound(roundId);
  return published ? 'published' : 'skipped';
}

async function closeTransaction(roundId: string): Promise<'closed' | 'moved' | 'skipped'> {
  const outcome = await mongoose.connection.transaction(async (session) => {
    const at = now();
    const round = await Round.findById(roundId, null, { session }).lean<RoundRecord>();
    if (!round || (round.status !== 'scheduled' && round.status !== 'open')) return { result: 'skipped' as const };
    if (round.closesAt.getTime() > at.getTime()) return { result: 'moved' as const };
    const seq = round.seq + 1;
    const res = await Round.updateOne({ _id: round._id, seq: round.seq }, { $set: { status: 'closed', closedAt: at, seq } }, { session });
    if (res.modifiedCount !== 1) throw new ConflictError({ code: 'ROUND_BUSY', message: 'The round changed meanwhile.' });
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
    return { result: 'closed' as const, round: { ...round, status: 'closed' as const, closedAt: at, seq } };
  });
  if (outcome.result === 'closed') {
    publishTiming(outcome.round);
    platform().broadcaster.toRoom(roundRooms.all(roundId), 'round:closed', { roundId, status: 'closed', seq: outcome.round.seq });
  }
  return outcome.result;
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

/** The round report (DESIGN §3.2) from its listing: per line and overall. */
export async function computeReport(round: RoundRecord): Promise<RoundReport> {
  const entries = await Listing.find({ roundId: round._id }, { lineId: 1, distributorOrgId: 1, unitPriceFen: 1, quotedAt: 1 }).lean<ListingRecord[]>();
  return roundReport(
    round.lines.map((line) => ({
      lineId: String(line._id),
      referenceFen: line.referenceFen,
      quotes: entries.filter((e) => String(e.lineId) === String(line._id)).map((e) => ({ distributorId: String(e.distributorOrgId), priceFen: e.unitPriceFen, receivedAt: e.quotedAt })),
    })),
    { clearlyBelowBp: round.clearlyBelowBp },
  );
}

async function publishRound(roundId: string): Promise<boolean> {
  const round = await Round.findById(roundId).lean<RoundRecord>();
  if (!round || (round.status !== 'closed' && round.status !== 'published')) return false;
  if (round.status === 'closed') {
    const at = round.closedAt ?? now();
    const report = await computeReport(round);
    const listingExpiresAt = addDays(at, round.listingValidityDays);
    const res = await Round.updateOne({ _id: round._id, status: 'closed' }, { $set: { status: 'published', publishedAt: at, listingExpiresAt, report } });
    if (res.modifiedCount === 1) {
      await QuoteEvent.create({ roundId: round._id, at: now(), type: 'published', message: `${report.overall.quotedLineCount} of ${report.overall.lineCount} lines listed` });
      await recordAudit(null, { action: 'round.publish', targetType: 'round', targetId: roundId, summary: `published ${round.no}: ${report.overall.quoteCount} listing entries` });
    }
  }
  const published = await Round.findById(roundId).lean<RoundRecord>();
  if (!published || published.status !== 'published') return false;
  // NOTE: the rest is repeated on every run: the expire job id and the notifications' dedupe keys make it idempotent.
  await platform().queues.enqueue(expireRoundJob, { roundId }, { jobId: jobIds.expire(roundId), runAt: published.listingExpiresAt! });
  publishTiming(published);
  platform().broadcaster.toRoom(roundRooms.all(roundId), 'round:published', { roundId, status: 'published', seq: published.seq });
  const report = published.report!;
  await notifyRoles(['pharmacist'], {
    kind: 'round.published',
    title: `短缺药品挂网目录已发布：${published.title}`,
    body: `${published.no} 共 ${report.overall.quotedLineCount} 个品种挂网，${report.overall.quoteCount} 个报价，有效期至 ${businessDay(published.listingExpiresAt!)}。`,
    link: `/listings?roundId=${roundId}`,
    dedupeKey: `round-published:${roundId}`,
  });
  const participants = await Participant.find({ roundId: published._id }, { distributorOrgId: 1 }).lean<{ distributorOrgId: Types.ObjectId }[]>();
  for (const p of participants) {
    const mine = await Listing.find({ roundId: published._id, distributorOrgId: p.distributorOrgId }, { unitPriceFen: 1, rank: 1 }).lean<ListingRecord[]>();
    await notifyOrganisation(p.distributorOrgId, {
      kind: 'round.published',
      title: `报价结果已挂网：${published.title}`,
      body: mine.length ? `您有 ${mine.length} 个报价挂网，其中 ${mine.filter((m) => m.rank === 1).length} 个为最低价。` : '您在本轮没有有效报价挂网。',
      link: `/rounds/${roundId}`,
      dedupeKey: `round-published:${roundId}`,
    });
  }
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
  const at = now();
  const res = await Round.updateOne({ _id: round._id, status: 'published' }, { $set: { status: 'expired', expiredAt: at } });
  await Listing.updateMany({ roundId: round._id, status: 'listed' }, { $set: { status: 'expired' } });
  if (res.modifiedCount !== 1) return 'skipped';
  await QuoteEvent.create({ roundId: round._id, at, type: 'expired' });
  publishTiming({ ...round, status: 'expired' });
  return 'expired';
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
  if (!round || !canView(actor, round) || actor.role === 'distributor') throw new NotFoundError({ code: 'ROUND_NOT_FOUND', message: 'No such quotation round.' });
  if (!round.report) throw new ConflictError({ code: 'REPORT_NOT_READY', message: 'The report is produced when the round is published.' });
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
