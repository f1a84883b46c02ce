// Appeals against breaches (operator upholds or voids with reasons) and credit repair (信用修复), and
// bonus points. Each decision commits with its audit entry, its fact and, when the score changes,
// the snapshot and the sanctions lifted or opened (credit.sanctions.ts).
import { Types } from 'mongoose';
import { AppealDecided, AppealSubmitted, BonusAwarded, RepairDecided, RepairSubmitted } from '../../events/credit';
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { ConflictError, NotFoundError, RuleViolationError } from '../../platform/errors';
import { dateTime, msg } from '../../platform/messages';
import { trusted } from '../../platform/mongo';
import { withCommand } from '../../platform/unit-of-work';
import { formatDateTime } from '../../platform/view-helpers/formatters';
import { getOrganisation } from '../identity';
import { getBreach } from './credit.breaches';
import { claimFiles, evidenceView } from './credit.files';
import { Appeal, Bonus, Breach, Repair, type AppealDoc, type BreachDoc, type RepairDoc } from './credit.model';
import { applyCreditChange } from './credit.sanctions';
import type { AppealDecisionInput, AppealInput, AppealListQueryInput, BonusInput, RepairDecisionInput, RepairInput, RepairListQueryInput } from './credit.schemas';
import { repairEligible } from './credit.score';
import { getCreditRules, standingOf } from './credit.standing';
import { noteBonusIn, noteBreachVoidedIn, noteRepairApprovedIn } from './credit.standing-record';

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
export async function submitAppeal(actor: Actor, breachId: string, input: AppealInput): Promise<AppealView> {
  const breach = await getBreach(actor, breachId);
  const at = now();
  if (breach.status !== 'active') {
    throw new ConflictError({ code: 'BREACH_NOT_APPEALABLE', message: msg(breach.status === 'voided' ? 'errorCodes.BREACH_ALREADY_VOIDED' : 'errorCodes.BREACH_NOT_APPEALABLE') });
  }
  if (at.getTime() > breach.appealDeadline.getTime()) {
    throw new RuleViolationError({ code: 'APPEAL_DEADLINE_PASSED', message: msg('errorCodes.APPEAL_DEADLINE_PASSED', { appealDeadline: dateTime(breach.appealDeadline) }), details: [{ deadline: breach.appealDeadline.toISOString() }] });
  }
  const files = await claimFiles(actor, input.fileIds, 'appeal');
  try {
    return await withCommand(actor, async (uow) => {
      const [created] = await Appeal.create(
        [{ breachId: breach._id, orgId: breach.orgId, orgName: breach.orgName, statement: input.statement, files, submittedAt: uow.at, submittedBy: new Types.ObjectId(actor.id), submittedByName: actor.name, status: 'pending' }],
        { session: uow.session },
      );
      const appeal = created!.toObject();
      const id = String(appeal._id);
      await Breach.updateOne({ _id: breach._id, status: 'active' }, { $set: { status: 'appealed' } }, { session: uow.session });
      uow.audit({ action: 'credit.appeal.submit', targetType: 'appeal', targetId: id, summary: msg('credit.audit.appealSubmitted', { name: breach.zh, nameEn: breach.en, code: breach.code }) });
      uow.emit(AppealSubmitted, { appealId: id, breachId: String(breach._id), orgId: String(breach.orgId), orgName: breach.orgName, name: breach.zh, nameEn: breach.en, points: breach.points }, { key: `appeal-submitted:${id}` });
      return toAppealView(appeal, breach);
    });
  } catch (err) {
    if ((err as { code?: number }).code === 11000) throw new ConflictError({ code: 'BREACH_NOT_APPEALABLE', message: msg('errorCodes.BREACH_NOT_APPEALABLE') });
    throw err;
  }
}

