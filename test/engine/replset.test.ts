// The engine as a one-node replica set: what hello reports, the three ways a URI can address it,
// cluster/operation time for causal consistency, retryable writes that never apply twice, and
// transactions over each kind of connection.
import { expect } from 'chai';
import { Long, MongoClient, ObjectId, Timestamp } from 'mongodb';
import { getMongoUri, usingEmbeddedEngine } from '../support/mongo';

describe('engine: one-node replica set', () => {
  let base: string;
  let client: MongoClient;
  before(async () => {
    base = await getMongoUri('engine_replset');
    client = await MongoClient.connect(base);
    await client.db().dropDatabase();
  });
  after(async () => {
    await client?.close();
  });

  it('reports itself as the writable primary of a named set in hello', async () => {
    const hello = await client.db('admin').command({ hello: 1 });
    expect(hello.isWritablePrimary).to.equal(true);
    expect(hello.secondary).to.equal(false);
    expect(hello.setName).to.be.a('string').and.not.equal('');
    expect(hello.hosts).to.deep.equal([hello.me]);
    expect(hello.primary).to.equal(hello.me);
    expect(hello.setVersion).to.be.a('number');
    expect(hello.electionId).to.be.instanceOf(ObjectId);
    expect(hello.lastWrite.opTime.ts).to.be.instanceOf(Timestamp);
    expect(hello.$clusterTime.clusterTime).to.be.instanceOf(Timestamp);
    const status = await client.db('admin').command({ replSetGetStatus: 1 });
    expect(status.set).to.equal(hello.setName);
    expect(status.members[0].stateStr).to.equal('PRIMARY');
  });

  it('connects and runs transactions with no option, with ?replicaSet=<name> and with directConnection=true', async () => {
    const setName = (await client.db('admin').command({ hello: 1 })).setName as string;
    const variants: [string, string, string][] = [
      ['discovered', base, 'ReplicaSetWithPrimary'],
      ['replicaSet', `${base}?replicaSet=${setName}`, 'ReplicaSetWithPrimary'],
      ['direct', `${base}?directConnection=true`, 'Single'],
    ];
    for (const [label, uri, type] of variants) {
      const c = await MongoClient.connect(uri);
      try {
        expect((c as unknown as { topology?: { description: { type: string } } }).topology?.description.type, label).to.equal(type);
        const coll = c.db().collection(`tx_${label}`);
        await coll.insertOne({ _id: 1 as never, n: 0 });
        await c.withSession((s) => s.withTransaction(async () => {
          await coll.updateOne({ _id: 1 as never }, { $inc: { n: 1 } }, { session: s });
          await coll.insertOne({ _id: 2 as never }, { session: s });
        }));
        expect(await coll.countDocuments(), label).to.equal(2);
        const s = c.startSession();
        s.startTransaction();
        await coll.insertOne({ _id: 3 as never }, { session: s });
        await s.abortTransaction();
        await s.endSession();
        expect(await coll.countDocuments(), label).to.equal(2);
      } finally {
        await c.close();
      }
    }
  });

  it('advances operationTime for causally consistent sessions', async () => {
    const s = client.startSession({ causalConsistency: true });
    try {
      const coll = client.db().collection('causal');
      await coll.insertOne({ a: 1 }, { session: s });
      const t1 = s.operationTime!;
      expect(t1).to.be.instanceOf(Timestamp);
      await coll.insertOne({ a: 2 }, { session: s });
      expect(s.operationTime!.greaterThan(t1)).to.equal(true);
      expect(await coll.countDocuments({}, { session: s })).to.equal(2);
    } finally {
      await s.endSession();
    }
  });

  (usingEmbeddedEngine() ? it : it.skip)('applies a retried write (same lsid and txnNumber) once and returns the first reply', async () => {
    // a client of its own: the explicit txnNumbers below must not meet the pool's server sessions
    const own = await MongoClient.connect(base);
    const db = own.db();
    await db.collection('retry').insertOne({ _id: 1 as never, n: 0 });
    const s = own.startSession();
    try {
      const inc = { update: 'retry', updates: [{ q: { _id: 1 }, u: { $inc: { n: 1 } } }], txnNumber: Long.fromNumber(7) };
      const first = await db.command(inc, { session: s });
      const again = await db.command(inc, { session: s });
      expect(first.nModified).to.equal(1);
      expect(again.nModified).to.equal(1);
      expect((await db.collection('retry').findOne({ _id: 1 as never }))!.n).to.equal(1);
      const ins = { insert: 'retry', documents: [{ _id: 2 }], txnNumber: Long.fromNumber(8) };
      await db.command(ins, { session: s });
      const insAgain = await db.command(ins, { session: s });
      expect(insAgain.n).to.equal(1);
      expect(insAgain.writeErrors).to.equal(undefined);
      expect(await db.collection('retry').countDocuments()).to.equal(2);
      const old = await db.command({ ...inc, txnNumber: Long.fromNumber(6) }, { session: s }).catch((e) => e);
      expect(old.code).to.equal(225);
      expect((await db.collection('retry').findOne({ _id: 1 as never }))!.n).to.equal(1);
    } finally {
      await s.endSession();
      await own.close();
    }
  });

  it('runs the driver retryable writes (txnNumber on each write) as ordinary writes', async () => {
    const coll = client.db().collection('retryable');
    await coll.insertOne({ _id: 1 as never, n: 0 });
    await coll.updateOne({ _id: 1 as never }, { $inc: { n: 1 } });
    await coll.findOneAndUpdate({ _id: 1 as never }, { $inc: { n: 1 } });
    await coll.deleteOne({ _id: 1 as never });
    expect(await coll.countDocuments()).to.equal(0);
  });
});
