// Secondary indexes: ordered (key, record) entries in a SortedList (under the index's collation
// for strings); multikey, compound, sparse, partial and unique; scans between bounds.
import { type Collation, parseCollation } from './collation';
import { err } from './errors';
import type { IndexSpec } from './index-spec';
import { compileFilter, pathValues, type Pred } from './matcher';
import { SortedList } from './sorted-list';
import { type Doc, MAX_ALL, MIN_ALL, compareValues, keyOf } from './values';

export interface Entry {
  k: unknown[];
  id: string;
}

const ID_MIN = '';
const ID_MAX = '\uffff\uffff';

interface Field {
  path: string;
  parts: string[];
  dir: 1 | -1;
}

export class Index {
  readonly fields: Field[];
  readonly list: SortedList<Entry>;
  readonly partial: Pred | null;
  readonly isId: boolean;
  readonly unique: boolean;
  /** the index's collation: its string keys are ordered (and unique) under it; null for binary */
  readonly collation: Collation | null;
  multikey = false;

  constructor(readonly spec: IndexSpec) {
    this.fields = Object.keys(spec.key).map((path) => ({ path, parts: path.split('.'), dir: spec.key[path] === -1 ? -1 : 1 }));
    this.partial = spec.partialFilterExpression ? compileFilter(spec.partialFilterExpression) : null;
    this.isId = spec.name === '_id_';
    this.unique = this.isId || !!spec.unique;
    this.collation = parseCollation(spec.collation);
    const fields = this.fields;
    const strings = this.collation?.compare;
    this.list = new SortedList<Entry>((a, b) => {
      for (let i = 0; i < fields.length; i++) {
        const c = compareValues(a.k[i], b.k[i], strings);
        if (c !== 0) return fields[i]!.dir === 1 ? c : -c;
      }
      return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    });
  }

  get name(): string {
    return this.spec.name;
  }

  /** The key tuples a document contributes (none for sparse/partial exclusions). */
  keys(doc: Doc): unknown[][] {
    if (this.partial && !this.partial(doc)) return [];
    const perField: unknown[][] = [];
    let allMissing = true;
    let arrays = 0;
    for (const f of this.fields) {
      let vals: unknown[];
      if (f.parts.length === 1) {
        vals = [Object.prototype.hasOwnProperty.call(doc, f.path) ? doc[f.path] : undefined];
      } else vals = pathValues(doc, f.parts);
      const out: unknown[] = [];
      const seen = new Set<string>();
      let isArr = vals.length > 1;
      for (const v of vals) {
        if (Array.isArray(v)) {
          isArr = true;
          if (v.length === 0) {
            if (!seen.has('[]')) {
              seen.add('[]');
              out.push([]);
            }
            allMissing = false;
          }
          for (const e of v) {
            const k = keyOf(e);
            if (!seen.has(k)) {
              seen.add(k);
              out.push(e === undefined ? null : e);
            }
            allMissing = false;
          }
        } else {
          if (v !== undefined) allMissing = false;
          const k = keyOf(v);
          if (!seen.has(k)) {
            seen.add(k);
            out.push(v === undefined ? null : v);
          }
        }
      }
      if (isArr) arrays++;
      perField.push(out);
    }
    if (this.spec.sparse && allMissing) return [];
    if (arrays > 1) {
      throw err(171, `cannot index parallel arrays [${this.fields.map((f) => f.path).join('] [')}]`);
    }
    // NOTE: only a document that is indexed makes the index multikey (a refused one leaves it as it was)
    if (arrays > 0) this.multikey = true;
    let tuples: unknown[][] = [[]];
    for (const vals of perField) {
      const next: unknown[][] = [];
      for (const t of tuples) for (const v of vals) next.push([...t, v]);
      tuples = next;
    }
    return tuples;
  }

  add(doc: Doc, id: string): void {
    this.addKeys(this.keys(doc), id);
  }

  remove(doc: Doc, id: string): void {
    this.removeKeys(this.keys(doc), id);
  }

  /** Adds a record's entries under key tuples already computed by `keys`. */
  addKeys(keys: readonly unknown[][], id: string): void {
    for (const k of keys) this.list.insert({ k, id });
  }

  removeKeys(keys: readonly unknown[][], id: string): void {
    for (const k of keys) this.list.delete({ k, id });
  }

  clear(): void {
    this.list.clear();
    this.multikey = false;
  }

  /** Record ids (other than `selfId`) holding exactly this key. */
  *holders(k: unknown[], selfId?: string): Generator<string> {
    for (const e of this.list.from({ k, id: ID_MIN })) {
      for (let i = 0; i < k.length; i++) if (compareValues(e.k[i], k[i], this.collation?.compare) !== 0) return;
      if (e.id !== selfId) yield e.id;
    }
  }

  keyValue(k: unknown[]): Doc {
    const o: Doc = {};
    this.fields.forEach((f, i) => (o[f.path] = k[i]));
    return o;
  }

  /** Iterates record ids within the bounds of a scan (a superset; callers re-check the filter). */
  *scan(s: Scan, stats?: { keys: number }, reverse = false): Generator<string> {
    const n = this.fields.length;
    const lo: unknown[] = [];
    const hi: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const f = this.fields[i]!;
      if (i < s.prefix.length) {
        lo.push(s.prefix[i]);
        hi.push(s.prefix[i]);
      } else if (i === s.prefix.length && s.range) {
        lo.push(f.dir === 1 ? s.range.lo : s.range.hi);
        hi.push(f.dir === 1 ? s.range.hi : s.range.lo);
      } else {
        lo.push(f.dir === 1 ? MIN_ALL : MAX_ALL);
        hi.push(f.dir === 1 ? MAX_ALL : MIN_ALL);
      }
    }
    const hiEntry: Entry = { k: hi, id: ID_MAX };
    const loEntry: Entry = { k: lo, id: ID_MIN };
    const cmp = this.list.cmp;
    const p = s.prefix.length;
    const r = s.range;
    const it = reverse ? this.list.downFrom(hiEntry) : this.list.from(loEntry);
    for (const e of it) {
      if (reverse ? cmp(e, loEntry) < 0 : cmp(e, hiEntry) > 0) return;
      if (stats) stats.keys++;
      if (r && (r.loExcl || r.hiExcl)) {
        if (r.loExcl && compareValues(e.k[p], r.lo, this.collation?.compare) === 0) continue;
        if (r.hiExcl && compareValues(e.k[p], r.hi, this.collation?.compare) === 0) continue;
      }
      yield e.id;
    }
  }
}

/** One contiguous stretch of an index: equal values on the leading fields, then a range. */
export interface Scan {
  prefix: unknown[];
  range?: { lo: unknown; hi: unknown; loExcl?: boolean; hiExcl?: boolean };
}

export const IDS = { ID_MIN, ID_MAX };
