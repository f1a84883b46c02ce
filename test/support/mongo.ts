// Where tests find MongoDB: MONGODB_URI when set (a real server), otherwise one in-memory embedded
// engine started lazily for the whole test run and shared by every test file (one database each).
import { type RunningEngine, startEngine } from '../../server/engine/index';

let engine: Promise<RunningEngine> | null = null;

/** Replaces (or adds) the database name in a MongoDB connection string, keeping the options. */
export function withDbName(uri: string, dbName: string): string {
  const m = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(\/[^?]*)?(\?.*)?$/.exec(uri);
  if (!m) throw new Error(`unrecognised MongoDB URI: ${uri}`);
  return `${m[1]}/${dbName}${m[3] ?? ''}`;
}

export async function getMongoUri(dbName: string): Promise<string> {
  const external = process.env.MONGODB_URI;
  if (external) return withDbName(external, dbName);
  engine ??= startEngine({ memory: true, port: 0 }).catch((err: unknown) => {
    engine = null; // let a later call try again
    throw err;
  });
  const e = await engine;
  return `${e.uri}${dbName}`;
}

/** True when the tests run against the embedded engine (not a real MongoDB). */
export function usingEmbeddedEngine(): boolean {
  return !process.env.MONGODB_URI;
}

export async function stopTestEngine(): Promise<void> {
  const e = engine;
  engine = null;
  if (e) await (await e).close();
}
