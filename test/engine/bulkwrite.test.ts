// MongoDB 8's cross-collection `bulkWrite` command, through the driver's `client.bulkWrite()`:
// inserts, updates and deletes on several collections in one command, in order, with per-statement
// results, write errors, transactions (atomic with the rest, aborted as a whole) and retries.
import { expect } from 'chai';
import { MongoClientBulkWriteError, ObjectId, type AnyClientBulkWriteModel, type ClientBulkWriteOptions, type Document } from 'mongodb';
import { useEngineClient } from '../support/engine-client';

describe('engine: client bulkWrite (MongoDB 8)', () => {
  const engine = useEngineClient('engine_client_bulk');
  const ns = (name: string) => `${engine.db.databaseName}.${name}`;
  // NOTE: the models' documents are untyped here (numeric _ids, several collections).
  const bulkWrite = (models: object[], options?: ClientBulkWriteOptions) => engine.client.bulkWrite(models as AnyClientBulkWriteModel<Document>[], options);

  beforeEach(async () => {
    await engine.db.collection('a').deleteMany({});
    await engine.db.collection('b').deleteMany({});
    await engine.db.collection('b').createIndex({ code: 1 }, { unique: true });
  });

  it('says it is MongoDB 8.0 (wire version 25)', async () => {
    const hello = await engine.db.admin().command({ hello: 1 });
    expect(hello.maxWireVersion).to.be.at.least(25);
  });

  it('applies inserts, updates and deletes on several collections in order and answers each', async () => {
    await engine.db.collection('a').insertMany([
      { _id: 1 as never, n: 1 },
      { _id: 2 as never, n: 2 },
      { _id: 3 as never, n: 3 },
    ]);
    const res = await bulkWrite(
      [
        { name: 'insertOne', namespace: ns('b'), document: { code: 'x', qty: 1 } },
        { name: 'updateOne', namespace: ns('b'), filter: { code: 'x' }, update: { $inc: { qty: 4 } } },
        { name: 'updateMany', namespace: ns('a'), filter: { n: { $gte: 2 } }, update: { $set: { big: true } } },
        { name: 'updateOne', namespace: ns('a'), filter: { _id: 9 }, update: { $set: { n: 9 } }, upsert: true },
        { name: 'updateOne', namespace: ns('a'), filter: { _id: 1, n: 5 }, update: { $set: { n: 6 } } },
        { name: 'deleteOne', namespace: ns('a'), filter: { _id: 1 } },
        { name: 'replaceOne', namespace: ns('b'), filter: { code: 'x' }, replacement: { code: 'x', qty: 0 } },
      ],
      { verboseResults: true },
    );
    expect(res.insertedCount).to.equal(1);
    expect(res.matchedCount).to.equal(4);
    expect(res.modifiedCount).to.equal(4);
    expect(res.upsertedCount).to.equal(1);
    expect(res.deletedCount).to.equal(1);
    expect(res.updateResults?.get(2)).to.include({ matchedCount: 2, modifiedCount: 2 });
    expect(res.updateResults?.get(3)).to.include({ matchedCount: 1, didUpsert: true, upsertedId: 9 });
    expect(res.updateResults?.get(4)).to.include({ matchedCount: 0, modifiedCount: 0 });
    expect(res.insertResults?.get(0)?.insertedId).to.be.instanceOf(ObjectId);
    const a = await engine.db.collection('a').find().sort({ _id: 1 }).toArray();
    expect(a).to.deep.equal([
      { _id: 2, n: 2, big: true },
      { _id: 3, n: 3, big: true },
      { _id: 9, n: 9 },
    ]);
    const b = await engine.db.collection('b').find({}, { projection: { _id: 0 } }).toArray();
    expect(b).to.deep.equal([{ code: 'x', qty: 0 }]);
  });

  it('stops an ordered command at the first write error and reports it by index', async () => {
    await engine.db.collection('b').insertOne({ code: 'taken' });
    let caught: unknown;
    try {
      await bulkWrite([
        { name: 'insertOne', namespace: ns('a'), document: { _id: 1 as never } },
        { name: 'insertOne', namespace: ns('b'), document: { code: 'taken' } },
        { name: 'insertOne', namespace: ns('a'), document: { _id: 2 as never } },
      ]);
    } catch (e) {
      caught = e;
    }
    expect(caught).to.be.instanceOf(MongoClientBulkWriteError);
    const writeError = (caught as MongoClientBulkWriteError).writeErrors.get(1);
    expect(writeError?.code).to.equal(11000);
    expect(await engine.db.collection('a').countDocuments()).to.equal(1);
  });

  it('goes on past a write error when unordered, and reports every error', async () => {
    await engine.db.collection('b').insertOne({ code: 'taken' });
    let caught: unknown;
    try {
      await bulkWrite(
        [
          { name: 'insertOne', namespace: ns('b'), document: { code: 'taken' } },
          { name: 'insertOne', namespace: ns('a'), document: { _id: 1 as never } },
          { name: 'insertOne', namespace: ns('a'), document: { _id: 1 as never } },
        ],
        { ordered: false },
      );
    } catch (e) {
      caught = e;
    }
    const errors = (caught as MongoClientBulkWriteError).writeErrors;
    expect([...errors.keys()]).to.deep.equal([0, 2]);
    expect(await engine.db.collection('a').countDocuments()).to.equal(1);
  });

  it('is atomic with the rest of a transaction: committed together, or nothing when it aborts', async () => {
    const session = engine.client.startSession();
    try {
      await session.withTransaction(async () => {
        await bulkWrite(
          [
            { name: 'insertOne', namespace: ns('a'), document: { _id: 1 as never, n: 1 } },
            { name: 'insertOne', namespace: ns('b'), document: { code: 'c1' } },
          ],
          { session },
        );
        await engine.db.collection('a').updateOne({ _id: 1 as never }, { $inc: { n: 1 } }, { session });
      });
      // a write error inside a transaction: the transaction is aborted, nothing of it stays
      let caught: unknown;
      try {
        await session.withTransaction(async () => {
          await engine.db.collection('a').insertOne({ _id: 5 as never }, { session });
          await bulkWrite(
            [
              { name: 'insertOne', namespace: ns('a'), document: { _id: 6 as never } },
              { name: 'insertOne', namespace: ns('b'), document: { code: 'c1' } },
            ],
            { session },
          );
        });
      } catch (e) {
        caught = e;
      }
      expect(caught).to.be.instanceOf(MongoClientBulkWriteError);
    } finally {
      await session.endSession();
    }
    expect(await engine.db.collection('a').find().toArray()).to.deep.equal([{ _id: 1, n: 2 }]);
    expect(await engine.db.collection('b').countDocuments()).to.equal(1);
  });

  it('aborts the transaction at a write error, as mongod does: the next statement of it is refused (NoSuchTransaction)', async () => {
    const session = engine.client.startSession();
    try {
      await engine.db.collection('b').insertOne({ code: 'taken' });
      session.startTransaction();
      await engine.db.collection('a').insertOne({ _id: 7 as never }, { session });
      const failed = await bulkWrite([{ name: 'insertOne', namespace: ns('b'), document: { code: 'taken' } }], { session }).catch((e: unknown) => e);
      expect(failed).to.be.instanceOf(MongoClientBulkWriteError);
      expect([...(failed as MongoClientBulkWriteError).writeErrors.values()][0]?.code).to.equal(11000);
      const next = await engine.db.collection('a').insertOne({ _id: 8 as never }, { session }).catch((e: { code?: number }) => e);
      expect(next).to.have.property('code', 251);
      await session.abortTransaction().catch(() => undefined);
    } finally {
      await session.endSession();
    }
    expect(await engine.db.collection('a').countDocuments({ _id: { $in: [7, 8] } as never })).to.equal(0);
  });

  it('refuses a bad command with nothing written', async () => {
    const admin = engine.db.admin();
    const bad = async (cmd: Record<string, unknown>) => {
      try {
        await admin.command(cmd);
        return null;
      } catch (e) {
        return (e as { code?: number }).code;
      }
    };
    expect(await bad({ bulkWrite: 1, ops: [{ insert: 0, document: { _id: 1 } }] })).to.be.a('number');
    expect(await bad({ bulkWrite: 1, nsInfo: [{ ns: ns('a') }] })).to.be.a('number');
    const unknownIndex = await admin.command({ bulkWrite: 1, ops: [{ insert: 3, document: { _id: 1 } }], nsInfo: [{ ns: ns('a') }] });
    expect(unknownIndex.nErrors).to.equal(1);
    const noDot = await admin.command({ bulkWrite: 1, ops: [{ insert: 0, document: { _id: 1 } }], nsInfo: [{ ns: 'nodot' }] });
    expect(noDot.nErrors).to.equal(1);
    expect(await bad({ bulkWrite: 1, ops: [], nsInfo: [] })).to.equal(null);
    const onOtherDb = await engine.db.command({ bulkWrite: 1, ops: [{ insert: 0, document: { _id: 1 } }], nsInfo: [{ ns: ns('a') }] }).catch((e: { code: number }) => e.code);
    expect(onOtherDb).to.equal(13);
    expect(await engine.db.collection('a').countDocuments()).to.equal(0);
  });
});
