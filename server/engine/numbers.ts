// Numbers as MongoDB keeps them apart: int32 / int64 / double / decimal128, their comparison
// across types, and arithmetic whose result type follows mongod's rules.
import { Decimal128, Double, Long } from 'bson';
import { INT32_MIN, INT32_MAX, bsonTypeName } from './value-types';

export type NumType = 'int' | 'long' | 'double' | 'decimal';
const NUM_ORDER: Record<NumType, number> = { int: 0, long: 1, double: 2, decimal: 3 };

export function numType(v: unknown): NumType | null {
  if (typeof v === 'number') {
    return Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX && !Object.is(v, -0) ? 'int' : 'double';
  }
  switch (bsonTypeName(v)) {
    case 'Double':
      return 'double';
    case 'Int32':
      return 'int';
    case 'Long':
      return 'long';
    case 'Decimal128':
      return 'decimal';
  }
  return null;
}

export function isNumeric(v: unknown): boolean {
  return numType(v) !== null;
}

/** Numeric value as a JS number (lossy for huge longs and decimals). */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  switch (bsonTypeName(v)) {
    case 'Double':
    case 'Int32':
      return (v as Double).value;
    case 'Long':
      return (v as Long).toNumber();
    case 'Decimal128':
      return Number((v as Decimal128).toString());
  }
  return Number.NaN;
}

/** A double value in storage form (wrapper only when it would otherwise serialise as int32). */
export function makeDouble(x: number): unknown {
  if (Number.isInteger(x) && x >= INT32_MIN && x <= INT32_MAX && !Object.is(x, -0)) return new Double(x);
  return x;
}

export interface Dec {
  neg: boolean;
  coef: bigint;
  exp: number;
  special?: 'NaN' | 'Inf';
}

export function parseDec(s: string): Dec {
  const t = s.trim();
  if (/^[+-]?nan$/i.test(t)) return { neg: false, coef: 0n, exp: 0, special: 'NaN' };
  if (/^[+-]?inf(inity)?$/i.test(t)) return { neg: t.startsWith('-'), coef: 0n, exp: 0, special: 'Inf' };
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(t);
  if (!m) return { neg: false, coef: 0n, exp: 0, special: 'NaN' };
  const intPart = m[2] ?? '';
  const frac = m[3] ?? '';
  const coef = BigInt((intPart + frac) || '0');
  return { neg: m[1] === '-', coef, exp: Number(m[4] ?? 0) - frac.length };
}

export function decToString(d: Dec): string {
  if (d.special === 'NaN') return 'NaN';
  if (d.special === 'Inf') return d.neg ? '-Infinity' : 'Infinity';
  return `${d.neg ? '-' : ''}${d.coef.toString()}E${d.exp}`;
}

function toDec(v: unknown): Dec {
  const t = numType(v);
  if (t === 'decimal') return parseDec((v as Decimal128).toString());
  if (t === 'long') {
    const b = (v as Long).toBigInt();
    return { neg: b < 0n, coef: b < 0n ? -b : b, exp: 0 };
  }
  const n = toNumber(v);
  if (Number.isNaN(n)) return { neg: false, coef: 0n, exp: 0, special: 'NaN' };
  if (!Number.isFinite(n)) return { neg: n < 0, coef: 0n, exp: 0, special: 'Inf' };
  // MongoDB converts doubles to decimal with 15 significant digits
  return parseDec(t === 'int' ? String(n) : Number(n.toPrecision(15)).toString());
}

function makeDecimal(d: Dec): Decimal128 {
  const s = decToString(d);
  try {
    return Decimal128.fromString(s);
  } catch {
    return Decimal128.fromStringWithRounding(s);
  }
}

