// BSON value model of the embedded engine: type order, comparison, equality keys, cloning and
// numeric arithmetic that keeps int32 / int64 / double / decimal128 apart the way MongoDB does.
//
// Stored representation (after `normalize`):
//   int32                         → JS number (an integer in int32 range)
//   double, non-integral or large → JS number (bson serialises it back as a double)
//   double with an int32 value    → bson `Double` wrapper (so it stays a double on the wire)
//   int64                         → bson `Long`
//   decimal128                    → bson `Decimal128`
//   everything else               → what bson's deserializer produces (ObjectId, Date, Binary, RegExp …)
import { type DBRef, Decimal128, Double, Long, ObjectId, Timestamp } from 'bson';

export type Doc = Record<string, unknown>;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

export function bsonTypeName(v: unknown): string | undefined {
  if (v !== null && typeof v === 'object') return (v as { _bsontype?: string })._bsontype;
  return undefined;
}

/**
 * Sets an own field. `__proto__` is an ordinary field name in BSON; a plain assignment would
 * change the object's prototype instead of storing it.
 */
export function setField(o: Doc, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

/** An own field's value (never one inherited from Object.prototype). */
export function getField(o: Doc, k: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined;
}

/**
 * mongod's test for a DBRef written in a query: `{$ref, $id}` (in that order or not) is a value to
 * compare, not an operator object; inside $elemMatch any of $ref/$id/$db is enough.
 */
export function isDBRefDoc(v: Doc, allowIncomplete = false): boolean {
  let ref = false;
  let id = false;
  let db = false;
  for (const k of Object.keys(v)) {
    if (k === '$ref') ref = true;
    else if (k === '$id') id = true;
    else if (k === '$db') db = true;
  }
  return allowIncomplete ? ref || id || db : ref && id;
}

export function isPlainObject(v: unknown): v is Doc {
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

// ---------------------------------------------------------------------------------------------
// type ranks (MongoDB's BSON comparison order)
// ---------------------------------------------------------------------------------------------
export const RANK = {
  MIN_ALL: 0,
  MINKEY: 1,
  EMPTY_ARRAY_SORT: 1.5,
  NULL: 2,
  NUMBER: 3,
  STRING: 4,
  OBJECT: 5,
  ARRAY: 6,
  BINARY: 7,
  OBJECTID: 8,
  BOOL: 9,
  DATE: 10,
  TIMESTAMP: 11,
  REGEX: 12,
  CODE: 13,
  MAXKEY: 14,
  MAX_ALL: 100,
} as const;

/** Sentinel usable in index bounds: below (or above) every value of a given rank. */
export class Bound {
  constructor(
    readonly rank: number,
    readonly high: boolean,
  ) {}
}
export const MIN_ALL = new Bound(RANK.MIN_ALL, false);
export const MAX_ALL = new Bound(RANK.MAX_ALL, true);

export function typeRank(v: unknown): number {
  if (v === null || v === undefined) return RANK.NULL;
  switch (typeof v) {
    case 'number':
    case 'bigint':
      return RANK.NUMBER;
    case 'string':
      return RANK.STRING;
    case 'boolean':
      return RANK.BOOL;
    case 'object':
      break;
    default:
      return RANK.OBJECT;
  }
  if (Array.isArray(v)) return RANK.ARRAY;
  if (v instanceof Date) return RANK.DATE;
  if (v instanceof RegExp) return RANK.REGEX;
  if (v instanceof Bound) return v.rank;
  const t = bsonTypeName(v);
  if (t) {
    switch (t) {
      case 'ObjectId':
        return RANK.OBJECTID;
      case 'Double':
      case 'Int32':
      case 'Long':
      case 'Decimal128':
        return RANK.NUMBER;
      case 'Binary':
        return RANK.BINARY;
      case 'Timestamp':
        return RANK.TIMESTAMP;
      case 'BSONRegExp':
        return RANK.REGEX;
      case 'BSONSymbol':
        return RANK.STRING;
      case 'MinKey':
        return RANK.MINKEY;
      case 'MaxKey':
        return RANK.MAXKEY;
      case 'Code':
        return RANK.CODE;
      case 'DBRef':
        return RANK.OBJECT;
    }
  }
  if (v instanceof Uint8Array) return RANK.BINARY;
  return RANK.OBJECT;
}

// ---------------------------------------------------------------------------------------------
// numbers
// ---------------------------------------------------------------------------------------------
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

interface Dec {
  neg: boolean;
  coef: bigint;
  exp: number;
  special?: 'NaN' | 'Inf';
}

function parseDec(s: string): Dec {
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

function decToString(d: Dec): string {
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

function compareNumbers(a: unknown, b: unknown): number {
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

// ---------------------------------------------------------------------------------------------
// comparison
// ---------------------------------------------------------------------------------------------
function cmpPrim<T extends string | number | boolean | bigint>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function bytesOf(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  const b = v as { buffer: Uint8Array; position?: number };
  return b.buffer.subarray(0, b.position ?? b.buffer.length);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return cmpPrim(a.length, b.length);
}

function strOf(v: unknown): string {
  return typeof v === 'string' ? v : String((v as { value?: unknown }).value ?? v);
}

/** Total order over BSON values following MongoDB's comparison rules (no collation). */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (a instanceof Bound || b instanceof Bound) {
    if (a instanceof Bound && b instanceof Bound) return a.high === b.high ? 0 : a.high ? 1 : -1;
    if (a instanceof Bound) return a.high ? 1 : -1;
    return (b as Bound).high ? -1 : 1;
  }
  switch (ra) {
    case RANK.NULL:
    case RANK.MINKEY:
    case RANK.MAXKEY:
      return 0;
    case RANK.NUMBER:
      return compareNumbers(a, b);
    case RANK.STRING: {
      const sa = strOf(a);
      const sb = strOf(b);
      return sa < sb ? -1 : sa > sb ? 1 : 0;
    }
    case RANK.OBJECT:
      return compareObjects(a as Doc, b as Doc);
    case RANK.ARRAY: {
      const xa = a as unknown[];
      const xb = b as unknown[];
      const n = Math.min(xa.length, xb.length);
      for (let i = 0; i < n; i++) {
        const c = compareValues(xa[i], xb[i]);
        if (c !== 0) return c;
      }
      return cmpPrim(xa.length, xb.length);
    }
    case RANK.BINARY: {
      const ba = bytesOf(a);
      const bb = bytesOf(b);
      if (ba.length !== bb.length) return ba.length < bb.length ? -1 : 1;
      const sa = (a as { sub_type?: number }).sub_type ?? 0;
      const sb = (b as { sub_type?: number }).sub_type ?? 0;
      if (sa !== sb) return sa < sb ? -1 : 1;
      return compareBytes(ba, bb);
    }
    case RANK.OBJECTID: {
      const ha = (a as ObjectId).toHexString();
      const hb = (b as ObjectId).toHexString();
      return ha < hb ? -1 : ha > hb ? 1 : 0;
    }
    case RANK.BOOL:
      return cmpPrim(a ? 1 : 0, b ? 1 : 0);
    case RANK.DATE:
      return cmpPrim((a as Date).getTime(), (b as Date).getTime());
    case RANK.TIMESTAMP: {
      const ta = a as Timestamp;
      const tb = b as Timestamp;
      return ta.t !== tb.t ? cmpPrim(ta.t, tb.t) : cmpPrim(ta.i, tb.i);
    }
    case RANK.REGEX: {
      const [pa, fa] = regexParts(a);
      const [pb, fb] = regexParts(b);
      return pa !== pb ? (pa < pb ? -1 : 1) : fa < fb ? -1 : fa > fb ? 1 : 0;
    }
    default:
      return cmpPrim(String(a), String(b));
  }
}

function compareObjects(a: Doc, b: Doc): number {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const va = a[ka[i]!];
    const vb = b[kb[i]!];
    const ra = typeRank(va);
    const rb = typeRank(vb);
    if (ra !== rb) return ra < rb ? -1 : 1;
    if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
    const c = compareValues(va, vb);
    if (c !== 0) return c;
  }
  return cmpPrim(ka.length, kb.length);
}

export function regexParts(v: unknown): [string, string] {
  if (v instanceof RegExp) return [v.source, v.flags.split('').sort().join('')];
  const r = v as { pattern: string; options: string };
  return [r.pattern, (r.options ?? '').split('').sort().join('')];
}

/** Equality as used by queries: same canonical type and compareValues === 0. */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'string' || typeof b === 'string') return false;
  return typeRank(a) === typeRank(b) && compareValues(a, b) === 0;
}

// ---------------------------------------------------------------------------------------------
// canonical keys: equal values (compareValues === 0) ⇔ equal keys
// ---------------------------------------------------------------------------------------------
export function keyOf(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return 's' + v;
    case 'number':
      return numKey(v);
    case 'boolean':
      return v ? 'b1' : 'b0';
    case 'undefined':
      return 'z';
    case 'bigint':
      return 'n' + v.toString();
  }
  if (v === null) return 'z';
  if (Array.isArray(v)) return '[' + v.map(nestedKey).join(',') + ']';
  if (v instanceof Date) return 'd' + v.getTime();
  if (v instanceof RegExp) return 'r' + JSON.stringify(regexParts(v));
  const t = bsonTypeName(v);
  switch (t) {
    case 'ObjectId':
      return 'o' + (v as ObjectId).toHexString();
    case 'Double':
    case 'Int32':
      return numKey((v as Double).value);
    case 'Long': {
      const l = v as Long;
      const n = l.toNumber();
      return Number.isSafeInteger(n) ? numKey(n) : 'n' + l.toBigInt().toString();
    }
    case 'Decimal128': {
      const d = parseDec((v as Decimal128).toString());
      if (d.special) return d.special === 'NaN' ? 'nNaN' : d.neg ? 'n-Infinity' : 'nInfinity';
      const n = toNumber(v);
      // exact integers and values a double represents exactly share the double's key
      if (Number.isFinite(n) && compareNumbers(v, n) === 0) return numKey(n);
      return 'nd' + decToString(normDec(d));
    }
    case 'Binary':
      return 'x' + ((v as { sub_type?: number }).sub_type ?? 0) + ':' + Buffer.from(bytesOf(v)).toString('base64');
    case 'Timestamp':
      return 't' + (v as Timestamp).toString();
    case 'BSONRegExp':
      return 'r' + JSON.stringify(regexParts(v));
    case 'BSONSymbol':
      return 's' + strOf(v);
    case 'MinKey':
      return 'm-';
    case 'MaxKey':
      return 'm+';
  }
  if (v instanceof Uint8Array) return 'x0:' + Buffer.from(v).toString('base64');
  const o = v as Doc;
  let s = '{';
  for (const k of Object.keys(o)) s += JSON.stringify(k) + ':' + nestedKey(o[k]) + ',';
  return s + '}';
}

