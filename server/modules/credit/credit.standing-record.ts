// A distributor's credit history as the standing needs it: read in full from the breaches, repairs and
// bonuses, or from the distributor's standing record — one document holding every item that can
// still count, kept in step by each command that changes the history, in that command's transaction.
// A record is used only when it provably holds everything the window at `at` needs (it is complete
// after `completeAfter`), so a standing read from it is the one computed from the history.
import { Types, type ClientSession } from 'mongoose';
import type { Logger } from '../../platform/logger';
import { trusted } from '../../platform/mongo';
import { addDays, addMonths } from '../../platform/time';
import { withCommand, type UnitOfWork } from '../../platform/unit-of-work';
import { organisationsByType } from '../identity';
import { Bonus, Breach, Repair, StandingRecord, type BonusDoc, type BreachDoc, type RepairDoc, type StandingEntryDoc, type StandingRecordDoc } from './credit.model';
import { getCreditRules } from './credit.rules';

/** What a standing is computed from. */
export interface History {
  breaches: Pick<BreachDoc, 'points' | 'occurredAt' | 'status' | 'severity' | 'level'>[];
  repairs: Pick<RepairDoc, 'pointsRestored' | 'decidedAt'>[];
  bonuses: Pick<BonusDoc, 'points' | 'at'>[];
}

type StoredHistory = { breaches: BreachDoc[]; repairs: RepairDoc[]; bonuses: BonusDoc[] };

/**
 * NOTE: a record keeps a month more than the window, so a read whose instant is a little earlier than
 * the last write (a request that began before it, another process's clock) still finds it complete.
 */
const SLACK_DAYS = 31;

/** Every breach, approved repair and bonus of the organisations later than `since` (their history, read in full). */
export async function historiesOf(orgIds: Types.ObjectId[], since: Date, session?: ClientSession): Promise<Map<string, StoredHistory>> {
  const reads = [
    () => Breach.find({ orgId: trusted({ $in: orgIds }), occurredAt: trusted({ $gt: since }) }, { orgId: 1, points: 1, occurredAt: 1, status: 1, severity: 1, level: 1 }, { session }).lean<BreachDoc[]>(),
    () => Repair.find({ orgId: trusted({ $in: orgIds }), status: 'approved', decidedAt: trusted({ $gt: since }) }, { orgId: 1, pointsRestored: 1, decidedAt: 1 }, { session }).lean<RepairDoc[]>(),
    () => Bonus.find({ orgId: trusted({ $in: orgIds }), at: trusted({ $gt: since }) }, { orgId: 1, points: 1, at: 1 }, { session }).lean<BonusDoc[]>(),
  ] as const;
  // NOTE: reads in a transaction share its session, which runs one operation at a time.
  const [breaches, repairs, bonuses] = session
    ? [await reads[0](), await reads[1](), await reads[2]()]
    : await Promise.all([reads[0](), reads[1](), reads[2]()]);
  const out = new Map<string, StoredHistory>(orgIds.map((id) => [String(id), { breaches: [], repairs: [], bonuses: [] }]));
  for (const b of breaches) out.get(String(b.orgId))?.breaches.push(b);
  for (const r of repairs) out.get(String(r.orgId))?.repairs.push(r);
  for (const b of bonuses) out.get(String(b.orgId))?.bonuses.push(b);
  return out;
}

function historyOfEntries(entries: readonly StandingEntryDoc[]): History {
  const h: History = { breaches: [], repairs: [], bonuses: [] };
  for (const e of entries) {
    if (e.kind === 'breach') h.breaches.push({ points: e.points, occurredAt: e.at, status: 'active', severity: e.severity!, level: e.level ?? null });
    else if (e.kind === 'repair') h.repairs.push({ pointsRestored: e.points, decidedAt: e.at });
    else h.bonuses.push({ points: e.points, at: e.at });
  }
  return h;
}

