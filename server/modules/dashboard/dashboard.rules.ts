// Pure figures of the operator dashboard: savings against a reference, percentiles of payment
// delays, shares, and the Asia/Shanghai months of a period. No I/O.
import { BASIS_POINTS, mulDiv } from '../../platform/money';
import { businessDay, parseBusinessDay } from '../../platform/time';

/** What was saved buying `quantity` at `paidFen` instead of the reference: quantity × (reference − paid). */
export function savingsFen(quantity: number, referenceFen: number, paidFen: number): number {
  return quantity * (referenceFen - paidFen);
}

/** Totals of a group of purchases: spend at reference, spend actually paid, saved, and the reduction in bp. */
export interface SavingsTotals {
  quantity: number;
  referenceTotalFen: number;
  paidTotalFen: number;
  savedFen: number;
  /** (reference − paid) / reference in basis points, rounded half to even; null when nothing was bought. */
  reductionBp: number | null;
}

/** Adds up purchases `{ quantity, referenceFen (unit), paidTotalFen }` into totals. */
export function savingsTotals(rows: readonly { quantity: number; referenceTotalFen: number; paidTotalFen: number }[]): SavingsTotals {
  let quantity = 0;
  let referenceTotalFen = 0;
  let paidTotalFen = 0;
  for (const r of rows) {
    quantity += r.quantity;
    referenceTotalFen += r.referenceTotalFen;
    paidTotalFen += r.paidTotalFen;
  }
  const savedFen = referenceTotalFen - paidTotalFen;
  return { quantity, referenceTotalFen, paidTotalFen, savedFen, reductionBp: referenceTotalFen > 0 ? shareBp(savedFen, referenceTotalFen) : null };
}

/** part / whole in basis points, rounded half to even; null when the whole is 0. */
export function shareBp(part: number, whole: number): number | null {
  return whole > 0 ? mulDiv(part, BASIS_POINTS, whole, 'half_even') : null;
}

/** Median of numbers (the mean of the two middle values for an even count); null for none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile (the smallest value with at least p % of the values at or below it); null for none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1]!;
}

/** The Asia/Shanghai month 'YYYY-MM' of an instant. */
export function businessMonth(at: Date): string {
  return businessDay(at).slice(0, 7);
}

/** Every month 'YYYY-MM' from the month of `from` to the month of `to` (business days), in order. */
export function monthsOf(from: string, to: string): string[] {
  const months: string[] = [];
  let [y, m] = [Number(from.slice(0, 4)), Number(from.slice(5, 7))];
  const last = to.slice(0, 7);
  for (;;) {
    const key = `${y}-${String(m).padStart(2, '0')}`;
    months.push(key);
    if (key >= last) break;
    m += 1;
    if (m > 12) [y, m] = [y + 1, 1];
  }
  return months;
}

/** The first instant (Asia/Shanghai) of the month after 'YYYY-MM'. */
export function startOfNextMonth(month: string): Date {
  let [y, m] = [Number(month.slice(0, 4)), Number(month.slice(5, 7)) + 1];
  if (m > 12) [y, m] = [y + 1, 1];
  return parseBusinessDay(`${y}-${String(m).padStart(2, '0')}-01`);
}

/** Principal still owed on an advance at instant `at`, from its segments (principal after each change). */
export function principalAt(segments: readonly { at: Date; principalFen: number }[], at: Date): number {
  let principal = 0;
  for (const s of segments) if (s.at.getTime() <= at.getTime()) principal = s.principalFen;
  return principal;
}
