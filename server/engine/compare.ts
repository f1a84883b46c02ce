// MongoDB's total order over BSON values (type brackets, then values; strings under an optional
// collation order) and query equality.
import { ObjectId, Timestamp } from 'bson';
import { compareNumbers } from './numbers';
import { type Doc, RANK, Bound, typeRank } from './value-types';

function cmpPrim<T extends string | number | boolean | bigint>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function bytesOf(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  const b = v as { buffer: Uint8Array; position?: number };
  return b.buffer.subarray(0, b.position ?? b.buffer.length);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return cmpPrim(a.length, b.length);
}

export function strOf(v: unknown): string {
  return typeof v === 'string' ? v : String((v as { value?: unknown }).value ?? v);
}

/** Orders two strings under a collation (negative, zero, positive). */
export type StringOrder = (a: string, b: string) => number;

/**
 * Total order over BSON values following MongoDB's comparison rules; strings (also inside
 * documents and arrays) by `strings` when a collation applies, else by code units.
 */
export function compareValues(a: unknown, b: unknown, strings?: StringOrder): number {
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
      if (strings) return strings(sa, sb);
      return sa < sb ? -1 : sa > sb ? 1 : 0;
    }
    case RANK.OBJECT:
      return compareObjects(a as Doc, b as Doc, strings);
    case RANK.ARRAY: {
      const xa = a as unknown[];
      const xb = b as unknown[];
      const n = Math.min(xa.length, xb.length);
      for (let i = 0; i < n; i++) {
        const c = compareValues(xa[i], xb[i], strings);
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
      const fast = compareObjectIdWords(a as ObjectIdWords, b as ObjectIdWords);
      if (fast !== undefined) return fast;
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

/** bson 7 holds an ObjectId's 12 bytes as four 24-bit big-endian numbers, i0 (first) to i3. */
type ObjectIdWords = { i0?: unknown; i1?: unknown; i2?: unknown; i3?: unknown };

/**
 * Byte order of two ObjectIds from their numbers, or undefined when either lacks them (another bson
 * version). NOTE: an index seek compares ObjectIds many times per write; building two hex strings for
 * each comparison was most of the engine's comparison cost on the quote collections.
 */
function compareObjectIdWords(a: ObjectIdWords, b: ObjectIdWords): number | undefined {
  if (typeof a.i3 !== 'number' || typeof b.i3 !== 'number') return undefined;
  for (const k of ['i0', 'i1', 'i2', 'i3'] as const) {
    const x = a[k] as number;
    const y = b[k] as number;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function compareObjects(a: Doc, b: Doc, strings?: StringOrder): number {
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
    const c = compareValues(va, vb, strings);
    if (c !== 0) return c;
  }
  return cmpPrim(ka.length, kb.length);
}

export function regexParts(v: unknown): [string, string] {
  if (v instanceof RegExp) return [v.source, v.flags.split('').sort().join('')];
  const r = v as { pattern: string; options: string };
  return [r.pattern, (r.options ?? '').split('').sort().join('')];
}

/** Equality as used by queries: same canonical type and compareValues === 0 (under a collation's string order if given). */
export function valuesEqual(a: unknown, b: unknown, strings?: StringOrder): boolean {
  if (a === b) return true;
  if (!strings && (typeof a === 'string' || typeof b === 'string')) return false;
  return typeRank(a) === typeRank(b) && compareValues(a, b, strings) === 0;
}
