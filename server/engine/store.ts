// The engine's data: databases, collections, indexes, multi-version reads for transactions,
// per-session transactions with private workspaces, document locks and write-conflict detection.
//
// Concurrency model. Everything runs on one event loop, so each command step is atomic. Reads
// outside a transaction see the latest committed state. A transaction reads the snapshot taken
// when it started (the commit clock at that time) overlaid with its own writes; pre-images of
// documents changed while any transaction is open are kept in a per-collection history so those
// snapshots stay readable. A transaction's write locks the document: another transaction writing
// it gets WriteConflict (112, TransientTransactionError) at once, a non-transactional write waits
// until the transaction ends (as on MongoDB). A document changed after the snapshot also makes
// the transaction's write conflict (first committer wins).
import { UUID } from 'bson';
import { type Collation, parseCollation } from './collation';
import { ServerError, err, writeConflict } from './errors';
import { type IndexSpec, normalizeIndexSpec, sameIndexOptions } from './index-spec';
import { Index } from './indexes';
import { planOrdered, planQuery } from './planner';
import { compileFilter } from './matcher';
import { type Doc, formatValue, keyOf } from './values';

export interface Version {
  doc: Doc;
  ts: number;
}

interface HistoryEntry {
  until: number;
  v: Version | null;
}

export class Collection {
  readonly docs = new Map<string, Version>();
  indexes: Index[];
  readonly history = new Map<string, HistoryEntry[]>();
  readonly uuid: UUID;
  /** the collection's default collation (create with `collation`), null for simple */
  readonly defaultCollation: Collation | null;

  constructor(
    readonly db: string,
    readonly name: string,
    public options: Doc = {},
    uuid?: UUID,
  ) {
    this.uuid = uuid ?? new UUID();
    this.defaultCollation = parseCollation(options.collation);
    this.indexes = [new Index({ v: 2, key: { _id: 1 }, name: '_id_' })];
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }
}

export type TxnState = 'active' | 'committed' | 'aborted';

export type WriteKind = 'update' | 'replace';

/** One committed document change, as change streams report it. */
export interface Change {
  coll: Collection;
  key: string;
  before: Doc | null;
  after: Doc | null;
  kind?: WriteKind;
}

export class Txn {
  state: TxnState = 'active';
  readonly writes = new Map<Collection, Map<string, Doc | null>>();
  readonly kinds = new Map<Collection, Map<string, WriteKind>>();
  lsid?: Doc;
  readonly ended: Promise<void>;
  private resolveEnded!: () => void;
  timer?: NodeJS.Timeout;
  abortReason?: string;

  constructor(
    readonly sessionKey: string,
    readonly txnNumber: bigint,
    readonly snapshot: number,
  ) {
    this.ended = new Promise((r) => (this.resolveEnded = r));
  }

  end(state: TxnState): void {
    this.state = state;
    if (this.timer) clearTimeout(this.timer);
    this.resolveEnded();
  }
}

/** Thrown when a non-transactional write must wait for a transaction holding a document. */
export class Blocked {
  constructor(readonly until: Promise<void>) {}
}

export interface JournalSink {
  append(rec: Doc): void;
}

export interface ReadStats {
  keys: number;
  docs: number;
  index: string | null;
}

export interface Hit {
  key: string;
  doc: Doc;
}

export function dupKeyError(coll: Collection, ix: Index, k: unknown[]): ServerError {
  const kv = ix.keyValue(k);
  const shown = '{ ' + Object.keys(kv).map((f) => `${f}: ${formatValue(kv[f])}`).join(', ') + ' }';
  return new ServerError('DuplicateKey', `E11000 duplicate key error collection: ${coll.ns} index: ${ix.name} dup key: ${shown}`, {
    keyPattern: { ...ix.spec.key },
    keyValue: kv,
  });
}

export function validateCollectionName(db: string, name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw err('InvalidNamespace', `Invalid namespace specified '${db}.'`);
  if (name.includes('$') || name.includes('\0')) throw err('InvalidNamespace', `Invalid collection name: ${name}`);
  if (name.startsWith('system.') && !['system.js', 'system.views', 'system.profile'].includes(name)) {
    throw err('InvalidNamespace', `Invalid system namespace: ${db}.${name}`);
  }
}