function nestedKey(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : keyOf(v);
}

function numKey(n: number): string {
  if (n === 0) return 'n0';
  return 'n' + String(n);
}

function normDec(d: Dec): Dec {
  let { coef, exp } = d;
  if (coef === 0n) return { neg: false, coef: 0n, exp: 0 };
  while (coef % 10n === 0n) {
    coef /= 10n;
    exp += 1;
  }
  return { neg: d.neg, coef, exp };
}

/** Exact equality (same BSON types, same field order): would the two serialise to the same bytes? */
export function identical(a: unknown, b: unknown): boolean {
  if (a === b) return typeof a !== 'number' || !Object.is(a, -0) === !Object.is(b, -0);
  if (typeof a !== typeof b) return false;
  if (typeof a === 'number') return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b as number));
  if (a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!identical(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (let i = 0; i < ka.length; i++) {
      if (ka[i] !== kb[i]) return false;
      if (!identical(a[ka[i]!], b[kb[i]!])) return false;
    }
    return true;
  }
  if (bsonTypeName(a) !== bsonTypeName(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (numType(a) !== null) return numType(a) === numType(b) && String(a) === String(b) && Object.is(toNumber(a), toNumber(b));
  return keyOf(a) === keyOf(b);
}

// ---------------------------------------------------------------------------------------------
// normalisation, cloning, conversion
// ---------------------------------------------------------------------------------------------
/** Converts a freshly deserialised (promoteValues:false) value to storage form. Creates new containers. */
export function normalize(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const out = new Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = normalize(v[i]);
    return out;
  }
  const t = bsonTypeName(v);
  if (t !== undefined) {
    if (t === 'Int32') return (v as { value: number }).value;
    if (t === 'Double') return makeDouble((v as Double).value);
    // mongod stores a DBRef as the ordinary sub-document {$ref, $id, $db?, …}: keep it one, so
    // paths like 'ref.$id' and whole-DBRef equality work like on any embedded document
    if (t === 'DBRef') {
      const r = v as DBRef;
      const out: Doc = { $ref: r.collection, $id: normalize(r.oid) };
      if (r.db) out.$db = r.db;
      for (const k of Object.keys(r.fields ?? {})) setField(out, k, normalize(r.fields[k]));
      return out;
    }
    return v;
  }
  if (v instanceof Date || v instanceof RegExp || v instanceof Uint8Array) return v;
  const out: Doc = {};
  for (const k of Object.keys(v)) {
    const x = (v as Doc)[k];
    setField(out, k, x !== null && typeof x === 'object' ? normalize(x) : x);
  }
  return out;
}

/** Deep copy of containers (objects, arrays); immutable leaves are shared. Dates are copied. */
export function clone<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(clone) as T;
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if (!isPlainObject(v)) return v;
  const out: Doc = {};
  for (const k of Object.keys(v)) {
    const x = (v as Doc)[k];
    setField(out, k, x !== null && typeof x === 'object' ? clone(x) : x);
  }
  return out as T;
}

