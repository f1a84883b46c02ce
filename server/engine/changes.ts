// Change streams: a bounded in-memory log of committed changes (what mongod reads from its
// oplog) and the cursors that follow it. Events carry resume tokens that encode their position,
// so a client can resume with resumeAfter/startAfter/startAtOperationTime as long as the event is
// still in the log (the last MAX_EVENTS changes; the log starts empty at each start of the engine).
import { Long, Timestamp } from 'bson';
import { Aggregator } from 'mingo/aggregator';
import { OK, intOpt, newCursorId } from './cmd-util';
import { err, notSupported } from './errors';
import { mingoOptions } from './mingo-ctx';
import type { ReplSet } from './replset';
import type { Change, Store, Txn } from './store';
import { type Doc, fromMingo, identical, isPlainObject, setField, toMingo } from './values';

const MAX_EVENTS = 100_000;

type Op = 'insert' | 'update' | 'replace' | 'delete' | 'drop' | 'rename' | 'dropDatabase';

interface Event {
  seq: number;
  ts: Timestamp;
  wall: Date;
  op: Op;
  db: string;
  coll?: string;
  key?: string;
  before?: Doc | null;
  after?: Doc | null;
  to?: { db: string; coll: string };
  lsid?: Doc;
  txnNumber?: Long;
}

export class ChangeLog {
  private events: Event[] = [];
  private seq = 0;
  private waiters = new Set<() => void>();

  constructor(private readonly repl: ReplSet) {}

  get lastSeq(): number {
    return this.seq;
  }

  /** seq of the oldest event still held (lastSeq + 1 when empty) */
  get firstSeq(): number {
    return this.events.length ? this.events[0]!.seq : this.seq + 1;
  }

  get(seq: number): Event | undefined {
    const first = this.events[0];
    return first ? this.events[seq - first.seq] : undefined;
  }

  /** The first event at or after an operation time. */
  seqAt(ts: Timestamp): number {
    for (const e of this.events) if (e.ts.compare(ts) >= 0) return e.seq;
    return this.seq + 1;
  }

  record(changes: Change[], txn: Txn | null): void {
    const ts = this.repl.tick();
    const wall = new Date();
    for (const c of changes) {
      const op: Op = !c.before ? 'insert' : !c.after ? 'delete' : c.kind === 'replace' ? 'replace' : 'update';
      const e: Event = { seq: ++this.seq, ts, wall, op, db: c.coll.db, coll: c.coll.name, key: c.key, before: c.before, after: c.after };
      if (txn) {
        e.lsid = txn.lsid;
        e.txnNumber = Long.fromBigInt(txn.txnNumber);
      }
      this.push(e);
    }
    this.wake();
  }

  catalog(c: { op: 'drop' | 'rename' | 'dropDatabase'; db: string; coll?: string; to?: { db: string; coll: string } }): void {
    this.push({ seq: ++this.seq, ts: this.repl.tick(), wall: new Date(), ...c });
    this.wake();
  }

  private push(e: Event): void {
    this.events.push(e);
    if (this.events.length > MAX_EVENTS * 1.5) this.events = this.events.slice(this.events.length - MAX_EVENTS);
  }

