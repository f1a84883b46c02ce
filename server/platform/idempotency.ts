import { createHash } from 'node:crypto';
import type { Request } from 'express';
import mongoose, { Schema } from 'mongoose';
import { ConflictError, RuleViolationError, ValidationError } from './errors';

interface IdempotencyRecord {
  _id: string;
  requestHash: string;
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
  { versionKey: false, collection: 'idempotency_keys' },
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

/**
 * Stripe's semantics for a scoped key: the first reply is stored and replayed for the same key; the
 * same key with another payload is a 422; a duplicate while the first is still running is a 409.
 * A failed first attempt releases the key so a corrected retry can use it.
 */
export async function runIdempotent(scopeKey: string, requestHash: string, run: () => Promise<Reply>): Promise<Reply & { replayed: boolean }> {
  try {
    await IdempotencyKey.create({ _id: scopeKey, requestHash, state: 'in_progress', createdAt: new Date() });
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
    const existing = await IdempotencyKey.findById(scopeKey).lean<IdempotencyRecord>();
    if (!existing) return runIdempotent(scopeKey, requestHash, run);
    if (existing.requestHash !== requestHash) {
      throw new RuleViolationError({ code: 'IDEMPOTENCY_KEY_REUSED', message: 'This Idempotency-Key was already used with a different request.' });
    }
    if (existing.state === 'in_progress') {
      throw new ConflictError({ code: 'IDEMPOTENCY_IN_PROGRESS', message: 'A request with this Idempotency-Key is still being processed.' });
    }
    return { status: existing.status ?? 200, body: existing.body, replayed: true };
  }
  try {
    const reply = await run();
    await IdempotencyKey.updateOne({ _id: scopeKey }, { $set: { state: 'done', status: reply.status, body: reply.body } });
    return { ...reply, replayed: false };
  } catch (err) {
    await IdempotencyKey.deleteOne({ _id: scopeKey, state: 'in_progress' }).catch(() => undefined);
    throw err;
  }
}

const KEY_PATTERN = /^[A-Za-z0-9_.:-]{8,128}$/;

/** Wraps an HTTP handler in Idempotency-Key handling; without the header the handler just runs. */
export async function withIdempotency(req: Request, run: () => Promise<Reply>): Promise<Reply> {
  const key = req.get('idempotency-key');
  if (key === undefined) return run();
  if (!KEY_PATTERN.test(key)) {
    throw new ValidationError({ code: 'INVALID_IDEMPOTENCY_KEY', message: 'Idempotency-Key must be 8–128 letters, digits or ._:-' });
  }
  const scope = `${req.actor?.id ?? 'anonymous'}:${req.method}:${req.baseUrl}${req.route?.path ?? req.path}`;
  const reply = await runIdempotent(`${scope}:${key}`, hashRequest(`${req.method} ${req.originalUrl}`, req.body), run);
  return { status: reply.status, body: reply.body };
}
