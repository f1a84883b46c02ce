// Handshake, server information, the catalog (databases and collections) and the replica-set
// commands of a one-node set.
import { Long } from 'bson';
import type { ConnInfo, EngineState, Handler } from './engine-context';
import { closeCursorsFor } from './cmd-cursors';
import { cursorReply } from './cmd-cursors';
import { MAX_BATCH, MAX_BSON, MAX_MSG, MAX_WIRE_VERSION, OK, SERVER_VERSION, SESSION_TIMEOUT_MIN, collName } from './cmd-util';
import { parseCollation } from './collation';
import { err, notSupported } from './errors';
import { compileFilter } from './matcher';
import type { Collection, Txn } from './store';
import { type Doc } from './values';
import { calculateObjectSize } from 'bson';
import { gcPausesSince } from './gc-log';

function hello(eng: EngineState, name: string, conn: ConnInfo): Doc {
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
  Object.assign(r, eng.repl.helloFields(eng.me(conn)));
  return r;
}

function getParameter(eng: EngineState, cmd: Doc): Doc {
  const r: Doc = { ok: OK() };
  if (cmd.featureCompatibilityVersion || cmd.getParameter === '*') r.featureCompatibilityVersion = { version: '8.0' };
  if (cmd.transactionLifetimeLimitSeconds || cmd.getParameter === '*') r.transactionLifetimeLimitSeconds = Math.round(eng.store.txnLifetimeMs / 1000);
  return r;
}

/**
 * serverStatus, plus the engine's own section: the journal's figures and its garbage-collection
 * pauses (with `gcSince: <epoch ms>`, every recorded pause since then).
 */
function serverStatus(eng: EngineState, cmd: Doc): Doc {
  const since = typeof cmd.gcSince === 'number' ? cmd.gcSince : null;
  // the clock pair lets another process place this process's CPU-profile timestamps (monotonic µs) in wall time
  const engine: Doc = { persistence: eng.hooks.persistence?.stats() ?? null, clock: { epochMs: Date.now(), monoUs: Number(process.hrtime.bigint() / 1000n) } };
  if (since !== null) engine.gcPauses = gcPausesSince(since).map((p) => ({ ...p }));
  return {
    engine,
    host: `127.0.0.1:${eng.hooks.port()}`,
    version: SERVER_VERSION,
    process: 'embedded-engine',
    pid: Long.fromNumber(process.pid),
    uptime: (Date.now() - eng.startedAt) / 1000,
    localTime: new Date(),
    connections: { current: 0, available: 1000 },
    storageEngine: { name: 'embedded' },
    // NOTE: as mongod's: index keys and documents examined by every read since start.
    metrics: { queryExecutor: { scanned: Long.fromNumber(eng.store.readTotals.keys), scannedObjects: Long.fromNumber(eng.store.readTotals.docs) } },
    ok: OK(),
  };
}

export function collSize(c: Collection): number {
  let n = 0;
  for (const v of c.docs.values()) n += calculateObjectSize(v.doc);
  return n;
}

function listDatabases(eng: EngineState, cmd: Doc): Doc {
  const filter = compileFilter(cmd.filter ?? {});
  const dbs: Doc[] = [];
  let total = 0;
  for (const [name, colls] of eng.store.dbs) {
    let size = 0;
    for (const c of colls.values()) size += collSize(c);
    const d = cmd.nameOnly ? { name } : { name, sizeOnDisk: size, empty: size === 0 };
    if (!filter(d)) continue;
    total += size;
    dbs.push(d);
  }
  if (cmd.nameOnly) return { databases: dbs, ok: OK() };
  return { databases: dbs, totalSize: total, totalSizeMb: Math.round(total / 1024 / 1024), ok: OK() };
}

