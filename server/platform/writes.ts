// A unit of work's writes in ONE database command: MongoDB 8's cross-collection `bulkWrite` (the
// embedded engine speaks it too) applies inserts and updates on many collections in order, inside the
// transaction, and answers each. Each command is a socket write and a wake-up of the database on both
// sides, which on a small virtual machine costs far more CPU than the statement itself, so a command
// that wrote six collections with six commands now writes them with one. Where the server is older
// than 8.0, the same writes go one command per statement (inserts into one collection together), in
// the same order, with the same results.
import mongoose, { type ClientSession, type Model } from 'mongoose';
import { MongoClientBulkWriteError, MongoServerError, type AnyClientBulkWriteModel, type ClientBulkWriteResult } from 'mongodb';

// NOTE: Mongoose models of different record types are written side by side here; each record arrives complete.
type AnyModel = Model<any>;
type Doc = Record<string, unknown>;

/** One statement: a complete document to insert, or an update (with operators) of the matching documents. */
export type Write =
  | { op: 'insert'; model: AnyModel; doc: object }
  | { op: 'update'; model: AnyModel; filter: object; update: object; multi?: boolean; upsert?: boolean };

/** What one statement did: for an insert, matched 0 and modified 0. */
export interface WriteResult {
  matched: number;
  modified: number;
  upserted: boolean;
}

/** The first server version with the cross-collection bulkWrite (MongoDB 8.0). */
const CLIENT_BULK_WRITE_WIRE_VERSION = 25;
let support: { client: unknown; yes: Promise<boolean> } | undefined;

/** Whether the connected server takes `bulkWrite` on admin (asked once per client). */
function serverTakesBulkWrite(): Promise<boolean> {
  const client = mongoose.connection.getClient();
  if (support?.client !== client) {
    const yes = mongoose.connection
      .db!.admin()
      .command({ hello: 1 })
      .then((hello) => Number(hello.maxWireVersion) >= CLIENT_BULK_WRITE_WIRE_VERSION);
    support = { client, yes };
    // a failed look is asked again next time
    yes.catch(() => {
      if (support?.yes === yes) support = undefined;
    });
  }
  return support.yes;
}

/**
 * A copy of `value` without fields that are `undefined` (as Mongoose's lean inserts leave them out;
 * the driver's bulkWrite would store them as null); objects without such fields are returned as they are.
 */
export function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const clean = withoutUndefined(item);
      if (clean !== item) (copy ??= [...value])[i] = clean;
    });
    return (copy ?? value) as T;
  }
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value;
  let copy: Doc | undefined;
  for (const [key, field] of Object.entries(value as Doc)) {
    if (field === undefined) {
      copy ??= { ...(value as Doc) };
      delete copy[key];
      continue;
    }
    const clean = withoutUndefined(field);
    if (clean !== field) (copy ??= { ...(value as Doc) })[key] = clean;
  }
  return (copy ?? value) as T;
}

/**
 * Applies `writes` in order in `session` and answers each one's result. The first failing statement
 * fails the whole call with the server's own error (a duplicate key is code 11000, a write conflict
 * keeps its TransientTransactionError label), and its transaction must then be aborted.
 */
export async function writeInOrder(session: ClientSession | null, writes: readonly Write[], via: 'best' | 'statements' = 'best'): Promise<WriteResult[]> {
  if (writes.length === 0) return [];
  // NOTE: `via: 'statements'` takes the path of servers older than 8.0 (its tests run on the engine).
  return via === 'best' && (await serverTakesBulkWrite()) ? oneCommand(session, writes) : commandByCommand(session, writes);
}

function namespaceOf(model: AnyModel): string {
  return `${model.db.name}.${model.collection.collectionName}`;
}

async function oneCommand(session: ClientSession | null, writes: readonly Write[]): Promise<WriteResult[]> {
  const models: AnyClientBulkWriteModel<Doc>[] = writes.map((w) =>
    w.op === 'insert'
      ? { name: 'insertOne', namespace: namespaceOf(w.model), document: withoutUndefined(w.doc) as Doc }
      : { name: w.multi ? 'updateMany' : 'updateOne', namespace: namespaceOf(w.model), filter: w.filter as Doc, update: withoutUndefined(w.update) as Doc, ...(w.upsert ? { upsert: true } : {}) },
  );
  let res: ClientBulkWriteResult;
  try {
    res = await mongoose.connection.getClient().bulkWrite(models, { ...(session ? { session } : {}), ordered: true, verboseResults: true });
  } catch (err) {
    throw serverErrorOf(err);
  }
  return writes.map((w, i) => {
    if (w.op === 'insert') return { matched: 0, modified: 0, upserted: false };
    const r = res.updateResults?.get(i);
    // NOTE: the server counts an upserted document in the statement's `n`, which the driver reports as matched.
    return { matched: r?.didUpsert ? 0 : (r?.matchedCount ?? 0), modified: r?.modifiedCount ?? 0, upserted: Boolean(r?.didUpsert) };
  });
}

/** The server's error inside the driver's bulkWrite error: its cause, or its first write error. */
function serverErrorOf(err: unknown): unknown {
  if (!(err instanceof MongoClientBulkWriteError)) return err;
  if (err.cause instanceof MongoServerError) return err.cause;
  const first = [...err.writeErrors.entries()].sort((a, b) => a[0] - b[0])[0];
  if (!first) return err;
  const [index, writeError] = first;
  return Object.assign(new MongoServerError({ message: writeError.message, errmsg: writeError.message, code: writeError.code }), { index });
}

async function commandByCommand(session: ClientSession | null, writes: readonly Write[]): Promise<WriteResult[]> {
  const results: WriteResult[] = [];
  for (let i = 0; i < writes.length; ) {
    const w = writes[i]!;
    if (w.op === 'insert') {
      // consecutive inserts into one collection go together
      let end = i + 1;
      while (end < writes.length && writes[end]!.op === 'insert' && writes[end]!.model === w.model) end += 1;
      const docs = writes.slice(i, end).map((x) => (x as { doc: object }).doc);
      await w.model.collection.insertMany(docs as Doc[], { ...(session ? { session } : {}), ordered: true, ignoreUndefined: true });
      for (; i < end; i += 1) results.push({ matched: 0, modified: 0, upserted: false });
      continue;
    }
    const options = { ...(session ? { session } : {}), ...(w.upsert ? { upsert: true } : {}), ignoreUndefined: true };
    const r = w.multi ? await w.model.collection.updateMany(w.filter as Doc, w.update as Doc, options) : await w.model.collection.updateOne(w.filter as Doc, w.update as Doc, options);
    results.push({ matched: r.matchedCount, modified: r.modifiedCount, upserted: r.upsertedCount > 0 });
    i += 1;
  }
  return results;
}
