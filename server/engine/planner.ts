// The query planner: per-field bounds from a filter, the best index for them (a partial index only
// when the filter implies its filter; another collation only for bounds without strings), and the
// index walk that yields a requested sort order directly.
import { type Collation, containsString, sameCollation } from './collation';
import { compareValues } from './compare';
import { err } from './errors';
import type { Index, Scan } from './indexes';
import { compileFilter } from './matcher';
import { type Doc, Bound, RANK, bsonTypeName, isNumeric, isPlainObject, keyOf, toNumber, typeRank } from './values';

interface FieldBounds {
  points?: unknown[];
  lo?: unknown;
  hi?: unknown;
  loExcl?: boolean;
  hiExcl?: boolean;
  nullPoint?: boolean;
  /** the null point stands for {$exists: false}: complete only on an index that is not multikey */
  existsFalse?: boolean;
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
          b.existsFalse = false;
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
            b.existsFalse = false;
          }
        } else if (op === '$in' && Array.isArray(v)) {
          if (v.length > 0 && v.every((x) => x === null || scalarForIndex(x))) {
            const b = get(k);
            if (!b.points || b.points.length > v.length) {
              b.points = v;
              b.nullPoint = v.some((x) => x === null);
              b.existsFalse = false;
            }
          }
        } else if (op === '$exists' && (v === false || v === 0)) {
          // a missing field is indexed as null: the null keys hold every document without it
          const b = get(k);
          if (!b.points) {
            b.points = [null];
            b.nullPoint = true;
            b.existsFalse = true;
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

/**
 * For a filter with a top-level $or: the smallest range on `path` that holds what every branch
 * (with the rest of the filter) allows, or null when a branch leaves `path` open. Cursor
 * pagination's `{$or: [{at: {$lt: x}}, {at: x, _id: {$lt: y}}]}` gives `at <= x`. Both ends are
 * inclusive (the filter is re-checked on every document); values of different types give null.
 */
export function orHull(filter: Doc, path: string, strings?: Collation['compare']): FieldBounds | null {
  const or = filter.$or;
  if (!Array.isArray(or) || or.length === 0 || or.length > 64) return null;
  const rest: Doc = { ...filter };
  delete rest.$or;
  let lo: unknown;
  let hi: unknown;
  let loOpen = false;
  let hiOpen = false;
  let rank: number | undefined;
  const sameRank = (v: unknown) => {
    const r = typeRank(v);
    if (rank === undefined) rank = r;
    return r === rank;
  };
  for (const branch of or) {
    if (!isPlainObject(branch)) return null;
    const b = extractBounds({ $and: [rest, branch] }).bounds.get(path);
    if (!b || b.nullPoint) return null;
    let blo: unknown;
    let bhi: unknown;
    if (b.points) {
      for (const p of b.points) {
        if (!sameRank(p)) return null;
        if (blo === undefined || compareValues(p, blo, strings) < 0) blo = p;
        if (bhi === undefined || compareValues(p, bhi, strings) > 0) bhi = p;
      }
    } else {
      blo = b.lo;
      bhi = b.hi;
    }
    if (blo === undefined) loOpen = true;
    else if (!sameRank(blo)) return null;
    else if (lo === undefined || compareValues(blo, lo, strings) < 0) lo = blo;
    if (bhi === undefined) hiOpen = true;
    else if (!sameRank(bhi)) return null;
    else if (hi === undefined || compareValues(bhi, hi, strings) > 0) hi = bhi;
  }
  if ((loOpen || lo === undefined) && (hiOpen || hi === undefined)) return null;
  return { ...(loOpen ? {} : { lo }), ...(hiOpen ? {} : { hi }) };
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
  if (bounds.size === 0 && !Array.isArray(filter.$or)) return hinted ? fullScan(hinted) : null;
  const hulls = new Map<string, FieldBounds | null>();
  const hull = (path: string) => {
    if (!hulls.has(path)) hulls.set(path, orHull(filter, path, collation?.compare));
    return hulls.get(path) ?? undefined;
  };
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
      const b = bounds.get(ix.fields[i]!.path) ?? hull(ix.fields[i]!.path);
      if (!b) break;
      if (b.existsFalse && ix.multikey) break;
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
  // equally good on paper: a short trial picks the most selective
  if (ties.length > 1) best = fewestKeys(ties, TRIAL_KEYS);
  return best;
}

export const TRIAL_KEYS = 1000;

/** The keys of a plan's ranges, one at a time. */
function* planKeys(p: Plan): Generator<string> {
  for (const s of p.scans) yield* p.index.scan(s);
}

/**
 * The plan with the fewest keys in its ranges (the first of them on a tie, or when every plan has
 * `cap` or more). The plans' walks advance in step, as MongoDB's trial races its candidate plans,
 * so the trial stops when the narrowest one ends: k plans of which one is narrow cost k times the
 * narrow one's keys, not each plan's keys up to the cap.
 */
export function fewestKeys(plans: Plan[], cap: number): Plan {
  const walks = plans.map(planKeys);
  for (let n = 0; n < cap; n++) {
    for (let i = 0; i < walks.length; i++) if (walks[i]!.next().done) return plans[i]!;
  }
  return plans[0]!;
}

/** Keys in a plan's ranges, counted up to `cap`. */
export function countKeys(p: Plan, cap: number): number {
  let n = 0;
  for (const s of p.scans) {
    for (const _ of p.index.scan(s)) {
      if (++n >= cap) return n;
    }
  }
  return n;
}

/** An index walk that returns documents already in the requested sort order. */
export interface OrderedPlan {
  index: Index;
  scan: Scan;
  reverse: boolean;
  /** as a Plan's: 2 per equality field, 1 for a range */
  score: number;
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
    const b = bounds.get(ix.fields[p]!.path) ?? orHull(filter, ix.fields[p]!.path, collation?.compare) ?? undefined;
    if (b && (b.lo !== undefined || b.hi !== undefined) && !b.points) {
      const lo = b.lo ?? new Bound(typeRank(b.hi), false);
      const hi = b.hi ?? new Bound(typeRank(b.lo), true);
      if (b.lo === undefined || b.hi === undefined || typeRank(b.lo) === typeRank(b.hi)) {
        scan.range = { lo, hi, loExcl: b.lo !== undefined && !!b.loExcl, hiExcl: b.hi !== undefined && !!b.hiExcl };
      }
    }
    if (p > bestPrefix) {
      best = { index: ix, scan, reverse: sign === -1, score: 2 * p + (scan.range ? 1 : 0) };
      bestPrefix = p;
    }
  }
  return best;
}
