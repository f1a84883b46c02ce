// The MongoDB driver against the test engine (mongo.ts), for the engine's conformance tests.
import { expect } from 'chai';
import { type Db, MongoClient, type MongoServerError } from 'mongodb';
import { getMongoUri } from './mongo';

/** What `useEngineClient` gives the tests of its block (read it inside hooks and tests). */
export interface EngineClient {
  readonly client: MongoClient;
  /** the block's own database, empty when its tests start */
  readonly db: Db;
}

/** A driver client on database `dbName`, connected and emptied before the calling describe block's tests and closed after them. */
export function useEngineClient(dbName: string): EngineClient {
  let client: MongoClient | undefined;
  before(async () => {
    client = await MongoClient.connect(await getMongoUri(dbName));
    await client.db().dropDatabase();
  });
  after(async () => {
    await client?.close();
  });
  const connected = () => {
    if (!client) throw new Error('useEngineClient: the client is only there once the before hook ran');
    return client;
  };
  return {
    get client() {
      return connected();
    },
    get db() {
      return connected().db();
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
