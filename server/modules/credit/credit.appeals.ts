// Appeals against breaches (operator upholds or voids with reasons) and credit repair (信用修复).
import { Types } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { ConflictError, NotFoundError, RuleViolationError } from '../../platform/errors';
import { trusted } from '../../platform/mongo';
import { formatDateTime } from '../../platform/view-helpers/formatters';
import { recordAudit } from '../audit';
import { getOrganisation } from '../identity';
import { notifyOrganisation, notifyRoles } from '../notifications';
import { getBreach } from './credit.breaches';
import { claimFiles, evidenceView } from './credit.files';
import { Appeal, Bonus, Breach, Repair, type AppealDoc, type BonusDoc, type BreachDoc, type RepairDoc } from './credit.model';
import { applyCreditChange } from './credit.sanctions';
import { repairEligible } from './credit.score';
import { getCreditRules, standingOf } from './credit.standing';

function toAppealView(a: AppealDoc, breach?: Pick<BreachDoc, 'zh' | 'code' | 'points'>) {
  return {
    id: String(a._id),
    breachId: String(a.breachId),
    orgId: String(a.orgId),
    orgName: a.orgName,
    statement: a.statement,
    files: (a.files ?? []).map(evidenceView),
    submittedAt: a.submittedAt.toISOString(),
    submittedByName: a.submittedByName,
    status: a.status,
    decidedAt: a.decidedAt ? a.decidedAt.toISOString() : undefined,
    decidedByName: a.decidedByName ?? undefined,
    decisionReason: a.decisionReason ?? undefined,
    breach: breach ? { code: breach.code, zh: breach.zh, points: breach.points } : undefined,
  };
}
export type AppealView = ReturnType<typeof toAppealView>;

/** A distributor appeals one of its breaches, within the appeal period, with a statement and files. */
export async function submitAppeal(actor: Actor, breachId: string, input: { statement: string; fileIds?: string[] }): Promise<AppealView> {
  const breach = await getBreach(actor, breachId);
  const at = now();
  if (breach.status !== 'active') {
    throw new ConflictError({ code: 'BREACH_NOT_APPEALABLE', message: breach.status === 'voided' ? 'This breach was voided already.' : 'This breach has been appealed already.' });
  }
  if (at.getTime() > breach.appealDeadline.getTime()) {
    throw new RuleViolationError({ code: 'APPEAL_DEADLINE_PASSED', message: `The appeal period ended at ${formatDateTime(breach.appealDeadline)} (Asia/Shanghai).`, details: [{ deadline: breach.appealDeadline.toISOString() }] });
  }
  const files = await claimFiles(actor, input.fileIds, 'appeal');
  let appeal: AppealDoc;
  try {
    const created = await Appeal.create({
      breachId: breach._id,
      orgId: breach.orgId,
      orgName: breach.orgName,
      statement: input.statement,
      files,
      submittedAt: at,
      submittedBy: new Types.ObjectId(actor.id),
      submittedByName: actor.name,
      status: 'pending',
    });
    appeal = created.toObject() as AppealDoc;
  } catch (err) {
    if ((err as { code?: number }).code === 11000) throw new ConflictError({ code: 'BREACH_NOT_APPEALABLE', message: 'This breach has been appealed already.' });
    throw err;
  }
  await Breach.updateOne({ _id: breach._id, status: 'active' }, { $set: { status: 'appealed' } });
  await recordAudit(actor, { action: 'credit.appeal.submit', targetType: 'appeal', targetId: String(appeal._id), summary: `appeal against ${breach.code} (${String(breach._id)})` });
  await notifyRoles(['operator'], {
    kind: 'credit.appeal_submitted',
    title: `新申诉：${breach.orgName}`,
    body: `${breach.orgName} 对违约记录「${breach.zh}」（扣 ${breach.points} 分）提出申诉，请审核。`,
    link: '/credit#appeals',
    dedupeKey: `appeal-submitted:${String(appeal._id)}`,
  });
  return toAppealView(appeal, breach);
}