/**
 * The histories of those organisations whose record holds everything that can count at `at` (every
 * item later than the window's start); the others are left out and must be read in full.
 */
export async function recordedHistoriesOf(orgIds: Types.ObjectId[], at: Date, windowMonths: number, session?: ClientSession): Promise<Map<string, History>> {
  const out = new Map<string, History>();
  if (orgIds.length === 0) return out;
  const records = await StandingRecord.find({ _id: trusted({ $in: orgIds }) }, { entries: 1, completeAfter: 1 }, { session }).lean<StandingRecordDoc[]>();
  const windowStart = addMonths(at, -windowMonths).getTime();
  for (const r of records) if (r.completeAfter.getTime() <= windowStart) out.set(String(r._id), historyOfEntries(r.entries));
  return out;
}

function entriesOf(h: StoredHistory): StandingEntryDoc[] {
  return [
    ...h.breaches.filter((b) => b.status !== 'voided').map((b) => breachEntry(b)),
    ...h.repairs.map((r) => repairEntry(r)),
    ...h.bonuses.map((b) => bonusEntry(b)),
  ];
}

function breachEntry(b: Pick<BreachDoc, '_id' | 'points' | 'occurredAt' | 'severity' | 'level'>): StandingEntryDoc {
  return { sourceId: b._id, kind: 'breach', at: b.occurredAt, points: b.points, severity: b.severity, ...(b.level ? { level: b.level } : {}) };
}

function repairEntry(r: Pick<RepairDoc, '_id' | 'pointsRestored' | 'decidedAt'>): StandingEntryDoc {
  return { sourceId: r._id, kind: 'repair', at: r.decidedAt!, points: r.pointsRestored ?? 0 };
}

function bonusEntry(b: Pick<BonusDoc, '_id' | 'points' | 'at'>): StandingEntryDoc {
  return { sourceId: b._id, kind: 'bonus', at: b.at, points: b.points };
}

/** Items older than this at `at` can no longer count at any instant a reader asks about. */
async function horizonAt(at: Date): Promise<Date> {
  const { windowMonths } = await getCreditRules();
  return addDays(addMonths(at, -windowMonths), -SLACK_DAYS);
}

/** Writes a record: the entries after the horizon, complete after the latest item dropped. */
async function writeRecord(session: ClientSession, orgId: Types.ObjectId, entries: StandingEntryDoc[], completeAfter: Date, horizon: Date, at: Date): Promise<void> {
  let complete = completeAfter.getTime();
  const kept: StandingEntryDoc[] = [];
  for (const e of entries) {
    if (e.at.getTime() > horizon.getTime()) kept.push(e);
    else complete = Math.max(complete, e.at.getTime());
  }
  kept.sort((a, b) => a.at.getTime() - b.at.getTime());
  await StandingRecord.updateOne({ _id: orgId }, { $set: { entries: kept, completeAfter: new Date(complete), updatedAt: at } }, { upsert: true, session });
}

/**
 * Applies one change of a distributor's history to its record, in the unit of work that made the
 * change (after its write). A distributor without a record gets one built from its stored history,
 * which already holds the change.
 */
async function changeRecord(uow: UnitOfWork, orgId: Types.ObjectId, change: { put?: StandingEntryDoc; drop?: Types.ObjectId }): Promise<void> {
  const session = uow.session;
  const horizon = await horizonAt(uow.at);
  const record = await StandingRecord.findById(orgId, { entries: 1, completeAfter: 1 }, { session }).lean<StandingRecordDoc>();
  let entries: StandingEntryDoc[];
  let completeAfter: Date;
  if (record) {
    entries = record.entries;
    completeAfter = record.completeAfter;
  } else {
    entries = entriesOf((await historiesOf([orgId], horizon, session)).get(String(orgId))!);
    completeAfter = horizon;
  }
  const touched = change.put?.sourceId ?? change.drop;
  entries = entries.filter((e) => !e.sourceId.equals(touched!));
  if (change.put && change.put.at.getTime() > completeAfter.getTime()) entries.push(change.put);
  await writeRecord(session, orgId, entries, completeAfter, horizon, uow.at);
}

