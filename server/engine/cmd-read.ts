// Reads: find, count, distinct, and the shared read path (index plan, in-memory sort, skip, limit).
import type { EngineState, Handler } from './engine-context';
import { cursorReply } from './cmd-cursors';
import { OK, collName, intOpt } from './cmd-util';
import { type Collation, effectiveCollation } from './collation';
import { err, notSupported } from './errors';
import { pathValues } from './matcher';
import { compileProjection } from './projection';
import { parseSort, sortDocs } from './sorting';
import type { Collection, Hit, ReadStats, Txn } from './store';
import { type Doc, compareValues, isPlainObject, keyOf } from './values';

export interface ReadOptions {
  sort?: unknown;
  skip?: number;
  limit?: number;
  hint?: unknown;
  stats?: ReadStats;
  collation?: Collation | null;
}

/** The matching documents in sort order (under the collation), skipped and limited. */
export function readDocs(eng: EngineState, c: Collection | undefined, filter: Doc, txn: Txn | null, opts: ReadOptions): Hit[] {
  const keys = parseSort(opts.sort);
  const skip = opts.skip ?? 0;
  const lim = opts.limit && opts.limit > 0 ? opts.limit : undefined;
  const collation = opts.collation ?? null;
  if (keys.length && lim !== undefined && !txn && (opts.hint === undefined || opts.hint === null)) {
    const ordered = eng.store.queryOrdered(c, filter, keys, skip + lim, opts.stats, collation);
    if (ordered) return ordered.slice(skip);
  }
  let hits = eng.store.query(c, filter, txn, {
    hint: opts.hint,
    stats: opts.stats,
    limit: keys.length === 0 && lim !== undefined ? skip + lim : undefined,
    collation,
  });
  if (keys.length) {
    const decorated = hits.map((h) => ({ ...h, d: h.doc }));
    sortDocs(decorated as unknown as Doc[], keys.map((k) => ({ parts: ['d', ...k.parts], dir: k.dir })), collation?.compare);
    hits = decorated;
  }
  if (skip) hits = hits.slice(skip);
  if (lim !== undefined) hits = hits.slice(0, lim);
  return hits;
}

/** The collation a command on `c` runs under: the command's own, else the collection's default. */
export function commandCollation(requested: unknown, c: Collection | undefined): Collation | null {
  return effectiveCollation(requested, c?.defaultCollation);
}

export function find(eng: EngineState, cmd: Doc, db: string, txn: Txn | null, stats?: ReadStats): Doc {
  const name = collName(cmd, 'find');
  if (cmd.tailable || cmd.awaitData) throw notSupported('tailable cursors');
  if (cmd.min || cmd.max) throw notSupported('find min/max');
  const filter = (cmd.filter as Doc) ?? {};
  if (!isPlainObject(filter)) throw err('TypeMismatch', "BSON field 'FindCommandRequest.filter' is the wrong type, expected type 'object'");
  let limit = intOpt(cmd.limit, 'limit', 0);
  let single = cmd.singleBatch === true;
  if (limit < 0) {
    limit = -limit;
    single = true;
  }
  const skip = intOpt(cmd.skip, 'skip', 0);
  if (skip < 0) throw err('BadValue', 'skip value must be non-negative');
  const c = eng.store.coll(db, name);
  const collation = commandCollation(cmd.collation, c);
  const hits = readDocs(eng, c, filter, txn, { sort: cmd.sort, skip, limit, hint: cmd.hint, stats, collation });
  const proj = compileProjection(cmd.projection, filter);
  const docs = proj ? hits.map((h) => proj(h.doc)) : hits.map((h) => h.doc);
  return cursorReply(eng, `${db}.${name}`, docs, cmd.batchSize, single);
}

export function count(eng: EngineState, cmd: Doc, db: string, txn: Txn | null, stats?: ReadStats): Doc {
  const name = collName(cmd, 'count');
  const c = eng.store.coll(db, name);
  const collation = commandCollation(cmd.collation, c);
  const query = (cmd.query as Doc) ?? {};
  const skip = intOpt(cmd.skip, 'skip', 0);
  const limit = Math.abs(intOpt(cmd.limit, 'limit', 0));
  let n: number;
  if (!isPlainObject(query)) throw err('TypeMismatch', "BSON field 'count.query' is the wrong type, expected type 'object'");
  if (Object.keys(query).length === 0 && !txn && c) n = c.docs.size;
  // with a limit, stop reading once skip + limit documents have matched
  else n = eng.store.query(c, query, txn, { hint: cmd.hint, stats, collation, ...(limit ? { limit: skip + limit } : {}) }).length;
  n = Math.max(0, n - skip);
  if (limit) n = Math.min(n, limit);
  return { n, ok: OK() };
}

export function distinct(eng: EngineState, cmd: Doc, db: string, txn: Txn | null): Doc {
  const name = collName(cmd, 'distinct');
  if (typeof cmd.key !== 'string') throw err('TypeMismatch', "BSON field 'distinct.key' is missing but a required field");
  const c = eng.store.coll(db, name);
  const collation = commandCollation(cmd.collation, c);
  const parts = cmd.key.split('.');
  const seen = new Map<string, unknown>();
  for (const h of eng.store.query(c, (cmd.query as Doc) ?? {}, txn, { hint: cmd.hint, collation })) {
    for (const v of pathValues(h.doc, parts)) {
      if (v === undefined) continue;
      const vals = Array.isArray(v) ? v : [v];
      for (const x of vals) {
        const k = keyOf(x);
        if (!seen.has(k)) seen.set(k, x);
      }
    }
  }
  const strings = collation?.compare;
  const sorted = [...seen.values()].sort((a, b) => compareValues(a, b, strings));
  // under a collation, values it holds equal ('abc' and 'ABC' at strength 2) are one distinct value
  const values = strings ? sorted.filter((v, i) => i === 0 || compareValues(sorted[i - 1], v, strings) !== 0) : sorted;
  return { values, ok: OK() };
}

export const readCommands: Record<string, Handler> = {
  find: (eng, cmd, ctx) => find(eng, cmd, ctx.db, ctx.txn),
  count: (eng, cmd, ctx) => count(eng, cmd, ctx.db, ctx.txn),
  distinct: (eng, cmd, ctx) => distinct(eng, cmd, ctx.db, ctx.txn),
};
