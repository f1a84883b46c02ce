// A distributor's standing: score and grade from the breach history, and the badges shown beside it.
import { Types, type ClientSession } from 'mongoose';
import { now } from '../../platform/context';
import { trusted } from '../../platform/mongo';
import { addMonths } from '../../platform/time';
import { getSettings } from '../settings';
import { Bonus, Breach, CreditRulesDoc, Repair, Sanction, type BonusDoc, type BreachDoc, type RepairDoc, type SanctionDoc } from './credit.model';
import { computeCreditScore, DEFAULT_CREDIT_RULES, worstActiveSeverity, type BreachSeverity, type CreditGrade, type CreditRules, type CreditScore } from './credit.score';

export const CREDIT_RULES_KEY = 'credit';

/** Rules in force: platform settings (window, bonus cap, appeal days, quiet days) over the operator's credit rules. */
export async function getCreditRules(): Promise<CreditRules> {
  const [settings, doc] = await Promise.all([getSettings(), CreditRulesDoc.findById(CREDIT_RULES_KEY).lean<{ value: Partial<CreditRules> }>()]);
  const stored = doc?.value ?? {};
  return {
    ...DEFAULT_CREDIT_RULES,
    ...stored,
    gradeThresholds: { ...DEFAULT_CREDIT_RULES.gradeThresholds, ...stored.gradeThresholds },
    especiallySeriousYears: { ...DEFAULT_CREDIT_RULES.especiallySeriousYears, ...stored.especiallySeriousYears },
    windowMonths: settings.credit.windowMonths,
    bonusCap: settings.credit.bonusCap,
    appealDays: settings.credit.appealDays,
    repairQuietDays: settings.credit.repairQuietDays,
  };
}

