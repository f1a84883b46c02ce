// What follows from a change of a distributor's credit, in the change's own unit of work: a score
// snapshot, sanctions opened, lengthened or lifted, their audit entries and their facts
// (StandingChanged, SanctionOpened / SanctionExtended / SanctionEnded). Notices, pushes, the expiry
// jobs and the listing withdrawal follow from those facts (credit.subscribers.ts, the quotation
// module). A sanction's expiry is its own unit of work, run by its job or by the sweep.
import { Types } from 'mongoose';
import { SanctionEnded, SanctionExtended, SanctionOpened, StandingChanged } from '../../events/credit';
import { now, platform } from '../../platform/context';
import { dateTime, msg, type Message } from '../../platform/messages';
import { trusted } from '../../platform/mongo';
import { withCommand, type UnitOfWork } from '../../platform/unit-of-work';
import { expireSanctionJob, expireSanctionJobId } from './credit.jobs';
import { Sanction, ScoreSnapshot, type SanctionDoc, type ScoreSnapshotDoc } from './credit.model';
import { sanctionFor, SEVERITY_ORDER, type CreditGrade, type Sanction as PlannedSanction } from './credit.score';
import { activeSanctionsOf, flagsOf, getCreditRules, standingOf, type Standing } from './credit.standing';

const REASON_RANK: Record<PlannedSanction['reason'], number> = { GRADE_C: 0, GRADE_D: 1, SERIOUS: 2, ESPECIALLY_SERIOUS: 3 };

export interface CreditChange {
  /** Unique per change (e.g. `breach:<id>`, `void:<id>`, `repair:<id>`): the snapshot and sanctions key on it. */
  key: string;
  /** What happened, for the trend's notices (rendered in the reader's language). */
  label: Message;
  /** When the change happened (sanctions opened by it start here). */
  at: Date;
  /** 'escalate' after a new breach (open or lengthen sanctions); 'relieve' after a void, repair or bonus (lift what no longer holds). */
  mode: 'escalate' | 'relieve';
  breachId?: Types.ObjectId;
}

const kindMsg = (kind: PlannedSanction['kind']) => ({ msg: `credit.sanction.kind.${kind}` });
const reasonMsg = (reason: PlannedSanction['reason']) => ({ msg: `credit.sanction.reason.${reason}` });
const nested = (m: Message) => ({ msg: m.key, ...(m.params ? { params: m.params } : {}) });

function stillSupported(s: Pick<SanctionDoc, 'kind' | 'reason'>, standing: Standing): boolean {
  const worst = standing.worstSeverity ? SEVERITY_ORDER.indexOf(standing.worstSeverity) : -1;
  const seriousOrWorse = worst >= SEVERITY_ORDER.indexOf('serious');
  const especially = standing.worstSeverity === 'especially_serious';
  if (s.kind === 'listing_withdrawal') return especially;
  if (s.kind === 'risk_warning') return standing.grade === 'C' || standing.grade === 'D' || seriousOrWorse;
  if (s.reason === 'ESPECIALLY_SERIOUS') return especially;
  return standing.grade === 'D' || seriousOrWorse;
}

async function openOrLengthen(uow: UnitOfWork, orgId: string, orgName: string, planned: PlannedSanction, change: CreditChange): Promise<void> {
  const session = uow.session;
  const oid = new Types.ObjectId(orgId);
  const at = change.at;
  const [active] = await Sanction.find({ orgId: oid, kind: planned.kind, startsAt: trusted({ $lte: at }), endsAt: trusted({ $gt: at }), liftedAt: trusted({ $exists: false }) }, null, { session })
    .sort({ endsAt: -1 })
    .limit(1)
    .lean<SanctionDoc[]>();
  if (active) {
    if (active.endsAt.getTime() >= planned.endsAt.getTime()) return;
    const reason = REASON_RANK[planned.reason] > REASON_RANK[active.reason] ? planned.reason : active.reason;
    const res = await Sanction.updateOne(
      { _id: active._id, endsAt: active.endsAt },
      { $set: { endsAt: planned.endsAt, reason }, $push: { extensions: { at: uow.at, fromEndsAt: active.endsAt, toEndsAt: planned.endsAt, cause: change.key } } },
      { session },
    );
    if (res.modifiedCount === 0) return;
    const id = String(active._id);
    uow.audit({ action: 'credit.sanction.extend', targetType: 'sanction', targetId: id, summary: msg('credit.audit.sanctionExtended', { org: orgName, kind: kindMsg(planned.kind), until: dateTime(planned.endsAt), cause: nested(change.label) }) });
    uow.emit(
      SanctionExtended,
      { sanctionId: id, orgId, orgName, kind: planned.kind, reason, fromEndsAt: active.endsAt.toISOString(), endsAt: planned.endsAt.toISOString(), cause: change.key, label: change.label },
      { key: `sanction-extended:${id}:${planned.endsAt.getTime()}` },
    );
    return;
  }
  const key = `${orgId}-${planned.kind}-${change.key}`;
  const res = await Sanction.updateOne(
    { key },
    {
      $setOnInsert: {
        key,
        orgId: oid,
        orgName,
        kind: planned.kind,
        reason: planned.reason,
        startsAt: planned.startsAt,
        endsAt: planned.endsAt,
        ...(change.breachId ? { triggerBreachId: change.breachId } : {}),
        extensions: [],
        createdAt: uow.at,
      },
    },
    { upsert: true, session },
  );
  if (res.upsertedCount !== 1) return;
  const id = String(res.upsertedId);
  uow.audit({
    action: 'credit.sanction.open',
    targetType: 'sanction',
    targetId: id,
    summary: msg('credit.audit.sanctionOpened', { org: orgName, kind: kindMsg(planned.kind), from: dateTime(planned.startsAt), until: dateTime(planned.endsAt), reason: reasonMsg(planned.reason) }),
  });
  uow.emit(
    SanctionOpened,
    { sanctionId: id, orgId, orgName, kind: planned.kind, reason: planned.reason, startsAt: planned.startsAt.toISOString(), endsAt: planned.endsAt.toISOString(), cause: change.key, label: change.label },
    { key: `sanction-opened:${id}` },
  );
}