function decArith(a: Dec, b: Dec, op: 'add' | 'mul'): Dec {
  if (a.special === 'NaN' || b.special === 'NaN') return { neg: false, coef: 0n, exp: 0, special: 'NaN' };
  if (a.special === 'Inf' || b.special === 'Inf') {
    if (op === 'mul') return { neg: a.neg !== b.neg, coef: 0n, exp: 0, special: 'Inf' };
    if (a.special === 'Inf' && b.special === 'Inf' && a.neg !== b.neg) return { neg: false, coef: 0n, exp: 0, special: 'NaN' };
    return a.special === 'Inf' ? a : b;
  }
  if (op === 'mul') {
    return { neg: a.neg !== b.neg, coef: a.coef * b.coef, exp: a.exp + b.exp };
  }
  const exp = Math.min(a.exp, b.exp);
  const av = (a.neg ? -a.coef : a.coef) * 10n ** BigInt(a.exp - exp);
  const bv = (b.neg ? -b.coef : b.coef) * 10n ** BigInt(b.exp - exp);
  const s = av + bv;
  return { neg: s < 0n, coef: s < 0n ? -s : s, exp };
}

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/** Adds or multiplies two numeric BSON values with MongoDB's result-type rules. */
export function arith(a: unknown, b: unknown, op: 'add' | 'mul'): unknown {
  const ta = numType(a);
  const tb = numType(b);
  if (!ta || !tb) throw new Error('non-numeric operand');
  const rt: NumType = NUM_ORDER[ta] >= NUM_ORDER[tb] ? ta : tb;
  if (rt === 'decimal') return makeDecimal(decArith(toDec(a), toDec(b), op));
  if (rt === 'double') {
    const x = op === 'add' ? toNumber(a) + toNumber(b) : toNumber(a) * toNumber(b);
    return makeDouble(x);
  }
  const ba = ta === 'long' ? (a as Long).toBigInt() : BigInt(toNumber(a));
  const bb = tb === 'long' ? (b as Long).toBigInt() : BigInt(toNumber(b));
  const r = op === 'add' ? ba + bb : ba * bb;
  if (rt === 'int' && r >= BigInt(INT32_MIN) && r <= BigInt(INT32_MAX)) return Number(r);
  if (r >= LONG_MIN && r <= LONG_MAX) return Long.fromBigInt(r);
  return makeDouble(Number(r));
}

/** A zero of the same numeric type as `like`. */
export function zeroLike(like: unknown): unknown {
  switch (numType(like)) {
    case 'long':
      return Long.fromNumber(0);
    case 'double':
      return new Double(0);
    case 'decimal':
      return Decimal128.fromString('0');
    default:
      return 0;
  }
}

export function compareNumbers(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') {
    if (a < b) return -1;
    if (a > b) return 1;
    if (a === b) return 0;
    // NaN sorts below every number and equals itself
    const an = Number.isNaN(a);
    const bn = Number.isNaN(b);
    return an && bn ? 0 : an ? -1 : 1;
  }
  const ta = numType(a);
  const tb = numType(b);
  if (ta === 'long' && tb === 'long') return (a as Long).compare(b as Long);
  if (ta === 'decimal' || tb === 'decimal') {
    const da = toDec(a);
    const db = toDec(b);
    if (da.special === 'NaN' || db.special === 'NaN') return da.special === db.special ? 0 : da.special === 'NaN' ? -1 : 1;
    if (da.special === 'Inf' || db.special === 'Inf') {
      const va = da.special === 'Inf' ? (da.neg ? -Infinity : Infinity) : 0;
      const vb = db.special === 'Inf' ? (db.neg ? -Infinity : Infinity) : 0;
      if (da.special && db.special) return va < vb ? -1 : va > vb ? 1 : 0;
      if (da.special) return da.neg ? -1 : 1;
      return db.neg ? 1 : -1;
    }
    const d = decArith(da, { ...db, neg: !db.neg }, 'add');
    if (d.coef === 0n) return 0;
    return d.neg ? -1 : 1;
  }
  if (ta === 'long' || tb === 'long') {
    const other = ta === 'long' ? b : a;
    const ln = (ta === 'long' ? a : b) as Long;
    const on = toNumber(other);
    let c: number;
    if (Number.isNaN(on)) c = 1;
    else if (!Number.isFinite(on)) c = on > 0 ? -1 : 1;
    else if (Number.isInteger(on)) {
      const bl = ln.toBigInt();
      const bo = BigInt(on);
      c = bl < bo ? -1 : bl > bo ? 1 : 0;
    } else {
      const x = ln.toNumber();
      c = x < on ? -1 : x > on ? 1 : 0;
    }
    return ta === 'long' ? c : -c;
  }
  return compareNumbers(toNumber(a), toNumber(b));
}
