// Command execution: every database command the MongoDB Node driver and Mongoose send, with
// sessions, transactions, cursors and MongoDB-shaped replies and errors.
import { Binary, Double, Long, ObjectId, calculateObjectSize } from 'bson';
import { Aggregator } from 'mingo/aggregator';
import { CODES, ServerError, err, notSupported, toServerError } from './errors';
import { pathValues, compileFilter } from './matcher';
import { mingoOptions } from './mingo-ctx';
import { checkPipeline } from './pipeline-check';
import { cameInLargeMessage } from './wire';
import { compileProjection } from './projection';
import { parseSort, sortDocs } from './sorting';
import { Blocked, type Collection, type Hit, type ReadStats, Store, type Txn, noSuchTransaction } from './store';
import { applyUpdate, buildUpsert } from './update';
import { type Doc, Bound, RANK, compareValues, fromMingo, identical, isNumeric, isPlainObject, keyOf, toMingo, toNumber } from './values';

export const SERVER_VERSION = '7.0.0';
export const MAX_WIRE_VERSION = 21;
const MAX_BSON = 16 * 1024 * 1024;
const MAX_MSG = 48_000_000;
const MAX_BATCH = 100_000;
const SESSION_TIMEOUT_MIN = 30;
const CURSOR_TIMEOUT_MS = 10 * 60 * 1000;

export interface ConnInfo {
  id: number;
  remote: string;
}

interface Cursor {
  id: Long;
  ns: string;
  docs: Doc[];
  pos: number;
  lastUse: number;
}

interface Session {
  key: string;
  txnNumber: bigint | null;
  txn: Txn | null;
  lastUse: number;
}

export interface EngineHooks {
  /** resolves when everything journaled so far is as durable as the fsync policy promises (force: fsynced) */
  durable(force?: boolean): Promise<void>;
  port(): number;
}

const OK = () => new Double(1);

const TXN_ALLOWED = new Set([
  'find',
  'getMore',
  'killCursors',
  'insert',
  'update',
  'delete',
  'findAndModify',
  'findandmodify',
  'aggregate',
  'distinct',
  'count',
  'create',
  'createIndexes',
  'commitTransaction',
  'abortTransaction',
  'bulkWrite',
  'listCollections',
  'listIndexes',
]);

const AUTH_COMMANDS = new Set([
  'saslStart',
  'saslContinue',
  'authenticate',
  'getnonce',
  'createUser',
  'updateUser',
  'dropUser',
  'dropAllUsersFromDatabase',
  'usersInfo',
  'grantRolesToUser',
  'revokeRolesFromUser',
  'createRole',
  'dropRole',
  'rolesInfo',
]);

const REPL_COMMANDS = new Set([
  'replSetGetStatus',
  'replSetInitiate',
  'replSetReconfig',
  'replSetGetConfig',
  'replSetStepDown',
  'replSetFreeze',
  'replSetSyncFrom',
  'appendOplogNote',
]);


function checkUpdatedSize(doc: Doc): Doc {
  if (calculateObjectSize(doc) > MAX_BSON) throw err('BSONObjectTooLarge', `Resulting document after update is larger than ${MAX_BSON}`);
  return doc;
}

function checkUpsertSize(doc: Doc): Doc {
  if (calculateObjectSize(doc) > MAX_BSON) throw err(17420, `Document to upsert is larger than ${MAX_BSON}`);
  return doc;
}

function sessionKeyOf(lsid: unknown): string {
  const id = (lsid as Doc | undefined)?.id;
  if (id && typeof id === 'object' && 'buffer' in (id as object)) return Buffer.from((id as Binary).buffer).toString('hex');
  return keyOf(id);
}

function toBig(v: unknown): bigint {
  if (v instanceof Long) return v.toBigInt();
  return BigInt(Math.trunc(toNumber(v)));
}

function intOpt(v: unknown, name: string, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (!isNumeric(v)) throw err('TypeMismatch', `Field '${name}' should be numeric`);
  const n = Math.trunc(toNumber(v));
  return n;
}

function collName(cmd: Doc, field: string): string {
  const v = cmd[field];
  if (typeof v !== 'string') {
    throw err('InvalidNamespace', `collection name has invalid type ${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v}`);
  }
  return v;
}

/**
 * countDocuments() sends [$match, ($skip, $limit,) {$group: {_id: <constant>, n: {$sum: 1}}}]:
 * answer it without materialising the documents for mingo.
 */
function countOnly(stages: Doc[], total: number): Doc[] | null {
  let n = total;
  for (let i = 0; i < stages.length; i++) {
    const st = stages[i]!;
    if ('$skip' in st && isNumeric(st.$skip)) n = Math.max(0, n - toNumber(st.$skip));
    else if ('$limit' in st && isNumeric(st.$limit)) n = Math.min(n, toNumber(st.$limit));
    else if ('$group' in st && i === stages.length - 1) {
      const g = st.$group as Doc;
      const keys = Object.keys(g);
      if (keys.length !== 2 || !('_id' in g)) return null;
      const id = g._id;
      if (id !== null && (typeof id === 'string' ? id.startsWith('$') : typeof id === 'object')) return null;
      const field = keys.find((k) => k !== '_id')!;
      const acc = g[field] as Doc;
      if (!isPlainObject(acc) || Object.keys(acc).length !== 1 || !isNumeric(acc.$sum) || toNumber(acc.$sum) !== 1) return null;
      return n === 0 ? [] : [{ _id: id, [field]: n }];
    } else return null;
  }
  return null;
}

export class Engine {
  readonly store = new Store();
  private cursors = new Map<string, Cursor>();
  private sessions = new Map<string, Session>();
  private readonly startedAt = Date.now();
  private sweeper: NodeJS.Timeout;
  private ttlTimer: NodeJS.Timeout | null = null;
  hooks: EngineHooks = { durable: async () => undefined, port: () => 0 };
  log: (msg: string) => void = () => undefined;

  constructor(opts: { ttlIntervalMs?: number } = {}) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
    const ttl = opts.ttlIntervalMs ?? 60_000;
    if (ttl > 0) {
      this.ttlTimer = setInterval(() => this.ttlPass(), ttl);
      this.ttlTimer.unref();
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    if (this.ttlTimer) clearInterval(this.ttlTimer);
    for (const t of [...this.store.activeTxns]) this.store.abortTxn(t, 'server shutting down');
  }