function listCollections(eng: EngineState, cmd: Doc, db: string, _txn: Txn | null): Doc {
  const filter = compileFilter(cmd.filter ?? {});
  const out: Doc[] = [];
  for (const c of eng.store.dbs.get(db)?.values() ?? []) {
    const d: Doc = cmd.nameOnly
      ? { name: c.name, type: 'collection' }
      : { name: c.name, type: 'collection', options: c.options, info: { readOnly: false, uuid: c.uuid }, idIndex: { v: 2, key: { _id: 1 }, name: '_id_' } };
    if (filter(d)) out.push(d);
  }
  return cursorReply(eng, `${db}.$cmd.listCollections`, out, (cmd.cursor as Doc | undefined)?.batchSize, false);
}

function dbStats(eng: EngineState, db: string): Doc {
  let objects = 0;
  let size = 0;
  let indexes = 0;
  let colls = 0;
  for (const c of eng.store.dbs.get(db)?.values() ?? []) {
    colls++;
    objects += c.docs.size;
    size += collSize(c);
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

function collStats(eng: EngineState, db: string, name: string): Doc {
  const c = eng.store.coll(db, name);
  if (!c) throw err('NamespaceNotFound', `Collection [${db}.${name}] not found.`);
  const size = collSize(c);
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

async function create(eng: EngineState, cmd: Doc, db: string): Promise<Doc> {
  const name = collName(cmd, 'create');
  for (const opt of ['viewOn', 'pipeline']) if (cmd[opt] !== undefined) throw notSupported('views');
  if (cmd.capped) throw notSupported('capped collections');
  if (cmd.timeseries) throw notSupported('time-series collections');
  if (cmd.clusteredIndex) throw notSupported('clustered collections');
  if (cmd.validator && Object.keys(cmd.validator as Doc).length) throw notSupported('collection validators');
  const collation = parseCollation(cmd.collation);
  if (cmd.encryptedFields) throw notSupported('queryable encryption');
  if (cmd.changeStreamPreAndPostImages) throw notSupported('change streams');
  const options: Doc = {};
  for (const k of Object.keys(cmd)) {
    if (['create', '$db', 'lsid', 'txnNumber', 'autocommit', 'startTransaction', 'writeConcern', '$clusterTime', '$readPreference', 'comment', 'apiVersion', 'apiStrict', 'apiDeprecationErrors', 'readConcern', 'validator', 'validationLevel', 'validationAction'].includes(k)) continue;
    options[k] = cmd[k];
  }
  // as mongod: the stored default collation is the full spec, and {locale: 'simple'} is no default at all
  if (collation) options.collation = collation.spec;
  else delete options.collation;
  eng.store.createCollection(db, name, options);
  await eng.hooks.durable();
  return { ok: OK() };
}

async function drop(eng: EngineState, cmd: Doc, db: string): Promise<Doc> {
  const name = collName(cmd, 'drop');
  const c = eng.store.coll(db, name);
  if (!c) return { ok: OK() };
  const n = c.indexes.length;
  closeCursorsFor(eng, c.ns);
  eng.store.dropCollection(db, name);
  eng.changes.catalog({ op: 'drop', db, coll: name });
  await eng.hooks.durable();
  return { nIndexesWas: n, ns: c.ns, ok: OK() };
}

async function renameCollection(eng: EngineState, cmd: Doc): Promise<Doc> {
  const from = String(cmd.renameCollection);
  const to = String(cmd.to);
  const [fdb, ...fr] = from.split('.');
  const [tdb, ...tr] = to.split('.');
  eng.store.renameCollection(fdb!, fr.join('.'), tdb!, tr.join('.'), !!cmd.dropTarget);
  eng.changes.catalog({ op: 'rename', db: fdb!, coll: fr.join('.'), to: { db: tdb!, coll: tr.join('.') } });
  await eng.hooks.durable();
  return { ok: OK() };
}

export const adminCommands: Record<string, Handler> = {
  hello: (eng, _cmd, ctx) => hello(eng, ctx.name, ctx.conn),
  isMaster: (eng, _cmd, ctx) => hello(eng, ctx.name, ctx.conn),
  ismaster: (eng, _cmd, ctx) => hello(eng, ctx.name, ctx.conn),
  ping: () => ({ ok: OK() }),
  buildInfo: () => buildInfo(),
  buildinfo: () => buildInfo(),
  getParameter: (eng, cmd) => getParameter(eng, cmd),
  getCmdLineOpts: (eng) => ({ argv: ['embedded-engine'], parsed: { replication: { replSet: eng.repl.setName } }, ok: OK() }),
  hostInfo: () => ({ system: { currentTime: new Date(), hostname: '127.0.0.1' }, os: { type: process.platform }, extra: {}, ok: OK() }),
  whatsmyuri: (_e, _c, ctx) => ({ you: ctx.conn.remote, ok: OK() }),
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: OK() }),
  serverStatus: (eng, cmd) => serverStatus(eng, cmd),
  /**
   * The engine's own: compacts the journal (a snapshot and a new journal generation) and answers
   * when the snapshot is on disk; without a dbpath it does nothing. (mongod's per-collection
   * `compact` stays refused.)
   */
  engineCompact: async (eng) => {
    if (!eng.hooks.persistence) return { ok: OK() };
    await eng.hooks.persistence.compact();
    return { ok: OK() };
  },
  listDatabases: (eng, cmd) => listDatabases(eng, cmd),
  listCollections: (eng, cmd, ctx) => listCollections(eng, cmd, ctx.db, ctx.txn),
  dbStats: (eng, _cmd, ctx) => dbStats(eng, ctx.db),
  collStats: (eng, cmd, ctx) => collStats(eng, ctx.db, collName(cmd, 'collStats')),
  create: (eng, cmd, ctx) => create(eng, cmd, ctx.db),
  drop: (eng, cmd, ctx) => drop(eng, cmd, ctx.db),
  dropDatabase: async (eng, _cmd, { db }) => {
    closeCursorsFor(eng, db + '.');
    const colls = [...(eng.store.dbs.get(db)?.keys() ?? [])];
    eng.store.dropDatabase(db);
    for (const coll of colls) eng.changes.catalog({ op: 'drop', db, coll });
    eng.changes.catalog({ op: 'dropDatabase', db });
    await eng.hooks.durable();
    return { dropped: db, ok: OK() };
  },
  renameCollection: (eng, cmd) => renameCollection(eng, cmd),
  validate: (_e, cmd, { db }) => ({ ns: `${db}.${String(cmd.validate)}`, valid: true, warnings: [], errors: [], ok: OK() }),
  currentOp: () => ({ inprog: [], ok: OK() }),
  fsync: async (eng) => {
    await eng.hooks.durable(true);
    return { numFiles: 1, ok: OK() };
  },
  logout: () => ({ ok: OK() }),
  profile: () => ({ was: 0, slowms: 100, sampleRate: 1, ok: OK() }),
  getLastError: () => ({ n: 0, err: null, ok: OK() }),
  getlasterror: () => ({ n: 0, err: null, ok: OK() }),
  setFeatureCompatibilityVersion: () => ({ ok: OK() }),
  listCommands: () => ({ commands: {}, ok: OK() }),
  replSetGetStatus: (eng, _c, ctx) => ({ ...eng.repl.status(eng.me(ctx.conn)), ok: OK() }),
  replSetGetConfig: (eng, _c, ctx) => ({ config: eng.repl.config(eng.me(ctx.conn)), ok: OK() }),
  appendOplogNote: () => ({ ok: OK() }),
};

function buildInfo(): Doc {
  return {
    version: SERVER_VERSION,
    gitVersion: 'embedded',
    versionArray: [8, 0, 0, 0],
    bits: 64,
    debug: false,
    maxBsonObjectSize: MAX_BSON,
    storageEngines: ['embedded'],
    javascriptEngine: 'none',
    modules: [],
    ok: OK(),
  };
}
