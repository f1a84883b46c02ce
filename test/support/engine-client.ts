// The MongoDB driver against the test engine (mongo.ts), for the engine's conformance tests.
import { expect } from 'chai';
import { type Db, MongoClient, type MongoServerError } from 'mongodb';
import type { Connection, Mongoose } from 'mongoose';
import { getMongoUri } from './mongo';
import { perSuite } from './per-suite';

/** What `useEngineClient` gives the tests of its block (read it inside hooks and tests). */
export interface EngineClient {
  readonly client: MongoClient;
  /** the block's own database, empty when its tests start */
  readonly db: Db;
}

/** A driver client on database `dbName`, connected and emptied before the calling describe block's tests and closed after them. */
export function useEngineClient(dbName: string): EngineClient {
  const client = perSuite(
    'the engine client',
    async () => {
      const c = await MongoClient.connect(await getMongoUri(dbName));
      await c.db().dropDatabase();
      return c;
    },
    (c) => c.close(),
  );
  return {
    get client() {
      return client();
    },
    get db() {
      return client().db();
    },
  };
}

/**
 * A Mongoose connection of `odm` (the file's own Mongoose, without the app's settings) to database
 * `dbName`, opened and emptied before the calling describe block's tests and closed after them.
 */
export function useEngineConnection(odm: Mongoose, dbName: string): { readonly conn: Connection } {
  const conn = perSuite(
    'the engine connection',
    async () => {
      const c = await odm.createConnection(await getMongoUri(dbName)).asPromise();
      await c.dropDatabase();
      return c;
    },
    (c) => c.close(),
  );
  return {
    get conn() {
      return conn();
    },
  };
}

/** The error `p` rejects with; fails the test if it resolves. */
export async function failure(p: Promise<unknown>): Promise<MongoServerError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e, 'expected the operation to fail').to.be.instanceOf(Error);
  return e as MongoServerError;
}
