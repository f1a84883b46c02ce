// Mongoose CRUD against the engine (or a real MongoDB with MONGODB_URI): every index kind,
// update operators, upserts, findOneAndX, bulk writes, duplicate keys and version conflicts.
import { expect } from 'chai';
import mongoose from 'mongoose';
import { useEngineConnection } from '../support/engine-client';

// a private Mongoose instance: the conformance suite must not depend on the app's global Mongoose
// settings (sanitizeFilter, strict modes) that the application installs in the same test run
const odm = new mongoose.Mongoose();

const orderSchema = new mongoose.Schema(
  {
    code: { type: String, required: true, unique: true },
    hospital: { type: String, required: true },
    distributor: String,
    status: { type: String, default: 'placed' },
    total: { type: Number, default: 0 },
    lines: [{ drug: String, qty: Number, price: Number, accepted: { type: Boolean, default: false } }],
    notes: [String],
    externalRef: String,
    trackingNo: String,
    placedAt: Date,
  },
  { timestamps: true, optimisticConcurrency: false },
);
orderSchema.index({ hospital: 1, placedAt: -1 });
orderSchema.index({ externalRef: 1 }, { unique: true, sparse: true });
orderSchema.index({ trackingNo: 1 }, { unique: true, partialFilterExpression: { status: 'shipped' } });

const makeModels = (c: mongoose.Connection) => ({
  Order: c.model('Order', orderSchema),
  Versioned: c.model('Versioned', new mongoose.Schema({ name: String, items: [String], stock: Number }, { optimisticConcurrency: true })),
});