/** A breach was recorded: it counts until voided. */
export function noteBreachIn(uow: UnitOfWork, breach: Pick<BreachDoc, '_id' | 'orgId' | 'points' | 'occurredAt' | 'severity' | 'level'>): Promise<void> {
  return changeRecord(uow, breach.orgId, { put: breachEntry(breach) });
}

/** A breach was voided: it no longer counts. */
export function noteBreachVoidedIn(uow: UnitOfWork, breach: Pick<BreachDoc, '_id' | 'orgId'>): Promise<void> {
  return changeRecord(uow, breach.orgId, { drop: breach._id });
}

/** A repair was approved: its points are restored from its decision on. */
export function noteRepairApprovedIn(uow: UnitOfWork, repair: Pick<RepairDoc, '_id' | 'orgId' | 'pointsRestored' | 'decidedAt'>): Promise<void> {
  return changeRecord(uow, repair.orgId, { put: repairEntry(repair) });
}

/** Bonus points were awarded. */
export function noteBonusIn(uow: UnitOfWork, bonus: Pick<BonusDoc, '_id' | 'orgId' | 'points' | 'at'>): Promise<void> {
  return changeRecord(uow, bonus.orgId, { put: bonusEntry(bonus) });
}

/**
 * Builds the records of the distributors afresh from their stored history, each in its own unit of
 * work (a command changing one at the same time conflicts, and one of the two is retried).
 */
export async function rebuildStandingRecords(orgIds: readonly string[]): Promise<void> {
  for (const id of orgIds) {
    const orgId = new Types.ObjectId(id);
    await withCommand(null, async (uow) => {
      const horizon = await horizonAt(uow.at);
      const history = (await historiesOf([orgId], horizon, uow.session)).get(id)!;
      await writeRecord(uow.session, orgId, entriesOf(history), horizon, horizon, uow.at);
    });
  }
}

/** Start-up: a record for every distributor with a credit history and none yet (data from before records). */
export async function backfillStandingRecords(logger: Logger): Promise<void> {
  const distributors = (await organisationsByType('distributor')).map((o) => o._id);
  if (distributors.length === 0) return;
  const recorded = new Set((await StandingRecord.find({ _id: trusted({ $in: distributors }) }, { _id: 1 }).lean<{ _id: Types.ObjectId }[]>()).map((r) => String(r._id)));
  const unrecorded = distributors.filter((id) => !recorded.has(String(id)));
  if (unrecorded.length === 0) return;
  // NOTE: one read per collection for all of them (after the first start, distributors without a
  // record have no history, so these find nothing).
  const withHistory = await Promise.all([
    Breach.distinct('orgId', { orgId: trusted({ $in: unrecorded }) }),
    Repair.distinct('orgId', { orgId: trusted({ $in: unrecorded }), status: 'approved' }),
    Bonus.distinct('orgId', { orgId: trusted({ $in: unrecorded }) }),
  ]);
  const missing = [...new Set(withHistory.flat().map(String))];
  if (missing.length === 0) return;
  await rebuildStandingRecords(missing);
  logger.info({ distributors: missing.length }, 'credit standing records built');
}

/**
 * After a change of the credit window: rebuilds the records that do not reach back to the new
 * window's start (until then their distributors' standings are read from the history in full).
 */
export async function rebuildRecordsShorterThanWindow(at: Date): Promise<number> {
  const { windowMonths } = await getCreditRules();
  const short = await StandingRecord.find({ completeAfter: trusted({ $gt: addMonths(at, -windowMonths) }) }, { _id: 1 }).lean<{ _id: Types.ObjectId }[]>();
  await rebuildStandingRecords(short.map((r) => String(r._id)));
  return short.length;
}
