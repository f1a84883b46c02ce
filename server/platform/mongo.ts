import mongoose from 'mongoose';
import type { Logger } from './logger';

let configured = false;

/** Global Mongoose settings (DESIGN §6): sanitised filters, strict queries, `id` instead of `_id` in JSON. */
export function configureMongoose(): void {
  if (configured) return;
  configured = true;
  mongoose.set('sanitizeFilter', true);
  mongoose.set('strictQuery', 'throw');
  mongoose.set('strict', 'throw');
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

/** Connects the default Mongoose connection and creates the indexes of every registered model. */
export async function connectMongo(uri: string, dbName: string, logger: Logger): Promise<typeof mongoose> {
  configureMongoose();
  await mongoose.connect(uri, { dbName, serverSelectionTimeoutMS: 10_000, maxPoolSize: 20 });
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

export async function pingMongo(): Promise<boolean> {
  try {
    const db = mongoose.connection.db;
    if (!db) return false;
    await db.admin().ping();
    return true;
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
