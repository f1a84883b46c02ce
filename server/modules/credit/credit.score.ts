// Distributor credit: score and grade, sanctions, appeal deadline, repair eligibility
// and the default breach catalogue. Grades: A ≥ 90, B ≥ 75, C ≥ 60, D below; score = 100 − points of
// the last 12 months + a capped bonus.

import { addDays, addMonths, addYears, dueDate } from '../../platform/time';

/** National severity levels (2025 revision): 失信 / 严重失信 / 特别严重失信. */
export type BreachSeverity = 'shixin' | 'serious' | 'especially_serious';

export const SEVERITY_LABELS: Readonly<Record<BreachSeverity, { zh: string; en: string }>> = Object.freeze({
  shixin: { zh: '失信', en: 'Dishonest conduct' },
  serious: { zh: '严重失信', en: 'Serious dishonest conduct' },
  especially_serious: { zh: '特别严重失信', en: 'Especially serious dishonest conduct' },
});

/** Severities from least to most severe. */
export const SEVERITY_ORDER: readonly BreachSeverity[] = Object.freeze(['shixin', 'serious', 'especially_serious']);

/** Lifecycle of a recorded breach; every status except 'voided' counts against the score. */
export type BreachStatus = 'active' | 'appealed' | 'upheld' | 'voided';

export type CreditGrade = 'A' | 'B' | 'C' | 'D';

export interface CreditRules {
  windowMonths: number;
  bonusCap: number;
  /** Minimum score of grades A, B and C; below C is D. */
  gradeThresholds: { A: number; B: number; C: number };
  riskWarningMonths: number;
  suspensionMonths: number;
  /** Suspension years for 特别严重失信 by level 1 / 2 / 3. */
  especiallySeriousYears: { 1: number; 2: number; 3: number };
  appealDays: number;
  repairQuietDays: number;
}

export const DEFAULT_CREDIT_RULES: CreditRules = Object.freeze({
  windowMonths: 12,
  bonusCap: 10,
  gradeThresholds: Object.freeze({ A: 90, B: 75, C: 60 }),
  // NOTE: platform choices, all configurable: national ratings are updated quarterly, so a risk
  // warning runs 3 months; a suspension is "for a period" and the one national failure-to-supply bar
  // on record was 9 months, so 6 months is the default suspension.
  riskWarningMonths: 3,
  suspensionMonths: 6,
  // Distributors lose distribution qualification for 1, 3 or 5 years by level.
  especiallySeriousYears: Object.freeze({ 1: 1, 2: 3, 3: 5 }),
  appealDays: 15,
  // NOTE: repair periods are UNCONFIRMED nationally; 90 days is a choice.
  repairQuietDays: 90,
});

export interface ScoredBreach {
  points: number;
  occurredAt: Date;
  status: BreachStatus;
  severity: BreachSeverity;
}

export interface CreditScore {
  score: number;
  grade: CreditGrade;
  deductedPoints: number;
  restoredPoints: number;
  bonusPoints: number;
  /** Events after this instant (exclusive) and up to `at` (inclusive) count. */
  windowStart: Date;
}

/**
 * Credit score at `at`: 100 − points of non-voided breaches in the window (at − windowMonths, at]
 * + restored points (approved in the window, never more than the deductions they repair) + bonus
 * points in the window (capped at bonusCap), clamped to 0..100. A bonus therefore offsets
 * deductions but never lifts a score above 100. Events after `at` are ignored.
 */
export function computeCreditScore(input: {
  breaches: readonly ScoredBreach[];
  repairs: readonly { pointsRestored: number; approvedAt: Date }[];
  bonuses: readonly { points: number; at: Date }[];
  at: Date;
  windowMonths?: number;
  bonusCap?: number;
  gradeThresholds?: CreditRules['gradeThresholds'];
}): CreditScore {
  const windowMonths = input.windowMonths ?? DEFAULT_CREDIT_RULES.windowMonths;
  const bonusCap = input.bonusCap ?? DEFAULT_CREDIT_RULES.bonusCap;
  const windowStart = addMonths(input.at, -windowMonths);
  const inWindow = (when: Date) => when.getTime() > windowStart.getTime() && when.getTime() <= input.at.getTime();

  const deductedPoints = sumPoints(input.breaches.filter((b) => b.status !== 'voided' && inWindow(b.occurredAt)).map((b) => b.points));
  const restoredPoints = Math.min(
    deductedPoints,
    sumPoints(input.repairs.filter((r) => inWindow(r.approvedAt)).map((r) => r.pointsRestored)),
  );
  const bonusPoints = Math.min(bonusCap, sumPoints(input.bonuses.filter((b) => inWindow(b.at)).map((b) => b.points)));
  const score = Math.min(100, Math.max(0, 100 - deductedPoints + restoredPoints + bonusPoints));
  return {
    score,
    grade: gradeFor(score, input.gradeThresholds),
    deductedPoints,
    restoredPoints,
    bonusPoints,
    windowStart,
  };
}

