// Embedded MongoDB-wire-compatible engine (development and test infrastructure).
// See README.md in this folder.
import { Engine } from './commands';
import { type Persistence, openPersistence } from './persistence';
import { WireServer } from './server';

export interface StartEngineOptions {
  /** TCP port; 0 picks a free one */
  port?: number;
  host?: string;
  /** data directory (journal + snapshot); omitted or `memory: true` keeps everything in memory */
  dbpath?: string;
  memory?: boolean;
  fsync?: 'always' | 'batch' | 'never';
  logger?: (msg: string) => void;
  /** abort transactions older than this (default 60 s, as mongod) */
  transactionLifetimeMs?: number;
  /** with dbpath: write a snapshot and start a new journal when the journal exceeds this (default 64 MiB) */
  compactBytes?: number;
  /** replica set name hello reports (default rs0; a URI may carry ?replicaSet=<this>) */
  replSet?: string;
  /** host:port hello reports as the set's member (default: the address each client reached) */
  advertise?: string;
}

export interface RunningEngine {
  port: number;
  /** `mongodb://127.0.0.1:PORT/` — append a database name; the driver discovers the one-node replica set */
  uri: string;
  /** the replica set name (add `?replicaSet=<name>` to a URI to require it) */
  replSet: string;
  close(): Promise<void>;
  /** the in-process engine (tests and benchmarks) */
  engine: Engine;
  /** the journal/snapshot layer when running with a dbpath */
  persistence: Persistence | null;
}

export async function startEngine(opts: StartEngineOptions = {}): Promise<RunningEngine> {
  const log = opts.logger ?? (() => undefined);
  const engine = new Engine({ replSetName: opts.replSet, advertise: opts.advertise });
  engine.log = log;
  if (opts.transactionLifetimeMs !== undefined) engine.store.txnLifetimeMs = opts.transactionLifetimeMs;
  let persistence: Persistence | null = null;
  if (opts.dbpath && !opts.memory) {
    persistence = await openPersistence(engine.store, opts.dbpath, { fsync: opts.fsync ?? 'batch', log, compactBytes: opts.compactBytes });
    engine.hooks.durable = (force?: boolean) => persistence!.durable(force);
    const p = persistence;
    engine.hooks.persistence = { stats: () => ({ ...p.stats() }), compact: () => p.compact() };
  }
  const server = new WireServer(engine, log);
  const host = opts.host ?? '127.0.0.1';
  let port: number;
  try {
    port = await server.listen(opts.port ?? 0, host);
  } catch (e) {
    engine.close();
    await persistence?.close();
    throw e;
  }
  engine.hooks.port = () => port;
  const uriHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  let closed: Promise<void> | null = null;
  return {
    port,
    uri: `mongodb://${uriHost}:${port}/`,
    replSet: engine.repl.setName,
    engine,
    persistence,
    close() {
      closed ??= (async () => {
        await server.close();
        engine.close();
        await persistence?.close();
      })();
      return closed;
    },
  };
}