  private wake(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  /** Resolves on the next recorded change or after `ms`. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.waiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  close(): void {
    this.wake();
  }
}

// ---------------------------------------------------------------------------------------------
// resume tokens: {_data: hex(t 8, i 8, seq 16, invalidate flag 2)}
function token(e: { ts: Timestamp; seq: number }, invalidate = false): Doc {
  const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
  return { _data: `${hex(e.ts.high >>> 0, 8)}${hex(e.ts.low >>> 0, 8)}${hex(e.seq, 16)}${invalidate ? '01' : '00'}`.toUpperCase() };
}

function parseToken(t: unknown): { seq: number; invalidate: boolean } {
  const data = isPlainObject(t) ? t._data : undefined;
  if (typeof data !== 'string' || !/^[0-9A-Fa-f]{34}$/.test(data)) throw err(260, 'Invalid resume token: not a token this server issued');
  return { seq: Number.parseInt(data.slice(16, 32), 16), invalidate: data.slice(32) === '01' };
}

/** updatedFields/removedFields between two versions (nested documents as dotted paths; arrays whole). */
function diff(before: Doc, after: Doc, prefix: string, updated: Doc, removed: string[]): void {
  for (const k of Object.keys(after)) {
    const path = prefix + k;
    const has = Object.prototype.hasOwnProperty.call(before, k);
    const a = after[k];
    const b = has ? before[k] : undefined;
    if (has && isPlainObject(a) && isPlainObject(b)) diff(b, a, path + '.', updated, removed);
    else if (!has || !identical(a, b)) setField(updated, path, a);
  }
  for (const k of Object.keys(before)) if (!Object.prototype.hasOwnProperty.call(after, k)) removed.push(prefix + k);
}

const ALLOWED_STAGES = new Set(['$match', '$project', '$addFields', '$set', '$unset', '$replaceRoot', '$replaceWith', '$redact']);
const FULL_DOC = new Set(['default', 'updateLookup', 'whenAvailable', 'required']);
const BEFORE_DOC = new Set(['off', 'whenAvailable', 'required']);

/** What a change stream reads: the current documents (updateLookup), the log and the set's clock. */
export interface StreamSources {
  readonly store: Store;
  readonly changes: ChangeLog;
  readonly repl: ReplSet;
}

/** Where an opened stream is registered as a cursor (the engine's cursor table). */
export interface StreamHost extends StreamSources {
  readonly cursors: Map<string, { id: Long; ns: string; docs: Doc[]; pos: number; lastUse: number; stream?: ChangeStream }>;
}

type Scope = { kind: 'coll'; db: string; coll: string } | { kind: 'db'; db: string } | { kind: 'cluster' };

export class ChangeStream {
  closed = false;

  constructor(
    private readonly eng: StreamSources,
    private readonly scope: Scope,
    private pos: number,
    private readonly fullDocument: string,
    private readonly beforeChange: string,
    private readonly agg: Aggregator | null,
  ) {}

  private inScope(e: Event): boolean {
    const s = this.scope;
    if (s.kind === 'cluster') return !['admin', 'config', 'local'].includes(e.db);
    if (e.db !== s.db) return false;
    if (s.kind === 'db') return true;
    return e.op === 'dropDatabase' || e.coll === s.coll;
  }

  private invalidates(e: Event): boolean {
    const s = this.scope;
    if (s.kind === 'cluster') return false;
    if (s.kind === 'db') return e.op === 'dropDatabase';
    return e.op === 'drop' || e.op === 'rename' || e.op === 'dropDatabase';
  }

  private render(e: Event): Doc {
    const d: Doc = { _id: token(e), operationType: e.op, clusterTime: e.ts, wallTime: e.wall };
    if (e.op === 'insert' || e.op === 'replace') d.fullDocument = e.after;
    else if (e.op === 'update') {
      if (this.fullDocument === 'updateLookup') d.fullDocument = this.eng.store.coll(e.db, e.coll!)?.docs.get(e.key!)?.doc ?? null;
      else if (this.fullDocument !== 'default') d.fullDocument = e.after;
    }
    d.ns = e.coll === undefined ? { db: e.db } : { db: e.db, coll: e.coll };
    if (e.to) d.to = e.to;
    const doc = e.after ?? e.before;
    if (doc) d.documentKey = { _id: doc._id };
    if (e.op === 'update') {
      const updatedFields: Doc = {};
      const removedFields: string[] = [];
      diff(e.before!, e.after!, '', updatedFields, removedFields);
      d.updateDescription = { updatedFields, removedFields, truncatedArrays: [] };
    }
    if (this.beforeChange !== 'off' && (e.op === 'update' || e.op === 'replace' || e.op === 'delete')) d.fullDocumentBeforeChange = e.before;
    if (e.txnNumber) {
      d.txnNumber = e.txnNumber;
      if (e.lsid) d.lsid = e.lsid;
    }
    return d;
  }

  resumeToken(): Doc {
    const e = this.eng.changes.get(this.pos);
    return token(e ?? { ts: this.eng.repl.opTime, seq: this.pos });
  }

  /** Up to `max` events after the stream's position; waits up to `waitMs` when there are none. */
  async next(max: number, waitMs: number): Promise<{ docs: Doc[]; token: Doc; closed: boolean }> {
    let docs = this.collect(max);
    if (docs.length === 0 && !this.closed && waitMs > 0) {
      const until = Date.now() + waitMs;
      while (docs.length === 0 && !this.closed && Date.now() < until) {
        await this.eng.changes.wait(until - Date.now());
        docs = this.collect(max);
      }
    }
    return { docs, token: this.resumeToken(), closed: this.closed };
  }

  collect(max: number): Doc[] {
    const log = this.eng.changes;
    if (this.closed) return [];
    if (this.pos + 1 < log.firstSeq) {
      throw err(286, 'Resume of change stream was not possible, as the resume point may no longer be in the oplog.');
    }
    const out: Doc[] = [];
    while (this.pos < log.lastSeq && out.length < max) {
      const e = log.get(++this.pos)!;
      if (!this.inScope(e)) continue;
      let doc: Doc | undefined = this.render(e);
      if (this.agg) {
        const r = this.agg.run([toMingo(doc) as Doc]) as Doc[];
        doc = r[0] ? (fromMingo(r[0]) as Doc) : undefined;
      }
      if (doc) out.push(doc);
      if (this.invalidates(e)) {
        out.push({ _id: token(e, true), operationType: 'invalidate', clusterTime: e.ts, wallTime: e.wall });
        this.closed = true;
        break;
      }
    }
    return out;
  }

  close(): void {
    this.closed = true;
  }
}

/** aggregate with a leading $changeStream stage. */
export function openChangeStream(eng: StreamHost, cmd: Doc, db: string, stages: Doc[], inTxn: boolean): Doc {
  if (inTxn) throw err('OperationNotSupportedInTransaction', 'Operation not permitted in transaction :: caused by :: $changeStream');
  const spec = stages[0]!.$changeStream;
  if (!isPlainObject(spec)) throw err(50808, '$changeStream stage expects a document as argument');
  for (const k of Object.keys(spec)) {
    if (!['fullDocument', 'fullDocumentBeforeChange', 'resumeAfter', 'startAfter', 'startAtOperationTime', 'allChangesForCluster', 'showExpandedEvents'].includes(k)) {
      throw err(40415, `BSON field '$changeStream.${k}' is an unknown field.`);
    }
  }
  const fullDocument = (spec.fullDocument as string | undefined) ?? 'default';
  if (!FULL_DOC.has(fullDocument)) throw err('BadValue', `'${fullDocument}' is not a valid value for fullDocument`);
  const beforeChange = (spec.fullDocumentBeforeChange as string | undefined) ?? 'off';
  if (!BEFORE_DOC.has(beforeChange)) throw err('BadValue', `'${beforeChange}' is not a valid value for fullDocumentBeforeChange`);
  if (spec.showExpandedEvents) throw notSupported('change stream showExpandedEvents');
  const rest = stages.slice(1);
  for (const st of rest) {
    const n = Object.keys(st)[0]!;
    if (!ALLOWED_STAGES.has(n)) throw err('IllegalOperation', `${n} is not permitted in a $changeStream pipeline`);
  }
  let scope: Scope;
  let ns: string;
  if (typeof cmd.aggregate === 'string') {
    scope = { kind: 'coll', db, coll: cmd.aggregate };
    ns = `${db}.${cmd.aggregate}`;
  } else if (spec.allChangesForCluster) {
    if (db !== 'admin') throw err(ErrorCodesInvalidOptions, "$changeStream may only be run on the 'admin' database if allChangesForCluster is true");
    scope = { kind: 'cluster' };
    ns = 'admin.$cmd.aggregate';
  } else {
    if (db === 'admin') throw err(ErrorCodesInvalidOptions, "$changeStream on the 'admin' database requires allChangesForCluster: true");
    scope = { kind: 'db', db };
    ns = `${db}.$cmd.aggregate`;
  }
  const log = eng.changes;
  const starts = ['resumeAfter', 'startAfter', 'startAtOperationTime'].filter((k) => spec[k] !== undefined);
  if (starts.length > 1) throw err(40674, 'Only one type of resume option is allowed, but multiple were found.');
  let pos = log.lastSeq;
  if (spec.resumeAfter !== undefined || spec.startAfter !== undefined) {
    const t = parseToken(spec.resumeAfter ?? spec.startAfter);
    if (t.invalidate && spec.resumeAfter !== undefined) {
      throw err(260, "Attempting to resume a change stream using 'resumeAfter' is not allowed from an invalidate notification.");
    }
    pos = t.seq;
  } else if (spec.startAtOperationTime !== undefined) {
    if (!(spec.startAtOperationTime instanceof Timestamp)) throw err('TypeMismatch', 'startAtOperationTime must be a Timestamp');
    pos = log.seqAt(spec.startAtOperationTime) - 1;
  }
  if (pos > log.lastSeq) throw err(260, 'Invalid resume token: it is ahead of this server');
  const agg = rest.length ? new Aggregator(rest, mingoOptions()) : null;
  const stream = new ChangeStream(eng, scope, pos, fullDocument, beforeChange, agg);
  const batchSize = intOpt((cmd.cursor as Doc | undefined)?.batchSize, 'batchSize', 101);
  const first = stream.collect(batchSize);
  const id = stream.closed ? Long.ZERO : newCursorId();
  if (!stream.closed) eng.cursors.set(id.toString(), { id, ns, docs: [], pos: 0, lastUse: Date.now(), stream });
  return { cursor: { firstBatch: first, postBatchResumeToken: stream.resumeToken(), id, ns }, ok: OK() };
}

const ErrorCodesInvalidOptions = 72;
