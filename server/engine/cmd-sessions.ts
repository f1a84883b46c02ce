// Logical sessions, multi-document transactions and retryable writes: which transaction a
// command runs in, commit/abort, and the per-session record of the last retryable write so a
// retried write (same lsid and txnNumber) returns the first attempt's reply instead of applying
// twice (what mongod keeps in config.transactions; here in memory only).
import { Binary, Long, ObjectId } from 'bson';
import type { Ctx, EngineState, Handler, Session } from './engine-context';
import { OK, SESSION_TIMEOUT_MIN } from './cmd-util';
import { err } from './errors';
import { type Txn, noSuchTransaction } from './store';
import { type Doc, keyOf, toNumber } from './values';

const TXN_ALLOWED = new Set([
  'find', 'getMore', 'killCursors', 'insert', 'update', 'delete', 'findAndModify', 'findandmodify', 'aggregate', 'distinct',
  'count', 'create', 'createIndexes', 'commitTransaction', 'abortTransaction', 'bulkWrite', 'listCollections', 'listIndexes',
]);

const RETRYABLE = new Set(['insert', 'update', 'delete', 'findAndModify', 'findandmodify', 'bulkWrite']);

function sessionKeyOf(lsid: unknown): string {
  const id = (lsid as Doc | undefined)?.id;
  if (id && typeof id === 'object' && 'buffer' in (id as object)) return Buffer.from((id as Binary).buffer).toString('hex');
  return keyOf(id);
}

function toBig(v: unknown): bigint {
  if (v instanceof Long) return v.toBigInt();
  return BigInt(Math.trunc(toNumber(v)));
}

function session(eng: EngineState, lsid: unknown): Session {
  const key = sessionKeyOf(lsid);
  let s = eng.sessions.get(key);
  if (!s) eng.sessions.set(key, (s = { key, lsid: lsid as Doc, txnNumber: null, txn: null, lastUse: Date.now(), retry: null }));
  s.lastUse = Date.now();
  return s;
}

/**
 * Resolves the session, transaction and retryable-write state of a command. Returns a reply when
 * the command is answered here (commit/abort, a retried write), else null.
 */
export async function beginCommand(eng: EngineState, cmd: Doc, ctx: Ctx): Promise<Doc | null> {
  const { name } = ctx;
  if (cmd.lsid) ctx.session = session(eng, cmd.lsid);
  const s = ctx.session;
  if (cmd.autocommit === false) {
    if (!s) throw err('InvalidOptions', 'Transaction requires a session (lsid)');
    if (cmd.txnNumber === undefined) throw err('InvalidOptions', 'Transaction requires txnNumber');
    if (name === 'commitTransaction' || name === 'abortTransaction') return endTransaction(eng, name, s, toBig(cmd.txnNumber));
    if (!TXN_ALLOWED.has(name)) throw err('OperationNotSupportedInTransaction', `Cannot run '${name}' in a multi-document transaction.`);
    ctx.txn = txnFor(eng, s, toBig(cmd.txnNumber), cmd.startTransaction === true, cmd.readConcern);
    if (cmd.startTransaction === true) ctx.txn.lsid = s.lsid;
    return null;
  }
  if (cmd.startTransaction) throw err('InvalidOptions', 'startTransaction requires autocommit: false');
  if (name === 'commitTransaction' || name === 'abortTransaction') throw err('InvalidOptions', `${name} must be run within a transaction`);
  if (s && cmd.txnNumber !== undefined && RETRYABLE.has(name)) {
    const n = toBig(cmd.txnNumber);
    const txnTaken = s.txnNumber !== null && n <= s.txnNumber;
    if (s.retry && s.retry.txnNumber === n) return { ...(await s.retry.reply) };
    if ((s.retry && n < s.retry.txnNumber) || txnTaken) {
      throw err('TransactionTooOld', `Retryable write with txnNumber ${n} is prohibited on session ${s.key} because a newer retryable write or transaction has already started on this session.`);
    }
    let settle!: (d: Doc) => void;
    const reply = new Promise<Doc>((r) => (settle = r));
    s.retry = { txnNumber: n, reply, settle };
    ctx.retrying = true;
  }
  return null;
}

/** Records the reply of a retryable write so a retry with the same txnNumber gets it back. */
export function finishRetryable(ctx: Ctx, reply: Doc): void {
  if (!ctx.retrying || !ctx.session?.retry) return;
  const r = ctx.session.retry;
  // a failed command did not write: let a retry run it again
  if (reply.ok === 0) ctx.session.retry = null;
  r.settle(reply);
}

function txnFor(eng: EngineState, s: Session, n: bigint, start: boolean, readConcern: unknown): Txn {
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
    if (s.txn && s.txn.state === 'active') eng.store.abortTxn(s.txn, 'superseded by a newer transaction');
    s.txnNumber = n;
    s.txn = eng.store.beginTxn(s.key, n);
    return s.txn;
  }
  if (s.txnNumber !== n || !s.txn) throw noSuchTransaction({ txnNumber: n });
  if (s.txn.state !== 'active') {
    if (s.txn.state === 'committed') throw err(256, `Transaction ${n} has been committed.`);
    throw noSuchTransaction(s.txn);
  }
  return s.txn;
}

async function endTransaction(eng: EngineState, name: string, s: Session, n: bigint): Promise<Doc> {
  const t = s.txn;
  if (!t || s.txnNumber !== n) throw noSuchTransaction({ txnNumber: n });
  if (name === 'commitTransaction') {
    if (t.state === 'committed') return { ok: OK() };
    if (t.state === 'aborted') throw noSuchTransaction(t);
    eng.store.commitTxn(t);
    await eng.hooks.durable();
    return { ok: OK() };
  }
  if (t.state === 'committed') throw err(256, 'Cannot abort a committed transaction');
  if (t.state === 'aborted') throw noSuchTransaction(t);
  eng.store.abortTxn(t, 'aborted by the client');
  return { ok: OK() };
}

function endSessions(eng: EngineState, ids: unknown): Doc {
  if (Array.isArray(ids)) {
    for (const lsid of ids) {
      const key = sessionKeyOf(lsid);
      const s = eng.sessions.get(key);
      if (s?.txn) eng.store.abortTxn(s.txn, 'session ended');
      eng.sessions.delete(key);
    }
  }
  return { ok: OK() };
}

export const sessionCommands: Record<string, Handler> = {
  endSessions: (eng, cmd) => endSessions(eng, cmd.endSessions),
  killSessions: (eng, cmd) => endSessions(eng, cmd.killSessions),
  refreshSessions: () => ({ ok: OK() }),
  startSession: () => {
    const id = new Binary(Buffer.from(new ObjectId().toHexString().padEnd(32, '0').slice(0, 32), 'hex'), 4);
    return { id: { id }, timeoutMinutes: SESSION_TIMEOUT_MIN, ok: OK() };
  },
  commitTransaction: (_e, _c, ctx) => {
    throw err('InvalidOptions', `${ctx.name} must be run within a transaction`);
  },
  abortTransaction: (_e, _c, ctx) => {
    throw err('InvalidOptions', `${ctx.name} must be run within a transaction`);
  },
};
