import { formatPercentBp } from './formatters';

/** `{{percentBp 3250}}` → "32.50%" (integer basis points in). */
export function percentBp(bp: unknown): string {
  return formatPercentBp(bp);
}