/** Operator: upholds the breach or voids it, with reasons. A voided breach stops counting at once. */
export async function decideAppeal(actor: Actor, appealId: string, input: AppealDecisionInput): Promise<AppealView> {
  return withCommand(actor, async (uow) => {
    const session = uow.session;
    const at = uow.at;
    const appeal = await Appeal.findOneAndUpdate(
      { _id: new Types.ObjectId(appealId), status: 'pending' },
      { $set: { status: input.decision === 'void' ? 'voided' : 'upheld', decidedAt: at, decidedBy: new Types.ObjectId(actor.id), decidedByName: actor.name, decisionReason: input.reason } },
      { returnDocument: 'after', session },
    ).lean<AppealDoc>();
    if (!appeal) {
      const exists = await Appeal.exists({ _id: new Types.ObjectId(appealId) }).session(session);
      if (!exists) throw new NotFoundError({ code: 'APPEAL_NOT_FOUND', message: msg('errorCodes.APPEAL_NOT_FOUND') });
      throw new ConflictError({ code: 'APPEAL_ALREADY_DECIDED', message: msg('errorCodes.APPEAL_ALREADY_DECIDED') });
    }
    const breachSet = input.decision === 'void' ? { status: 'voided' as const, voidedAt: at, voidReason: input.reason } : { status: 'upheld' as const };
    const breach = await Breach.findOneAndUpdate({ _id: appeal.breachId }, { $set: breachSet }, { returnDocument: 'after', session }).lean<BreachDoc>();
    if (!breach) throw new NotFoundError({ code: 'BREACH_NOT_FOUND', message: msg('errorCodes.BREACH_NOT_FOUND') });
    uow.audit({
      action: `credit.appeal.${input.decision}`,
      targetType: 'appeal',
      targetId: appealId,
      summary: msg(input.decision === 'void' ? 'credit.audit.appealVoided' : 'credit.audit.appealUpheld', { name: breach.zh, nameEn: breach.en, code: breach.code, reason: input.reason }),
    });
    uow.emit(
      AppealDecided,
      { appealId, breachId: String(breach._id), orgId: String(appeal.orgId), decision: input.decision, reason: input.reason, name: breach.zh, nameEn: breach.en },
      { key: `appeal-decided:${appealId}` },
    );
    if (input.decision === 'void') {
      await noteBreachVoidedIn(uow, breach);
      await applyCreditChange(uow, String(breach.orgId), breach.orgName, { key: `void:${String(breach._id)}`, label: msg('credit.change.voided', { name: breach.zh, nameEn: breach.en }), at, mode: 'relieve' });
    }
    return toAppealView(appeal, breach);
  });
}

