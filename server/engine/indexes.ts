// Secondary indexes: ordered (key, record) entries in a SortedList; multikey, compound, sparse,
// partial and unique; plus the planner that turns a filter into index scans.
import { type Collation, parseCollation, containsString, sameCollation } from './collation';
import { err, notSupported } from './errors';
import { compileFilter, pathValues, type Pred } from './matcher';
import { SortedList } from './sorted-list';
import {
  type Doc,
  Bound,
  MAX_ALL,
  MIN_ALL,
  RANK,
  bsonTypeName,
  compareValues,
  formatValue,
  isNumeric,
  isPlainObject,
  keyOf,
  toNumber,
  typeRank,
} from './values';

export interface IndexSpec {
  v: number;
  key: Doc;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Doc;
  expireAfterSeconds?: number;
  [opt: string]: unknown;
}

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

const ALLOWED_OPTIONS = new Set([
  'v',
  'key',
  'name',
  'unique',
  'sparse',
  'partialFilterExpression',
  'expireAfterSeconds',
  'background',
  'ns',
  'hidden',
]);

export function defaultIndexName(key: Doc): string {
  return Object.keys(key)
    .map((k) => `${k}_${String(isNumeric(key[k]) ? toNumber(key[k]) : key[k])}`)
    .join('_');
}

/**
 * Validates a createIndexes spec and returns it in stored form; an index without a collation of
 * its own takes the collection's default (stored in full, as listIndexes shows it).
 */
export function normalizeIndexSpec(raw: Doc, collectionDefault: Collation | null = null): IndexSpec {
  if (!isPlainObject(raw.key) || Object.keys(raw.key).length === 0) throw err('CannotCreateIndex', 'Index keys cannot be empty.');
  const key: Doc = {};
  for (const f of Object.keys(raw.key)) {
    const d = raw.key[f];
    if (isNumeric(d)) {
      const n = toNumber(d);
      if (n === 0 || Number.isNaN(n)) throw err('CannotCreateIndex', `Values in the index key pattern can't be 0 or NaN: ${f}`);
      key[f] = n > 0 ? 1 : -1;
    } else if (d === 'hashed') key[f] = 'hashed';
    else if (typeof d === 'string') throw notSupported(`index type '${d}'`);
    else throw err('CannotCreateIndex', `Values in v:2 index key pattern cannot be of type ${typeof d}`);
  }
  for (const o of Object.keys(raw)) {
    if (o === 'collation') continue;
    if (!ALLOWED_OPTIONS.has(o)) {
      if (['weights', 'default_language', 'language_override', 'textIndexVersion', '2dsphereIndexVersion', 'bits', 'min', 'max', 'wildcardProjection'].includes(o)) throw notSupported(`index option '${o}'`);
      if (o === 'storageEngine' || o === 'clustered') throw notSupported(`index option '${o}'`);
      throw err('InvalidOptions', `The field '${o}' is not valid for an index specification. Specification: ${formatValue(raw)}`);
    }
  }
  const spec: IndexSpec = { v: 2, key, name: typeof raw.name === 'string' ? raw.name : defaultIndexName(key) };
  if (raw.unique) spec.unique = true;
  if (raw.sparse) spec.sparse = true;
  if (raw.partialFilterExpression !== undefined) {
    if (!isPlainObject(raw.partialFilterExpression)) throw err('CannotCreateIndex', 'partialFilterExpression must be an object');
    compileFilter(raw.partialFilterExpression);
    spec.partialFilterExpression = raw.partialFilterExpression;
  }
  if (raw.expireAfterSeconds !== undefined) spec.expireAfterSeconds = toNumber(raw.expireAfterSeconds);
  if (raw.hidden) spec.hidden = true;
  const collation = raw.collation === undefined ? collectionDefault : parseCollation(raw.collation);
  if (collation && !(Object.keys(key).join() === '_id' && spec.name === '_id_')) spec.collation = collation.spec;
  // NOTE: kept so that a rebuild from the journal does not take the collection's default instead
  else if (!collation && collectionDefault && raw.collation !== undefined) spec.collation = { locale: 'simple' };
  if (spec.name === '_id_' && (spec.unique === false || Object.keys(key).join() !== '_id')) {
    throw err('BadValue', 'The _id index name is reserved');
  }
  if (Object.keys(key).join() === '_id' && spec.name === '_id_') delete spec.unique;
  return spec;
}

