// Money is integer fen (CNY cents) held in a JS number that is always a safe integer.
// Every division in this file names its rounding; exact work is done in BigInt.

/** Largest amount the platform accepts: 1e13 fen = 100 billion CNY. */
export const MAX_FEN = 10_000_000_000_000;

/** Basis points in one whole (100%). */
export const BASIS_POINTS = 10_000;

export type Rounding = 'half_even' | 'floor' | 'ceil';

/** Thrown by parseYuanToFen for text that is not an acceptable CNY amount. */
export class MoneyFormatError extends RangeError {
  readonly code = 'INVALID_AMOUNT';
  readonly input: string;

  constructor(message: string, input: string) {
    super(message);
    this.name = 'MoneyFormatError';
    this.input = input;
  }
}

/** True for a safe, non-negative integer: a valid fen amount. */
export function isFen(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

// Optional currency sign (¥ U+00A5, full-width ￥ U+FFE5, "CN¥", "RMB", "CNY"), then either plain
// digits or digits grouped by commas in threes, then an optional 1–2 digit fraction.
const YUAN_PATTERN = /^(?:CN¥|¥|￥|RMB|CNY)?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$/i;

/** Parses a yuan amount such as "1950", "1,950.00" or "¥1,950.5" into integer fen; throws MoneyFormatError. */
export function parseYuanToFen(input: string): number {
  const result = safeParseYuanToFen(input);
  if (!result.ok) throw new MoneyFormatError(result.message, String(input));
  return result.fen;
}

/** Like parseYuanToFen, but returns a refusal instead of throwing. */
export function safeParseYuanToFen(
  input: string,
): { ok: true; fen: number } | { ok: false; code: 'INVALID_AMOUNT'; message: string } {
  const refuse = (message: string) => ({ ok: false as const, code: 'INVALID_AMOUNT' as const, message });
  if (typeof input !== 'string') return refuse('Amount must be text such as "1,950.00".');
  const text = input.trim();
  if (text === '') return refuse('Amount is empty.');
  if (/^[-−(]|^(?:CN¥|¥|￥|RMB|CNY)\s*-/i.test(text)) return refuse(`Amount "${input}" is negative.`);
  const fraction = /\.(\d*)$/.exec(text)?.[1];
  if (fraction !== undefined && fraction.length > 2) {
    return refuse(`Amount "${input}" has more than 2 decimal places; the smallest unit is 1 fen (0.01 CNY).`);
  }
  const match = YUAN_PATTERN.exec(text);
  if (!match) return refuse(`Amount "${input}" is not a CNY amount such as "1950", "1,950.00" or "¥1,950.00".`);
  const yuanDigits = match[1]!.replaceAll(',', '');
  const fenDigits = (match[2] ?? '').padEnd(2, '0');
  const fen = BigInt(yuanDigits) * 100n + BigInt(fenDigits);
  if (fen > BigInt(MAX_FEN)) return refuse(`Amount "${input}" exceeds the maximum of ${formatFen(MAX_FEN)}.`);
  return { ok: true, fen: Number(fen) };
}

/** Exact decimal yuan text of a fen amount, e.g. 195000 → "1950.00" (for CSV and Intl). */
export function fenToYuanString(fen: number): string {
  assertSafeInteger(fen, 'fen');
  const sign = fen < 0 ? '-' : '';
  const abs = BigInt(Math.abs(fen));
  return `${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

const FORMATTERS = {
  zh: new Intl.NumberFormat('zh-CN', { style: 'currency', currency: 'CNY' }),
  // NOTE: 'en' uses the narrow symbol so both languages show "¥1,950.00", not "CN¥".
  en: new Intl.NumberFormat('en-US', { style: 'currency', currency: 'CNY', currencyDisplay: 'narrowSymbol' }),
} as const;

/** Formats fen for display, e.g. 195000 → "¥1,950.00". */
export function formatFen(fen: number, lang: 'zh' | 'en' = 'zh'): string {
  // The exact decimal string keeps large amounts from passing through a binary fraction.
  return FORMATTERS[lang].format(fenToYuanString(fen) as `${number}`);
}

/** numerator / denominator rounded half to even (banker's rounding), for any signs. */
export function roundHalfEven(numerator: bigint, denominator: bigint): bigint {
  return divide(numerator, denominator, 'half_even');
}

/** numerator / denominator with the given rounding (floor and ceil are towards −∞ and +∞). */
export function divide(numerator: bigint, denominator: bigint, rounding: Rounding): bigint {
  if (denominator === 0n) throw new RangeError('Division by zero.');
  const negative = numerator < 0n !== denominator < 0n && numerator !== 0n;
  const a = numerator < 0n ? -numerator : numerator;
  const b = denominator < 0n ? -denominator : denominator;
  const q = a / b;
  const r = a % b;
  if (r === 0n) return negative ? -q : q;
  let magnitude: bigint;
  if (rounding === 'half_even') {
    const twice = 2n * r;
    magnitude = twice > b || (twice === b && q % 2n === 1n) ? q + 1n : q;
  } else {
    // Floor of a negative result moves away from zero; ceil of a positive one does too.
    const awayFromZero = rounding === 'floor' ? negative : !negative;
    magnitude = awayFromZero ? q + 1n : q;
  }
  return negative ? -magnitude : magnitude;
}

/** a / b for safe integers, rounded half to even. */
export function divRoundHalfEven(a: number, b: number): number {
  return mulDiv(a, 1, b, 'half_even');
}

/** a × b / c computed exactly, then rounded as asked; the result must be a safe integer. */
export function mulDiv(a: number, b: number, c: number, rounding: Rounding): number {
  assertSafeInteger(a, 'a');
  assertSafeInteger(b, 'b');
  assertSafeInteger(c, 'c');
  return toSafeNumber(divide(BigInt(a) * BigInt(b), BigInt(c), rounding));
}

/** a × b / c computed exactly, rounded half to even. */
export function mulDivHalfEven(a: number, b: number, c: number): number {
  return mulDiv(a, b, c, 'half_even');
}

/** basisPoints/10000 of an amount, rounded half to even (e.g. 50 bp of 289000 fen = 1445 fen). */
export function percentOf(fen: number, basisPoints: number, rounding: Rounding = 'half_even'): number {
  return mulDiv(fen, basisPoints, BASIS_POINTS, rounding);
}

/** (reference − price) / reference in basis points, rounded half to even; negative above reference. */
export function reductionBasisPoints(priceFen: number, referenceFen: number): number {
  assertSafeInteger(priceFen, 'priceFen');
  if (!Number.isSafeInteger(referenceFen) || referenceFen <= 0) {
    throw new RangeError(`referenceFen must be a positive safe integer, got ${referenceFen}.`);
  }
  return mulDiv(referenceFen - priceFen, BASIS_POINTS, referenceFen, 'half_even');
}

/** Sum of fen amounts; throws if the total leaves the safe-integer range. */
export function sumFen(amounts: Iterable<number>): number {
  let total = 0n;
  for (const amount of amounts) {
    assertSafeInteger(amount, 'amount');
    total += BigInt(amount);
  }
  return toSafeNumber(total);
}

/** Converts a BigInt to number, throwing when it is not a safe integer. */
export function toSafeNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`Result ${value} is outside the safe-integer range.`);
  }
  return Number(value);
}

function assertSafeInteger(n: number, name: string): void {
  if (!Number.isSafeInteger(n)) throw new RangeError(`${name} must be a safe integer, got ${n}.`);
}
