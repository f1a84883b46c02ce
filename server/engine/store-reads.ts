// Reads over a collection: the version a reader sees (latest committed, or a transaction's
// snapshot overlaid with its own writes), index-narrowed queries, reads in index order.
// Pure functions of the collection and the transaction: the store's clock and locks play no part.
import type { Collation } from './collation';
import { compileFilter } from './matcher';
import { TRIAL_KEYS, countKeys, planOrdered, planQuery } from './planner';
import type { Collection, Hit, ReadStats, Txn, Version } from './store-types';
import { type Doc, isPlainObject } from './values';

export interface QueryOptions {
  hint?: unknown;
  stats?: ReadStats;
  limit?: number;
  /** null (or absent) for binary string comparison */
  collation?: Collation | null;
}

/** The committed version of a record as of clock `snapshot` (from the history when changed since). */
export function versionAt(c: Collection, key: string, snapshot: number): Version | null {
  const h = c.history.get(key);
  if (h) for (const e of h) if (e.until > snapshot) return e.v;
  return c.docs.get(key) ?? null;
}

/** The document with this record key as `txn` (or the latest state) sees it. */
export function visible(c: Collection, key: string, txn: Txn | null): Doc | null {
  if (!txn) return c.docs.get(key)?.doc ?? null;
  const ws = txn.writes.get(c);
  if (ws?.has(key)) return ws.get(key) ?? null;
  return versionAt(c, key, txn.snapshot)?.doc ?? null;
}

/** Record ids an index can narrow the filter to (a superset), or null for a collection scan. */
function candidates(c: Collection, filter: Doc, hint: unknown, collation: Collation | null, stats?: ReadStats): Iterable<string> | null {
  const plan = planQuery(filter, c.indexes, hint, collation);
  // {$or: [...]} where every branch (with the rest of the filter) has an index: a union of scans,
  // when no index narrows the whole filter or every branch narrows better than it
  const or = filter.$or;
  if ((hint === undefined || hint === null) && Array.isArray(or) && or.length > 0 && or.length <= 64) {
    const rest: Doc = { ...filter };
    delete rest.$or;
    const plans = or.map((branch) => (isPlainObject(branch) ? planQuery({ $and: [rest, branch] }, c.indexes, undefined, collation) : null));
    if (plans.every((p) => p !== null && p.score > (plan?.score ?? 0))) {
      if (stats) stats.index = plans[0]!.index.name;
      return (function* () {
        const seen = new Set<string>();
        for (const p of plans) {
          for (const s of p!.scans) {
            for (const id of p!.index.scan(s, stats)) {
              if (seen.has(id)) continue;
              seen.add(id);
              yield id;
            }
          }
        }
      })();
    }
  }
  if (plan) {
    if (stats) stats.index = plan.index.name;
    return (function* () {
      const seen = plan.scans.length > 1 || plan.index.multikey ? new Set<string>() : null;
      for (const s of plan.scans) {
        for (const id of plan.index.scan(s, stats)) {
          if (seen) {
            if (seen.has(id)) continue;
            seen.add(id);
          }
          yield id;
        }
      }
    })();
  }
  return null;
}

/**
 * The first `limit` matches in `sort` order read straight off an index, or null when no index
 * gives that order (the caller then sorts in memory). Not used inside transactions.
 */
export function queryOrdered(c: Collection | undefined, filter: Doc, sort: { parts: string[]; dir: 1 | -1 }[], limit: number, stats?: ReadStats, collation: Collation | null = null): Hit[] | null {
  // parse first: an invalid filter is refused even when the collection does not exist (as mongod)
  const pred = compileFilter(filter, { collation });
  if (!c) return [];
  const op = planOrdered(filter, sort.map((k) => ({ path: k.parts.join('.'), dir: k.dir })), c.indexes, collation);
  if (!op) return null;
  // an index that narrows the filter more (e.g. {drugId: {$in}} against a walk of every publication
  // date) to a few keys reads fewer documents, sorted in memory, than a walk in order that may not
  // fill the page; past TRIAL_KEYS the walk in order, which stops at the page, is kept
  const narrower = planQuery(filter, c.indexes, undefined, collation);
  if (narrower && narrower.score > op.score && countKeys(narrower, TRIAL_KEYS) < TRIAL_KEYS) return null;
  if (stats) stats.index = op.index.name;
  const out: Hit[] = [];
  for (const id of op.index.scan(op.scan, stats, op.reverse)) {
    const v = c.docs.get(id);
    if (!v) continue;
    if (stats) stats.docs++;
    if (pred(v.doc)) {
      out.push({ key: id, doc: v.doc });
      if (out.length >= limit) break;
    }
  }
  return out;
}

/** Documents matching `filter` as `txn` (or the latest state) sees them, using an index when one fits. */
export function query(c: Collection | undefined, filter: Doc, txn: Txn | null, opts: QueryOptions = {}): Hit[] {
  const collation = opts.collation ?? null;
  const pred = compileFilter(filter, { collation });
  if (!c) return [];
  const stats = opts.stats;
  const cand = candidates(c, filter, opts.hint, collation, stats);
  const out: Hit[] = [];
  const limit = opts.limit ?? Number.POSITIVE_INFINITY;
  const consider = (key: string, doc: Doc | null): boolean => {
    if (!doc) return true;
    if (stats) stats.docs++;
    if (pred(doc)) out.push({ key, doc });
    return out.length < limit;
  };
  if (!txn) {
    if (cand) {
      for (const id of cand) if (!consider(id, c.docs.get(id)?.doc ?? null)) break;
    } else {
      for (const [key, v] of c.docs) if (!consider(key, v.doc)) break;
    }
    return out;
  }
  const ws = txn.writes.get(c);
  const keys = new Set<string>();
  if (cand) {
    for (const id of cand) keys.add(id);
  } else for (const k of c.docs.keys()) keys.add(k);
  for (const k of c.history.keys()) keys.add(k);
  if (ws) for (const k of ws.keys()) keys.add(k);
  for (const key of keys) {
    if (!consider(key, visible(c, key, txn))) break;
  }
  return out;
}

/** All documents visible to the reader, in natural order. */
export function* scanAll(c: Collection | undefined, txn: Txn | null): Generator<Hit> {
  if (!c) return;
  if (!txn) {
    for (const [key, v] of c.docs) yield { key, doc: v.doc };
    return;
  }
  for (const h of query(c, {}, txn)) yield h;
}
