// A distributor's standing: score and grade from the breach history (read from its standing record,
// credit.standing-record.ts), and the badges shown beside it.
import { Types, type ClientSession } from 'mongoose';
import { now } from '../../platform/context';
import { trusted } from '../../platform/mongo';
import { addMonths } from '../../platform/time';
import { CreditRulesDoc, Sanction, type SanctionDoc } from './credit.model';
import { CREDIT_RULES_KEY, getCreditRules } from './credit.rules';
import { computeCreditScore, worstActiveSeverity, type BreachSeverity, type CreditGrade, type CreditRules, type CreditScore } from './credit.score';
import { historiesOf, recordedHistoriesOf, type History } from './credit.standing-record';

export { CREDIT_RULES_KEY, getCreditRules } from './credit.rules';

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

function validIds(orgIds: string[]): Types.ObjectId[] {
  return [...new Set(orgIds)].filter((id) => Types.ObjectId.isValid(id)).map((id) => new Types.ObjectId(id));
}

/**
 * Score, grade and worst severity of several distributors at `at`, as computed from their history
 * (`standingsFromHistory`) but read from their standing records where a record holds the whole
 * window, so the cost does not grow with the history. Inside a unit of work pass its session, so the
 * command's own writes count (a command changes the record with the history, in its transaction).
 */
export async function standingsOf(orgIds: string[], at: Date = now(), session?: ClientSession): Promise<Map<string, Standing>> {
  const rules = await getCreditRules();
  const ids = validIds(orgIds);
  const histories = await recordedHistoriesOf(ids, at, rules.windowMonths, session);
  const unrecorded = ids.filter((id) => !histories.has(String(id)));
  if (unrecorded.length > 0) for (const [id, h] of await historiesOf(unrecorded, addMonths(at, -rules.windowMonths), session)) histories.set(id, h);
  return new Map(ids.map((id) => [String(id), standingFrom(String(id), histories.get(String(id))!, at, rules)]));
}

/** The same standings computed from the breaches, repairs and bonuses themselves (the records' reference). */
export async function standingsFromHistory(orgIds: string[], at: Date = now(), session?: ClientSession): Promise<Map<string, Standing>> {
  const rules = await getCreditRules();
  const ids = validIds(orgIds);
  const histories = await historiesOf(ids, addMonths(at, -rules.windowMonths), session);
  return new Map(ids.map((id) => [String(id), standingFrom(String(id), histories.get(String(id))!, at, rules)]));
}

export async function standingOf(orgId: string, at: Date = now(), session?: ClientSession): Promise<Standing> {
  return (await standingsOf([orgId], at, session)).get(orgId)!;
}

/** Sanctions in force at `at` for the organisations (not lifted, startsAt ≤ at < endsAt). */
export async function activeSanctionsOf(orgIds: string[], at: Date = now(), session?: ClientSession): Promise<SanctionDoc[]> {
  const ids = validIds(orgIds);
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