  private sweep(): void {
    const now = Date.now();
    for (const [k, c] of this.cursors) if (now - c.lastUse > CURSOR_TIMEOUT_MS) this.cursors.delete(k);
    for (const [k, s] of this.sessions) {
      if (now - s.lastUse > SESSION_TIMEOUT_MIN * 60_000) {
        if (s.txn) this.store.abortTxn(s.txn, 'session expired');
        this.sessions.delete(k);
      }
    }
  }

  /** Deletes documents whose TTL index date has passed (what mongod's TTL monitor does). */
  ttlPass(now = Date.now()): number {
    let removed = 0;
    for (const colls of this.store.dbs.values()) {
      for (const c of colls.values()) {
        for (const ix of c.indexes) {
          const secs = ix.spec.expireAfterSeconds;
          if (secs === undefined || ix.fields.length !== 1) continue;
          const parts = ix.fields[0]!.parts;
          const expired: string[] = [];
          // dates sort together in the index: walk only the entries older than the cut-off
          const cutoff = new Date(now - secs * 1000);
          const ids = new Set(ix.scan({ prefix: [], range: { lo: new Bound(RANK.DATE, false), hi: cutoff } }));
          for (const key of ids) {
            const v = c.docs.get(key);
            if (!v) continue;
            const vals = pathValues(v.doc, parts).flatMap((x) => (Array.isArray(x) ? x : [x]));
            const dates = vals.filter((x): x is Date => x instanceof Date);
            if (dates.length && Math.min(...dates.map((d) => d.getTime())) + secs * 1000 <= now) expired.push(key);
          }
          for (const key of expired) {
            try {
              this.store.write(c, key, null, null);
              removed++;
            } catch {
              /* locked by a transaction: next pass */
            }
          }
        }
      }
    }
    return removed;
  }

  // ------------------------------------------------------------------ entry point
  async run(cmd: Doc, conn: ConnInfo): Promise<Doc> {
    const name = Object.keys(cmd)[0];
    if (!name) return new ServerError('CommandNotFound', 'no such command: ""').toReply();
    const db = typeof cmd.$db === 'string' ? cmd.$db : 'admin';
    let txn: Txn | null = null;
    let session: Session | null = null;
    try {
      if (cmd.lsid) session = this.session(cmd.lsid);
      if (cmd.autocommit === false) {
        if (!session) throw err('InvalidOptions', 'Transaction requires a session (lsid)');
        if (cmd.txnNumber === undefined) throw err('InvalidOptions', 'Transaction requires txnNumber');
        if (name === 'commitTransaction' || name === 'abortTransaction') {
          return await this.endTransaction(name, session, toBig(cmd.txnNumber));
        }
        if (!TXN_ALLOWED.has(name)) {
          throw err('OperationNotSupportedInTransaction', `Cannot run '${name}' in a multi-document transaction.`);
        }
        txn = this.txnFor(session, toBig(cmd.txnNumber), cmd.startTransaction === true, cmd.readConcern);
      } else if (cmd.startTransaction) {
        throw err('InvalidOptions', 'startTransaction requires autocommit: false');
      } else if (name === 'commitTransaction' || name === 'abortTransaction') {
        throw err('InvalidOptions', `${name} must be run within a transaction`);
      }
      const rcLevel = (cmd.readConcern as Doc | undefined)?.level;
      if (rcLevel === 'snapshot' && !txn) throw notSupported('readConcern "snapshot" outside a transaction');
      const reply = await this.dispatch(name, cmd, db, txn, conn);
      // {j: true} (or fsync: true) asks for the journal to be on disk whatever the fsync policy
      const wc = cmd.writeConcern as Doc | undefined;
      if (wc && (wc.j === true || wc.fsync === true)) await this.hooks.durable(true);
      if (reply.ok === 0 && txn) this.store.abortTxn(txn, 'command failed');
      if (Array.isArray(reply.writeErrors) && reply.writeErrors.length && txn) this.store.abortTxn(txn, 'write error');
      return reply;
    } catch (e) {
      if (txn) this.store.abortTxn(txn, 'command failed');
      const se = toServerError(e);
      if (!(e instanceof ServerError)) this.log(`command ${name} failed: ${(e as Error)?.stack ?? String(e)}`);
      return se.toReply();
    }
  }

  private session(lsid: unknown): Session {
    const key = sessionKeyOf(lsid);
    let s = this.sessions.get(key);
    if (!s) this.sessions.set(key, (s = { key, txnNumber: null, txn: null, lastUse: Date.now() }));
    s.lastUse = Date.now();
    return s;
  }

  private txnFor(s: Session, n: bigint, start: boolean, readConcern: unknown): Txn {
    if (start) {
      if (s.txnNumber !== null && n < s.txnNumber) {
        throw err('TransactionTooOld', `Cannot start transaction ${n} on session because a newer transaction ${s.txnNumber} has already started.`);
      }
      if (s.txnNumber === n && s.txn) {
        throw err('ConflictingOperationInProgress', `Cannot start transaction ${n} on session because it has already started.`);
      }
      const rcLevel = (readConcern as Doc | undefined)?.level;
      if (rcLevel !== undefined && !['snapshot', 'majority', 'local'].includes(rcLevel as string)) {
        throw err('InvalidOptions', `The readConcern level must be either 'local' (default), 'majority' or 'snapshot' in order to run in a transaction`);
      }
      if (s.txn && s.txn.state === 'active') this.store.abortTxn(s.txn, 'superseded by a newer transaction');
      s.txnNumber = n;
      s.txn = this.store.beginTxn(s.key, n);
      return s.txn;
    }
    if (s.txnNumber !== n || !s.txn) throw noSuchTransaction({ txnNumber: n });
    if (s.txn.state !== 'active') {
      if (s.txn.state === 'committed') throw err(256, `Transaction ${n} has been committed.`);
      throw noSuchTransaction(s.txn);
    }
    return s.txn;
  }

