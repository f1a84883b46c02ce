// Bank-guaranteed payment arithmetic: interest on advances, repayment allocation,
// settlement at the due date, line availability and payment security. Integer fen; exact BigInt.

import { BASIS_POINTS, divide, isFen, toSafeNumber } from '../../platform/money';
import { calendarDaysBetween, dueDate } from '../../platform/time';

/** Day count basis: actual/365. */
export const DAYS_PER_YEAR = 365;

/** One day's interest: principal × rateBp / 10000 / 365, rounded half to even once at the end. */
export function dailyInterestFen(principalFen: number, annualRateBp: number): number {
  return interestFor(principalFen, annualRateBp, 1);
}

/**
 * Interest on a constant principal from `from` to `to`, actual/365. Days are Asia/Shanghai calendar
 * days: the number of day boundaries (midnight +08:00) crossed, so an advance made at 10:00 and repaid
 * the next morning owes one day, and one repaid the same day owes none. The whole period is rounded
 * once (half to even). NOTE: a daily accrual job should post accrueInterest(segmentStart → today)
 * minus what it already posted for that principal segment, not dailyInterestFen × days, so rounding
 * never drifts; a new segment starts whenever the principal changes.
 */
export function accrueInterest(input: { principalFen: number; annualRateBp: number; from: Date; to: Date }): {
  days: number;
  interestFen: number;
} {
  const days = calendarDaysBetween(input.from, input.to);
  if (days < 0) throw new RangeError('accrueInterest: `to` is before `from`.');
  return { days, interestFen: interestFor(input.principalFen, input.annualRateBp, days) };
}

function interestFor(principalFen: number, annualRateBp: number, days: number): number {
  assertFen(principalFen, 'principalFen');
  if (!Number.isSafeInteger(annualRateBp) || annualRateBp < 0) {
    throw new RangeError(`annualRateBp must be a non-negative integer, got ${annualRateBp}.`);
  }
  const numerator = BigInt(principalFen) * BigInt(annualRateBp) * BigInt(days);
  return toSafeNumber(divide(numerator, BigInt(BASIS_POINTS * DAYS_PER_YEAR), 'half_even'));
}

export interface OutstandingAdvance {
  id: string;
  principalOutstandingFen: number;
  interestOutstandingFen: number;
  advancedAt: Date;
}

export interface RepaymentAllocation {
  id: string;
  interestFen: number;
  principalFen: number;
}

/**
 * Splits a repayment: first the interest of every advance, oldest advance first, then principal,
 * oldest first (ties by id). Only advances that receive something are listed, oldest first. Money
 * beyond everything owed is not applied: it is returned as excessFen for the caller to refuse.
 */
