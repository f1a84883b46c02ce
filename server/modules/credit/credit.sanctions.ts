// What follows from a change of a distributor's credit: a score snapshot, grade-change and sanction
// notices, sanctions opened, lengthened or lifted, and their expiry. Every step is idempotent.
import { Types } from 'mongoose';
import { now, platform } from '../../platform/context';
import { trusted } from '../../platform/mongo';
import { withCommand } from '../../platform/unit-of-work';
import { formatDateTime } from '../../platform/view-helpers/formatters';
import { recordAudit } from '../audit';
import { notifyOrganisation, notifyRoles } from '../notifications';
import { withdrawListingsOf } from '../quotation';
import { expireSanctionJob, expireSanctionJobId } from './credit.jobs';
import { Sanction, ScoreSnapshot, type SanctionDoc, type ScoreSnapshotDoc } from './credit.model';
import { sanctionFor, SEVERITY_ORDER, type Sanction as PlannedSanction } from './credit.score';
import { activeSanctionsOf, getCreditRules, standingOf, type Standing } from './credit.standing';

export const SANCTION_KIND_ZH: Record<PlannedSanction['kind'], string> = {
  risk_warning: '风险提示',
  suspension: '暂停报价、竞价及承接新订单',
  listing_withdrawal: '撤销挂网',
};

export const SANCTION_REASON_ZH: Record<PlannedSanction['reason'], string> = {
  GRADE_C: '信用等级为 C 级',
  GRADE_D: '信用等级为 D 级',
  SERIOUS: '严重失信',
  ESPECIALLY_SERIOUS: '特别严重失信',
};

const REASON_RANK: Record<PlannedSanction['reason'], number> = { GRADE_C: 0, GRADE_D: 1, SERIOUS: 2, ESPECIALLY_SERIOUS: 3 };

export interface CreditChange {
  /** Unique per change (e.g. `breach:<id>`, `void:<id>`, `repair:<id>`): the snapshot and sanctions key on it. */
  key: string;
  /** Human summary for the trend chart and notices. */
  label: string;
  /** When the change happened (sanctions opened by it start here, so a retry computes the same period). */
  at: Date;
  /** 'escalate' after a new breach (open or lengthen sanctions); 'relieve' after a void or repair (lift what no longer holds). */
  mode: 'escalate' | 'relieve';
  breachId?: Types.ObjectId;
}

function stillSupported(s: Pick<SanctionDoc, 'kind' | 'reason'>, standing: Standing): boolean {
  const worst = standing.worstSeverity ? SEVERITY_ORDER.indexOf(standing.worstSeverity) : -1;
  const seriousOrWorse = worst >= SEVERITY_ORDER.indexOf('serious');
  const especially = standing.worstSeverity === 'especially_serious';
  if (s.kind === 'listing_withdrawal') return especially;
  if (s.kind === 'risk_warning') return standing.grade === 'C' || standing.grade === 'D' || seriousOrWorse;
  if (s.reason === 'ESPECIALLY_SERIOUS') return especially;
  return standing.grade === 'D' || seriousOrWorse;
}

async function scheduleExpiry(sanctionId: string, endsAt: Date): Promise<void> {
  await platform().queues.enqueue(expireSanctionJob, { sanctionId }, { jobId: expireSanctionJobId(sanctionId, endsAt), runAt: endsAt });
}

/** Withdraws every listing of a 特别严重失信 distributor (the quotation module records it). */
async function withdrawListings(orgId: string, reason: string): Promise<void> {
  await withCommand(null, (uow) => withdrawListingsOf(uow, orgId, reason));
}

