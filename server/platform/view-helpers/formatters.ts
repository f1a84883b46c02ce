// Display formatters for templates, PDFs and the browser bundle (client/lib/format.ts re-exports
// them), so a price or a time reads the same everywhere. They accept loosely typed view data and
// show "—" for a missing value instead of throwing; the arithmetic lives in money.ts and time.ts.
import { formatFen } from '../money';
import { BUSINESS_TIME_ZONE, businessDay } from '../time';

const PLACEHOLDER = '—';

function toSafeInteger(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : null;
  if (typeof value === 'string' && /^-?\d{1,15}$/.test(value.trim())) return Number(value.trim());
  return null;
}

/** Integer fen → "¥1,950.00"; anything that is not an integer amount → "—". */
export function formatMoney(fen: unknown, lang: 'zh' | 'en' = 'zh'): string {
  const amount = toSafeInteger(fen);
  return amount === null ? PLACEHOLDER : formatFen(amount, lang);
}

/** Integer basis points → "32.50%"; anything else → "—". */
export function formatPercentBp(bp: unknown): string {
  const value = toSafeInteger(bp);
  if (value === null) return PLACEHOLDER;
  const abs = Math.abs(value);
  return `${value < 0 ? '-' : ''}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}%`;
}

/** Accepts a Date, an ISO-8601 string or epoch milliseconds; null when it is not a valid time. */
export function toDate(value: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value === 'string' && value.trim() !== '') {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return new Date(value);
  return null;
}

const clockFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: BUSINESS_TIME_ZONE,
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** "2025-01-02" (the Asia/Shanghai calendar day); "—" for a missing or invalid time. */
export function formatDate(value: unknown): string {
  const d = toDate(value);
  return d ? businessDay(d) : PLACEHOLDER;
}

/** "2025-01-02 08:30" in Asia/Shanghai (with ":ss" when `seconds`); "—" when missing or invalid. */
export function formatDateTime(value: unknown, seconds = false): string {
  const d = toDate(value);
  if (!d) return PLACEHOLDER;
  const clock = clockFormat.format(d);
  return `${businessDay(d)} ${seconds ? clock : clock.slice(0, 5)}`;
}
