// Change streams through the driver and Mongoose: events for each kind of write, updateLookup,
// database-wide streams, pipelines, transactions, and resuming (resumeAfter after a reconnect,
// startAfter after an invalidate, startAtOperationTime).
import { expect } from 'chai';
import mongoose from 'mongoose';
import { type ChangeStream, type ChangeStreamDocument, type Db, MongoClient, type ResumeToken, Timestamp } from 'mongodb';
import { getMongoUri } from '../support/mongo';

const odm = new mongoose.Mongoose();

/** Waits for the next event (the driver keeps polling with getMore; a stream that never delivers fails the test by its timeout). */
type Ev = ChangeStreamDocument & { documentKey?: unknown; fullDocument?: unknown; updateDescription?: unknown; ns?: { db: string; coll?: string } };
async function next(cs: ChangeStream): Promise<Ev> {
  return (await cs.next()) as Ev;
}

describe('engine: change streams', () => {
  let uri: string;
  let client: MongoClient;
  let db: Db;
  before(async () => {
    uri = await getMongoUri('engine_changes');
    client = await MongoClient.connect(uri);
    db = client.db();
    await db.dropDatabase();
  });
  after(async () => {
    await client?.close();
  });

  it('reports insert, update, replace and delete on a collection', async () => {
    const coll = db.collection('drugs');
    const cs = coll.watch();
    await cs.tryNext(); // opens the cursor before the writes
    await coll.insertOne({ _id: 1 as never, name: 'urokinase', stock: { qty: 5, unit: 'vial' }, old: true });
    await coll.updateOne({ _id: 1 as never }, { $set: { 'stock.qty': 4 }, $unset: { old: '' } });
    await coll.replaceOne({ _id: 1 as never }, { name: 'urokinase 10k' });
    await coll.deleteOne({ _id: 1 as never });
    const ins = await next(cs);
    expect(ins.operationType).to.equal('insert');
    expect(ins).to.deep.include({ ns: { db: db.databaseName, coll: 'drugs' }, documentKey: { _id: 1 } });
    expect((ins as { fullDocument: unknown }).fullDocument).to.deep.equal({ _id: 1, name: 'urokinase', stock: { qty: 5, unit: 'vial' }, old: true });
    expect(ins.clusterTime).to.be.instanceOf(Timestamp);
    const upd = await next(cs);
    expect(upd.operationType).to.equal('update');
    expect((upd as { updateDescription: unknown }).updateDescription).to.deep.equal({ updatedFields: { 'stock.qty': 4 }, removedFields: ['old'], truncatedArrays: [] });
    expect(upd).to.not.have.property('fullDocument');
    const rep = await next(cs);
    expect(rep.operationType).to.equal('replace');
    expect((rep as { fullDocument: unknown }).fullDocument).to.deep.equal({ _id: 1, name: 'urokinase 10k' });
    const del = await next(cs);
    expect(del.operationType).to.equal('delete');
    expect(del).to.deep.include({ documentKey: { _id: 1 } });
    await cs.close();
  });

  it("looks up the current document for updates with fullDocument: 'updateLookup'", async () => {
    const coll = db.collection('lookup');
    await coll.insertOne({ _id: 1 as never, n: 0 });
    const cs = coll.watch([], { fullDocument: 'updateLookup' });
    await cs.tryNext();
    await coll.updateOne({ _id: 1 as never }, { $inc: { n: 1 } });
    const ev = await next(cs);
    expect((ev as { fullDocument: unknown }).fullDocument).to.deep.equal({ _id: 1, n: 1 });
    await cs.close();
  });

  it('watches a whole database and filters events with a pipeline', async () => {
    const cs = db.watch([{ $match: { operationType: 'insert' } }]);
    await cs.tryNext();
    await db.collection('a').insertOne({ _id: 1 as never });
    await db.collection('a').deleteOne({ _id: 1 as never });
    await db.collection('b').insertOne({ _id: 2 as never });
    const e1 = await next(cs);
    const e2 = await next(cs);
    expect([e1, e2].map((e) => [e.operationType, (e as { ns: { coll: string } }).ns.coll])).to.deep.equal([
      ['insert', 'a'],
      ['insert', 'b'],
    ]);
    await cs.close();
  });

  it('reports the writes of a committed transaction with its lsid and txnNumber, and nothing of an aborted one', async () => {
    const coll = db.collection('txn');
    const cs = coll.watch();
    await cs.tryNext();
    const s = client.startSession();
    try {
      s.startTransaction();
      await coll.insertOne({ _id: 'gone' as never }, { session: s });
      await s.abortTransaction();
      await s.withTransaction(async () => {
        await coll.insertOne({ _id: 'kept' as never }, { session: s });
      });
    } finally {
      await s.endSession();
    }
    const ev = await next(cs);
    expect(ev).to.deep.include({ operationType: 'insert', documentKey: { _id: 'kept' } });
    expect(ev.txnNumber).to.not.equal(undefined);
    expect(ev.lsid).to.have.property('id');
    await cs.close();
  });

  it('resumes after a reconnect with resumeAfter, delivering exactly the events missed', async () => {
    const coll = db.collection('resume');
    const cs = coll.watch();
    await cs.tryNext();
    await coll.insertOne({ _id: 1 as never });
    const first = await next(cs);
    const token: ResumeToken = first._id;
    await cs.close();
    await coll.insertOne({ _id: 2 as never });
    await coll.insertOne({ _id: 3 as never });
    const other = await MongoClient.connect(uri);
    try {
      const resumed = other.db().collection('resume').watch([], { resumeAfter: token });
      expect((await next(resumed)).documentKey).to.deep.equal({ _id: 2 });
      expect((await next(resumed)).documentKey).to.deep.equal({ _id: 3 });
      expect(await resumed.tryNext()).to.equal(null);
      await resumed.close();
      const fromTime = other.db().collection('resume').watch([], { startAtOperationTime: first.clusterTime });
      expect((await next(fromTime)).documentKey).to.deep.equal({ _id: 1 });
      await fromTime.close();
    } finally {
      await other.close();
    }
  });

  it('invalidates a collection stream on drop and starts after the invalidate with startAfter', async () => {
    const coll = db.collection('dropped');
    await coll.insertOne({ _id: 0 as never });
    const cs = coll.watch();
    await cs.tryNext();
    await coll.drop();
    expect((await next(cs)).operationType).to.equal('drop');
    const inv = await next(cs);
    expect(inv.operationType).to.equal('invalidate');
    expect(cs.closed).to.equal(true);
    await coll.insertOne({ _id: 1 as never });
    const again = coll.watch([], { startAfter: inv._id });
    expect((await next(again)).documentKey).to.deep.equal({ _id: 1 });
    await again.close();
    const refused = await coll.watch([], { resumeAfter: inv._id }).tryNext().catch((e) => e);
    expect(refused.code).to.equal(260);
  });

  it('delivers events to a Mongoose Model.watch() listener', async () => {
    const conn = await odm.createConnection(uri).asPromise();
    try {
      const Drug = conn.model('Drug', new odm.Schema({ name: String }), 'mongoose_drugs');
      await Drug.createCollection();
      const stream = Drug.watch();
      const got = new Promise<ChangeStreamDocument>((resolve) => stream.once('change', resolve));
      await new Promise((r) => setTimeout(r, 50)); // let the stream open its cursor
      await Drug.create({ name: 'alteplase' });
      const ev = await got;
      expect(ev.operationType).to.equal('insert');
      expect((ev as unknown as { fullDocument: { name: string } }).fullDocument.name).to.equal('alteplase');
      await stream.close();
    } finally {
      await conn.close();
    }
  });
});