async function openOrLengthen(orgId: string, orgName: string, planned: PlannedSanction, change: CreditChange): Promise<void> {
  const oid = new Types.ObjectId(orgId);
  const at = change.at;
  const [active] = await Sanction.find({ orgId: oid, kind: planned.kind, startsAt: trusted({ $lte: at }), endsAt: trusted({ $gt: at }), liftedAt: trusted({ $exists: false }) })
    .sort({ endsAt: -1 })
    .limit(1)
    .lean<SanctionDoc[]>();
  const kindZh = SANCTION_KIND_ZH[planned.kind];
  if (active) {
    if (active.endsAt.getTime() >= planned.endsAt.getTime()) return;
    const reason = REASON_RANK[planned.reason] > REASON_RANK[active.reason] ? planned.reason : active.reason;
    const res = await Sanction.updateOne(
      { _id: active._id, endsAt: active.endsAt },
      { $set: { endsAt: planned.endsAt, reason }, $push: { extensions: { at: now(), fromEndsAt: active.endsAt, toEndsAt: planned.endsAt, cause: change.key } } },
    );
    if (res.modifiedCount === 0) return;
    await scheduleExpiry(String(active._id), planned.endsAt);
    await recordAudit(null, { action: 'credit.sanction.extend', targetType: 'sanction', targetId: String(active._id), summary: `${planned.kind} of ${orgName} lengthened to ${planned.endsAt.toISOString()} (${change.key})` });
    await notifyOrganisation(orgId, {
      kind: 'credit.sanction_extended',
      title: `信用惩戒延长：${kindZh}`,
      body: `因${change.label}，${kindZh}延长至 ${formatDateTime(planned.endsAt)}（原因：${SANCTION_REASON_ZH[reason]}）。`,
      link: '/credit/mine',
      dedupeKey: `sanction-extended:${String(active._id)}:${planned.endsAt.getTime()}`,
    });
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
        triggerBreachId: change.breachId,
        extensions: [],
        createdAt: now(),
      },
    },
    { upsert: true },
  );
  const doc = await Sanction.findOne({ key }).lean<SanctionDoc>();
  if (!doc) return;
  // NOTE: the follow-ups run on a retry too (they are idempotent), in case the first run stopped after the insert.
  await scheduleExpiry(String(doc._id), doc.endsAt);
  if (planned.kind === 'listing_withdrawal') await withdrawListings(orgId, `credit sanction ${String(doc._id)}: ${planned.reason}`);
  if (res.upsertedCount === 1) {
    await recordAudit(null, { action: 'credit.sanction.open', targetType: 'sanction', targetId: String(doc._id), summary: `${planned.kind} of ${orgName} until ${planned.endsAt.toISOString()} (${planned.reason}, ${change.key})` });
  }
  const notice = {
    kind: 'credit.sanction_applied',
    title: `信用惩戒：${kindZh}`,
    body: `因${change.label}（${SANCTION_REASON_ZH[planned.reason]}），自 ${formatDateTime(planned.startsAt)} 起至 ${formatDateTime(planned.endsAt)} 止实施${kindZh}。`,
    link: '/credit/mine',
    dedupeKey: `sanction-applied:${String(doc._id)}`,
  };
  await notifyOrganisation(orgId, notice);
  await notifyRoles(['operator'], { ...notice, title: `${orgName}：${notice.title}`, link: '/credit' });
}

async function lift(s: SanctionDoc, change: CreditChange): Promise<void> {
  const at = now();
  const res = await Sanction.updateOne({ _id: s._id, liftedAt: trusted({ $exists: false }) }, { $set: { liftedAt: at, liftReason: change.label } });
  if (res.modifiedCount === 0) return;
  await recordAudit(null, { action: 'credit.sanction.lift', targetType: 'sanction', targetId: String(s._id), summary: `${s.kind} of ${s.orgName} lifted: ${change.key}` });
  await notifyOrganisation(String(s.orgId), {
    kind: 'credit.sanction_lifted',
    title: `信用惩戒解除：${SANCTION_KIND_ZH[s.kind]}`,
    body: `因${change.label}，${SANCTION_KIND_ZH[s.kind]}已于 ${formatDateTime(at)} 解除。`,
    link: '/credit/mine',
    dedupeKey: `sanction-lifted:${String(s._id)}`,
  });
}