/** Operator: upholds the breach or voids it, with reasons. A voided breach stops counting at once. */
export async function decideAppeal(actor: Actor, appealId: string, input: { decision: 'uphold' | 'void'; reason: string }): Promise<AppealView> {
  const at = now();
  const appeal = await Appeal.findOneAndUpdate(
    { _id: new Types.ObjectId(appealId), status: 'pending' },
    { $set: { status: input.decision === 'void' ? 'voided' : 'upheld', decidedAt: at, decidedBy: new Types.ObjectId(actor.id), decidedByName: actor.name, decisionReason: input.reason } },
    { returnDocument: 'after' },
  ).lean<AppealDoc>();
  if (!appeal) {
    const exists = await Appeal.exists({ _id: new Types.ObjectId(appealId) });
    if (!exists) throw new NotFoundError({ code: 'APPEAL_NOT_FOUND', message: 'No such appeal.' });
    throw new ConflictError({ code: 'APPEAL_ALREADY_DECIDED', message: 'This appeal has been decided already.' });
  }
  const breachSet = input.decision === 'void' ? { status: 'voided', voidedAt: at, voidReason: input.reason } : { status: 'upheld' };
  const breach = await Breach.findOneAndUpdate({ _id: appeal.breachId }, { $set: breachSet }, { returnDocument: 'after' }).lean<BreachDoc>();
  await recordAudit(actor, { action: `credit.appeal.${input.decision}`, targetType: 'appeal', targetId: appealId, summary: `${input.decision === 'void' ? 'voided' : 'upheld'} breach ${String(appeal.breachId)}: ${input.reason}` });
  if (breach && input.decision === 'void') {
    await applyCreditChange(String(breach.orgId), breach.orgName, { key: `void:${String(breach._id)}`, label: `申诉成立，违约记录「${breach.zh}」已撤销`, at, mode: 'relieve' });
  }
  await notifyOrganisation(String(appeal.orgId), {
    kind: 'credit.appeal_decided',
    title: input.decision === 'void' ? `申诉成立：${breach?.zh ?? ''}` : `申诉驳回：${breach?.zh ?? ''}`,
    body: input.decision === 'void' ? `违约记录已撤销，不再计入信用评分。理由：${input.reason}` : `维持违约记录。理由：${input.reason}`,
    link: '/credit/mine#appeals',
    dedupeKey: `appeal-decided:${appealId}`,
  });
  return toAppealView(appeal, breach ?? undefined);
}

export async function listAppeals(actor: Actor, q: { status?: string; orgId?: string }): Promise<AppealView[]> {
  const filter: Record<string, unknown> = {};
  if (actor.role !== 'operator') filter.orgId = new Types.ObjectId(actor.orgId);
  else if (q.orgId) filter.orgId = new Types.ObjectId(q.orgId);
  if (q.status) filter.status = q.status;
  const rows = await Appeal.find(filter).sort({ submittedAt: -1 }).limit(200).lean<AppealDoc[]>();
  const breaches = await Breach.find({ _id: trusted({ $in: rows.map((r) => r.breachId) }) }, { zh: 1, code: 1, points: 1 }).lean<BreachDoc[]>();
  return rows.map((a) => toAppealView(a, breaches.find((b) => b._id.equals(a.breachId))));
}

function toRepairView(r: RepairDoc) {
  return {
    id: String(r._id),
    orgId: String(r.orgId),
    orgName: r.orgName,
    report: r.report,
    apology: r.apology,
    files: (r.files ?? []).map(evidenceView),
    submittedAt: r.submittedAt.toISOString(),
    submittedByName: r.submittedByName,
    lastBreachAt: r.lastBreachAt ? r.lastBreachAt.toISOString() : undefined,
    eligibleFrom: r.eligibleFrom ? r.eligibleFrom.toISOString() : undefined,
    status: r.status,
    decidedAt: r.decidedAt ? r.decidedAt.toISOString() : undefined,
    decidedByName: r.decidedByName ?? undefined,
    decisionReason: r.decisionReason ?? undefined,
    pointsRestored: r.pointsRestored ?? undefined,
  };
}
export type RepairView = ReturnType<typeof toRepairView>;