/** Grade of a score: A ≥ 90, B ≥ 75, C ≥ 60, D below (thresholds configurable). */
export function gradeFor(score: number, thresholds: CreditRules['gradeThresholds'] = DEFAULT_CREDIT_RULES.gradeThresholds): CreditGrade {
  if (score >= thresholds.A) return 'A';
  if (score >= thresholds.B) return 'B';
  if (score >= thresholds.C) return 'C';
  return 'D';
}

/** The most severe severity among non-voided breaches in the window ending at `at`, or null. */
export function worstActiveSeverity(
  breaches: readonly ScoredBreach[],
  at: Date,
  windowMonths: number = DEFAULT_CREDIT_RULES.windowMonths,
): BreachSeverity | null {
  const windowStart = addMonths(at, -windowMonths).getTime();
  let worst: BreachSeverity | null = null;
  for (const breach of breaches) {
    const when = breach.occurredAt.getTime();
    if (breach.status === 'voided' || when <= windowStart || when > at.getTime()) continue;
    if (worst === null || SEVERITY_ORDER.indexOf(breach.severity) > SEVERITY_ORDER.indexOf(worst)) worst = breach.severity;
  }
  return worst;
}

export type SanctionKind = 'risk_warning' | 'suspension' | 'listing_withdrawal';

export interface Sanction {
  kind: SanctionKind;
  startsAt: Date;
  /** Exclusive: the sanction is over at this instant. */
  endsAt: Date;
  reason: 'GRADE_C' | 'GRADE_D' | 'SERIOUS' | 'ESPECIALLY_SERIOUS';
}

/**
 * Sanctions that follow from a grade and the worst active severity, starting at `at`:
 * - risk warning (shown beside listings) for grade C or D, or any 严重/特别严重失信;
 * - suspension from quoting, bidding and new orders for grade D or 严重失信 (suspensionMonths), or
 *   for 特别严重失信 1 / 3 / 5 years by level (level 1 when not given), whichever is longer;
 * - listing withdrawal for 特别严重失信, for the same period as its suspension.
 * A plain 失信 breach acts only through the score.
 */
export function sanctionFor(input: {
  grade: CreditGrade;
  worstActiveSeverity: BreachSeverity | null;
  especiallySeriousLevel?: 1 | 2 | 3;
  at: Date;
  rules?: CreditRules;
}): Sanction[] {
  const rules = input.rules ?? DEFAULT_CREDIT_RULES;
  const { grade, worstActiveSeverity: severity, at } = input;
  const sanctions: Sanction[] = [];
  const warningReason = severity === 'especially_serious' ? 'ESPECIALLY_SERIOUS' : severity === 'serious' ? 'SERIOUS' : grade === 'D' ? 'GRADE_D' : 'GRADE_C';
  if (grade === 'C' || grade === 'D' || severity === 'serious' || severity === 'especially_serious') {
    sanctions.push({ kind: 'risk_warning', startsAt: at, endsAt: addMonths(at, rules.riskWarningMonths), reason: warningReason });
  }
  if (severity === 'especially_serious') {
    const years = rules.especiallySeriousYears[input.especiallySeriousLevel ?? 1];
    const endsAt = laterOf(addYears(at, years), grade === 'D' ? addMonths(at, rules.suspensionMonths) : at);
    sanctions.push({ kind: 'suspension', startsAt: at, endsAt, reason: 'ESPECIALLY_SERIOUS' });
    sanctions.push({ kind: 'listing_withdrawal', startsAt: at, endsAt, reason: 'ESPECIALLY_SERIOUS' });
  } else if (grade === 'D' || severity === 'serious') {
    sanctions.push({
      kind: 'suspension',
      startsAt: at,
      endsAt: addMonths(at, rules.suspensionMonths),
      reason: severity === 'serious' ? 'SERIOUS' : 'GRADE_D',
    });
  }
  return sanctions;
}

/** Whether a sanction is in force at `at` (startsAt inclusive, endsAt exclusive). */
export function isSanctionActive(sanction: Pick<Sanction, 'startsAt' | 'endsAt'>, at: Date): boolean {
  return sanction.startsAt.getTime() <= at.getTime() && at.getTime() < sanction.endsAt.getTime();
}

/** Last instant to appeal a breach: the end of the Asia/Shanghai day `days` after the breach day. */
export function appealDeadline(breachAt: Date, days: number = DEFAULT_CREDIT_RULES.appealDays): Date {
  return dueDate(breachAt, days);
}

/** Whether an appeal lodged at `at` is in time. */
export function canAppeal(breachAt: Date, at: Date, days: number = DEFAULT_CREDIT_RULES.appealDays): boolean {
  return at.getTime() <= appealDeadline(breachAt, days).getTime();
}

