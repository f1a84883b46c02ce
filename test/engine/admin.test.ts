// Handshake, admin commands, cursors and refusals.
import { expect } from 'chai';
import mongoose from 'mongoose';
import { Long } from 'mongodb';
import { useEngineClient } from '../support/engine-client';
import { getMongoUri, usingEmbeddedEngine } from '../support/mongo';

// a private Mongoose instance: the conformance suite must not depend on the app's global Mongoose
// settings (sanitizeFilter, strict modes) that the application installs in the same test run
const odm = new mongoose.Mongoose();

describe('engine: handshake, admin commands and cursors', () => {
  const engine = useEngineClient('engine_admin');

  it('answers hello/ping/buildInfo with session support', async () => {
    const admin = engine.client.db('admin');
    const hello = await admin.command({ hello: 1 });
    expect(hello.isWritablePrimary).to.equal(true);
    expect(hello.logicalSessionTimeoutMinutes).to.be.a('number');
    expect(hello.maxWireVersion).to.be.at.least(9);
    expect(hello).to.not.have.property('compression');
    expect((await admin.command({ ping: 1 })).ok).to.equal(1);
    const info = await admin.command({ buildInfo: 1 });
    expect(info.version).to.match(/^\d+\.\d+/);
  });

  it('lists databases and collections and reports stats', async () => {
    const db = engine.client.db();
    await db.collection('a').insertOne({ x: 1 });
    await db.createCollection('b');
    const dup = await db.createCollection('b').catch((e) => e);
    expect(dup.code).to.equal(48);
    const names = (await db.listCollections().toArray()).map((c) => c.name).sort();
    expect(names).to.deep.equal(['a', 'b']);
    expect((await db.listCollections({ name: 'a' }, { nameOnly: true }).toArray()).map((c) => c.name)).to.deep.equal(['a']);
    const dbs = await engine.client.db('admin').admin().listDatabases();
    expect(dbs.databases.map((d) => d.name)).to.include('engine_admin');
    const stats = await db.stats();
    expect(stats.collections).to.equal(2);
    expect(stats.objects).to.equal(1);
    const cs = await db.command({ collStats: 'a' });
    expect(cs.count).to.equal(1);
    expect(cs.nindexes).to.equal(1);
  });

  it('renames and drops collections and databases', async () => {
    const db = engine.client.db();
    await db.collection('ren1').insertOne({ y: 1 });
    await db.renameCollection('ren1', 'ren2');
    expect(await db.collection('ren2').countDocuments()).to.equal(1);
    expect(await db.collection('ren1').countDocuments()).to.equal(0);
    expect(await db.collection('ren2').drop()).to.equal(true);
    const other = engine.client.db('engine_admin_drop');
    await other.collection('z').insertOne({});
    await other.dropDatabase();
    const dbs = await engine.client.db('admin').admin().listDatabases();
    expect(dbs.databases.map((d) => d.name)).to.not.include('engine_admin_drop');
  });

  it('pages cursors with batchSize, getMore and killCursors; ids are int64', async () => {
    const coll = engine.client.db().collection('cur');
    await coll.insertMany(Array.from({ length: 1050 }, (_, i) => ({ i })));
    const first = await engine.client.db().command({ find: 'cur', filter: {}, sort: { i: 1 }, batchSize: 100 }, { promoteLongs: false });
    expect(first.cursor.id).to.be.instanceOf(Long);
    expect(first.cursor.firstBatch.length).to.equal(100);
    const more = await engine.client.db().command({ getMore: first.cursor.id, collection: 'cur', batchSize: 500 });
    expect(more.cursor.nextBatch.length).to.equal(500);
    expect(more.cursor.nextBatch[0].i).to.equal(100);
    const killed = await engine.client.db().command({ killCursors: 'cur', cursors: [first.cursor.id] });
    expect(killed.cursorsKilled.map(String)).to.deep.equal([first.cursor.id.toString()]);
    const gone = await engine.client.db().command({ getMore: first.cursor.id, collection: 'cur' }).catch((e) => e);
    expect(gone.code).to.equal(43);
    const single = await engine.client.db().command({ find: 'cur', filter: {}, batchSize: 10, singleBatch: true }, { promoteLongs: false });
    expect(single.cursor.id.toString()).to.equal('0');
    expect(await coll.find().limit(-5).toArray()).to.have.length(5);
    let n = 0;
    for await (const _ of coll.find({ i: { $gte: 50 } }).batchSize(64)) n++;
    expect(n).to.equal(1000);
    // a Mongoose query cursor over the same collection
    const conn = await odm.createConnection(await getMongoUri('engine_admin')).asPromise();
    try {
      const M = conn.model('Cur', new mongoose.Schema({ i: Number }), 'cur');
      let m = 0;
      for await (const d of M.find().sort({ i: -1 }).cursor({ batchSize: 200 })) {
        expect(d.i).to.equal(1049 - m);
        m++;
      }
      expect(m).to.equal(1050);
    } finally {
      await conn.close();
    }
  });

  it('accepts and returns large messages (a 20 MB insert batch, 16 MB reply batches)', async function () {
    this.timeout(60_000);
    const coll = engine.client.db().collection('big');
    const pad = 'x'.repeat(10_000);
    await coll.insertMany(Array.from({ length: 2000 }, (_, i) => ({ i, pad })));
    let n = 0;
    let bytes = 0;
    for await (const d of coll.find({}, { batchSize: 5000 })) {
      n++;
      bytes += (d.pad as string).length;
    }
    expect(n).to.equal(2000);
    expect(bytes).to.equal(20_000_000);
    await coll.drop();
  });

  it('handles unacknowledged (w:0) writes with moreToCome', async () => {
    const coll = engine.client.db().collection('w0');
    await coll.insertOne({ k: 1 }, { writeConcern: { w: 0 } });
    for (let i = 0; i < 20 && (await coll.countDocuments()) === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await coll.countDocuments()).to.equal(1);
  });

  (usingEmbeddedEngine() ? it : it.skip)('refuses unsupported features with clear MongoDB-style errors', async () => {
    const db = engine.client.db();
    const coll = db.collection('refuse');
    await coll.insertOne({ t: 'hello world' });
    const stream = await db.command({ aggregate: 'refuse', pipeline: [{ $changeStream: { showExpandedEvents: true } }], cursor: {} }).catch((e) => e);
    expect(stream.code).to.equal(115);
    expect(stream.message).to.match(/showExpandedEvents/);
    const text = await coll.find({ $text: { $search: 'hello' } }).toArray().catch((e) => e);
    expect(text.code).to.equal(115);
    const geo = await coll.find({ loc: { $near: [0, 0] } }).toArray().catch((e) => e);
    expect(geo.code).to.equal(115);
    const textIndex = await coll.createIndex({ t: 'text' }).catch((e) => e);
    expect(textIndex.code).to.equal(115);
    const where = await coll.find({ $where: 'true' }).toArray().catch((e) => e);
    expect(where.code).to.equal(115);
    const auth = await db.command({ createUser: 'u', pwd: 'p', roles: [] }).catch((e) => e);
    expect(auth.code).to.equal(115);
    const repl = await engine.client.db('admin').command({ replSetReconfig: {} }).catch((e) => e);
    expect(repl.code).to.equal(115);
    const unknown = await db.command({ frobnicate: 1 }).catch((e) => e);
    expect(unknown.code).to.equal(59);
    expect(unknown.codeName).to.equal('CommandNotFound');
    const out = await coll.aggregate([{ $out: 'x' }]).toArray().catch((e) => e);
    expect(out.code).to.equal(115);
    const view = await db.createCollection('v', { viewOn: 'refuse', pipeline: [] }).catch((e) => e);
    expect(view.code).to.equal(115);
    const badOp = await coll.find({ a: { $foo: 1 } }).toArray().catch((e) => e);
    expect(badOp.code).to.equal(2);
    const watch = coll.watch([{ $group: { _id: null } }]);
    const watchErr = await watch.tryNext().catch((e) => e);
    expect(watchErr.code).to.equal(20);
    expect(watchErr.message).to.equal('$group is not permitted in a $changeStream pipeline');
    await watch.close();
  });
});