/** Converts a stored value to what mingo's operators understand (double wrappers → numbers). */
export function toMingo(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(toMingo);
  const t = bsonTypeName(v);
  if (t !== undefined) {
    if (t === 'Double' || t === 'Int32') return (v as Double).value;
    return v;
  }
  if (!isPlainObject(v)) return v;
  const out: Doc = {};
  for (const k of Object.keys(v)) setField(out, k, toMingo((v as Doc)[k]));
  return out;
}

/** Converts mingo output back to storage form. */
export function fromMingo(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(fromMingo);
  if (!isPlainObject(v)) return v;
  const out: Doc = {};
  for (const k of Object.keys(v)) {
    const x = (v as Doc)[k];
    if (x === undefined) continue;
    setField(out, k, fromMingo(x));
  }
  return out;
}

/** Renders a value the way mongod prints it in error messages (`{ email: "a@b" }`). */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return '[ ' + v.map(formatValue).join(', ') + ' ]';
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (v instanceof RegExp) return String(v);
  switch (bsonTypeName(v)) {
    case 'ObjectId':
      return `ObjectId('${(v as ObjectId).toHexString()}')`;
    case 'Double':
      return String((v as Double).value);
    case 'Long':
      return (v as Long).toString();
    case 'Decimal128':
      return `Decimal128('${(v as Decimal128).toString()}')`;
    case 'Binary':
      return `BinData(${(v as { sub_type?: number }).sub_type ?? 0}, ${Buffer.from(bytesOf(v)).toString('hex')})`;
  }
  if (isPlainObject(v)) {
    const keys = Object.keys(v);
    if (keys.length === 0) return '{}';
    return '{ ' + keys.map((k) => `${k}: ${formatValue(v[k])}`).join(', ') + ' }';
  }
  return String(v);
}

export { INT32_MAX, INT32_MIN };