/** A distributor with deductions in the window applies for repair with a rectification report and apology. */
export async function submitRepair(actor: Actor, input: { report: string; apology: string; fileIds?: string[] }): Promise<RepairView> {
  const at = now();
  const rules = await getCreditRules();
  const standing = await standingOf(actor.orgId, at);
  if (standing.deductedPoints - standing.restoredPoints <= 0) {
    throw new RuleViolationError({ code: 'NOTHING_TO_REPAIR', message: 'There are no deducted points in the credit window to restore.' });
  }
  const files = await claimFiles(actor, input.fileIds, 'repair');
  const { eligibleFrom } = repairEligible({ lastBreachAt: standing.lastBreachAt, quietDays: rules.repairQuietDays, at });
  let repair: RepairDoc;
  try {
    const created = await Repair.create({
      orgId: new Types.ObjectId(actor.orgId),
      orgName: actor.orgName,
      report: input.report,
      apology: input.apology,
      files,
      submittedAt: at,
      submittedBy: new Types.ObjectId(actor.id),
      submittedByName: actor.name,
      lastBreachAt: standing.lastBreachAt ?? undefined,
      eligibleFrom: eligibleFrom ?? undefined,
      status: 'pending',
    });
    repair = created.toObject() as RepairDoc;
  } catch (err) {
    if ((err as { code?: number }).code === 11000) throw new ConflictError({ code: 'REPAIR_ALREADY_PENDING', message: 'A repair application is already waiting for a decision.' });
    throw err;
  }
  await recordAudit(actor, { action: 'credit.repair.submit', targetType: 'repair', targetId: String(repair._id), summary: `repair application (eligible from ${eligibleFrom?.toISOString() ?? 'now'})` });
  await notifyRoles(['operator'], {
    kind: 'credit.repair_submitted',
    title: `信用修复申请：${actor.orgName}`,
    body: `${actor.orgName} 提交了整改报告和致歉声明，申请信用修复${eligibleFrom ? `（静默期至 ${formatDateTime(eligibleFrom)}）` : ''}。`,
    link: '/credit#repairs',
    dedupeKey: `repair-submitted:${String(repair._id)}`,
  });
  return toRepairView(repair);
}

/**
 * Operator: approves a repair after the quiet period without new breaches (restoring up to the points
 * still deducted), or rejects it, with reasons.
 */
