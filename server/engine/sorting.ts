// Sort specifications ({a: 1, 'b.c': -1}) with MongoDB's rules: arrays sort by their smallest
// (ascending) or largest (descending) element, missing sorts as null, types in BSON order.
import { err, notSupported } from './errors';
import { pathValues } from './paths';
import { type Doc, RANK, Bound, type StringOrder, compareValues, isNumeric, isPlainObject, toNumber } from './values';

const EMPTY_ARRAY = new Bound(RANK.EMPTY_ARRAY_SORT, false);

export interface SortKey {
  parts: string[];
  dir: 1 | -1;
}

export function parseSort(spec: unknown): SortKey[] {
  if (spec === undefined || spec === null) return [];
  if (!isPlainObject(spec)) throw err('BadValue', 'sort must be an object');
  const keys: SortKey[] = [];
  for (const k of Object.keys(spec)) {
    const v = spec[k];
    if (isPlainObject(v) && '$meta' in v) throw notSupported(`sort by {$meta: ${JSON.stringify(v.$meta)}}`);
    if (k === '$natural') continue;
    if (!isNumeric(v)) throw err('BadValue', `Illegal key in $sort specification: ${k}: ${String(v)}`);
    const n = toNumber(v);
    if (n !== 1 && n !== -1) throw err(15975, '$sort key ordering must be 1 (for ascending) or -1 (for descending)');
    keys.push({ parts: k.split('.'), dir: n as 1 | -1 });
  }
  return keys;
}

/** The value a document sorts by for one key (strings ordered by `strings` under a collation). */
export function sortValue(doc: unknown, key: SortKey, strings?: StringOrder): unknown {
  const vals = pathValues(doc, key.parts);
  let best: unknown = undefined;
  let found = false;
  const consider = (v: unknown) => {
    if (!found) {
      best = v;
      found = true;
      return;
    }
    const c = compareValues(v, best, strings);
    if (key.dir === 1 ? c < 0 : c > 0) best = v;
  };
  for (const v of vals) {
    if (Array.isArray(v)) {
      if (v.length === 0) consider(key.parts.length === 1 || vals.length === 1 ? EMPTY_ARRAY : null);
      for (const e of v) consider(e === undefined ? null : e);
    } else consider(v === undefined ? null : v);
  }
  return found ? best : null;
}

/** Sorts documents in place (stable), strings by a collation's order when one is given. */
export function sortDocs<T>(docs: T[], keys: SortKey[], strings?: StringOrder): T[] {
  if (keys.length === 0 || docs.length < 2) return docs;
  const decorated = docs.map((d, i) => ({ d, i, k: keys.map((key) => sortValue(d, key, strings)) }));
  decorated.sort((a, b) => {
    for (let j = 0; j < keys.length; j++) {
      const c = compareValues(a.k[j], b.k[j], strings);
      if (c !== 0) return c * keys[j]!.dir;
    }
    return a.i - b.i;
  });
  for (let i = 0; i < docs.length; i++) docs[i] = decorated[i]!.d;
  return docs;
}

export type { Doc };