async function lift(uow: UnitOfWork, s: SanctionDoc, change: CreditChange): Promise<void> {
  const res = await Sanction.updateOne({ _id: s._id, liftedAt: trusted({ $exists: false }) }, { $set: { liftedAt: uow.at, liftReason: change.label } }, { session: uow.session });
  if (res.modifiedCount === 0) return;
  const id = String(s._id);
  uow.audit({ action: 'credit.sanction.lift', targetType: 'sanction', targetId: id, summary: msg('credit.audit.sanctionLifted', { org: s.orgName, kind: kindMsg(s.kind), cause: nested(change.label) }) });
  uow.emit(
    SanctionEnded,
    { sanctionId: id, orgId: String(s.orgId), orgName: s.orgName, kind: s.kind, how: 'lifted', at: uow.at.toISOString(), endsAt: s.endsAt.toISOString(), label: change.label },
    { key: `sanction-lifted:${id}` },
  );
}

function plannedFor(standing: Standing, at: Date, rules: Awaited<ReturnType<typeof getCreditRules>>): PlannedSanction[] {
  return sanctionFor({ grade: standing.grade, worstActiveSeverity: standing.worstSeverity, especiallySeriousLevel: standing.especiallySeriousLevel, at, rules });
}

/**
 * Recomputes a distributor's standing after a change, in the change's unit of work, and stages what
 * follows: the snapshot, sanctions opened / lengthened (escalate) or lifted (relieve), and the facts.
 * A change already applied (its snapshot exists) stages nothing.
 */
export async function applyCreditChange(uow: UnitOfWork, orgId: string, orgName: string, change: CreditChange): Promise<Standing> {
  const session = uow.session;
  const standing = await standingOf(orgId, uow.at, session);
  const oid = new Types.ObjectId(orgId);
  const previous = await ScoreSnapshot.findOne({ orgId: oid, cause: trusted({ $ne: change.key }) }, null, { session }).sort({ at: -1 }).lean<ScoreSnapshotDoc>();
  const snap = await ScoreSnapshot.updateOne(
    { orgId: oid, cause: change.key },
    { $setOnInsert: { orgId: oid, cause: change.key, at: uow.at, score: standing.score, grade: standing.grade } },
    { upsert: true, session },
  );
  if (snap.upsertedCount !== 1) return standing;
  const previousGrade: CreditGrade = previous?.grade ?? 'A';

  const rules = await getCreditRules();
  const planned = plannedFor(standing, change.at, rules);
  if (change.mode === 'escalate') {
    for (const p of planned) await openOrLengthen(uow, orgId, orgName, p, change);
  } else {
    for (const s of await activeSanctionsOf([orgId], uow.at, session)) {
      if (!stillSupported(s, standing)) {
        await lift(uow, s, change);
        continue;
      }
      // A sanction that still holds for a lesser reason says so (its period is not changed).
      const current = planned.find((p) => p.kind === s.kind);
      if (current && REASON_RANK[current.reason] < REASON_RANK[s.reason]) await Sanction.updateOne({ _id: s._id }, { $set: { reason: current.reason } }, { session });
    }
    // NOTE: lifting a sanction for a reason that no longer holds (e.g. a voided 特别严重失信) may leave a
    // lesser reason (grade D) without its sanction: open what the standing still calls for, never
    // lengthening one that is in force (relief must not extend a sanction).
    const remaining = new Set((await activeSanctionsOf([orgId], uow.at, session)).map((s) => s.kind));
    for (const p of planned) if (!remaining.has(p.kind)) await openOrLengthen(uow, orgId, orgName, p, change);
  }

  const sanctions = await activeSanctionsOf([orgId], uow.at, session);
  uow.emit(
    StandingChanged,
    { orgId, score: standing.score, grade: standing.grade, previousGrade, ...flagsOf(standing, sanctions), cause: change.key, label: change.label },
    { key: `standing-changed:${orgId}:${change.key}` },
  );
  return standing;
}

