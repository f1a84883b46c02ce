// The engine's data: the catalogue (catalog.ts) plus multi-version document state, per-session
// transactions with private workspaces, document locks and write-conflict detection. Reads are in
// store-reads.ts, the data model in store-types.ts, journal replay in store-recovery.ts.
//
// Concurrency model. Everything runs on one event loop, so each command step is atomic. Reads
// outside a transaction see the latest committed state. A transaction reads the snapshot taken
// when it started (the commit clock at that time) overlaid with its own writes; pre-images of
// documents changed while any transaction is open are kept in a per-collection history so those
// snapshots stay readable. A transaction's write locks the document: another transaction writing
// it gets WriteConflict (112, TransientTransactionError) at once, a non-transactional write waits
// until the transaction ends (as on MongoDB). A document changed after the snapshot also makes
// the transaction's write conflict (first committer wins).
import { Catalog } from './catalog';
import type { Collation } from './collation';
import { ServerError, writeConflict } from './errors';
import { type QueryOptions, query, queryOrdered, scanAll, versionAt, visible } from './store-reads';
import { Blocked, type Change, type Collection, type Hit, type ReadStats, Txn, type TxnState, type WriteKind, dupKeyError, noSuchTransaction } from './store-types';
import type { Index } from './indexes';
import { type Doc, bsonTypeName, identical, keyOf } from './values';

/** A key tuple as one string: equal tuples (binary comparison) give equal strings. */
function tupleKey(k: unknown[]): string {
  return k.length === 1 ? keyOf(k[0]) : JSON.stringify(k.map(keyOf));
}

export { Blocked, Collection, Txn, dupKeyError, noSuchTransaction, validateCollectionName, validateDbName } from './store-types';
export type { Change, Hit, JournalSink, ReadStats, TxnState, Version, WriteKind } from './store-types';

const NO_KEYS: unknown[][] = [];

/**
 * Whether a unique index must be searched for another holder of the document's keys. Not the `_id`
 * index when the `_id` is an ObjectId: documents are stored under their `_id`'s key, so the store's
 * own map (and its locks, within transactions) already tells a duplicate, and an ObjectId equals no
 * value of another type (numbers of different types, or strings under a collation, can).
 */
function scansForUnique(ix: Index, doc: Doc): boolean {
  return ix.unique && !(ix.isId && bsonTypeName(doc._id) === 'ObjectId');
}

export class Store extends Catalog {
  clock = 0;
  readonly locks = new Map<string, Txn>();
  readonly activeTxns = new Set<Txn>();
  private minSnapshot = Number.POSITIVE_INFINITY;
  private readonly historyColls = new Set<Collection>();
  txnLifetimeMs = 60_000;
  /** keys and documents every read has examined since start (serverStatus metrics.queryExecutor) */
  readonly readTotals = { keys: 0, docs: 0 };
  /** called after each committed change set (not during recovery) */
  onCommit: ((changes: Change[], txn: Txn | null) => void) | null = null;

  protected override collectionDropping(c: Collection): void {
    for (const t of this.activeTxns) {
      if (t.writes.has(c)) this.abortTxn(t, 'collection dropped');
    }
    this.historyColls.delete(c);
  }

  /** The document with this record key as `txn` (or the latest state) sees it. */
  visible(c: Collection, key: string, txn: Txn | null): Doc | null {
    return visible(c, key, txn);
  }

  /** Documents matching `filter` (under `opts.collation`, null for binary strings), using an index when one fits. */
  query(c: Collection | undefined, filter: Doc, txn: Txn | null, opts: QueryOptions = {}): Hit[] {
    const stats: ReadStats = { keys: 0, docs: 0, index: null };
    try {
      return query(c, filter, txn, { ...opts, stats });
    } finally {
      this.countRead(stats, opts.stats);
    }
  }

  /** The first `limit` matches in index order, or null when no index gives `sort` (see store-reads). */
  queryOrdered(c: Collection | undefined, filter: Doc, sort: { parts: string[]; dir: 1 | -1 }[], limit: number, stats?: ReadStats, collation: Collation | null = null): Hit[] | null {
    const own: ReadStats = { keys: 0, docs: 0, index: null };
    try {
      return queryOrdered(c, filter, sort, limit, own, collation);
    } finally {
      this.countRead(own, stats);
    }
  }