export function allocateRepayment(input: { amountFen: number; advances: readonly OutstandingAdvance[] }): {
  allocations: RepaymentAllocation[];
  appliedFen: number;
  excessFen: number;
} {
  assertFen(input.amountFen, 'amountFen');
  const ordered = [...input.advances].sort(
    (a, b) => a.advancedAt.getTime() - b.advancedAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  const byId = new Map<string, RepaymentAllocation>();
  for (const advance of ordered) {
    assertFen(advance.principalOutstandingFen, 'principalOutstandingFen');
    assertFen(advance.interestOutstandingFen, 'interestOutstandingFen');
    if (byId.has(advance.id)) throw new RangeError(`Duplicate advance id "${advance.id}".`);
    byId.set(advance.id, { id: advance.id, interestFen: 0, principalFen: 0 });
  }
  let remaining = input.amountFen;
  for (const advance of ordered) {
    const take = Math.min(remaining, advance.interestOutstandingFen);
    byId.get(advance.id)!.interestFen = take;
    remaining -= take;
  }
  for (const advance of ordered) {
    const take = Math.min(remaining, advance.principalOutstandingFen);
    byId.get(advance.id)!.principalFen = take;
    remaining -= take;
  }
  const allocations = ordered.map((a) => byId.get(a.id)!).filter((a) => a.interestFen + a.principalFen > 0);
  return { allocations, appliedFen: input.amountFen - remaining, excessFen: remaining };
}

export type SettlementOutcome = 'paid_from_account' | 'paid_with_advance' | 'partially_paid_overdue' | 'overdue';

export interface SettlementPlan {
  fromAccountFen: number;
  advanceFen: number;
  unpaidFen: number;
  outcome: SettlementOutcome;
}

/**
 * How an invoice is settled at its due date:
 * 1. the working-capital account covers it → paid from the account;
 * 2. else the bank advances the shortfall if the available line covers ALL of it → paid with advance;
 * 3. else no advance is made; the account balance is still paid over (it is money the insurance fund
 *    prepaid for drug bills, and paying it reduces the arrears), and the rest goes overdue.
 * NOTE: all-or-nothing advance because a guarantee bank will not draw the line for an invoice that
 * stays overdue anyway: it would add interest-bearing debt without curing the default, and it would
 * use up headroom that could fully pay the next invoice. `partialAdvance: true` lends what the line
 * allows instead.
 */
export function settlementPlan(input: {
  invoiceAmountFen: number;
  accountBalanceFen: number;
  lineAvailableFen: number;
  partialAdvance?: boolean;
}): SettlementPlan {
  const { invoiceAmountFen } = input;
  assertFen(invoiceAmountFen, 'invoiceAmountFen');
  if (!Number.isSafeInteger(input.accountBalanceFen)) throw new RangeError('accountBalanceFen must be a safe integer.');
  if (!Number.isSafeInteger(input.lineAvailableFen)) throw new RangeError('lineAvailableFen must be a safe integer.');
  // A negative balance or line (e.g. after a limit cut) provides nothing.
  const balance = Math.max(0, input.accountBalanceFen);
  const line = Math.max(0, input.lineAvailableFen);
  if (balance >= invoiceAmountFen) {
    return { fromAccountFen: invoiceAmountFen, advanceFen: 0, unpaidFen: 0, outcome: 'paid_from_account' };
  }
  const shortfall = invoiceAmountFen - balance;
  if (line >= shortfall) {
    return { fromAccountFen: balance, advanceFen: shortfall, unpaidFen: 0, outcome: 'paid_with_advance' };
  }
  const advanceFen = input.partialAdvance ? line : 0;
  const unpaidFen = shortfall - advanceFen;
  const paidSomething = balance + advanceFen > 0;
  return { fromAccountFen: balance, advanceFen, unpaidFen, outcome: paidSomething ? 'partially_paid_overdue' : 'overdue' };
}

/** Unused guarantee line: limit − outstanding principal, never below 0. Interest does not use the line. */
export function lineAvailableFen(limitFen: number, outstandingPrincipalFen: number): number {
  assertFen(limitFen, 'limitFen');
  assertFen(outstandingPrincipalFen, 'outstandingPrincipalFen');
  return Math.max(0, limitFen - outstandingPrincipalFen);
}

/** Last instant before an advance is overdue: the end of the Shanghai day tenorDays after it was made. */
export function advanceDueAt(advancedAt: Date, tenorDays: number): Date {
  return dueDate(advancedAt, tenorDays);
}

/** Whether an advance is past its tenor at `at`. */
export function isAdvanceOverdue(advancedAt: Date, tenorDays: number, at: Date): boolean {
  return at.getTime() > advanceDueAt(advancedAt, tenorDays).getTime();
}

export type SecuredLevel = 'secured' | 'partially_secured' | 'unsecured';

/**
 * Whether a hospital's next payment is secured, as a distributor sees it before accepting an order:
 * capacity = account balance + line headroom − open (unpaid, not yet due) invoices. The order is
 * 'secured' when capacity covers it, 'partially_secured' when capacity is positive but short,
 * 'unsecured' when nothing is left. Without an order amount, any non-negative capacity is secured.
 */
export function securedStatus(input: {
  balanceFen: number;
  headroomFen: number;
  openInvoicesFen: number;
  orderAmountFen?: number;
}): { level: SecuredLevel; capacityFen: number; shortfallFen: number; coveredByAccountAlone: boolean } {
  const balance = Math.max(0, input.balanceFen);
  const headroom = Math.max(0, input.headroomFen);
  assertFen(input.openInvoicesFen, 'openInvoicesFen');
  const order = input.orderAmountFen ?? 0;
  assertFen(order, 'orderAmountFen');
  const capacityFen = balance + headroom - input.openInvoicesFen;
  const shortfallFen = Math.max(0, order - capacityFen);
  let level: SecuredLevel;
  if (capacityFen >= order && capacityFen >= 0) level = 'secured';
  else if (capacityFen > 0) level = 'partially_secured';
  else level = 'unsecured';
  return { level, capacityFen, shortfallFen, coveredByAccountAlone: balance - input.openInvoicesFen >= order };
}

function assertFen(n: number, name: string): void {
  if (!isFen(n)) throw new RangeError(`${name} must be a non-negative safe integer (fen), got ${n}.`);
}