export interface UploadLimits {
  maxFileBytes: number;
  maxFiles: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = Object.freeze({ maxFileBytes: 5 * 1024 * 1024, maxFiles: 5 });

/** Size and count limits of evidence uploads (operator-tunable with the credit rules). */
export async function getCreditUploadLimits(): Promise<UploadLimits> {
  const doc = await CreditRulesDoc.findById(CREDIT_RULES_KEY).lean<{ value: { uploads?: Partial<UploadLimits> } }>();
  return { ...DEFAULT_UPLOAD_LIMITS, ...doc?.value?.uploads };
}

export interface Standing extends CreditScore {
  orgId: string;
  worstSeverity: BreachSeverity | null;
  /** Level of the worst 特别严重失信 breach in the window (1 when unknown). */
  especiallySeriousLevel: 1 | 2 | 3;
  lastBreachAt: Date | null;
}

interface History {
  breaches: BreachDoc[];
  repairs: RepairDoc[];
  bonuses: BonusDoc[];
}

async function historiesOf(orgIds: Types.ObjectId[], since: Date, session?: ClientSession): Promise<Map<string, History>> {
  const reads = [
    () => Breach.find({ orgId: trusted({ $in: orgIds }), occurredAt: trusted({ $gt: since }) }, { orgId: 1, points: 1, occurredAt: 1, status: 1, severity: 1, level: 1 }, { session }).lean<BreachDoc[]>(),
    () => Repair.find({ orgId: trusted({ $in: orgIds }), status: 'approved', decidedAt: trusted({ $gt: since }) }, { orgId: 1, pointsRestored: 1, decidedAt: 1 }, { session }).lean<RepairDoc[]>(),
    () => Bonus.find({ orgId: trusted({ $in: orgIds }), at: trusted({ $gt: since }) }, { orgId: 1, points: 1, at: 1 }, { session }).lean<BonusDoc[]>(),
  ] as const;
  // NOTE: reads in a transaction share its session, which runs one operation at a time.
  const [breaches, repairs, bonuses] = session
    ? [await reads[0](), await reads[1](), await reads[2]()]
    : await Promise.all([reads[0](), reads[1](), reads[2]()]);
  const out = new Map<string, History>(orgIds.map((id) => [String(id), { breaches: [], repairs: [], bonuses: [] }]));
  for (const b of breaches) out.get(String(b.orgId))?.breaches.push(b);
  for (const r of repairs) out.get(String(r.orgId))?.repairs.push(r);
  for (const b of bonuses) out.get(String(b.orgId))?.bonuses.push(b);
  return out;
}

function standingFrom(orgId: string, h: History, at: Date, rules: CreditRules): Standing {
  const scored = h.breaches.map((b) => ({ points: b.points, occurredAt: b.occurredAt, status: b.status, severity: b.severity }));
  const score = computeCreditScore({
    breaches: scored,
    repairs: h.repairs.map((r) => ({ pointsRestored: r.pointsRestored ?? 0, approvedAt: r.decidedAt! })),
    bonuses: h.bonuses.map((b) => ({ points: b.points, at: b.at })),
    at,
    windowMonths: rules.windowMonths,
    bonusCap: rules.bonusCap,
    gradeThresholds: rules.gradeThresholds,
  });
  const worst = worstActiveSeverity(scored, at, rules.windowMonths);
  const counting = h.breaches.filter((b) => b.status !== 'voided' && b.occurredAt.getTime() <= at.getTime() && b.occurredAt.getTime() > score.windowStart.getTime());
  const levels = counting.filter((b) => b.severity === 'especially_serious').map((b) => (b.level ?? 1) as 1 | 2 | 3);
  const last = counting.reduce<Date | null>((acc, b) => (acc === null || b.occurredAt > acc ? b.occurredAt : acc), null);
  return { ...score, orgId, worstSeverity: worst, especiallySeriousLevel: levels.length ? (Math.max(...levels) as 1 | 2 | 3) : 1, lastBreachAt: last };
}

/**
 * Score, grade and worst severity of several distributors at `at` (computed from the history, so
 * always current). Inside a unit of work pass its session, so the command's own writes count.
 */
export async function standingsOf(orgIds: string[], at: Date = now(), session?: ClientSession): Promise<Map<string, Standing>> {
  const rules = await getCreditRules();
  const ids = [...new Set(orgIds)].filter((id) => Types.ObjectId.isValid(id)).map((id) => new Types.ObjectId(id));
  const histories = await historiesOf(ids, addMonths(at, -rules.windowMonths), session);
  return new Map(ids.map((id) => [String(id), standingFrom(String(id), histories.get(String(id))!, at, rules)]));
}

export async function standingOf(orgId: string, at: Date = now(), session?: ClientSession): Promise<Standing> {
  return (await standingsOf([orgId], at, session)).get(orgId)!;
}

/** Sanctions in force at `at` for the organisations (not lifted, startsAt ≤ at < endsAt). */
export async function activeSanctionsOf(orgIds: string[], at: Date = now(), session?: ClientSession): Promise<SanctionDoc[]> {
  const ids = [...new Set(orgIds)].filter((id) => Types.ObjectId.isValid(id)).map((id) => new Types.ObjectId(id));
  if (ids.length === 0) return [];
  return Sanction.find({ orgId: trusted({ $in: ids }), startsAt: trusted({ $lte: at }), endsAt: trusted({ $gt: at }), liftedAt: trusted({ $exists: false }) }, null, { session })
    .sort({ endsAt: -1 })
    .lean<SanctionDoc[]>();
}

/** The badge flags of a standing with the sanctions in force. */
export function flagsOf(standing: Pick<Standing, 'grade'>, sanctions: readonly Pick<SanctionDoc, 'kind'>[]): { riskWarning: boolean; suspended: boolean } {
  return {
    riskWarning: standing.grade === 'C' || standing.grade === 'D' || sanctions.some((x) => x.kind === 'risk_warning'),
    suspended: sanctions.some((x) => x.kind === 'suspension'),
  };
}

export interface CreditBadge {
  grade: CreditGrade;
  score: number;
  /** Shown to hospitals beside the distributor: grade C or worse, or an active risk warning. */
  riskWarning: boolean;
  suspended: boolean;
}

/** Badges for showing grades and the grade-C risk warning beside distributors, keyed by org id. */
export async function creditBadges(orgIds: string[]): Promise<Map<string, CreditBadge>> {
  const at = now();
  const [standings, sanctions] = await Promise.all([standingsOf(orgIds, at), activeSanctionsOf(orgIds, at)]);
  const out = new Map<string, CreditBadge>();
  for (const [orgId, s] of standings) {
    const mine = sanctions.filter((x) => String(x.orgId) === orgId);
    out.set(orgId, { grade: s.grade, score: s.score, ...flagsOf(s, mine) });
  }
  return out;
}
