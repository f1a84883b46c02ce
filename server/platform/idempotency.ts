// Stripe's Idempotency-Key semantics. While a request runs it holds a lease in Redis (a concurrent
// duplicate gets 409); the stored reply is written by the request's unit of work in the same
// transaction as the business write (unit-of-work.ts), so a key is "done" exactly when its effect
// committed. A request that dies before its commit leaves no record, and its lease ends with its
// process, so the retry runs the request once.
import { createHash, randomBytes } from 'node:crypto';
import type { Request } from 'express';
import mongoose, { Schema, type ClientSession } from 'mongoose';
import { now, platform } from './context';
import { ConflictError, RuleViolationError, ValidationError } from './errors';
import { INSTANCE } from './instance';
import { currentContext, type PendingIdempotency } from './request-context';
import { msg } from './messages';

interface IdempotencyRecord {
  _id: string;
  requestHash: string;
  // NOTE: records are written only when done; 'in_progress' exists in data from before leases.
  state: 'in_progress' | 'done';
  status?: number;
  body?: unknown;
  createdAt: Date;
}

const IdempotencyKeySchema = new Schema<IdempotencyRecord>(
  {
    _id: { type: String, required: true },
    requestHash: { type: String, required: true },
    state: { type: String, enum: ['in_progress', 'done'], required: true },
    status: Number,
    body: Schema.Types.Mixed,
    createdAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'idempotency_keys', minimize: false },
);
IdempotencyKeySchema.index({ createdAt: 1 }, { expireAfterSeconds: 24 * 3600 });

export const IdempotencyKey = mongoose.models.IdempotencyKey ?? mongoose.model<IdempotencyRecord>('IdempotencyKey', IdempotencyKeySchema);