  private async endTransaction(name: string, s: Session, n: bigint): Promise<Doc> {
    const t = s.txn;
    if (!t || s.txnNumber !== n) {
      if (name === 'abortTransaction') throw noSuchTransaction({ txnNumber: n });
      throw noSuchTransaction({ txnNumber: n });
    }
    if (name === 'commitTransaction') {
      if (t.state === 'committed') return { ok: OK() };
      if (t.state === 'aborted') throw noSuchTransaction(t);
      this.store.commitTxn(t);
      await this.hooks.durable();
      return { ok: OK() };
    }
    if (t.state === 'committed') throw err(256, 'Cannot abort a committed transaction');
    if (t.state === 'aborted') throw noSuchTransaction(t);
    this.store.abortTxn(t, 'aborted by the client');
    return { ok: OK() };
  }

  private async dispatch(name: string, cmd: Doc, db: string, txn: Txn | null, conn: ConnInfo): Promise<Doc> {
    switch (name) {
      case 'hello':
      case 'isMaster':
      case 'ismaster':
        return this.hello(name, conn);
      case 'ping':
        return { ok: OK() };
      case 'buildInfo':
      case 'buildinfo':
        return {
          version: SERVER_VERSION,
          gitVersion: 'embedded',
          versionArray: [7, 0, 0, 0],
          bits: 64,
          debug: false,
          maxBsonObjectSize: MAX_BSON,
          storageEngines: ['embedded'],
          javascriptEngine: 'none',
          modules: [],
          ok: OK(),
        };
      case 'getParameter':
        return this.getParameter(cmd);
      case 'getCmdLineOpts':
        return { argv: ['embedded-engine'], parsed: {}, ok: OK() };
      case 'hostInfo':
        return { system: { currentTime: new Date(), hostname: '127.0.0.1' }, os: { type: process.platform }, extra: {}, ok: OK() };
      case 'whatsmyuri':
        return { you: conn.remote, ok: OK() };
      case 'connectionStatus':
        return { authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: OK() };
      case 'serverStatus':
        return this.serverStatus();
      case 'endSessions':
      case 'killSessions':
        return this.endSessions(cmd[name]);
      case 'refreshSessions':
        return { ok: OK() };
      case 'startSession': {
        const id = new Binary(Buffer.from(new ObjectId().toHexString().padEnd(32, '0').slice(0, 32), 'hex'), 4);
        return { id: { id }, timeoutMinutes: SESSION_TIMEOUT_MIN, ok: OK() };
      }
      case 'listDatabases':
        return this.listDatabases(cmd);
      case 'listCollections':
        return this.listCollections(cmd, db, txn);
      case 'dbStats':
        return this.dbStats(db);
      case 'collStats':
        return this.collStats(db, collName(cmd, name));
      case 'create':
        return this.create(cmd, db);
      case 'drop':
        return this.drop(cmd, db);
      case 'dropDatabase':
        this.closeCursorsFor(db + '.');
        this.store.dropDatabase(db);
        await this.hooks.durable();
        return { dropped: db, ok: OK() };
      case 'renameCollection':
        return this.renameCollection(cmd);
      case 'createIndexes':
        return this.createIndexes(cmd, db);
      case 'listIndexes':
        return this.listIndexes(cmd, db);
      case 'dropIndexes':
      case 'deleteIndexes':
        return this.dropIndexes(cmd, db, name);
      case 'insert':
        return this.insert(cmd, db, txn);
      case 'update':
        return this.update(cmd, db, txn);
      case 'delete':
        return this.delete(cmd, db, txn);
      case 'findAndModify':
      case 'findandmodify':
        return this.findAndModify(cmd, db, txn, name);
      case 'find':
        return this.find(cmd, db, txn);
      case 'getMore':
        return this.getMore(cmd, db);
      case 'killCursors':
        return this.killCursors(cmd);
      case 'aggregate':
        return this.aggregate(cmd, db, txn);
      case 'count':
        return this.count(cmd, db, txn);
      case 'distinct':
        return this.distinct(cmd, db, txn);
      case 'explain':
        return this.explain(cmd, db, txn);
      case 'validate':
        return { ns: `${db}.${String(cmd.validate)}`, valid: true, warnings: [], errors: [], ok: OK() };
      case 'currentOp':
        return { inprog: [], ok: OK() };
      case 'fsync':
        await this.hooks.durable(true);
        return { numFiles: 1, ok: OK() };
      case 'logout':
        return { ok: OK() };
      case 'profile':
        return { was: 0, slowms: 100, sampleRate: 1, ok: OK() };
      case 'getLastError':
      case 'getlasterror':
        return { n: 0, err: null, ok: OK() };
      case 'setFeatureCompatibilityVersion':
        return { ok: OK() };
      case 'listCommands':
        return { commands: {}, ok: OK() };
      case 'commitTransaction':
      case 'abortTransaction':
        throw err('InvalidOptions', `${name} must be run within a transaction`);
    }
    if (AUTH_COMMANDS.has(name)) throw notSupported(`authentication command '${name}'`);
    if (REPL_COMMANDS.has(name)) throw err('NoReplicationEnabled', 'not running with --replSet (embedded engine has no replication)');
    if (['mapReduce', 'mapreduce', 'geoSearch', 'geoNear', 'eval', '$eval', 'shutdown', 'compact', 'cloneCollectionAsCapped', 'convertToCapped', 'collMod', 'reIndex', 'applyOps'].includes(name)) {
      throw notSupported(`command '${name}'`);
    }
    throw new ServerError('CommandNotFound', `no such command: '${name}'`);
  }

  // ------------------------------------------------------------------ handshake & admin
  private hello(name: string, conn: ConnInfo): Doc {
    const r: Doc = {
      helloOk: true,
      ismaster: true,
      maxBsonObjectSize: MAX_BSON,
      maxMessageSizeBytes: MAX_MSG,
      maxWriteBatchSize: MAX_BATCH,
      localTime: new Date(),
      logicalSessionTimeoutMinutes: SESSION_TIMEOUT_MIN,
      connectionId: conn.id,
      minWireVersion: 0,
      maxWireVersion: MAX_WIRE_VERSION,
      readOnly: false,
      ok: OK(),
    };
    if (name === 'hello') {
      delete r.ismaster;
      r.isWritablePrimary = true;
    }
    return r;
  }

