// Canonical keys: equal values (compareValues === 0) ⇔ equal keys; and exact identity (same
// BSON type and value) for deciding whether an update changed anything.
import { Decimal128, Double, Long, ObjectId, Timestamp } from 'bson';
import { bytesOf, strOf, regexParts } from './compare';
import { numType, toNumber, type Dec, parseDec, decToString, compareNumbers } from './numbers';
import { type Doc, bsonTypeName, isPlainObject } from './value-types';

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