/** Schedules a sanction's expiry job at its end (deterministic id: one job per sanction and end). */
export async function scheduleSanctionExpiry(sanctionId: string, endsAt: Date): Promise<void> {
  await platform().queues.enqueue(expireSanctionJob, { sanctionId }, { jobId: expireSanctionJobId(sanctionId, endsAt), runAt: endsAt });
}

/**
 * Records a sanction's end once it has passed, in one unit of work with its audit entry and facts;
 * a sanction already expired or lifted, or not yet at its end, is left alone. Returns the sanction
 * when it is still running (so the caller can schedule a recheck).
 */
export async function expireIfDue(sanctionId: string): Promise<SanctionDoc | null> {
  return withCommand(null, async (uow) => {
    const session = uow.session;
    const s = await Sanction.findById(sanctionId, null, { session }).lean<SanctionDoc>();
    if (!s || s.expiredAt || s.liftedAt) return null;
    if (s.endsAt.getTime() > uow.at.getTime()) return s;
    const res = await Sanction.updateOne({ _id: s._id, expiredAt: trusted({ $exists: false }), liftedAt: trusted({ $exists: false }), endsAt: s.endsAt }, { $set: { expiredAt: uow.at } }, { session });
    if (res.modifiedCount === 0) return null;
    const orgId = String(s.orgId);
    uow.audit({ action: 'credit.sanction.expire', targetType: 'sanction', targetId: sanctionId, summary: msg('credit.audit.sanctionExpired', { org: s.orgName, kind: kindMsg(s.kind), at: dateTime(s.endsAt) }) });
    uow.emit(
      SanctionEnded,
      { sanctionId, orgId, orgName: s.orgName, kind: s.kind, how: 'expired', at: uow.at.toISOString(), endsAt: s.endsAt.toISOString() },
      { key: `sanction-expired:${sanctionId}` },
    );
    const standing = await standingOf(orgId, uow.at, session);
    const remaining = await activeSanctionsOf([orgId], uow.at, session);
    const cause = `sanction-expired:${sanctionId}`;
    uow.emit(
      StandingChanged,
      { orgId, score: standing.score, grade: standing.grade, previousGrade: standing.grade, ...flagsOf(standing, remaining), cause, label: msg('credit.change.sanctionExpired', { kind: kindMsg(s.kind) }) },
      { key: `standing-changed:${orgId}:${cause}` },
    );
    return null;
  });
}

/** Job: records a sanction's end; run early (clock skew, a lengthened sanction) it schedules a recheck. Safe twice. */
export async function expireSanction(sanctionId: string, runningJobId?: string): Promise<void> {
  const running = await expireIfDue(sanctionId);
  if (!running) return;
  const canonical = expireSanctionJobId(sanctionId, running.endsAt);
  // NOTE: a job cannot re-add its own id while it runs, so an early run of the canonical job
  // schedules a one-off recheck instead.
  const jobId = runningJobId === canonical ? `${canonical}-recheck-${now().getTime()}` : canonical;
  await platform().queues.enqueue(expireSanctionJob, { sanctionId }, { jobId, runAt: running.endsAt });
}

/**
 * Sweep: expires every sanction whose end has passed and that is neither expired nor lifted (its job
 * was lost, e.g. Redis restarted empty). Each is expired once, whoever gets there first.
 */
export async function sweepSanctionExpiries(limit = 500): Promise<number> {
  const due = await Sanction.find({ endsAt: trusted({ $lte: now() }), expiredAt: trusted({ $exists: false }), liftedAt: trusted({ $exists: false }) }, { _id: 1 })
    .sort({ endsAt: 1 })
    .limit(limit)
    .lean<{ _id: Types.ObjectId }[]>();
  for (const { _id } of due) {
    // NOTE: one sanction that fails (e.g. a transaction conflict that outlived its retries) does not
    // hold up the others; the next sweep tries it again.
    await expireIfDue(String(_id)).catch((err: unknown) => platform().logger.error({ sanctionId: String(_id), err: (err as Error).message }, 'credit: sanction expiry failed'));
  }
  return due.length;
}