export function sameIndexOptions(a: IndexSpec, b: IndexSpec): boolean {
  return (
    !!a.unique === !!b.unique &&
    !!a.sparse === !!b.sparse &&
    keyOf(a.partialFilterExpression ?? null) === keyOf(b.partialFilterExpression ?? null) &&
    (a.expireAfterSeconds ?? null) === (b.expireAfterSeconds ?? null) &&
    keyOf(a.collation ?? null) === keyOf(b.collation ?? null)
  );
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
    if (arrays > 0) this.multikey = true;
    if (arrays > 1) {
      throw err(171, `cannot index parallel arrays [${this.fields.map((f) => f.path).join('] [')}]`);
    }
    let tuples: unknown[][] = [[]];
    for (const vals of perField) {
      const next: unknown[][] = [];
      for (const t of tuples) for (const v of vals) next.push([...t, v]);
      tuples = next;
    }
    return tuples;
  }

  add(doc: Doc, id: string): void {
    for (const k of this.keys(doc)) this.list.insert({ k, id });
  }

  remove(doc: Doc, id: string): void {
    for (const k of this.keys(doc)) this.list.delete({ k, id });
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

interface FieldBounds {
  points?: unknown[];
  lo?: unknown;
  hi?: unknown;
  loExcl?: boolean;
  hiExcl?: boolean;
  nullPoint?: boolean;
}

function scalarForIndex(v: unknown): boolean {
  if (v === undefined) return false;
  if (Array.isArray(v)) return false;
  if (v instanceof RegExp || bsonTypeName(v) === 'BSONRegExp') return false;
  const r = typeRank(v);
  if (r === RANK.MINKEY || r === RANK.MAXKEY) return false;
  if (isPlainObject(v)) return !Object.keys(v).some((k) => k.startsWith('$'));
  if (isNumeric(v) && Number.isNaN(toNumber(v))) return false;
  return true;
}

/** Extracts per-field index bounds from the top level of a filter (and nested $and). */
export function extractBounds(filter: Doc): { bounds: Map<string, FieldBounds>; conds: Map<string, unknown[]> } {
  const bounds = new Map<string, FieldBounds>();
  const conds = new Map<string, unknown[]>();
  const get = (p: string) => {
    let b = bounds.get(p);
    if (!b) bounds.set(p, (b = {}));
    return b;
  };
  const visit = (f: Doc) => {
    for (const k of Object.keys(f)) {
      const c = f[k];
      if (k === '$and' && Array.isArray(c)) {
        for (const s of c) if (isPlainObject(s)) visit(s);
        continue;
      }
      if (k.startsWith('$')) continue;
      const arr = conds.get(k) ?? [];
      arr.push(c);
      conds.set(k, arr);
      const isOps = isPlainObject(c) && Object.keys(c).length > 0 && Object.keys(c)[0]!.startsWith('$');
      if (!isOps) {
        if (c === null) {
          const b = get(k);
          if (!b.points) {
            b.points = [null];
            b.nullPoint = true;
          }
        } else if (scalarForIndex(c)) {
          const b = get(k);
          b.points = [c];
          b.nullPoint = false;
        }
        continue;
      }
      const ops = c as Doc;
      for (const op of Object.keys(ops)) {
        const v = ops[op];
        if (op === '$eq') {
          if (v === null) {
            const b = get(k);
            if (!b.points) {
              b.points = [null];
              b.nullPoint = true;
            }
          } else if (scalarForIndex(v)) {
            const b = get(k);
            b.points = [v];
            b.nullPoint = false;
          }
        } else if (op === '$in' && Array.isArray(v)) {
          if (v.length > 0 && v.every((x) => x === null || scalarForIndex(x))) {
            const b = get(k);
            if (!b.points || b.points.length > v.length) {
              b.points = v;
              b.nullPoint = v.some((x) => x === null);
            }
          }
        } else if ((op === '$gt' || op === '$gte') && v !== null && scalarForIndex(v) && !isPlainObject(v)) {
          const b = get(k);
          b.lo = v;
          b.loExcl = op === '$gt';
        } else if ((op === '$lt' || op === '$lte') && v !== null && scalarForIndex(v) && !isPlainObject(v)) {
          const b = get(k);
          b.hi = v;
          b.hiExcl = op === '$lt';
        }
      }
    }
  };
  visit(filter);
  return { bounds, conds };
}

export interface Plan {
  index: Index;
  scans: Scan[];
  score: number;
}

function partialImplied(pfe: Doc, conds: Map<string, unknown[]>, bounds: Map<string, FieldBounds>): boolean {
  for (const k of Object.keys(pfe)) {
    if (k === '$and' && Array.isArray(pfe[k])) {
      if (!(pfe[k] as unknown[]).every((s) => isPlainObject(s) && partialImplied(s, conds, bounds))) return false;
      continue;
    }
    const want = pfe[k];
    const have = conds.get(k) ?? [];
    if (have.some((h) => keyOf(h) === keyOf(want))) continue;
    const b = bounds.get(k);
    // {f: {$exists: true}} is implied by a non-null equality or a range on f
    if (isPlainObject(want) && Object.keys(want).length === 1 && want.$exists === true && b && ((b.points && !b.nullPoint) || b.lo !== undefined || b.hi !== undefined)) continue;
    // {f: {$type: 'string'}} etc. implied by equality points of that type
    if (isPlainObject(want) && Object.keys(want).length === 1 && '$type' in want && b?.points && !b.nullPoint) {
      const t = compileFilter({ x: want });
      if (b.points.every((p) => t({ x: p }))) continue;
    }
    if (isPlainObject(want) && b?.points && !b.nullPoint) {
      const t = compileFilter({ x: want });
      if (b.points.every((p) => t({ x: p }))) continue;
    }
    return false;
  }
  return true;
}

/** True when an index's bounds for one field compare strings (so the index's collation must be the query's). */
function boundsCompareStrings(b: FieldBounds): boolean {
  return (b.points?.some(containsString) ?? false) || containsString(b.lo) || containsString(b.hi);
}

/**
 * Picks the best index for a filter under the query's collation, or null for a collection scan. An
 * index of another collation gives bounds only on fields whose bounds hold no strings.
 */
export function planQuery(filter: Doc, indexes: Index[], hint?: unknown, collation: Collation | null = null): Plan | null {
  const { bounds, conds } = extractBounds(filter);
  let hinted: Index | undefined;
  if (hint !== undefined && hint !== null) {
    if (typeof hint === 'string') hinted = indexes.find((i) => i.name === hint && !i.spec.hidden);
    else if (isPlainObject(hint)) {
      if ('$natural' in hint) return null;
      hinted = indexes.find((i) => keyOf(i.spec.key) === keyOf(hint) && !i.spec.hidden);
    }
    if (!hinted) throw err('BadValue', 'hint provided does not correspond to an existing index');
  }
  // a hinted index is always walked, in its order, even when the filter gives it no bounds
  const fullScan = (ix: Index): Plan => ({ index: ix, scans: [{ prefix: [] }], score: 0 });
  if (bounds.size === 0) return hinted ? fullScan(hinted) : null;
  let best: Plan | null = null;
  let ties: Plan[] = [];
  for (const ix of hinted ? [hinted] : indexes) {
    if (ix.spec.hidden) continue;
    if (ix.partial && !hinted && !partialImplied(ix.spec.partialFilterExpression!, conds, bounds)) continue;
    let prefixPoints: unknown[][] = [[]];
    let score = 0;
    let range: Scan["range"];
    let usesNull = false;
    const otherCollation = !sameCollation(ix.collation, collation);
    for (let i = 0; i < ix.fields.length; i++) {
      const b = bounds.get(ix.fields[i]!.path);
      if (!b) break;
      if (otherCollation && boundsCompareStrings(b)) break;
      if (b.points) {
        if (b.nullPoint) usesNull = true;
        const next: unknown[][] = [];
        for (const p of prefixPoints) for (const v of b.points) next.push([...p, v]);
        if (next.length > 5000) break;
        prefixPoints = next;
        score += 2;
        continue;
      }
      if (b.lo !== undefined || b.hi !== undefined) {
        let lo = b.lo ?? new Bound(typeRank(b.hi), false);
        let hi = b.hi ?? new Bound(typeRank(b.lo), true);
        if (b.lo !== undefined && b.hi !== undefined && typeRank(b.lo) !== typeRank(b.hi)) {
          lo = new Bound(Math.min(typeRank(b.lo), typeRank(b.hi)), false);
          hi = new Bound(Math.max(typeRank(b.lo), typeRank(b.hi)), true);
        }
        let loExcl = b.lo !== undefined && !!b.loExcl;
        let hiExcl = b.hi !== undefined && !!b.hiExcl;
        if (ix.multikey && b.lo !== undefined && b.hi !== undefined) {
          hi = new Bound(typeRank(b.lo), true);
          hiExcl = false;
        }
        if (!(lo instanceof Bound) && !(hi instanceof Bound) && typeRank(lo) !== typeRank(hi)) loExcl = hiExcl = false;
        range = { lo, hi, loExcl, hiExcl };
        score += 1;
      }
      break;
    }
    if (score === 0) continue;
    if (usesNull && ix.spec.sparse) continue;
    // an equality on every field of a unique index pins one document
    if (ix.unique && prefixPoints[0]!.length === ix.fields.length && !usesNull) score += 10;
    if (ix.isId) score += 1;
    const scans: Scan[] = prefixPoints.map((prefix) => (range ? { prefix, range } : { prefix }));
    if (!best || score > best.score) {
      best = { index: ix, scans, score };
      ties = [best];
    } else if (score === best.score) ties.push({ index: ix, scans, score });
  }
  if (hinted && !best) return fullScan(hinted);
  if (ties.length > 1) {
    // equally good on paper: a short trial (count keys in range, capped) picks the most selective
    let bestKeys = Number.POSITIVE_INFINITY;
    for (const p of ties) {
      const n = countKeys(p, TRIAL_KEYS);
      if (n < bestKeys) {
        bestKeys = n;
        best = p;
      }
    }
  }
  return best;
}

const TRIAL_KEYS = 1000;

function countKeys(p: Plan, cap: number): number {
  let n = 0;
  for (const s of p.scans) {
    for (const _ of p.index.scan(s)) {
      if (++n >= cap) return n;
    }
  }
  return n;
}

export const IDS = { ID_MIN, ID_MAX };

/** An index walk that returns documents already in the requested sort order. */
export interface OrderedPlan {
  index: Index;
  scan: Scan;
  reverse: boolean;
}

/**
 * Finds an index whose order gives `sort` directly: equality on a leading prefix, then the sort
 * fields in index order (all in the index direction or all reversed). Multikey, sparse, partial and
 * hidden indexes are never used for ordering.
 */
export function planOrdered(filter: Doc, sort: { path: string; dir: 1 | -1 }[], indexes: Index[], collation: Collation | null = null): OrderedPlan | null {
  if (sort.length === 0) return null;
  const { bounds } = extractBounds(filter);
  let best: OrderedPlan | null = null;
  let bestPrefix = -1;
  for (const ix of indexes) {
    if (ix.multikey || ix.spec.sparse || ix.partial || ix.spec.hidden) continue;
    // an index orders strings by its own collation: it gives the order only when that is the query's
    if (!sameCollation(ix.collation, collation)) continue;
    const prefix: unknown[] = [];
    const prefixPaths = new Set<string>();
    let p = 0;
    while (p < ix.fields.length) {
      const b = bounds.get(ix.fields[p]!.path);
      if (!b?.points || b.points.length !== 1) break;
      prefix.push(b.points[0]);
      prefixPaths.add(ix.fields[p]!.path);
      p++;
    }
    const rest = sort.filter((k) => !prefixPaths.has(k.path));
    if (rest.length === 0 || p + rest.length > ix.fields.length) continue;
    let sign: 1 | -1 | 0 = 0;
    let ok = true;
    for (let i = 0; i < rest.length; i++) {
      const f = ix.fields[p + i]!;
      if (f.path !== rest[i]!.path) {
        ok = false;
        break;
      }
      const sg = (f.dir * rest[i]!.dir) as 1 | -1;
      if (sign === 0) sign = sg;
      else if (sign !== sg) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    const scan: Scan = { prefix };
    const b = bounds.get(ix.fields[p]!.path);
    if (b && (b.lo !== undefined || b.hi !== undefined) && !b.points) {
      const lo = b.lo ?? new Bound(typeRank(b.hi), false);
      const hi = b.hi ?? new Bound(typeRank(b.lo), true);
      if (b.lo === undefined || b.hi === undefined || typeRank(b.lo) === typeRank(b.hi)) {
        scan.range = { lo, hi, loExcl: b.lo !== undefined && !!b.loExcl, hiExcl: b.hi !== undefined && !!b.hiExcl };
      }
    }
    if (p > bestPrefix) {
      best = { index: ix, scan, reverse: sign === -1 };
      bestPrefix = p;
    }
  }
  return best;
}