  /** Adds one read's figures to the running totals and to the caller's stats (explain) if any. */
  private countRead(own: ReadStats, into: ReadStats | undefined): void {
    this.readTotals.keys += own.keys;
    this.readTotals.docs += own.docs;
    if (!into) return;
    into.keys += own.keys;
    into.docs += own.docs;
    if (own.index) into.index = own.index;
  }

  /** All documents visible to the reader, in natural order. */
  scanAll(c: Collection | undefined, txn: Txn | null): Generator<Hit> {
    return scanAll(c, txn);
  }

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
      if (!scansForUnique(ix, doc)) continue;
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
    return versionAt(c, key, snapshot)?.doc ?? null;
  }

  /** Applies one committed change (no validation) and records the pre-image for open snapshots. */
  applyCommitted(c: Collection, key: string, doc: Doc | null, ts: number): void {
    const old = c.docs.get(key);
    // NOTE: every key is computed before anything changes (a document that cannot be indexed, with
    // parallel arrays, throws here), and an update leaves the entries of every index whose keys it
    // did not change (most updates touch a field or two of a document indexed several ways).
    const plan = c.indexes.map((ix) => ({ ix, before: old ? ix.keys(old.doc) : NO_KEYS, after: doc ? ix.keys(doc) : NO_KEYS }));
    if (this.needHistory()) {
      let h = c.history.get(key);
      if (!h) c.history.set(key, (h = []));
      h.push({ until: ts, v: old ?? null });
      this.historyColls.add(c);
    }
    for (const p of plan) {
      if (old && doc && identical(p.before, p.after)) continue;
      p.ix.removeKeys(p.before, key);
      p.ix.addKeys(p.after, key);
    }
    if (doc) c.docs.set(key, { doc, ts });
    else c.docs.delete(key);
  }

  /** Writes one document (insert, replace, or delete with doc=null). */
  write(c: Collection, key: string, doc: Doc | null, txn: Txn | null, insert = false, kind?: WriteKind): void {
    if (insert) {
      if (txn && txn.state !== 'active') throw noSuchTransaction(txn);
      if (txn) this.assertUnlocked(c, [key], txn);
      const existing = txn ? visible(c, key, txn) : (c.docs.get(key)?.doc ?? null);
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
        if (!scansForUnique(ix, doc)) continue;
        const own = txn.uniqueKeys.get(ix);
        for (const k of ix.keys(doc)) {
          for (const holder of ix.holders(k, key)) {
            if (ws?.has(holder)) continue; // overwritten in this transaction; checked below
            const hv = c.docs.get(holder)!;
            if (hv.ts > txn.snapshot) throw this.conflict(txn);
            throw dupKeyError(c, ix, k);
          }
          const mine = own?.get(tupleKey(k));
          if (mine !== undefined && mine !== key) throw dupKeyError(c, ix, k);
        }
      }
    }
    this.trackUniqueKeys(c, key, ws?.get(key), doc, txn);
    if (!ws) txn.writes.set(c, (ws = new Map()));
    ws.set(key, doc);
    if (kind) {
      let km = txn.kinds.get(c);
      if (!km) txn.kinds.set(c, (km = new Map()));
      km.set(key, km.get(key) === 'replace' ? 'replace' : kind);
    }
    this.locks.set(lk, txn);
  }

  /**
   * Keeps the transaction's map of the unique keys its own writes hold, so each write checks
   * against them in constant time (scanning every earlier write made a large batch quadratic).
   */
  private trackUniqueKeys(c: Collection, key: string, before: Doc | null | undefined, after: Doc | null, txn: Txn): void {
    for (const ix of c.indexes) {
      const probe = after ?? before;
      if (!probe || !scansForUnique(ix, probe)) continue;
      let own = txn.uniqueKeys.get(ix);
      if (before) {
        for (const k of ix.keys(before)) {
          const t = tupleKey(k);
          if (own?.get(t) === key) own.delete(t);
        }
      }
      if (after) {
        if (!own) txn.uniqueKeys.set(ix, (own = new Map()));
        for (const k of ix.keys(after)) own.set(tupleKey(k), key);
      }
    }
  }

  private conflict(txn: Txn): ServerError {
    this.abortTxn(txn, 'write conflict');
    return writeConflict();
  }

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
}