/** JSON with sorted keys, so the same payload hashes the same whatever the key order. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}

export function hashRequest(scope: string, payload: unknown): string {
  return createHash('sha256').update(scope).update('\n').update(stableStringify(payload)).digest('hex');
}

export interface Reply {
  status: number;
  body: unknown;
}

/** The reply as the client receives it (Dates and ObjectIds as JSON), so a replay is byte-identical. */
export function asJson(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/** The stored record for the unit of work to insert in its transaction. */
export function completedRecord(p: PendingIdempotency, body: unknown, at: Date): IdempotencyRecord {
  return { _id: p.scopeKey, requestHash: p.requestHash, state: 'done', status: body === undefined ? 204 : p.status, body: asJson(body), createdAt: at };
}

/**
 * Stores the reply of an idempotent request inside the transaction that commits its effect (for
 * work that commits many requests at once, e.g. a batch of quotes); call `markStored` after the commit.
 */
export async function storeReplyIn(session: ClientSession, p: PendingIdempotency, body: unknown, at: Date): Promise<unknown> {
  const record = completedRecord(p, body, at);
  // NOTE: the record is complete as built; a lean insert skips hydrating the reply into a document.
  await IdempotencyKey.insertMany([record], { session, lean: true });
  return record.body;
}

/** A reply stored under the key was found where the request's transaction opened: it is replayed. */
class StoredReplyFound extends Error {
  constructor(readonly reply: Reply) {
    super('stored reply found');
  }
}

/**
 * The first statement of an idempotent request's transaction: the lookup of its key. A reply stored
 * under it ends the request as a replay (nothing of it is written); another payload under the same
 * key is a 422. Under the request's lease no other request with the key can commit meanwhile.
 */
export async function openIdempotentTransaction(session: ClientSession, p: PendingIdempotency): Promise<void> {
  const existing = await IdempotencyKey.findById(p.scopeKey, undefined, { session }).lean<IdempotencyRecord>();
  if (!existing) return;
  if (existing.state !== 'done') {
    await IdempotencyKey.deleteOne({ _id: p.scopeKey, state: 'in_progress' }, { session });
    return;
  }
  if (existing.requestHash !== p.requestHash) {
    throw new RuleViolationError({ code: 'IDEMPOTENCY_KEY_REUSED', message: msg('errorCodes.IDEMPOTENCY_KEY_REUSED_2') });
  }
  throw new StoredReplyFound({ status: existing.status ?? 200, body: existing.body });
}

/** After the commit: the request answers exactly the stored reply. */
export function markStored(p: PendingIdempotency, storedBody: unknown): void {
  p.stored = true;
  p.storedBody = storedBody;
}

// NOTE: each process proves it is alive with a short-lived key; a lease whose owner's key is gone
// belongs to a process that died (kill -9), so a retry takes it over at once instead of waiting.
const LIVENESS_MS = 1500;
const LEASE_MS = 60_000;
let heartbeat: NodeJS.Timeout | undefined;

const liveKey = (instance: string) => `${platform().config.queuePrefix}:live:${instance}`;
const leaseKey = (scopeKey: string) => `${platform().config.queuePrefix}:idem:${createHash('sha256').update(scopeKey).digest('hex')}`;

/** Starts this process's liveness heartbeat (idempotent). */
export function startLiveness(): void {
  if (heartbeat) return;
  const beat = () => void platform().redis.set(liveKey(INSTANCE), '1', 'PX', LIVENESS_MS).catch(() => undefined);
  beat();
  heartbeat = setInterval(beat, LIVENESS_MS / 3);
  heartbeat.unref();
}

export function stopLiveness(): void {
  if (heartbeat) clearInterval(heartbeat);
  heartbeat = undefined;
}

const TAKE_OVER = `
local owner = redis.call('get', KEYS[1])
if owner == false then return redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) and 1 or 0 end
if owner == ARGV[3] then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

async function acquireLease(key: string, holder: string): Promise<boolean> {
  const redis = platform().redis;
  if ((await redis.set(key, holder, 'PX', LEASE_MS, 'NX')) === 'OK') return true;
  const owner = await redis.get(key);
  if (owner === null) return (await redis.set(key, holder, 'PX', LEASE_MS, 'NX')) === 'OK';
  const ownerInstance = owner.split('/')[0]!;
  if (await redis.exists(liveKey(ownerInstance))) return false;
  return (await redis.eval(TAKE_OVER, 1, key, holder, String(LEASE_MS), owner)) === 1;
}

function inProgress(): ConflictError {
  return new ConflictError({ code: 'IDEMPOTENCY_IN_PROGRESS', message: msg('errorCodes.IDEMPOTENCY_IN_PROGRESS') });
}

async function storedReply(scopeKey: string, requestHash: string): Promise<Reply | undefined> {
  const existing = await IdempotencyKey.findById(scopeKey).lean<IdempotencyRecord>();
  if (!existing) return undefined;
  if (existing.state !== 'done') {
    await IdempotencyKey.deleteOne({ _id: scopeKey, state: 'in_progress' });
    return undefined;
  }
  if (existing.requestHash !== requestHash) {
    throw new RuleViolationError({ code: 'IDEMPOTENCY_KEY_REUSED', message: msg('errorCodes.IDEMPOTENCY_KEY_REUSED_2') });
  }
  return { status: existing.status ?? 200, body: existing.body };
}

export interface IdempotentRunOptions {
  /** `run` opens a unit of work before anything else, which looks the key up (`openIdempotentTransaction`). */
  lookupInTransaction?: boolean;
}

/**
 * Runs `run` once per scoped key: the first reply is stored (by the request's unit of work, in its
 * transaction) and replayed for the same key; the same key with another payload is a 422; a
 * duplicate while the first still runs is a 409.
 */
export async function runIdempotent(scopeKey: string, requestHash: string, status: number, run: () => Promise<Reply>, options: IdempotentRunOptions = {}): Promise<Reply & { replayed: boolean }> {
  const key = leaseKey(scopeKey);
  const holder = `${INSTANCE}/${randomBytes(6).toString('hex')}`;
  if (!(await acquireLease(key, holder))) {
    // NOTE: the holder may have committed and not yet released its lease: then this is a replay.
    const done = await storedReply(scopeKey, requestHash);
    if (done) return { ...done, replayed: true };
    throw inProgress();
  }
  try {
    const ctx = currentContext();
    const inTransaction = options.lookupInTransaction === true && ctx !== undefined;
    // NOTE: looked up under the lease, so a first request cannot commit between the lookup and the run.
    if (!inTransaction) {
      const before = await storedReply(scopeKey, requestHash);
      if (before) return { ...before, replayed: true };
    }
    const pending: PendingIdempotency = { scopeKey, requestHash, status, stored: false, ...(inTransaction ? { lookupInTransaction: true } : {}) };
    if (ctx) ctx.idempotency = pending;
    let reply: Reply;
    try {
      reply = await run();
    } catch (err) {
      if (err instanceof StoredReplyFound) return { ...err.reply, replayed: true };
      throw err;
    } finally {
      if (ctx) ctx.idempotency = undefined;
    }
    // The unit of work stored the reply in its transaction: answer exactly what a replay will.
    if (pending.stored) return { status: reply.status, body: pending.storedBody, replayed: false };
    // NOTE: a request that committed no unit of work (nothing to write) stores its reply now.
    await IdempotencyKey.updateOne({ _id: scopeKey }, { $setOnInsert: completedRecord(pending, reply.body, now()) }, { upsert: true });
    return { status: reply.status, body: asJson(reply.body), replayed: false };
  } finally {
    // NOTE: not awaited, so the reply goes out without waiting for Redis: a retry that arrives
    // before the release finds the lease held and the reply stored, which is a replay.
    void platform().redis.eval(RELEASE, 1, key, holder).catch(() => undefined);
  }
}

const KEY_PATTERN = /^[A-Za-z0-9_.:-]{8,128}$/;

/** Wraps an HTTP handler in Idempotency-Key handling; without the header the handler just runs. */
export async function withIdempotency(req: Request, status: number, run: () => Promise<Reply>, options: IdempotentRunOptions = {}): Promise<Reply> {
  const key = req.get('idempotency-key');
  if (key === undefined) return run();
  if (!KEY_PATTERN.test(key)) {
    throw new ValidationError({ code: 'INVALID_IDEMPOTENCY_KEY', message: msg('errorCodes.INVALID_IDEMPOTENCY_KEY') });
  }
  const scope = `${req.actor?.id ?? 'anonymous'}:${req.method}:${req.baseUrl}${req.route?.path ?? req.path}`;
  const reply = await runIdempotent(`${scope}:${key}`, hashRequest(`${req.method} ${req.originalUrl}`, req.body), status, run, options);
  return { status: reply.status, body: reply.body };
}