  private getParameter(cmd: Doc): Doc {
    const r: Doc = { ok: OK() };
    if (cmd.featureCompatibilityVersion || cmd.getParameter === '*') r.featureCompatibilityVersion = { version: '7.0' };
    if (cmd.transactionLifetimeLimitSeconds || cmd.getParameter === '*') r.transactionLifetimeLimitSeconds = Math.round(this.store.txnLifetimeMs / 1000);
    return r;
  }

  private serverStatus(): Doc {
    return {
      host: `127.0.0.1:${this.hooks.port()}`,
      version: SERVER_VERSION,
      process: 'embedded-engine',
      pid: Long.fromNumber(process.pid),
      uptime: (Date.now() - this.startedAt) / 1000,
      localTime: new Date(),
      connections: { current: 0, available: 1000 },
      storageEngine: { name: 'embedded' },
      ok: OK(),
    };
  }

  private endSessions(ids: unknown): Doc {
    if (Array.isArray(ids)) {
      for (const lsid of ids) {
        const key = sessionKeyOf(lsid);
        const s = this.sessions.get(key);
        if (s?.txn) this.store.abortTxn(s.txn, 'session ended');
        this.sessions.delete(key);
      }
    }
    return { ok: OK() };
  }

  private collSize(c: Collection): number {
    let n = 0;
    for (const v of c.docs.values()) n += calculateObjectSize(v.doc);
    return n;
  }

  private listDatabases(cmd: Doc): Doc {
    const filter = compileFilter(cmd.filter ?? {});
    const dbs: Doc[] = [];
    let total = 0;
    for (const [name, colls] of this.store.dbs) {
      let size = 0;
      for (const c of colls.values()) size += this.collSize(c);
      const d = cmd.nameOnly ? { name } : { name, sizeOnDisk: size, empty: size === 0 };
      if (!filter(d)) continue;
      total += size;
      dbs.push(d);
    }
    if (cmd.nameOnly) return { databases: dbs, ok: OK() };
    return { databases: dbs, totalSize: total, totalSizeMb: Math.round(total / 1024 / 1024), ok: OK() };
  }

  private listCollections(cmd: Doc, db: string, _txn: Txn | null): Doc {
    const filter = compileFilter(cmd.filter ?? {});
    const out: Doc[] = [];
    for (const c of this.store.dbs.get(db)?.values() ?? []) {
      const d: Doc = cmd.nameOnly
        ? { name: c.name, type: 'collection' }
        : { name: c.name, type: 'collection', options: c.options, info: { readOnly: false, uuid: c.uuid }, idIndex: { v: 2, key: { _id: 1 }, name: '_id_' } };
      if (filter(d)) out.push(d);
    }
    return this.cursorReply(`${db}.$cmd.listCollections`, out, (cmd.cursor as Doc | undefined)?.batchSize, false);
  }

  private dbStats(db: string): Doc {
    let objects = 0;
    let size = 0;
    let indexes = 0;
    let colls = 0;
    for (const c of this.store.dbs.get(db)?.values() ?? []) {
      colls++;
      objects += c.docs.size;
      size += this.collSize(c);
      indexes += c.indexes.length;
    }
    return {
      db,
      collections: colls,
      views: 0,
      objects,
      avgObjSize: objects ? size / objects : 0,
      dataSize: size,
      storageSize: size,
      indexes,
      indexSize: 0,
      totalSize: size,
      scaleFactor: 1,
      fsUsedSize: 0,
      fsTotalSize: 0,
      ok: OK(),
    };
  }

  private collStats(db: string, name: string): Doc {
    const c = this.store.coll(db, name);
    if (!c) throw err('NamespaceNotFound', `Collection [${db}.${name}] not found.`);
    const size = this.collSize(c);
    const indexSizes: Doc = {};
    for (const ix of c.indexes) indexSizes[ix.name] = ix.list.size * 32;
    return {
      ns: c.ns,
      count: c.docs.size,
      size,
      avgObjSize: c.docs.size ? Math.round(size / c.docs.size) : 0,
      storageSize: size,
      nindexes: c.indexes.length,
      totalIndexSize: Object.values(indexSizes).reduce((a: number, b) => a + (b as number), 0),
      indexSizes,
      capped: false,
      ok: OK(),
    };
  }

  private async create(cmd: Doc, db: string): Promise<Doc> {
    const name = collName(cmd, 'create');
    for (const opt of ['viewOn', 'pipeline']) if (cmd[opt] !== undefined) throw notSupported('views');
    if (cmd.capped) throw notSupported('capped collections');
    if (cmd.timeseries) throw notSupported('time-series collections');
    if (cmd.clusteredIndex) throw notSupported('clustered collections');
    if (cmd.validator && Object.keys(cmd.validator as Doc).length) throw notSupported('collection validators');
    if (cmd.collation && (cmd.collation as Doc).locale !== 'simple') throw notSupported('collations');
    if (cmd.encryptedFields) throw notSupported('queryable encryption');
    if (cmd.changeStreamPreAndPostImages) throw notSupported('change streams');
    const options: Doc = {};
    for (const k of Object.keys(cmd)) {
      if (['create', '$db', 'lsid', 'txnNumber', 'autocommit', 'startTransaction', 'writeConcern', '$clusterTime', '$readPreference', 'comment', 'apiVersion', 'apiStrict', 'apiDeprecationErrors', 'readConcern', 'validator', 'validationLevel', 'validationAction'].includes(k)) continue;
      options[k] = cmd[k];
    }
    this.store.createCollection(db, name, options);
    await this.hooks.durable();
    return { ok: OK() };
  }

  private async drop(cmd: Doc, db: string): Promise<Doc> {
    const name = collName(cmd, 'drop');
    const c = this.store.coll(db, name);
    if (!c) return { ok: OK() };
    const n = c.indexes.length;
    this.closeCursorsFor(c.ns);
    this.store.dropCollection(db, name);
    await this.hooks.durable();
    return { nIndexesWas: n, ns: c.ns, ok: OK() };
  }

  private async renameCollection(cmd: Doc): Promise<Doc> {
    const from = String(cmd.renameCollection);
    const to = String(cmd.to);
    const [fdb, ...fr] = from.split('.');
    const [tdb, ...tr] = to.split('.');
    this.store.renameCollection(fdb!, fr.join('.'), tdb!, tr.join('.'), !!cmd.dropTarget);
    await this.hooks.durable();
    return { ok: OK() };
  }

