// Command execution: the engine's state and the entry point every wire command goes through
// (sessions, transactions, retryable writes, cluster time), dispatching to the command families:
// cmd-admin (handshake, catalog, replica set), cmd-read / cmd-write (CRUD), cmd-cursors,
// cmd-aggregate (aggregate, explain, change streams), cmd-indexes, cmd-sessions.
import { adminCommands } from './cmd-admin';
import { aggregateCommands } from './cmd-aggregate';
import { cursorCommands } from './cmd-cursors';
import { indexCommands } from './cmd-indexes';
import { readCommands } from './cmd-read';
import { beginCommand, finishRetryable, sessionCommands } from './cmd-sessions';
import { CURSOR_TIMEOUT_MS, SESSION_TIMEOUT_MIN } from './cmd-util';
import { writeCommands } from './cmd-write';
import { ChangeLog } from './changes';
import type { ConnInfo, Ctx, Cursor, EngineHooks, EngineState, Handler, Session } from './engine-context';
import { ServerError, err, notSupported, toServerError } from './errors';
import { pathValues } from './matcher';
import { ReplSet } from './replset';
import { Store, type Txn } from './store';
import { type Doc, Bound, RANK } from './values';

export { MAX_WIRE_VERSION, SERVER_VERSION } from './cmd-util';
export type { ConnInfo, EngineHooks } from './engine-context';


const HANDLERS: Record<string, Handler> = {
  ...adminCommands,
  ...indexCommands,
  ...readCommands,
  ...writeCommands,
  ...cursorCommands,
  ...aggregateCommands,
  ...sessionCommands,
};

const AUTH_COMMANDS = new Set([
  'saslStart', 'saslContinue', 'authenticate', 'getnonce', 'createUser', 'updateUser', 'dropUser', 'dropAllUsersFromDatabase',
  'usersInfo', 'grantRolesToUser', 'revokeRolesFromUser', 'createRole', 'dropRole', 'rolesInfo',
]);

const REFUSED_COMMANDS = new Set([
  'mapReduce', 'mapreduce', 'geoSearch', 'geoNear', 'eval', '$eval', 'shutdown', 'compact', 'cloneCollectionAsCapped',
  'convertToCapped', 'collMod', 'reIndex', 'applyOps', 'replSetInitiate', 'replSetReconfig', 'replSetStepDown', 'replSetFreeze',
  'replSetSyncFrom',
]);

export interface EngineOptions {
  ttlIntervalMs?: number;
  /** replica set name reported by hello (default rs0) */
  replSetName?: string;
  /** host:port to report as the set's only member instead of the address each client reached */
  advertise?: string;
}

export class Engine implements EngineState {
  readonly store = new Store();
  readonly cursors = new Map<string, Cursor>();
  readonly sessions = new Map<string, Session>();
  readonly startedAt = Date.now();
  readonly repl: ReplSet;
  readonly changes: ChangeLog;
  readonly advertise: string | undefined;
  private sweeper: NodeJS.Timeout;
  private ttlTimer: NodeJS.Timeout | null = null;
  hooks: EngineHooks = { durable: async () => undefined, port: () => 0 };
  log: (msg: string) => void = () => undefined;

  constructor(opts: EngineOptions = {}) {
    this.repl = new ReplSet(opts.replSetName);
    this.advertise = opts.advertise;
    this.changes = new ChangeLog(this.repl);
    this.store.onCommit = (changes, txn) => this.changes.record(changes, txn);
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
    this.changes.close();
  }

  /** host:port the set's member is known as, for a client that reached `conn` */
  me(conn: ConnInfo): string {
    return this.advertise ?? conn.local ?? `127.0.0.1:${this.hooks.port()}`;
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

  async run(cmd: Doc, conn: ConnInfo): Promise<Doc> {
    const reply = await this.execute(cmd, conn);
    reply.$clusterTime = this.repl.clusterTime();
    reply.operationTime = this.repl.opTime;
    return reply;
  }

  private async execute(cmd: Doc, conn: ConnInfo): Promise<Doc> {
    const name = Object.keys(cmd)[0];
    if (!name) return new ServerError('CommandNotFound', 'no such command: ""').toReply();
    const db = typeof cmd.$db === 'string' ? cmd.$db : 'admin';
    const ctx: Ctx = { name, db, txn: null, conn, session: null };
    try {
      const early = await beginCommand(this, cmd, ctx);
      if (early) return early;
      const rcLevel = (cmd.readConcern as Doc | undefined)?.level;
      if (rcLevel === 'snapshot' && !ctx.txn) throw notSupported('readConcern "snapshot" outside a transaction');
      const reply = await this.dispatch(cmd, ctx);
      // {j: true} (or fsync: true) asks for the journal to be on disk whatever the fsync policy
      const wc = cmd.writeConcern as Doc | undefined;
      if (wc && (wc.j === true || wc.fsync === true)) await this.hooks.durable(true);
      // NOTE: a write error aborts the transaction, as on mongod: an insert's or update's `writeErrors`,
      // a bulkWrite's `nErrors` (its errors are in its results cursor).
      const failedWrites = (Array.isArray(reply.writeErrors) && reply.writeErrors.length > 0) || (typeof reply.nErrors === 'number' && reply.nErrors > 0);
      if (ctx.txn && (reply.ok === 0 || failedWrites)) {
        this.store.abortTxn(ctx.txn, reply.ok === 0 ? 'command failed' : 'write error');
      }
      finishRetryable(ctx, reply);
      return reply;
    } catch (e) {
      if (ctx.txn) this.store.abortTxn(ctx.txn, 'command failed');
      const se = toServerError(e);
      if (!(e instanceof ServerError)) this.log(`command ${name} failed: ${(e as Error)?.stack ?? String(e)}`);
      const reply = se.toReply();
      finishRetryable(ctx, reply);
      return reply;
    }
  }

  private dispatch(cmd: Doc, ctx: Ctx): Doc | Promise<Doc> {
    const h = HANDLERS[ctx.name];
    if (h && Object.prototype.hasOwnProperty.call(HANDLERS, ctx.name)) return h(this, cmd, ctx);
    const name = ctx.name;
    if (AUTH_COMMANDS.has(name)) throw notSupported(`authentication command '${name}'`);
    if (REFUSED_COMMANDS.has(name)) throw notSupported(`command '${name}'`);
    throw err('CommandNotFound', `no such command: '${name}'`);
  }
}

export { ServerError };