export async function listAppeals(actor: Actor, q: AppealListQueryInput): Promise<AppealView[]> {
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
export async function submitRepair(actor: Actor, input: RepairInput): Promise<RepairView> {
  const at = now();
  const rules = await getCreditRules();
  const standing = await standingOf(actor.orgId, at);
  if (standing.deductedPoints - standing.restoredPoints <= 0) {
    throw new RuleViolationError({ code: 'NOTHING_TO_REPAIR', message: msg('errorCodes.NOTHING_TO_REPAIR') });
  }
  const files = await claimFiles(actor, input.fileIds, 'repair');
  const { eligibleFrom } = repairEligible({ lastBreachAt: standing.lastBreachAt, quietDays: rules.repairQuietDays, at });
  try {
    return await withCommand(actor, async (uow) => {
      const [created] = await Repair.create(
        [
          {
            orgId: new Types.ObjectId(actor.orgId),
            orgName: actor.orgName,
            report: input.report,
            apology: input.apology,
            files,
            submittedAt: uow.at,
            submittedBy: new Types.ObjectId(actor.id),
            submittedByName: actor.name,
            ...(standing.lastBreachAt ? { lastBreachAt: standing.lastBreachAt } : {}),
            ...(eligibleFrom ? { eligibleFrom } : {}),
            status: 'pending',
          },
        ],
        { session: uow.session },
      );
      const repair = created!.toObject();
      const id = String(repair._id);
      uow.audit({ action: 'credit.repair.submit', targetType: 'repair', targetId: id, summary: eligibleFrom ? msg('credit.audit.repairSubmittedQuiet', { eligibleFrom: dateTime(eligibleFrom) }) : msg('credit.audit.repairSubmitted') });
      uow.emit(RepairSubmitted, { repairId: id, orgId: actor.orgId, orgName: actor.orgName, ...(eligibleFrom ? { eligibleFrom: eligibleFrom.toISOString() } : {}) }, { key: `repair-submitted:${id}` });
      return toRepairView(repair);
    });
  } catch (err) {
    if ((err as { code?: number }).code === 11000) throw new ConflictError({ code: 'REPAIR_ALREADY_PENDING', message: msg('errorCodes.REPAIR_ALREADY_PENDING') });
    throw err;
  }
}

/**
 * Operator: approves a repair after the quiet period without new breaches (restoring up to the points
 * still deducted), or rejects it, with reasons.
 */
export async function decideRepair(actor: Actor, repairId: string, input: RepairDecisionInput): Promise<RepairView> {
  return withCommand(actor, async (uow) => {
    const session = uow.session;
    const at = uow.at;
    const repair = await Repair.findById(repairId, null, { session }).lean<RepairDoc>();
    if (!repair) throw new NotFoundError({ code: 'REPAIR_NOT_FOUND', message: msg('errorCodes.REPAIR_NOT_FOUND') });
    if (repair.status !== 'pending') throw new ConflictError({ code: 'REPAIR_ALREADY_DECIDED', message: msg('errorCodes.REPAIR_ALREADY_DECIDED') });
    const orgId = String(repair.orgId);
    let points: number | undefined;
    if (input.decision === 'approve') {
      const rules = await getCreditRules();
      const standing = await standingOf(orgId, at, session);
      const quiet = repairEligible({ lastBreachAt: standing.lastBreachAt, quietDays: rules.repairQuietDays, at });
      if (!quiet.eligible) {
        throw new RuleViolationError({
          code: 'REPAIR_QUIET_PERIOD_NOT_OVER',
          message: msg('errorCodes.REPAIR_QUIET_PERIOD_NOT_OVER', { eligibleFrom: dateTime(quiet.eligibleFrom ?? at) }),
          details: [{ eligibleFrom: quiet.eligibleFrom?.toISOString() }],
        });
      }
      const restorable = standing.deductedPoints - standing.restoredPoints;
      if (restorable <= 0) throw new RuleViolationError({ code: 'NOTHING_TO_REPAIR', message: msg('errorCodes.NOTHING_TO_REPAIR') });
      points = input.pointsRestored ?? restorable;
      if (points > restorable) {
        throw new RuleViolationError({ code: 'TOO_MANY_POINTS', message: msg('errorCodes.TOO_MANY_POINTS', { restorable: restorable }), details: [{ path: 'pointsRestored', max: restorable }] });
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
      { returnDocument: 'after', session },
    ).lean<RepairDoc>();
    if (!updated) throw new ConflictError({ code: 'REPAIR_ALREADY_DECIDED', message: msg('errorCodes.REPAIR_ALREADY_DECIDED') });
    uow.audit({
      action: `credit.repair.${input.decision}`,
      targetType: 'repair',
      targetId: repairId,
      summary: points !== undefined ? msg('credit.audit.repairApproved', { points, reason: input.reason }) : msg('credit.audit.repairRejected', { reason: input.reason }),
    });
    uow.emit(RepairDecided, { repairId, orgId, decision: input.decision, reason: input.reason, ...(points !== undefined ? { pointsRestored: points } : {}) }, { key: `repair-decided:${repairId}` });
    if (points !== undefined) {
      await noteRepairApprovedIn(uow, updated);
      await applyCreditChange(uow, orgId, repair.orgName, { key: `repair:${repairId}`, label: msg('credit.change.repair', { points }), at, mode: 'relieve' });
    }
    return toRepairView(updated);
  });
}

export async function listRepairs(actor: Actor, q: RepairListQueryInput): Promise<RepairView[]> {
  const filter: Record<string, unknown> = {};
  if (actor.role !== 'operator') filter.orgId = new Types.ObjectId(actor.orgId);
  else if (q.orgId) filter.orgId = new Types.ObjectId(q.orgId);
  if (q.status) filter.status = q.status;
  const rows = await Repair.find(filter).sort({ submittedAt: -1 }).limit(200).lean<RepairDoc[]>();
  return rows.map(toRepairView);
}

/** Operator: awards bonus points (守信激励) that count in the window up to the cap. */
export async function awardBonus(actor: Actor, input: BonusInput) {
  const org = await getOrganisation(input.orgId);
  if (!org || org.type !== 'distributor') throw new NotFoundError({ code: 'DISTRIBUTOR_NOT_FOUND', message: msg('errorCodes.DISTRIBUTOR_NOT_FOUND'), details: [{ path: 'orgId' }] });
  return withCommand(actor, async (uow) => {
    const [created] = await Bonus.create([{ orgId: org._id, points: input.points, reason: input.reason, at: uow.at, byName: actor.name }], { session: uow.session });
    const doc = created!.toObject();
    const id = String(doc._id);
    const orgId = String(org._id);
    await noteBonusIn(uow, doc);
    uow.audit({ action: 'credit.bonus.award', targetType: 'bonus', targetId: id, summary: msg('credit.audit.bonusAwarded', { org: org.name, points: input.points, reason: input.reason }) });
    uow.emit(BonusAwarded, { bonusId: id, orgId, orgName: org.name, points: input.points, reason: input.reason }, { key: `bonus-awarded:${id}` });
    await applyCreditChange(uow, orgId, org.name, { key: `bonus:${id}`, label: msg('credit.change.bonus', { points: input.points }), at: uow.at, mode: 'relieve' });
    return { id, orgId, points: doc.points, reason: doc.reason, at: doc.at.toISOString() };
  });
}
