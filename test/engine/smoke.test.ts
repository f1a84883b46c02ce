// First end-to-end check: Mongoose talks to the engine exactly as to mongod.
import { expect } from 'chai';
import mongoose from 'mongoose';
import { useEngineConnection } from '../support/engine-client';

// a private Mongoose instance: the conformance suite must not depend on the app's global Mongoose
// settings (sanitizeFilter, strict modes) that the application installs in the same test run
const odm = new mongoose.Mongoose();

describe('engine: mongoose smoke', () => {
  const engine = useEngineConnection(odm, 'engine_smoke');
  const userSchema = new mongoose.Schema({
    email: { type: String, required: true, unique: true },
    name: String,
    age: Number,
    tags: [String],
  });

  it('creates, reads, updates and deletes documents', async () => {
    const User = engine.conn.model('User', userSchema);
    await User.init();
    const a = await User.create({ email: 'a@x.cn', name: 'A', age: 30, tags: ['x'] });
    const found = await User.findById(a._id).lean();
    expect(found?.email).to.equal('a@x.cn');
    await User.updateOne({ _id: a._id }, { $inc: { age: 1 }, $push: { tags: 'y' } });
    const again = await User.findOne({ email: 'a@x.cn' }).lean();
    expect(again?.age).to.equal(31);
    expect(again?.tags).to.deep.equal(['x', 'y']);
    expect(await User.countDocuments({ age: { $gte: 31 } })).to.equal(1);
    await User.deleteOne({ _id: a._id });
    expect(await User.estimatedDocumentCount()).to.equal(0);
  });

  it('reports duplicate keys the way MongoDB does', async () => {
    const User = engine.conn.model('User');
    await User.create({ email: 'dup@x.cn' });
    let caught: (Error & { code?: number; keyPattern?: unknown; keyValue?: unknown }) | undefined;
    try {
      await User.create({ email: 'dup@x.cn' });
    } catch (e) {
      caught = e as typeof caught;
    }
    expect(caught?.code).to.equal(11000);
    expect(caught?.message).to.match(/^E11000 duplicate key error collection: engine_smoke\.users index: email_1 dup key: \{ email: "dup@x\.cn" \}/);
    expect(caught?.keyPattern).to.deep.equal({ email: 1 });
    expect(caught?.keyValue).to.deep.equal({ email: 'dup@x.cn' });
  });
});

describe('engine: basic driver operations', () => {
  const engine = useEngineConnection(odm, 'engine_basic');

  it('iterates a cursor over thousands of documents with getMore', async () => {
    const coll = engine.conn.db!.collection('items');
    const docs = Array.from({ length: 3000 }, (_, i) => ({ i, even: i % 2 === 0 }));
    await coll.insertMany(docs);
    let n = 0;
    let last = -1;
    for await (const d of coll.find({}, { batchSize: 250 }).sort({ i: 1 })) {
      expect(d.i).to.equal(last + 1);
      last = d.i as number;
      n++;
    }
    expect(n).to.equal(3000);
    expect(await coll.countDocuments({ even: true })).to.equal(1500);
    expect(await coll.countDocuments({ even: true }, { skip: 1000, limit: 600 })).to.equal(500);
    expect(await coll.countDocuments({ i: -1 })).to.equal(0);
  });

  it('runs findOneAndUpdate with upsert, aggregate and distinct', async () => {
    const coll = engine.conn.db!.collection('counters');
    const r1 = await coll.findOneAndUpdate({ _id: 'seq' as never }, { $inc: { n: 1 } }, { upsert: true, returnDocument: 'after' });
    expect(r1?.n).to.equal(1);
    const r2 = await coll.findOneAndUpdate({ _id: 'seq' as never }, { $inc: { n: 1 } }, { returnDocument: 'before' });
    expect(r2?.n).to.equal(1);
    const items = engine.conn.db!.collection('items');
    const groups = await items.aggregate([{ $match: { i: { $lt: 10 } } }, { $group: { _id: '$even', total: { $sum: '$i' } } }, { $sort: { _id: 1 } }]).toArray();
    expect(groups).to.deep.equal([
      { _id: false, total: 25 },
      { _id: true, total: 20 },
    ]);
    expect(await items.distinct('even')).to.deep.equal([false, true]);
  });

  it('enforces a compound unique index', async () => {
    const coll = engine.conn.db!.collection('pairs');
    await coll.createIndex({ a: 1, b: 1 }, { unique: true });
    await coll.insertOne({ a: 1, b: 1 });
    await coll.insertOne({ a: 1, b: 2 });
    let code: number | undefined;
    try {
      await coll.insertOne({ a: 1, b: 1 });
    } catch (e) {
      code = (e as { code?: number }).code;
    }
    expect(code).to.equal(11000);
  });
});