  private closeCursorsFor(prefix: string): void {
    for (const [k, c] of this.cursors) if (c.ns === prefix || c.ns.startsWith(prefix)) this.cursors.delete(k);
  }

  private async createIndexes(cmd: Doc, db: string): Promise<Doc> {
    const name = collName(cmd, 'createIndexes');
    if (!Array.isArray(cmd.indexes) || cmd.indexes.length === 0) throw err('BadValue', 'Must specify at least one index to create');
    const existed = !!this.store.coll(db, name);
    const c = this.store.ensureColl(db, name);
    const before = c.indexes.length;
    let created = 0;
    for (const spec of cmd.indexes as Doc[]) {
      if (!isPlainObject(spec)) throw err('TypeMismatch', 'index specification must be an object');
      if (this.store.createIndex(c, spec)) created++;
    }
    await this.hooks.durable();
    const r: Doc = { numIndexesBefore: before, numIndexesAfter: c.indexes.length, createdCollectionAutomatically: !existed, ok: OK() };
    if (created === 0) r.note = 'all indexes already exist';
    return r;
  }

  private listIndexes(cmd: Doc, db: string): Doc {
    const name = collName(cmd, 'listIndexes');
    const c = this.store.coll(db, name);
    if (!c) throw err('NamespaceNotFound', `ns does not exist: ${db}.${name}`);
    const specs = c.indexes.map((i) => ({ ...i.spec }));
    return this.cursorReply(`${db}.${name}`, specs, (cmd.cursor as Doc | undefined)?.batchSize, false);
  }

  private async dropIndexes(cmd: Doc, db: string, field: string): Promise<Doc> {
    const name = collName(cmd, field);
    const c = this.store.coll(db, name);
    if (!c) throw err('NamespaceNotFound', `ns not found ${db}.${name}`);
    const was = c.indexes.length;
    const which = cmd.index;
    if (which === '*') {
      for (const ix of [...c.indexes]) if (!ix.isId) this.store.dropIndex(c, ix.name);
    } else if (typeof which === 'string') {
      this.store.dropIndex(c, which);
    } else if (Array.isArray(which)) {
      for (const n of which) this.store.dropIndex(c, String(n));
    } else if (isPlainObject(which)) {
      const ix = c.indexes.find((i) => keyOf(i.spec.key) === keyOf(which));
      if (!ix) throw err('IndexNotFound', `can't find index with key: ${JSON.stringify(which)}`);
      this.store.dropIndex(c, ix.name);
    } else throw err('BadValue', 'invalid index name spec');
    await this.hooks.durable();
    return { nIndexesWas: was, ok: OK() };
  }

  // ------------------------------------------------------------------ cursors
  private batch(docs: Doc[], from: number, max: number): Doc[] {
    const out: Doc[] = [];
    let bytes = 0;
    for (let i = from; i < docs.length && out.length < max; i++) {
      const sz = calculateObjectSize(docs[i]!);
      if (out.length > 0 && bytes + sz > MAX_BSON - 64 * 1024) break;
      bytes += sz;
      out.push(docs[i]!);
    }
    return out;
  }

  private cursorReply(ns: string, docs: Doc[], batchSize: unknown, singleBatch: boolean): Doc {
    const bs = batchSize === undefined || batchSize === null ? 101 : intOpt(batchSize, 'batchSize', 101);
    if (bs < 0) throw err('BadValue', 'Batch size for cursor must be non-negative');
    const first = this.batch(docs, 0, singleBatch ? docs.length : bs === 0 ? 0 : bs);
    let id = Long.ZERO;
    if (!singleBatch && first.length < docs.length) {
      id = Long.fromBigInt((BigInt(Math.floor(Math.random() * 2 ** 31)) << 31n) | BigInt(Math.floor(Math.random() * 2 ** 31)));
      if (id.isZero()) id = Long.ONE;
      this.cursors.set(id.toString(), { id, ns, docs, pos: first.length, lastUse: Date.now() });
    }
    return { cursor: { firstBatch: first, id, ns }, ok: OK() };
  }

  private getMore(cmd: Doc, db: string): Doc {
    const idv = cmd.getMore;
    const id = idv instanceof Long ? idv : Long.fromNumber(toNumber(idv));
    const c = this.cursors.get(id.toString());
    const ns = `${db}.${String(cmd.collection)}`;
    if (!c) throw err('CursorNotFound', `cursor id ${id.toString()} not found`);
    if (c.ns !== ns) throw err('Unauthorized', `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${c.ns}`);
    const bs = cmd.batchSize === undefined ? Number.MAX_SAFE_INTEGER : intOpt(cmd.batchSize, 'batchSize', 0) || Number.MAX_SAFE_INTEGER;
    const next = this.batch(c.docs, c.pos, bs);
    c.pos += next.length;
    c.lastUse = Date.now();
    let outId = c.id;
    if (c.pos >= c.docs.length) {
      this.cursors.delete(id.toString());
      outId = Long.ZERO;
    }
    return { cursor: { nextBatch: next, id: outId, ns: c.ns }, ok: OK() };
  }