export async function decideRepair(actor: Actor, repairId: string, input: { decision: 'approve' | 'reject'; reason: string; pointsRestored?: number }): Promise<RepairView> {
  const repair = await Repair.findById(repairId).lean<RepairDoc>();
  if (!repair) throw new NotFoundError({ code: 'REPAIR_NOT_FOUND', message: 'No such repair application.' });
  if (repair.status !== 'pending') throw new ConflictError({ code: 'REPAIR_ALREADY_DECIDED', message: 'This repair application has been decided already.' });
  const at = now();
  let points: number | undefined;
  if (input.decision === 'approve') {
    const rules = await getCreditRules();
    const standing = await standingOf(String(repair.orgId), at);
    const quiet = repairEligible({ lastBreachAt: standing.lastBreachAt, quietDays: rules.repairQuietDays, at });
    if (!quiet.eligible) {
      throw new RuleViolationError({
        code: 'REPAIR_QUIET_PERIOD_NOT_OVER',
        message: `The quiet period without new breaches ends at ${formatDateTime(quiet.eligibleFrom)} (Asia/Shanghai).`,
        details: [{ eligibleFrom: quiet.eligibleFrom?.toISOString() }],
      });
    }
    const restorable = standing.deductedPoints - standing.restoredPoints;
    if (restorable <= 0) throw new RuleViolationError({ code: 'NOTHING_TO_REPAIR', message: 'There are no deducted points in the credit window to restore.' });
    points = input.pointsRestored ?? restorable;
    if (points > restorable) {
      throw new RuleViolationError({ code: 'TOO_MANY_POINTS', message: `At most ${restorable} points can be restored.`, details: [{ path: 'pointsRestored', max: restorable }] });
    }
  }
  const updated = await Repair.findOneAndUpdate(
    { _id: repair._id, status: 'pending' },
    {
      $set: {
        status: input.decision === 'approve' ? 'approved' : 'rejected',
        decidedAt: at,
        decidedBy: new Types.ObjectId(actor.id),
        decidedByName: actor.name,
        decisionReason: input.reason,
        ...(points !== undefined ? { pointsRestored: points } : {}),
      },
    },
    { returnDocument: 'after' },
  ).lean<RepairDoc>();
  if (!updated) throw new ConflictError({ code: 'REPAIR_ALREADY_DECIDED', message: 'This repair application has been decided already.' });
  await recordAudit(actor, { action: `credit.repair.${input.decision}`, targetType: 'repair', targetId: repairId, summary: `${input.decision === 'approve' ? `restored ${points} points` : 'rejected'}: ${input.reason}` });
  if (input.decision === 'approve') {
    await applyCreditChange(String(repair.orgId), repair.orgName, { key: `repair:${repairId}`, label: `信用修复获批，恢复 ${points} 分`, at, mode: 'relieve' });
  }
  await notifyOrganisation(String(repair.orgId), {
    kind: 'credit.repair_decided',
    title: input.decision === 'approve' ? `信用修复获批：恢复 ${points} 分` : '信用修复未获批准',
    body: `理由：${input.reason}`,
    link: '/credit/mine#repairs',
    dedupeKey: `repair-decided:${repairId}`,
  });
  return toRepairView(updated);
}

export async function listRepairs(actor: Actor, q: { status?: string; orgId?: string }): Promise<RepairView[]> {
  const filter: Record<string, unknown> = {};
  if (actor.role !== 'operator') filter.orgId = new Types.ObjectId(actor.orgId);
  else if (q.orgId) filter.orgId = new Types.ObjectId(q.orgId);
  if (q.status) filter.status = q.status;
  const rows = await Repair.find(filter).sort({ submittedAt: -1 }).limit(200).lean<RepairDoc[]>();
  return rows.map(toRepairView);
}

/** Operator: awards bonus points (守信激励) that count in the window up to the cap. */
export async function awardBonus(actor: Actor, input: { orgId: string; points: number; reason: string }) {
  const org = (await getOrganisation(input.orgId)) as { _id: Types.ObjectId; name: string; type: string } | null;
  if (!org || org.type !== 'distributor') throw new NotFoundError({ code: 'DISTRIBUTOR_NOT_FOUND', message: 'No such distributor.', details: [{ path: 'orgId' }] });
  const at = now();
  const doc = (await Bonus.create({ orgId: org._id, points: input.points, reason: input.reason, at, byName: actor.name })).toObject() as BonusDoc;
  await recordAudit(actor, { action: 'credit.bonus.award', targetType: 'bonus', targetId: String(doc._id), summary: `${input.points} bonus points to ${org.name}: ${input.reason}` });
  await applyCreditChange(String(org._id), org.name, { key: `bonus:${String(doc._id)}`, label: `守信激励加 ${input.points} 分`, at, mode: 'relieve' });
  await notifyOrganisation(String(org._id), { kind: 'credit.bonus_awarded', title: `守信激励：加 ${input.points} 分`, body: input.reason, link: '/credit/mine', dedupeKey: `bonus:${String(doc._id)}` });
  return { id: String(doc._id), orgId: String(org._id), points: doc.points, reason: doc.reason, at: doc.at.toISOString() };
}