describe('engine: mongoose CRUD conformance', () => {
  const engine = useEngineConnection(odm, 'engine_crud');
  let M: ReturnType<typeof makeModels>;

  before(async () => {
    M = makeModels(engine.conn);
    await M.Order.init();
    await M.Versioned.init();
  });
  beforeEach(async () => {
    await M.Order.deleteMany({});
  });

  it('creates the schema indexes with their options', async () => {
    const idx = await M.Order.collection.indexes();
    const byName = Object.fromEntries(idx.map((i) => [i.name, i]));
    expect(byName.code_1?.unique).to.equal(true);
    expect(byName['hospital_1_placedAt_-1']?.key).to.deep.equal({ hospital: 1, placedAt: -1 });
    expect(byName.externalRef_1?.sparse).to.equal(true);
    expect(byName.trackingNo_1?.partialFilterExpression).to.deep.equal({ status: 'shipped' });
  });

  it('applies sparse and partial unique semantics', async () => {
    await M.Order.create({ code: 'o1', hospital: 'h1' });
    await M.Order.create({ code: 'o2', hospital: 'h1' }); // both lack externalRef: fine (sparse)
    await M.Order.create({ code: 'o3', hospital: 'h1', externalRef: 'X' });
    const dupSparse = await M.Order.create({ code: 'o4', hospital: 'h1', externalRef: 'X' }).catch((e) => e);
    expect(dupSparse.code).to.equal(11000);
    expect(dupSparse.keyValue).to.deep.equal({ externalRef: 'X' });
    // the partial index only covers shipped orders
    await M.Order.create({ code: 'o5', hospital: 'h1', trackingNo: 'T', status: 'placed' });
    await M.Order.create({ code: 'o6', hospital: 'h1', trackingNo: 'T', status: 'shipped' });
    const dupPartial = await M.Order.create({ code: 'o7', hospital: 'h1', trackingNo: 'T', status: 'shipped' }).catch((e) => e);
    expect(dupPartial.code).to.equal(11000);
    expect(dupPartial.message).to.match(/index: trackingNo_1 dup key: \{ trackingNo: "T" \}/);
    const dupUpdate = await M.Order.updateOne({ code: 'o5' }, { $set: { status: 'shipped' } }).catch((e) => e);
    expect(dupUpdate.code).to.equal(11000);
  });

  it('reports per-index write errors for ordered and unordered insertMany', async () => {
    await M.Order.create({ code: 'dup', hospital: 'h' });
    const docs = [
      { code: 'n1', hospital: 'h' },
      { code: 'dup', hospital: 'h' },
      { code: 'n2', hospital: 'h' },
    ];
    const ordered = await M.Order.insertMany(docs).catch((e) => e);
    expect(ordered.code).to.equal(11000);
    expect(await M.Order.countDocuments({ code: { $in: ['n1', 'n2'] } })).to.equal(1);
    await M.Order.deleteOne({ code: 'n1' });
    const unordered = await M.Order.insertMany(docs, { ordered: false }).catch((e) => e);
    expect(unordered.writeErrors?.length ?? unordered.result?.getWriteErrors?.().length).to.equal(1);
    const we = unordered.writeErrors?.[0] ?? unordered.result.getWriteErrors()[0];
    expect(we.index ?? we.err?.index).to.equal(1);
    expect(await M.Order.countDocuments({ code: { $in: ['n1', 'n2'] } })).to.equal(2);
  });

  it('supports the update operators Mongoose sends', async () => {
    const o = await M.Order.create({ code: 'u1', hospital: 'h', total: 10, lines: [{ drug: 'a', qty: 1, price: 5 }, { drug: 'b', qty: 2, price: 7 }], notes: ['x'] });
    await M.Order.updateOne(
      { _id: o._id },
      {
        $inc: { total: 5 },
        $push: { notes: { $each: ['c', 'a', 'b'], $sort: 1, $slice: 3 } },
        $set: { 'lines.$[l].accepted': true },
        $currentDate: { placedAt: true },
      },
      { arrayFilters: [{ 'l.qty': { $gte: 2 } }] },
    );
    let d = await M.Order.findById(o._id).lean();
    expect(d!.total).to.equal(15);
    expect(d!.notes).to.deep.equal(['a', 'b', 'c']);
    expect(d!.lines.map((l) => l.accepted)).to.deep.equal([false, true]);
    expect(d!.placedAt).to.be.instanceOf(Date);
    await M.Order.updateOne({ _id: o._id, 'lines.drug': 'a' }, { $set: { 'lines.$.qty': 9 }, $addToSet: { notes: 'a' }, $min: { total: 3 } });
    d = await M.Order.findById(o._id).lean();
    expect(d!.lines[0]!.qty).to.equal(9);
    expect(d!.notes).to.deep.equal(['a', 'b', 'c']);
    expect(d!.total).to.equal(3);
    await M.Order.updateOne({ _id: o._id }, { $pull: { lines: { qty: { $gt: 5 } } }, $unset: { distributor: 1 }, $max: { total: 8 }, $pop: { notes: -1 } });
    d = await M.Order.findById(o._id).lean();
    expect(d!.lines.map((l) => l.drug)).to.deep.equal(['b']);
    expect(d!.total).to.equal(8);
    expect(d!.notes).to.deep.equal(['b', 'c']);
    await M.Order.collection.updateOne({ _id: o._id }, { $rename: { trackingNo: 'tn' }, $mul: { total: 2 }, $set: { 'lines.$[].price': 1 } });
    d = await M.Order.findById(o._id).lean();
    expect(d!.total).to.equal(16);
    expect(d!.lines.map((l) => l.price)).to.deep.equal([1]);
  });

  it('runs pipeline updates', async () => {
    await M.Order.create({ code: 'p1', hospital: 'h', total: 4, lines: [{ drug: 'a', qty: 2, price: 3 }] });
    await M.Order.collection.updateOne({ code: 'p1' }, [{ $set: { total: { $sum: { $map: { input: '$lines', in: { $multiply: ['$$this.qty', '$$this.price'] } } } }, status: 'confirmed' } }]);
    const d = await M.Order.findOne({ code: 'p1' }).lean();
    expect(d!.total).to.equal(6);
    expect(d!.status).to.equal('confirmed');
  });

  it('upserts with $setOnInsert and filter equality fields', async () => {
    const r1 = await M.Order.updateOne({ code: 'up', hospital: 'h9' }, { $setOnInsert: { status: 'new' }, $inc: { total: 1 } }, { upsert: true });
    expect(r1.upsertedCount).to.equal(1);
    const r2 = await M.Order.updateOne({ code: 'up', hospital: 'h9' }, { $setOnInsert: { status: 'again' }, $inc: { total: 1 } }, { upsert: true });
    expect(r2.upsertedCount).to.equal(0);
    expect(r2.modifiedCount).to.equal(1);
    const d = await M.Order.findOne({ code: 'up' }).lean();
    expect(d).to.include({ code: 'up', hospital: 'h9', status: 'new', total: 2 });
  });

  it('runs findOneAndUpdate / findOneAndDelete with sort, projection and new', async () => {
    await M.Order.create([
      { code: 'f1', hospital: 'h', total: 1 },
      { code: 'f2', hospital: 'h', total: 3 },
      { code: 'f3', hospital: 'h', total: 2 },
    ]);
    const top = await M.Order.findOneAndUpdate({ hospital: 'h' }, { $set: { status: 'picked' } }, { sort: { total: -1 }, returnDocument: 'after', projection: { code: 1, status: 1 } }).lean();
    expect(top).to.include({ code: 'f2', status: 'picked' });
    expect(top).to.not.have.property('total');
    const before = await M.Order.findOneAndUpdate({ code: 'f1' }, { $inc: { total: 10 } }, { returnDocument: 'before' }).lean();
    expect(before!.total).to.equal(1);
    const removed = await M.Order.findOneAndDelete({ hospital: 'h' }, { sort: { total: 1 } }).lean();
    expect(removed!.code).to.equal('f3');
    const none = await M.Order.findOneAndUpdate({ code: 'zzz' }, { $set: { total: 1 } }, { returnDocument: 'after' }).lean();
    expect(none).to.equal(null);
    const created = await M.Order.findOneAndUpdate({ code: 'f9' }, { $set: { hospital: 'h2' } }, { upsert: true, returnDocument: 'after' }).lean();
    expect(created).to.include({ code: 'f9', hospital: 'h2' });
    const dup = await M.Order.findOneAndUpdate({ code: 'f9' }, { $set: { code: 'f2' } }).catch((e) => e);
    expect(dup.code).to.equal(11000);
  });

  it('executes bulkWrite with mixed operations', async () => {
    await M.Order.create({ code: 'b0', hospital: 'h' });
    const r = await M.Order.bulkWrite([
      { insertOne: { document: { code: 'b1', hospital: 'h' } } },
      { updateOne: { filter: { code: 'b0' }, update: { $set: { total: 5 } } } },
      { updateMany: { filter: { hospital: 'h' }, update: { $inc: { total: 1 } } } },
      { replaceOne: { filter: { code: 'b1' }, replacement: { code: 'b1', hospital: 'h', status: 'replaced' } as never } },
      { deleteOne: { filter: { code: 'b0' } } },
      { updateOne: { filter: { code: 'b2' }, update: { $set: { hospital: 'h3' } }, upsert: true } },
    ]);
    expect(r.insertedCount).to.equal(1);
    expect(r.matchedCount).to.equal(4);
    expect(r.modifiedCount).to.equal(4);
    expect(r.deletedCount).to.equal(1);
    expect(r.upsertedCount).to.equal(1);
    const all = await M.Order.find().sort({ code: 1 }).lean();
    expect(all.map((d) => [d.code, d.status])).to.deep.equal([
      ['b1', 'replaced'],
      ['b2', 'placed'],
    ]);
  });

  it('counts, distinct, deleteMany, replaceOne and exists', async () => {
    await M.Order.create([
      { code: 'c1', hospital: 'h1', distributor: 'd1' },
      { code: 'c2', hospital: 'h2', distributor: 'd1' },
      { code: 'c3', hospital: 'h2', distributor: 'd2' },
    ]);
    expect(await M.Order.countDocuments({ hospital: 'h2' })).to.equal(2);
    expect(await M.Order.estimatedDocumentCount()).to.equal(3);
    expect((await M.Order.distinct('distributor', { hospital: 'h2' })).sort()).to.deep.equal(['d1', 'd2']);
    expect(await M.Order.exists({ code: 'c2' })).to.not.equal(null);
    const rep = await M.Order.replaceOne({ code: 'c1' }, { code: 'c1', hospital: 'h7' });
    expect(rep.modifiedCount).to.equal(1);
    expect((await M.Order.findOne({ code: 'c1' }).lean())!.hospital).to.equal('h7');
    const del = await M.Order.deleteMany({ hospital: 'h2' });
    expect(del.deletedCount).to.equal(2);
  });

  it('raises VersionError on a stale save (optimistic concurrency)', async () => {
    const v = await M.Versioned.create({ name: 'x', items: ['a'], stock: 1 });
    const a = await M.Versioned.findById(v._id);
    const b = await M.Versioned.findById(v._id);
    a!.stock = 2;
    await a!.save();
    b!.stock = 3;
    const e = await b!.save().catch((x) => x);
    expect(e).to.be.instanceOf(mongoose.Error.VersionError);
    const fresh = await M.Versioned.findById(v._id).lean();
    expect(fresh!.stock).to.equal(2);
    expect(fresh!.__v).to.equal(1);
  });

  it('rejects updates to _id and conflicting update paths with MongoDB codes', async () => {
    const o = await M.Order.create({ code: 'i1', hospital: 'h' });
    const e1 = await M.Order.collection.updateOne({ _id: o._id }, { $set: { _id: new mongoose.Types.ObjectId() } }).catch((e) => e);
    expect(e1.code).to.equal(66);
    const e2 = await M.Order.collection.updateOne({ _id: o._id }, { $set: { total: 1 }, $inc: { total: 1 } }).catch((e) => e);
    expect(e2.code).to.equal(40);
    const e3 = await M.Order.collection.updateOne({ _id: o._id }, { $inc: { code: 1 } }).catch((e) => e);
    expect(e3.code).to.equal(14);
  });
});