/** Recomputes a distributor's standing after a change and applies what follows from it. */
export async function applyCreditChange(orgId: string, orgName: string, change: CreditChange): Promise<Standing> {
  const standing = await standingOf(orgId, now());
  const oid = new Types.ObjectId(orgId);
  const previous = await ScoreSnapshot.findOne({ orgId: oid, cause: trusted({ $ne: change.key }) }).sort({ at: -1 }).lean<ScoreSnapshotDoc>();
  const snap = await ScoreSnapshot.updateOne(
    { orgId: oid, cause: change.key },
    { $setOnInsert: { orgId: oid, cause: change.key, at: now(), score: standing.score, grade: standing.grade } },
    { upsert: true },
  );
  const previousGrade = previous?.grade ?? 'A';
  if (snap.upsertedCount === 1 && previousGrade !== standing.grade) {
    await notifyOrganisation(orgId, {
      kind: 'credit.grade_changed',
      title: `信用等级变更：${previousGrade} → ${standing.grade}`,
      body: `因${change.label}，信用评分为 ${standing.score} 分，信用等级由 ${previousGrade} 级变为 ${standing.grade} 级。`,
      link: '/credit/mine',
      dedupeKey: `grade-changed:${orgId}:${change.key}`,
    });
  }

  if (change.mode === 'escalate') {
    const rules = await getCreditRules();
    const planned = sanctionFor({ grade: standing.grade, worstActiveSeverity: standing.worstSeverity, especiallySeriousLevel: standing.especiallySeriousLevel, at: change.at, rules });
    for (const p of planned) await openOrLengthen(orgId, orgName, p, change);
  } else {
    const rules = await getCreditRules();
    const planned = sanctionFor({ grade: standing.grade, worstActiveSeverity: standing.worstSeverity, especiallySeriousLevel: standing.especiallySeriousLevel, at: change.at, rules });
    for (const s of await activeSanctionsOf([orgId], now())) {
      if (!stillSupported(s, standing)) {
        await lift(s, change);
        continue;
      }
      // A sanction that still holds for a lesser reason says so (its period is not changed).
      const current = planned.find((p) => p.kind === s.kind);
      if (current && REASON_RANK[current.reason] < REASON_RANK[s.reason]) await Sanction.updateOne({ _id: s._id }, { $set: { reason: current.reason } });
    }
    // NOTE: lifting a sanction for a reason that no longer holds (e.g. a voided 特别严重失信) may leave a
    // lesser reason (grade D) without its sanction: open what the standing still calls for, never
    // lengthening one that is in force (relief must not extend a sanction).
    const remaining = new Set((await activeSanctionsOf([orgId], now())).map((s) => s.kind));
    for (const p of planned) if (!remaining.has(p.kind)) await openOrLengthen(orgId, orgName, p, change);
  }

  const sanctions = await activeSanctionsOf([orgId], now());
  platform().broadcaster.toOrg(orgId, 'credit:standing_changed', {
    orgId,
    score: standing.score,
    grade: standing.grade,
    riskWarning: standing.grade === 'C' || standing.grade === 'D' || sanctions.some((s) => s.kind === 'risk_warning'),
    suspended: sanctions.some((s) => s.kind === 'suspension'),
    cause: change.label,
  });
  return standing;
}

/** Job: records a sanction's end and tells the distributor; re-schedules itself if run early. Safe twice. */
export async function expireSanction(sanctionId: string, runningJobId?: string): Promise<void> {
  const s = await Sanction.findById(sanctionId).lean<SanctionDoc>();
  if (!s || s.expiredAt || s.liftedAt) return;
  const at = now();
  if (s.endsAt.getTime() > at.getTime()) {
    const canonical = expireSanctionJobId(sanctionId, s.endsAt);
    // NOTE: a job cannot re-add its own id while it runs, so an early run of the canonical job
    // schedules a one-off recheck instead.
    const jobId = runningJobId === canonical ? `${canonical}-recheck-${at.getTime()}` : canonical;
    await platform().queues.enqueue(expireSanctionJob, { sanctionId }, { jobId, runAt: s.endsAt });
    return;
  }
  const res = await Sanction.updateOne({ _id: s._id, expiredAt: trusted({ $exists: false }), endsAt: s.endsAt }, { $set: { expiredAt: at } });
  if (res.modifiedCount === 0) return;
  await recordAudit(null, { action: 'credit.sanction.expire', targetType: 'sanction', targetId: sanctionId, summary: `${s.kind} of ${s.orgName} ended at ${s.endsAt.toISOString()}` });
  await notifyOrganisation(String(s.orgId), {
    kind: 'credit.sanction_expired',
    title: `信用惩戒期满：${SANCTION_KIND_ZH[s.kind]}`,
    body: `${SANCTION_KIND_ZH[s.kind]}已于 ${formatDateTime(s.endsAt)} 期满结束。`,
    link: '/credit/mine',
    dedupeKey: `sanction-expired:${sanctionId}`,
  });
  const standing = await standingOf(String(s.orgId), at);
  const remaining = await activeSanctionsOf([String(s.orgId)], at);
  platform().broadcaster.toOrg(String(s.orgId), 'credit:standing_changed', {
    orgId: String(s.orgId),
    score: standing.score,
    grade: standing.grade,
    riskWarning: standing.grade === 'C' || standing.grade === 'D' || remaining.some((x) => x.kind === 'risk_warning'),
    suspended: remaining.some((x) => x.kind === 'suspension'),
    cause: 'sanction expired',
  });
}