export function validateDbName(db: string): void {
  if (typeof db !== 'string' || db.length === 0 || /[/\\. "$*<>:|?\0]/.test(db) || db.length > 63) {
    throw err('InvalidNamespace', `Invalid database name: '${db}'`);
  }
}

export class Store {
  clock = 0;
  readonly dbs = new Map<string, Map<string, Collection>>();
  readonly locks = new Map<string, Txn>();
  readonly activeTxns = new Set<Txn>();
  private minSnapshot = Number.POSITIVE_INFINITY;
  private readonly historyColls = new Set<Collection>();
  journal: JournalSink | null = null;
  txnLifetimeMs = 60_000;
  /** called after each committed change set (not during recovery) */
  onCommit: ((changes: Change[], txn: Txn | null) => void) | null = null;

  // ------------------------------------------------------------------ catalog
  coll(db: string, name: string): Collection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /** Returns the collection, creating it implicitly (as an insert or createIndexes does). */
  ensureColl(db: string, name: string): Collection {
    const c = this.coll(db, name);
    if (c) return c;
    return this.createCollection(db, name, {});
  }

  createCollection(db: string, name: string, options: Doc, uuid?: UUID, journal = true): Collection {
    validateDbName(db);
    validateCollectionName(db, name);
    if (this.coll(db, name)) throw err('NamespaceExists', `Collection ${db}.${name} already exists.`);
    let colls = this.dbs.get(db);
    if (!colls) this.dbs.set(db, (colls = new Map()));
    const c = new Collection(db, name, options, uuid);
    colls.set(name, c);
    if (journal) this.journal?.append({ op: 'cc', db, coll: name, options, uuid: c.uuid });
    return c;
  }

  dropCollection(db: string, name: string, journal = true): boolean {
    const colls = this.dbs.get(db);
    const c = colls?.get(name);
    if (!colls || !c) return false;
    for (const t of this.activeTxns) {
      if (t.writes.has(c)) this.abortTxn(t, 'collection dropped');
    }
    colls.delete(name);
    this.historyColls.delete(c);
    if (colls.size === 0) this.dbs.delete(db);
    if (journal) this.journal?.append({ op: 'dc', db, coll: name });
    return true;
  }

  dropDatabase(db: string, journal = true): void {
    const colls = this.dbs.get(db);
    if (!colls) return;
    for (const name of [...colls.keys()]) this.dropCollection(db, name, false);
    this.dbs.delete(db);
    if (journal) this.journal?.append({ op: 'dd', db });
  }

  renameCollection(fromDb: string, from: string, toDb: string, to: string, dropTarget: boolean, journal = true): void {
    const src = this.coll(fromDb, from);
    if (!src) throw err('NamespaceNotFound', 'source namespace does not exist');
    validateCollectionName(toDb, to);
    if (this.coll(toDb, to)) {
      if (!dropTarget) throw err('NamespaceExists', 'target namespace exists');
      this.dropCollection(toDb, to, false);
    }
    const dst = this.createCollection(toDb, to, src.options, undefined, false);
    dst.indexes = src.indexes;
    for (const [k, v] of src.docs) dst.docs.set(k, v);
    this.dropCollection(fromDb, from, false);
    if (journal) this.journal?.append({ op: 'rc', fromDb, from, toDb, to, dropTarget });
  }

  /** Creates an index; returns false if an identical one exists. */
  createIndex(c: Collection, raw: Doc, journal = true): boolean {
    const spec = normalizeIndexSpec(raw, c.defaultCollation);
    for (const ix of c.indexes) {
      const sameKey = keyOf(ix.spec.key) === keyOf(spec.key);
      if (ix.name === spec.name) {
        if (sameKey && sameIndexOptions(ix.spec, spec)) return false;
        if (ix.isId && sameKey) return false;
        throw err(
          'IndexKeySpecsConflict',
          `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${formatValue(spec)}, existing index: ${formatValue(ix.spec)}`,
        );
      }
      // the same key pattern under another collation is another index (as on mongod)
      if (sameKey && keyOf(ix.spec.partialFilterExpression ?? null) === keyOf(spec.partialFilterExpression ?? null) && keyOf(ix.spec.collation ?? null) === keyOf(spec.collation ?? null)) {
        if (sameIndexOptions(ix.spec, spec)) {
          throw err('IndexOptionsConflict', `Index already exists with a different name: ${ix.name}`);
        }
        throw err('IndexOptionsConflict', `An equivalent index already exists with the same name but different options. Requested index: ${formatValue(spec)}, existing index: ${formatValue(ix.spec)}`);
      }
    }
    const ix = new Index(spec);
    for (const [id, v] of c.docs) {
      for (const k of ix.keys(v.doc)) {
        if (ix.unique) {
          for (const _h of ix.holders(k, id)) throw dupKeyError(c, ix, k);
        }
        ix.list.insert({ k, id });
      }
    }
    c.indexes.push(ix);
    if (journal) this.journal?.append({ op: 'ci', db: c.db, coll: c.name, spec: spec as unknown as Doc });
    return true;
  }

  dropIndex(c: Collection, name: string, journal = true): void {
    const i = c.indexes.findIndex((x) => x.name === name);
    if (i < 0) throw err('IndexNotFound', `index not found with name [${name}]`);
    if (c.indexes[i]!.isId) throw err('InvalidOptions', 'cannot drop _id index');
    c.indexes.splice(i, 1);
    if (journal) this.journal?.append({ op: 'di', db: c.db, coll: c.name, name });
  }

  indexSpecs(c: Collection): IndexSpec[] {
    return c.indexes.map((i) => i.spec);
  }

  // ------------------------------------------------------------------ reads
  private versionAt(c: Collection, key: string, snapshot: number): Version | null {
    const h = c.history.get(key);
    if (h) for (const e of h) if (e.until > snapshot) return e.v;
    return c.docs.get(key) ?? null;
  }

  /** The document with this record key as `txn` (or the latest state) sees it. */
  visible(c: Collection, key: string, txn: Txn | null): Doc | null {
    if (!txn) return c.docs.get(key)?.doc ?? null;
    const ws = txn.writes.get(c);
    if (ws?.has(key)) return ws.get(key) ?? null;
    return this.versionAt(c, key, txn.snapshot)?.doc ?? null;
  }

  /** Record ids an index can narrow the filter to (a superset), or null for a collection scan. */
  private candidates(c: Collection, filter: Doc, hint: unknown, collation: Collation | null, stats?: ReadStats): Iterable<string> | null {
    const plan = planQuery(filter, c.indexes, hint, collation);
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
    // {$or: [...]} where every branch (with the rest of the filter) has an index: union of scans
    const or = filter.$or;
    if ((hint === undefined || hint === null) && Array.isArray(or) && or.length > 0 && or.length <= 64) {
      const rest: Doc = { ...filter };
      delete rest.$or;
      const plans = or.map((branch) => planQuery({ $and: [rest, branch as Doc] }, c.indexes, undefined, collation));
      if (plans.every((p) => p !== null)) {
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
    return null;
  }

  /**
   * The first `limit` matches in `sort` order read straight off an index, or null when no index
   * gives that order (the caller then sorts in memory). Not used inside transactions.
   */
  queryOrdered(c: Collection | undefined, filter: Doc, sort: { parts: string[]; dir: 1 | -1 }[], limit: number, stats?: ReadStats, collation: Collation | null = null): Hit[] | null {
    // parse first: an invalid filter is refused even when the collection does not exist (as mongod)
    const pred = compileFilter(filter, { collation });
    if (!c) return [];
    const op = planOrdered(filter, sort.map((k) => ({ path: k.parts.join('.'), dir: k.dir })), c.indexes, collation);
    if (!op) return null;
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

  /** Documents matching `filter` (under `opts.collation`, null for binary strings), using an index when one fits. */
  query(c: Collection | undefined, filter: Doc, txn: Txn | null, opts: { hint?: unknown; stats?: ReadStats; limit?: number; collation?: Collation | null } = {}): Hit[] {
    const collation = opts.collation ?? null;
    const pred = compileFilter(filter, { collation });
    if (!c) return [];
    const stats = opts.stats;
    const cand = this.candidates(c, filter, opts.hint, collation, stats);
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
      if (!consider(key, this.visible(c, key, txn))) break;
    }
    return out;
  }

  /** All documents visible to the reader, in natural order. */
  *scanAll(c: Collection | undefined, txn: Txn | null): Generator<Hit> {
    if (!c) return;
    if (!txn) {
      for (const [key, v] of c.docs) yield { key, doc: v.doc };
      return;
    }
    for (const h of this.query(c, {}, txn)) yield h;
  }

  // ------------------------------------------------------------------ writes
  private lockKey(c: Collection, key: string): string {
    return `${c.ns}\u0000${key}`;
  }

  /** Throws Blocked if a transaction other than `txn` holds any of these documents. */
  assertUnlocked(c: Collection, keys: Iterable<string>, txn: Txn | null): void {
    if (this.locks.size === 0) return;
    for (const k of keys) {
      const owner = this.locks.get(this.lockKey(c, k));
      if (owner && owner !== txn && owner.state === 'active') {
        if (txn) throw writeConflict();
        throw new Blocked(owner.ended);
      }
    }
  }

  private checkUniqueCommitted(c: Collection, key: string, doc: Doc, ignore?: Map<string, Doc | null>): void {
    for (const ix of c.indexes) {
      if (!ix.unique) continue;
      for (const k of ix.keys(doc)) {
        for (const holder of ix.holders(k, key)) {
          if (ignore?.has(holder)) continue;
          throw dupKeyError(c, ix, k);
        }
      }
    }
  }

  private needHistory(): boolean {
    return this.activeTxns.size > 0 || this.pins.size > 0;
  }

  private readonly pins = new Set<{ snapshot: number }>();

  /**
   * Keeps the committed state as of now readable (pre-images of later changes are kept) until
   * released: how a snapshot is written out over many event-loop turns while writes go on.
   */
  pin(): { snapshot: number; release(): void } {
    const p = { snapshot: this.clock };
    this.pins.add(p);
    this.minSnapshot = Math.min(this.minSnapshot, p.snapshot);
    return {
      snapshot: p.snapshot,
      release: () => {
        if (this.pins.delete(p)) this.gcHistory();
      },
    };
  }

  /** The committed document for a record key as of a pinned snapshot. */
  versionAtPin(c: Collection, key: string, snapshot: number): Doc | null {
    return this.versionAt(c, key, snapshot)?.doc ?? null;
  }

  /** Applies one committed change (no validation) and records the pre-image for open snapshots. */
  private applyCommitted(c: Collection, key: string, doc: Doc | null, ts: number): void {
    const old = c.docs.get(key);
    if (this.needHistory()) {
      let h = c.history.get(key);
      if (!h) c.history.set(key, (h = []));
      h.push({ until: ts, v: old ?? null });
      this.historyColls.add(c);
    }
    if (old) for (const ix of c.indexes) ix.remove(old.doc, key);
    if (doc) {
      c.docs.set(key, { doc, ts });
      try {
        for (const ix of c.indexes) ix.add(doc, key);
      } catch (e) {
        // cannot index (parallel arrays): undo
        for (const ix of c.indexes) ix.remove(doc, key);
        if (old) {
          c.docs.set(key, old);
          for (const ix of c.indexes) ix.add(old.doc, key);
        } else c.docs.delete(key);
        throw e;
      }
    } else c.docs.delete(key);
  }

  /** Writes one document (insert, replace, or delete with doc=null). */
  write(c: Collection, key: string, doc: Doc | null, txn: Txn | null, insert = false, kind?: WriteKind): void {
    if (insert) {
      if (txn && txn.state !== 'active') throw noSuchTransaction(txn);
      if (txn) this.assertUnlocked(c, [key], txn);
      const existing = txn ? this.visible(c, key, txn) : (c.docs.get(key)?.doc ?? null);
      if (existing) throw dupKeyError(c, c.indexes[0]!, [existing._id]);
    }
    if (doc) {
      // validate keys can be built (parallel arrays) before anything changes
      for (const ix of c.indexes) ix.keys(doc);
    }
    if (!txn) {
      this.assertUnlocked(c, [key], null);
      if (doc) this.checkUniqueCommitted(c, key, doc);
      const before = c.docs.get(key)?.doc ?? null;
      if (!doc && !before) return;
      const ts = ++this.clock;
      this.applyCommitted(c, key, doc, ts);
      this.journal?.append({ op: 'w', ops: [doc ? { db: c.db, coll: c.name, d: doc } : { db: c.db, coll: c.name, id: before!._id }] });
      this.onCommit?.([{ coll: c, key, before, after: doc, kind }], null);
      return;
    }
    if (txn.state !== 'active') throw noSuchTransaction(txn);
    let ws = txn.writes.get(c);
    const lk = this.lockKey(c, key);
    const owner = this.locks.get(lk);
    if (owner && owner !== txn && owner.state === 'active') throw this.conflict(txn);
    if (!ws?.has(key)) {
      const cur = c.docs.get(key);
      if (cur && cur.ts > txn.snapshot) throw this.conflict(txn);
      const h = c.history.get(key);
      if (h && h.some((e) => e.until > txn.snapshot)) throw this.conflict(txn);
    }
    if (doc) {
      for (const ix of c.indexes) {
        if (!ix.unique) continue;
        for (const k of ix.keys(doc)) {
          for (const holder of ix.holders(k, key)) {
            if (ws?.has(holder)) continue; // overwritten in this transaction; checked below
            const hv = c.docs.get(holder)!;
            if (hv.ts > txn.snapshot) throw this.conflict(txn);
            throw dupKeyError(c, ix, k);
          }
          if (ws) {
            for (const [wk, wd] of ws) {
              if (wk === key || !wd) continue;
              for (const k2 of ix.keys(wd)) {
                if (k2.length === k.length && k2.every((v, i) => keyOf(v) === keyOf(k[i]))) throw dupKeyError(c, ix, k);
              }
            }
          }
        }
      }
    }
    if (!ws) txn.writes.set(c, (ws = new Map()));
    ws.set(key, doc);
    if (kind) {
      let km = txn.kinds.get(c);
      if (!km) txn.kinds.set(c, (km = new Map()));
      km.set(key, km.get(key) === 'replace' ? 'replace' : kind);
    }
    this.locks.set(lk, txn);
  }

  private conflict(txn: Txn): ServerError {
    this.abortTxn(txn, 'write conflict');
    return writeConflict();
  }

  // ------------------------------------------------------------------ transactions
  beginTxn(sessionKey: string, txnNumber: bigint): Txn {
    const t = new Txn(sessionKey, txnNumber, this.clock);
    this.activeTxns.add(t);
    this.minSnapshot = Math.min(this.minSnapshot, t.snapshot);
    if (this.txnLifetimeMs > 0) {
      t.timer = setTimeout(() => this.abortTxn(t, 'transaction lifetime limit exceeded'), this.txnLifetimeMs);
      t.timer.unref?.();
    }
    return t;
  }

  private finishTxn(t: Txn, state: TxnState): void {
    for (const [c, ws] of t.writes) {
      for (const key of ws.keys()) {
        const lk = this.lockKey(c, key);
        if (this.locks.get(lk) === t) this.locks.delete(lk);
      }
    }
    this.activeTxns.delete(t);
    t.end(state);
    this.gcHistory();
  }

  abortTxn(t: Txn, reason = 'aborted'): void {
    if (t.state !== 'active') return;
    t.abortReason = reason;
    this.finishTxn(t, 'aborted');
  }

  commitTxn(t: Txn): void {
    if (t.state !== 'active') throw noSuchTransaction(t);
    // unique keys taken by others since our writes were checked
    for (const [c, ws] of t.writes) {
      for (const [key, doc] of ws) {
        if (!doc) continue;
        try {
          this.checkUniqueCommitted(c, key, doc, ws);
        } catch (e) {
          this.abortTxn(t, 'unique key conflict at commit');
          if (e instanceof ServerError && e.code === 11000) throw writeConflict();
          throw e;
        }
      }
    }
    const ts = ++this.clock;
    const ops: Doc[] = [];
    const changes: Change[] = [];
    // deletes first so a unique key can move between documents inside one transaction
    for (const pass of [0, 1]) {
      for (const [c, ws] of t.writes) {
        for (const [key, doc] of ws) {
          if ((pass === 0) !== (doc === null)) continue;
          const before = c.docs.get(key)?.doc ?? null;
          if (!doc && !before) continue;
          this.applyCommitted(c, key, doc, ts);
          ops.push(doc ? { db: c.db, coll: c.name, d: doc } : { db: c.db, coll: c.name, id: before!._id });
          changes.push({ coll: c, key, before, after: doc, kind: t.kinds.get(c)?.get(key) });
        }
      }
    }
    if (ops.length) this.journal?.append({ op: 'w', ops });
    if (changes.length) this.onCommit?.(changes, t);
    this.finishTxn(t, 'committed');
  }

  private gcHistory(): void {
    let min = Number.POSITIVE_INFINITY;
    for (const t of this.activeTxns) min = Math.min(min, t.snapshot);
    for (const p of this.pins) min = Math.min(min, p.snapshot);
    if (this.historyColls.size === 0) {
      this.minSnapshot = min;
      return;
    }
    this.minSnapshot = min;
    for (const c of [...this.historyColls]) {
      if (min === Number.POSITIVE_INFINITY) c.history.clear();
      else {
        for (const [k, h] of c.history) {
          const keep = h.filter((e) => e.until > min);
          if (keep.length === 0) c.history.delete(k);
          else if (keep.length !== h.length) c.history.set(k, keep);
        }
      }
      if (c.history.size === 0) this.historyColls.delete(c);
    }
  }

  // ------------------------------------------------------------------ recovery
  /** Applies a journal record during recovery (no validation, no journaling). */
  replay(rec: Doc): void {
    switch (rec.op) {
      case 'w': {
        const ts = ++this.clock;
        for (const o of rec.ops as Doc[]) {
          const db = o.db as string;
          const name = o.coll as string;
          const c = this.coll(db, name) ?? this.createCollection(db, name, {}, undefined, false);
          if (o.d) {
            const d = o.d as Doc;
            this.applyCommitted(c, keyOf(d._id), d, ts);
          } else if (o.id !== undefined) this.applyCommitted(c, keyOf(o.id), null, ts);
        }
        return;
      }
      case 'cc':
        if (!this.coll(rec.db as string, rec.coll as string)) this.createCollection(rec.db as string, rec.coll as string, (rec.options as Doc) ?? {}, rec.uuid as UUID, false);
        return;
      case 'dc':
        this.dropCollection(rec.db as string, rec.coll as string, false);
        return;
      case 'dd':
        this.dropDatabase(rec.db as string, false);
        return;
      case 'rc':
        if (this.coll(rec.fromDb as string, rec.from as string)) {
          this.renameCollection(rec.fromDb as string, rec.from as string, rec.toDb as string, rec.to as string, !!rec.dropTarget, false);
        }
        return;
      case 'ci': {
        const c = this.ensureCollNoJournal(rec.db as string, rec.coll as string);
        try {
          this.createIndex(c, rec.spec as Doc, false);
        } catch {
          /* an index that failed at the time was never journaled; ignore */
        }
        return;
      }
      case 'di': {
        const c = this.coll(rec.db as string, rec.coll as string);
        if (c && c.indexes.some((i) => i.name === rec.name)) this.dropIndex(c, rec.name as string, false);
        return;
      }
    }
  }

  ensureCollNoJournal(db: string, name: string): Collection {
    return this.coll(db, name) ?? this.createCollection(db, name, {}, undefined, false);
  }

  /** Loads a collection's documents from a snapshot (indexes are built by the caller). */
  loadDocs(c: Collection, docs: Doc[]): void {
    for (const d of docs) {
      const key = keyOf(d._id);
      c.docs.set(key, { doc: d, ts: 0 });
      for (const ix of c.indexes) ix.add(d, key);
    }
  }
}

export function noSuchTransaction(t: Txn | { txnNumber: bigint }): ServerError {
  const reason = t instanceof Txn && t.abortReason ? ` (${t.abortReason})` : '';
  return new ServerError('NoSuchTransaction', `Transaction with { txnNumber: ${t.txnNumber} } has been aborted.${reason}`, {}, ['TransientTransactionError']);
}

export function recordKey(id: unknown): string {
  return keyOf(id);
}