  private killCursors(cmd: Doc): Doc {
    const killed: Long[] = [];
    const notFound: Long[] = [];
    for (const idv of (cmd.cursors as unknown[]) ?? []) {
      const id = idv instanceof Long ? idv : Long.fromNumber(toNumber(idv));
      if (this.cursors.delete(id.toString())) killed.push(id);
      else notFound.push(id);
    }
    return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: OK() };
  }

  // ------------------------------------------------------------------ reads
  private readDocs(c: Collection | undefined, filter: Doc, txn: Txn | null, opts: { sort?: unknown; skip?: number; limit?: number; hint?: unknown; stats?: ReadStats }): Hit[] {
    const keys = parseSort(opts.sort);
    const skip = opts.skip ?? 0;
    const lim = opts.limit && opts.limit > 0 ? opts.limit : undefined;
    if (keys.length && lim !== undefined && !txn && (opts.hint === undefined || opts.hint === null)) {
      const ordered = this.store.queryOrdered(c, filter, keys, skip + lim, opts.stats);
      if (ordered) return ordered.slice(skip);
    }
    let hits = this.store.query(c, filter, txn, {
      hint: opts.hint,
      stats: opts.stats,
      limit: keys.length === 0 && lim !== undefined ? skip + lim : undefined,
    });
    if (keys.length) {
      const decorated = hits.map((h) => ({ ...h, d: h.doc }));
      sortDocs(decorated as unknown as Doc[], keys.map((k) => ({ parts: ['d', ...k.parts], dir: k.dir })));
      hits = decorated;
    }
    if (skip) hits = hits.slice(skip);
    if (lim !== undefined) hits = hits.slice(0, lim);
    return hits;
  }

  private checkCollation(c: unknown): void {
    if (c && isPlainObject(c) && c.locale !== 'simple') throw notSupported('collation');
  }

  private find(cmd: Doc, db: string, txn: Txn | null, stats?: ReadStats): Doc {
    const name = collName(cmd, 'find');
    this.checkCollation(cmd.collation);
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
    const c = this.store.coll(db, name);
    const hits = this.readDocs(c, filter, txn, { sort: cmd.sort, skip, limit, hint: cmd.hint, stats });
    const proj = compileProjection(cmd.projection, filter);
    const docs = proj ? hits.map((h) => proj(h.doc)) : hits.map((h) => h.doc);
    return this.cursorReply(`${db}.${name}`, docs, cmd.batchSize, single);
  }

  private count(cmd: Doc, db: string, txn: Txn | null, stats?: ReadStats): Doc {
    const name = collName(cmd, 'count');
    this.checkCollation(cmd.collation);
    const c = this.store.coll(db, name);
    const query = (cmd.query as Doc) ?? {};
    const skip = intOpt(cmd.skip, 'skip', 0);
    const limit = Math.abs(intOpt(cmd.limit, 'limit', 0));
    let n: number;
    if (!isPlainObject(query)) throw err('TypeMismatch', "BSON field 'count.query' is the wrong type, expected type 'object'");
    if (Object.keys(query).length === 0 && !txn && c) n = c.docs.size;
    else n = this.store.query(c, query, txn, { hint: cmd.hint, stats }).length;
    n = Math.max(0, n - skip);
    if (limit) n = Math.min(n, limit);
    return { n, ok: OK() };
  }

  private distinct(cmd: Doc, db: string, txn: Txn | null): Doc {
    const name = collName(cmd, 'distinct');
    this.checkCollation(cmd.collation);
    if (typeof cmd.key !== 'string') throw err('TypeMismatch', "BSON field 'distinct.key' is missing but a required field");
    const c = this.store.coll(db, name);
    const parts = cmd.key.split('.');
    const seen = new Map<string, unknown>();
    for (const h of this.store.query(c, (cmd.query as Doc) ?? {}, txn, { hint: cmd.hint })) {
      for (const v of pathValues(h.doc, parts)) {
        if (v === undefined) continue;
        const vals = Array.isArray(v) ? v : [v];
        for (const x of vals) {
          const k = keyOf(x);
          if (!seen.has(k)) seen.set(k, x);
        }
      }
    }
    const values = [...seen.values()].sort(compareValues);
    return { values, ok: OK() };
  }

  private aggregate(cmd: Doc, db: string, txn: Txn | null, stats?: ReadStats): Doc {
    const pipeline = cmd.pipeline;
    if (!Array.isArray(pipeline)) throw err('TypeMismatch', "'pipeline' option must be specified as an array");
    this.checkCollation(cmd.collation);
    if (!cmd.cursor && !cmd.explain) throw err('FailedToParse', "The 'cursor' option is required, except for aggregate with the explain argument");
    const stages = pipeline as Doc[];
    checkPipeline(stages);
    if (stages[0] && '$changeStream' in stages[0]) throw notSupported('change streams ($changeStream)');
    const collField = cmd.aggregate;
    let input: Hit[] = [];
    let rest = stages;
    let ns: string;
    if (typeof collField === 'string') {
      ns = `${db}.${collField}`;
      const c = this.store.coll(db, collField);
      const leading: Doc[] = [];
      let i = 0;
      while (i < stages.length && '$match' in stages[i]! && !JSON.stringify(stages[i]).includes('$$')) {
        leading.push(stages[i]!.$match as Doc);
        i++;
      }
      rest = stages.slice(i);
      const filter = leading.length === 0 ? {} : leading.length === 1 ? leading[0]! : { $and: leading };
      input = this.store.query(c, filter, txn, { hint: cmd.hint, stats });
    } else {
      if (!(isNumeric(collField) && toNumber(collField) === 1)) throw err('FailedToParse', 'Invalid aggregate namespace');
      ns = `${db}.$cmd.aggregate`;
      if (!stages[0] || !('$documents' in stages[0])) {
        throw notSupported('collection-less aggregate other than $documents');
      }
    }
    let out: Doc[];
    const counted = countOnly(rest, input.length);
    if (rest.length === 0) out = input.map((h) => h.doc);
    else if (counted) out = counted;
    else {
      const resolver = (name: string): Doc[] => {
        const c = this.store.coll(db, name);
        const docs: Doc[] = [];
        for (const h of this.store.scanAll(c, txn)) docs.push(toMingo(h.doc) as Doc);
        return docs;
      };
      const agg = new Aggregator(rest, mingoOptions({ collectionResolver: resolver, variables: (cmd.let as Record<string, unknown>) ?? undefined }));
      const res = agg.run(input.map((h) => toMingo(h.doc) as Doc)) as Doc[];
      out = res.map((d) => fromMingo(d) as Doc);
    }
    if (cmd.explain) return { ok: OK() };
    return this.cursorReply(ns, out, (cmd.cursor as Doc | undefined)?.batchSize, false);
  }

  private explain(cmd: Doc, db: string, txn: Txn | null): Doc {
    const inner = cmd.explain as Doc;
    if (!isPlainObject(inner)) throw err('BadValue', 'explain must be an object');
    const name = Object.keys(inner)[0]!;
    const stats: ReadStats = { keys: 0, docs: 0, index: null };
    let n = 0;
    let coll = '';
    let filter: Doc = {};
    const innerCmd = { ...inner, $db: db };
    if (name === 'find') {
      coll = String(inner.find);
      filter = (inner.filter as Doc) ?? {};
      const r = this.find({ ...innerCmd, singleBatch: true }, db, txn, stats);
      n = ((r.cursor as Doc).firstBatch as unknown[]).length;
    } else if (name === 'count') {
      coll = String(inner.count);
      filter = (inner.query as Doc) ?? {};
      n = this.count(innerCmd, db, txn, stats).n as number;
    } else if (name === 'aggregate') {
      coll = String(inner.aggregate);
      const first = (inner.pipeline as Doc[] | undefined)?.[0];
      filter = first && '$match' in first ? (first.$match as Doc) : {};
      const r = this.aggregate({ ...innerCmd, cursor: { batchSize: 2 ** 31 - 1 } }, db, txn, stats);
      n = ((r.cursor as Doc).firstBatch as unknown[]).length;
    } else if (name === 'distinct' || name === 'update' || name === 'delete' || name === 'findAndModify') {
      coll = String(inner[name]);
      filter = (name === 'distinct' ? inner.query : name === 'findAndModify' ? inner.query : ((inner.updates ?? inner.deletes) as Doc[] | undefined)?.[0]?.q) as Doc ?? {};
      this.store.query(this.store.coll(db, coll), filter, txn, { stats });
    } else throw notSupported(`explain of '${name}'`);
    const c = this.store.coll(db, coll);
    const ix = stats.index ? c?.indexes.find((i) => i.name === stats.index) : undefined;
    const winningPlan: Doc = ix
      ? { stage: 'FETCH', inputStage: { stage: 'IXSCAN', keyPattern: ix.spec.key, indexName: ix.name, isMultiKey: ix.multikey, direction: 'forward' } }
      : { stage: 'COLLSCAN', filter, direction: 'forward' };
    return {
      explainVersion: '1',
      queryPlanner: { namespace: `${db}.${coll}`, parsedQuery: filter, winningPlan, rejectedPlans: [] },
      executionStats: { executionSuccess: true, nReturned: n, totalKeysExamined: stats.keys, totalDocsExamined: stats.docs, executionStages: winningPlan },
      command: inner,
      serverInfo: { host: '127.0.0.1', port: this.hooks.port(), version: SERVER_VERSION },
      ok: OK(),
    };
  }

  // ------------------------------------------------------------------ writes
  /** Runs one write statement; a non-transactional statement blocked by a transaction's lock waits and retries. */
  private async statement<T>(fn: () => T): Promise<T> {
    for (;;) {
      try {
        return fn();
      } catch (e) {
        if (e instanceof Blocked) {
          await e.until;
          continue;
        }
        throw e;
      }
    }
  }

  private writeErrorOf(e: unknown, index: number): Doc {
    const se = toServerError(e);
    if (!(e instanceof ServerError)) this.log(`write failed: ${(e as Error)?.stack ?? String(e)}`);
    return se.toWriteError(index);
  }

  /** Transaction-level failures are command errors, not per-statement write errors. */
  private isFatalInTxn(e: unknown, txn: Txn | null): boolean {
    return !!txn && e instanceof ServerError && (e.code === CODES.WriteConflict || e.code === CODES.NoSuchTransaction);
  }

  private prepareInsert(doc: unknown): Doc {
    if (!isPlainObject(doc)) throw err('TypeMismatch', 'document to insert must be an object');
    let d = doc;
    if (!('_id' in d)) d = { _id: new ObjectId(), ...d };
    else if (Object.keys(d)[0] !== '_id') {
      const { _id, ...rest } = d;
      d = { _id, ...rest };
    }
    const id = d._id;
    if (Array.isArray(id)) throw err('InvalidIdField', "The '_id' value cannot be of type array");
    if (id instanceof RegExp) throw err('InvalidIdField', "The '_id' value cannot be of type regex");
    if (id === undefined) throw err('InvalidIdField', "The '_id' value cannot be undefined");
    if (isPlainObject(id) && Object.keys(id).some((k) => k.startsWith('$'))) throw err('DollarPrefixedFieldName', "_id fields may not contain '$'-prefixed fields");
    return d;
  }

  private async insert(cmd: Doc, db: string, txn: Txn | null): Promise<Doc> {
    const name = collName(cmd, 'insert');
    const docs = cmd.documents;
    if (!Array.isArray(docs)) throw err('TypeMismatch', "BSON field 'insert.documents' is missing but a required field");
    if (docs.length > MAX_BATCH) throw err('InvalidOptions', `Write batch sizes must be between 1 and ${MAX_BATCH}. Got ${docs.length} operations.`);
    const ordered = cmd.ordered !== false;
    const c = this.store.ensureColl(db, name);
    let n = 0;
    const writeErrors: Doc[] = [];
    const large = cameInLargeMessage(cmd);
    for (let i = 0; i < docs.length; i++) {
      try {
        if (large) {
          const size = calculateObjectSize(docs[i] as Doc);
          if (size > MAX_BSON) throw err('BadValue', `object to insert too large. size in bytes: ${size}, max size: ${MAX_BSON}`);
        }
        const d = this.prepareInsert(docs[i]);
        const key = keyOf(d._id);
        await this.statement(() => this.store.write(c, key, d, txn, true));
        n++;
      } catch (e) {
        if (this.isFatalInTxn(e, txn)) throw e;
        writeErrors.push(this.writeErrorOf(e, i));
        if (ordered || txn) break;
      }
    }
    await this.hooks.durable();
    const r: Doc = { n, ok: OK() };
    if (writeErrors.length) r.writeErrors = writeErrors;
    return r;
  }

  private async update(cmd: Doc, db: string, txn: Txn | null): Promise<Doc> {
    const name = collName(cmd, 'update');
    const updates = cmd.updates;
    if (!Array.isArray(updates)) throw err('TypeMismatch', "BSON field 'update.updates' is missing but a required field");
    const ordered = cmd.ordered !== false;
    let n = 0;
    let nModified = 0;
    const upserted: Doc[] = [];
    const writeErrors: Doc[] = [];
    for (let i = 0; i < updates.length; i++) {
      const u = updates[i] as Doc;
      try {
        const r = await this.statement(() => this.updateOne(db, name, u, txn, cmd.let));
        n += r.n;
        nModified += r.modified;
        if (r.upsertedId !== undefined) upserted.push({ index: i, _id: r.upsertedId });
      } catch (e) {
        if (this.isFatalInTxn(e, txn)) throw e;
        writeErrors.push(this.writeErrorOf(e, i));
        if (ordered || txn) break;
      }
    }
    await this.hooks.durable();
    const r: Doc = { n, nModified, ok: OK() };
    if (upserted.length) r.upserted = upserted;
    if (writeErrors.length) r.writeErrors = writeErrors;
    return r;
  }

  private updateOne(db: string, name: string, u: Doc, txn: Txn | null, _let: unknown): { n: number; modified: number; upsertedId?: unknown } {
    if (!isPlainObject(u)) throw err('TypeMismatch', 'update statement must be an object');
    this.checkCollation(u.collation);
    const q = (u.q as Doc) ?? {};
    if (!isPlainObject(q)) throw err('TypeMismatch', 'q must be an object');
    const upd = u.u;
    const multi = u.multi === true;
    if (multi && isPlainObject(upd) && Object.keys(upd).length && !Object.keys(upd)[0]!.startsWith('$')) {
      throw err('FailedToParse', 'multi update is not supported for replacement-style update');
    }
    const arrayFilters = u.arrayFilters as Doc[] | undefined;
    const c = this.store.coll(db, name);
    const hits = this.store.query(c, q, txn, { hint: u.hint, limit: multi ? undefined : 1 });
    if (hits.length === 0) {
      if (!u.upsert) return { n: 0, modified: 0 };
      const doc = checkUpsertSize(buildUpsert(q, upd, { filter: q, arrayFilters }));
      const coll = c ?? this.store.ensureColl(db, name);
      this.store.write(coll, keyOf(doc._id), doc, txn, true);
      return { n: 1, modified: 0, upsertedId: doc._id };
    }
    this.store.assertUnlocked(c!, hits.map((h) => h.key), txn);
    let modified = 0;
    const now = new Date();
    const planned = hits.map((h) => ({ h, next: checkUpdatedSize(applyUpdate(h.doc, upd, { filter: q, arrayFilters, isInsert: false, now })) }));
    for (const { h, next } of planned) {
      if (identical(next, h.doc)) continue;
      this.store.write(c!, h.key, next, txn);
      modified++;
    }
    return { n: hits.length, modified };
  }

  private async delete(cmd: Doc, db: string, txn: Txn | null): Promise<Doc> {
    const name = collName(cmd, 'delete');
    const deletes = cmd.deletes;
    if (!Array.isArray(deletes)) throw err('TypeMismatch', "BSON field 'delete.deletes' is missing but a required field");
    const ordered = cmd.ordered !== false;
    let n = 0;
    const writeErrors: Doc[] = [];
    for (let i = 0; i < deletes.length; i++) {
      const d = deletes[i] as Doc;
      try {
        n += await this.statement(() => {
          this.checkCollation(d.collation);
          const q = (d.q as Doc) ?? {};
          const limit = intOpt(d.limit, 'limit', 0);
          const c = this.store.coll(db, name);
          if (!c) {
            compileFilter(q);
            return 0;
          }
          const hits = this.store.query(c, q, txn, { hint: d.hint, limit: limit === 1 ? 1 : undefined });
          this.store.assertUnlocked(c, hits.map((h) => h.key), txn);
          for (const h of hits) this.store.write(c, h.key, null, txn);
          return hits.length;
        });
      } catch (e) {
        if (this.isFatalInTxn(e, txn)) throw e;
        writeErrors.push(this.writeErrorOf(e, i));
        if (ordered || txn) break;
      }
    }
    await this.hooks.durable();
    const r: Doc = { n, ok: OK() };
    if (writeErrors.length) r.writeErrors = writeErrors;
    return r;
  }

  private async findAndModify(cmd: Doc, db: string, txn: Txn | null, field: string): Promise<Doc> {
    const name = collName(cmd, field);
    this.checkCollation(cmd.collation);
    const q = (cmd.query as Doc) ?? {};
    const remove = cmd.remove === true;
    const upd = cmd.update;
    if (!remove && upd === undefined) throw err('FailedToParse', 'Either an update or remove=true must be specified');
    if (remove && upd !== undefined) throw err('FailedToParse', 'Cannot specify both an update and remove=true');
    if (remove && cmd.new) throw err('FailedToParse', 'Cannot specify both new=true and remove=true; \'remove\' always returns the deleted document');
    const proj = compileProjection(cmd.fields, q);
    const arrayFilters = cmd.arrayFilters as Doc[] | undefined;
    const result = await this.statement(() => {
      const c = this.store.coll(db, name);
      const hits = this.readDocs(c, q, txn, { sort: cmd.sort, limit: 1, hint: cmd.hint });
      const hit = hits[0];
      if (remove) {
        if (!hit) return { value: null, leo: { n: 0 } };
        this.store.assertUnlocked(c!, [hit.key], txn);
        this.store.write(c!, hit.key, null, txn);
        return { value: hit.doc, leo: { n: 1 } };
      }
      if (!hit) {
        if (!cmd.upsert) return { value: null, leo: { n: 0, updatedExisting: false } };
        const doc = checkUpsertSize(buildUpsert(q, upd, { filter: q, arrayFilters }));
        const coll = c ?? this.store.ensureColl(db, name);
        this.store.write(coll, keyOf(doc._id), doc, txn, true);
        return { value: cmd.new ? doc : null, leo: { n: 1, updatedExisting: false, upserted: doc._id } };
      }
      this.store.assertUnlocked(c!, [hit.key], txn);
      const next = checkUpdatedSize(applyUpdate(hit.doc, upd, { filter: q, arrayFilters, isInsert: false }));
      if (!identical(next, hit.doc)) this.store.write(c!, hit.key, next, txn);
      return { value: cmd.new ? next : hit.doc, leo: { n: 1, updatedExisting: true } };
    });
    await this.hooks.durable();
    const value = result.value && proj ? proj(result.value) : result.value;
    return { lastErrorObject: result.leo, value, ok: OK() };
  }
}

export { ServerError };
