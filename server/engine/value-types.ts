// The BSON value model's basics: the stored representation, field access, and MongoDB's order of
// BSON types (type ranks), with open/closed bounds used by index scans.
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

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

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
