import mongoose from 'mongoose';
import type { DbHealth } from './db-health';
import type { Logger } from './logger';

let configured = false;

/** Global Mongoose settings: sanitised filters, strict queries, `id` instead of `_id` in JSON. */
export function configureMongoose(): void {
  if (configured) return;
  configured = true;
  mongoose.set('sanitizeFilter', true);
  mongoose.set('strictQuery', 'throw');
  mongoose.set('strict', 'throw');
  // NOTE: every operation inside a unit of work's transaction joins it (and reads its own writes),
  // even where a helper forgot to pass the session.
  mongoose.set('transactionAsyncLocalStorage', true);
  mongoose.set('toJSON', {
    virtuals: false,
    versionKey: false,
    transform: (_doc: unknown, ret: Record<string, unknown>) => {
      ret.id = String(ret._id);
      delete ret._id;
      for (const key of Object.keys(ret)) if (key.startsWith('_private') || key === 'passwordHash') delete ret[key];
      return ret;
    },
  });
}

export interface MongoTimings {
  /** How long an operation waits for a usable server before failing (the app answers 503). */
  serverSelectionMs: number;
  /** How often the driver checks the server (and finds it again after an outage). */
  heartbeatMs: number;
}

/** Connects the default Mongoose connection; the database's health follows the driver's view of it. */
export async function connectMongo(uri: string, dbName: string, logger: Logger, timings: MongoTimings = { serverSelectionMs: 10_000, heartbeatMs: 10_000 }, health?: DbHealth): Promise<typeof mongoose> {
  configureMongoose();
  await mongoose.connect(uri, { dbName, serverSelectionTimeoutMS: timings.serverSelectionMs, heartbeatFrequencyMS: timings.heartbeatMs, maxPoolSize: 20 });
  health?.watch(mongoose.connection.getClient());
  logger.info({ dbName }, 'connected to MongoDB');
  return mongoose;
}

/** Ensures the indexes of every model registered so far (called after all modules are loaded). */
export async function syncIndexes(): Promise<void> {
  await Promise.all(Object.values(mongoose.models).map((model) => model.createIndexes()));
}

export async function disconnectMongo(): Promise<void> {
  await mongoose.disconnect();
}

/** Whether the database answers a ping within `timeoutMs`. */
export async function pingMongo(timeoutMs = 1000): Promise<boolean> {
  try {
    const db = mongoose.connection.db;
    if (!db) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const ok = await Promise.race([db.admin().command({ ping: 1 }, { timeoutMS: timeoutMs }).then(() => true), timeout]);
    clearTimeout(timer);
    return ok;
  } catch {
    return false;
  }
}

/**
 * Marks a query operator object as written by us, not by a user. With `sanitizeFilter` on, every
 * `{ $op: … }` in a filter is neutralised unless wrapped: `{ role: trusted({ $in: roles }) }`.
 */
export function trusted<T extends object>(operators: T): T {
  return mongoose.trusted(operators) as T;
}

/**
 * A duplicate-key error (11000) from a write or a bulk write, on an index of `field` when given
 * (told by the error's key pattern, or else by the index name in its message).
 */
export function isDuplicateKey(err: unknown, field?: string): boolean {
  type DupError = { code?: number; keyPattern?: Record<string, unknown>; message?: string; errmsg?: string };
  const e = err as DupError & { writeErrors?: { err?: DupError; errmsg?: string; code?: number }[] };
  const found = e?.code === 11000 ? e : e?.writeErrors?.map((w) => ({ ...w.err, code: w.code ?? w.err?.code, errmsg: w.errmsg ?? w.err?.errmsg })).find((w) => w.code === 11000);
  if (!found) return false;
  if (field === undefined) return true;
  if (found.keyPattern) return field in found.keyPattern;
  return new RegExp(`index: ${field}_`).test(found.errmsg ?? found.message ?? '');
}