/**
 * Whether the quiet period before credit repair has passed: no breach for `quietDays` × 24 h since
 * the last one. Without any breach there is nothing to wait for.
 */
export function repairEligible(input: {
  lastBreachAt: Date | null;
  quietDays?: number;
  at: Date;
}): { eligible: boolean; eligibleFrom: Date | null } {
  if (input.lastBreachAt === null) return { eligible: true, eligibleFrom: null };
  const eligibleFrom = addDays(input.lastBreachAt, input.quietDays ?? DEFAULT_CREDIT_RULES.repairQuietDays);
  return { eligible: input.at.getTime() >= eligibleFrom.getTime(), eligibleFrom };
}

export type BreachCode =
  | 'LATE_CONFIRMATION'
  | 'LATE_DELIVERY'
  | 'CONFIRMED_NOT_DELIVERED'
  | 'REFUSED_LISTED_HOSPITAL'
  | 'QUOTE_WITHDRAWN_AFTER_PUBLICATION'
  | 'VBP_SUPPLY_FAILURE'
  | 'QUALITY_REFUSAL'
  | 'MANUAL';

export interface BreachDefinition {
  code: BreachCode;
  zh: string;
  en: string;
  severity: BreachSeverity;
  points: number;
  /** Raised by the system from order and round data (else recorded by the operator). */
  automatic: boolean;
  /** Where the rule comes from (the national or local rule) or why the number was chosen. */
  basis: string;
}

/**
 * Seed breach catalogue. National point tables for distributors are UNCONFIRMED, so the points are platform choices scaled to the grades: three late deliveries keep
 * grade A, a failure to deliver a confirmed order costs a full grade band.
 */
export const DEFAULT_BREACH_CATALOGUE: Readonly<Record<BreachCode, BreachDefinition>> = Object.freeze({
  LATE_CONFIRMATION: {
    code: 'LATE_CONFIRMATION',
    zh: '未在规定时限内确认订单',
    en: 'Order not confirmed within the deadline',
    severity: 'shixin',
    points: 2,
    automatic: true,
    basis: '24 小时内确认订单；计入订单响应率。',
  },
  LATE_DELIVERY: {
    code: 'LATE_DELIVERY',
    zh: '未在规定时限内配送到位',
    en: 'Delivery later than the deadline',
    severity: 'shixin',
    points: 3,
    automatic: true,
    basis: '72 小时内配送到位；计入配送及时率。',
  },
  CONFIRMED_NOT_DELIVERED: {
    code: 'CONFIRMED_NOT_DELIVERED',
    zh: '已确认订单未配送',
    en: 'Confirmed order not delivered',
    severity: 'shixin',
    points: 10,
    automatic: true,
    basis: '计入交易完成率；停止供货扣减信用分。',
  },
  REFUSED_LISTED_HOSPITAL: {
    code: 'REFUSED_LISTED_HOSPITAL',
    zh: '拒绝向挂网范围内医疗机构配送',
    en: 'Refused to deliver to a hospital covered by its listing',
    severity: 'shixin',
    points: 15,
    automatic: true,
    basis: '违反书面的无差别配送承诺。',
  },
  QUOTE_WITHDRAWN_AFTER_PUBLICATION: {
    code: 'QUOTE_WITHDRAWN_AFTER_PUBLICATION',
    zh: '挂网后撤回报价',
    en: 'Quote withdrawn after the listing was published',
    severity: 'shixin',
    points: 10,
    automatic: true,
    basis: '扰乱集中采购秩序、违规竞标。',
  },
  VBP_SUPPLY_FAILURE: {
    code: 'VBP_SUPPLY_FAILURE',
    zh: '带量采购中选后未按约定供应',
    en: 'VBP winner failed to supply',
    severity: 'serious',
    points: 30,
    automatic: false,
    basis: '供应失败：列入违规名单，可禁止参与采购（先例为 9 个月），并纳入信用评价。',
  },
  QUALITY_REFUSAL: {
    code: 'QUALITY_REFUSAL',
    zh: '验收时因质量问题拒收',
    en: 'Goods refused at acceptance for quality reasons',
    severity: 'shixin',
    points: 5,
    automatic: true,
    basis: '按 GSP 验收要求检查。',
  },
  MANUAL: {
    code: 'MANUAL',
    zh: '经核实的其他违约行为（如医疗机构投诉）',
    en: 'Other verified breach recorded by the operator (e.g. a hospital complaint)',
    severity: 'shixin',
    points: 5,
    automatic: false,
    basis: '经核实的医院投诉；由运营方逐案确定严重程度和扣分。',
  },
});

function sumPoints(points: readonly number[]): number {
  let total = 0;
  for (const p of points) {
    if (!Number.isSafeInteger(p) || p < 0) throw new RangeError(`Points must be non-negative integers, got ${p}.`);
    total += p;
  }
  return total;
}

function laterOf(a: Date, b: Date): Date {
  return a.getTime() >= b.getTime() ? a : b;
}
