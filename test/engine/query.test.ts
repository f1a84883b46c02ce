// Query semantics that must match MongoDB exactly: arrays, null vs missing, type bracketing,
// numeric comparison across BSON number types, logical and element operators, sort order.
import { expect } from 'chai';
import { Binary, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, type Collection, type Document } from 'mongodb';
import { useEngineClient } from '../support/engine-client';

describe('engine: query semantics', () => {
  const engine = useEngineClient('engine_query');
  let coll: Collection<Document>;
  const ids = async (filter: Document) =>
    (await coll.find(filter, { projection: { _id: 1 } }).sort({ _id: 1 }).toArray()).map((d) => d._id as unknown as number);

  before(async () => {
    coll = engine.client.db().collection('q');
    await coll.insertMany([
      { _id: 1 as never, a: 1, tags: ['x', 'y'], sub: { k: 'v' } },
      { _id: 2 as never, a: 2.5, tags: ['y'], sub: { k: 'w' } },
      { _id: 3 as never, a: null, tags: [] },
      { _id: 4 as never, tags: ['z'], items: [{ n: 1, c: 'r' }, { n: 5, c: 'g' }] },
      { _id: 5 as never, a: 'str', items: [{ n: 3, c: 'g' }, { m: 1 }] },
      { _id: 6 as never, a: [1, 10], items: [] },
      { _id: 7 as never, a: Long.fromNumber(3), b: new Date(1000) },
      { _id: 8 as never, a: Decimal128.fromString('2.5'), b: new Date(2000) },
      { _id: 9 as never, a: new Double(4), name: 'Alpha' },
      { _id: 10 as never, a: { x: 1 }, name: 'beta' },
    ]);
  });

  it('treats null as null-or-missing and $exists as presence', async () => {
    expect(await ids({ a: null })).to.deep.equal([3, 4]);
    expect(await ids({ a: { $exists: false } })).to.deep.equal([4]);
    expect(await ids({ a: { $exists: true, $eq: null } })).to.deep.equal([3]);
    expect(await ids({ a: { $ne: null } })).to.deep.equal([1, 2, 5, 6, 7, 8, 9, 10]);
  });

  it('compares numbers across int32, int64, double and decimal128', async () => {
    expect(await ids({ a: 2.5 })).to.deep.equal([2, 8]);
    expect(await ids({ a: 3 })).to.deep.equal([7]);
    expect(await ids({ a: 4 })).to.deep.equal([9]);
    // [1, 10] matches: 10 > 2 and 1 <= 4 (each condition may be met by a different element)
    expect(await ids({ a: { $gt: 2, $lte: 4 } })).to.deep.equal([2, 6, 7, 8, 9]);
    expect(await ids({ a: { $in: [Decimal128.fromString('1'), Long.fromNumber(4)] } })).to.deep.equal([1, 6, 9]);
  });

  it('brackets comparisons by type', async () => {
    expect(await ids({ a: { $gt: 0 } })).to.deep.equal([1, 2, 6, 7, 8, 9]);
    expect(await ids({ a: { $gte: 'a' } })).to.deep.equal([5]);
    expect(await ids({ b: { $gt: new Date(1500) } })).to.deep.equal([8]);
    expect(await ids({ a: { $lt: 5 } })).to.deep.equal([1, 2, 6, 7, 8, 9]);
  });

  it('matches array elements, whole arrays and $size/$all/$elemMatch', async () => {
    expect(await ids({ tags: 'y' })).to.deep.equal([1, 2]);
    expect(await ids({ tags: ['y'] })).to.deep.equal([2]);
    expect(await ids({ tags: [] })).to.deep.equal([3]);
    expect(await ids({ tags: { $size: 2 } })).to.deep.equal([1]);
    expect(await ids({ tags: { $all: ['y', 'x'] } })).to.deep.equal([1]);
    expect(await ids({ a: { $gt: 5, $lt: 2 } })).to.deep.equal([6]);
    expect(await ids({ a: { $elemMatch: { $gt: 5, $lt: 2 } } })).to.deep.equal([]);
    expect(await ids({ items: { $elemMatch: { n: { $gte: 3 }, c: 'g' } } })).to.deep.equal([4, 5]);
    expect(await ids({ 'items.n': 5 })).to.deep.equal([4]);
    expect(await ids({ 'items.0.n': 3 })).to.deep.equal([5]);
    expect(await ids({ 'items.n': { $exists: true } })).to.deep.equal([4, 5]);
  });

  it('supports $in/$nin/$not/$nor/$or/$and, $regex and $type', async () => {
    expect(await ids({ tags: { $in: ['z', 'x'] } })).to.deep.equal([1, 4]);
    expect(await ids({ tags: { $nin: ['y', 'z'] } })).to.deep.equal([3, 5, 6, 7, 8, 9, 10]);
    expect(await ids({ name: /^al/i })).to.deep.equal([9]);
    expect(await ids({ name: { $regex: 'ET', $options: 'i' } })).to.deep.equal([10]);
    expect(await ids({ name: { $not: /^a/i } })).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 10]);
    expect(await ids({ $or: [{ a: 1 }, { name: 'beta' }] })).to.deep.equal([1, 6, 10]);
    expect(await ids({ $nor: [{ a: { $exists: true } }, { tags: 'x' }] })).to.deep.equal([4]);
    expect(await ids({ $and: [{ a: { $type: 'number' } }, { a: { $type: 'double' } }] })).to.deep.equal([2, 9]);
    expect(await ids({ a: { $type: 'long' } })).to.deep.equal([7]);
    expect(await ids({ a: { $type: 'decimal' } })).to.deep.equal([8]);
    expect(await ids({ a: { $type: 'int' } })).to.deep.equal([1, 6]);
    expect(await ids({ a: { $type: 'array' } })).to.deep.equal([6]);
    expect(await ids({ a: { $type: 'object' } })).to.deep.equal([10]);
    expect(await ids({ a: { $mod: [5, 0] } })).to.deep.equal([6]);
    expect(await ids({ 'sub.k': { $in: ['v', 'w'] } })).to.deep.equal([1, 2]);
    expect(await ids({ sub: { k: 'v' } })).to.deep.equal([1]);
  });

  it('evaluates $expr', async () => {
    const c = engine.client.db().collection('expr');
    await c.insertMany([
      { _id: 1 as never, x: 5, y: 3 },
      { _id: 2 as never, x: 1, y: 3 },
    ]);
    const r = await c.find({ $expr: { $gt: ['$x', '$y'] } }).toArray();
    expect(r.map((d) => d._id)).to.deep.equal([1]);
  });

  it('sorts across types in BSON order with arrays by min/max element', async () => {
    const c = engine.client.db().collection('order');
    const oid = new ObjectId('000000000000000000000001');
    await c.insertMany([
      { _id: 1 as never, v: 'b' },
      { _id: 2 as never, v: 10 },
      { _id: 3 as never, v: null },
      { _id: 4 as never },
      { _id: 5 as never, v: { a: 1 } },
      { _id: 6 as never, v: true },
      { _id: 7 as never, v: new Date(0) },
      { _id: 8 as never, v: oid },
      { _id: 9 as never, v: Decimal128.fromString('9.5') },
      { _id: 10 as never, v: new Binary(Buffer.from('x')) },
      { _id: 11 as never, v: /re/ },
      { _id: 12 as never, v: new MinKey() },
      { _id: 13 as never, v: new MaxKey() },
      { _id: 14 as never, v: 'a' },
      { _id: 15 as never, v: Long.fromNumber(-1) },
      { _id: 16 as never, v: new Int32(9) },
    ]);
    const asc = (await c.find().sort({ v: 1, _id: 1 }).toArray()).map((d) => d._id);
    expect(asc).to.deep.equal([12, 3, 4, 15, 16, 9, 2, 14, 1, 5, 10, 8, 6, 7, 11, 13]);
    const desc = (await c.find().sort({ v: -1, _id: 1 }).toArray()).map((d) => d._id);
    expect(desc).to.deep.equal([13, 11, 7, 6, 8, 10, 5, 1, 14, 2, 9, 16, 15, 3, 4, 12]);
    const arr = engine.client.db().collection('arrsort');
    await arr.insertMany([
      { _id: 1 as never, v: [5, 1] },
      { _id: 2 as never, v: [3] },
      { _id: 3 as never, v: 2 },
    ]);
    expect((await arr.find().sort({ v: 1 }).toArray()).map((d) => d._id)).to.deep.equal([1, 3, 2]);
    expect((await arr.find().sort({ v: -1 }).toArray()).map((d) => d._id)).to.deep.equal([1, 2, 3]);
  });

  it('applies projections: inclusion, exclusion, nested, $slice, $elemMatch, positional', async () => {
    const one = await coll.findOne({ _id: 4 as never }, { projection: { tags: 1 } });
    expect(one).to.deep.equal({ _id: 4, tags: ['z'] });
    const ex = await coll.findOne({ _id: 1 as never }, { projection: { tags: 0, sub: 0, _id: 0 } });
    expect(ex).to.deep.equal({ a: 1 });
    const nested = await coll.findOne({ _id: 4 as never }, { projection: { 'items.c': 1, _id: 0 } });
    expect(nested).to.deep.equal({ items: [{ c: 'r' }, { c: 'g' }] });
    const sl = await coll.findOne({ _id: 1 as never }, { projection: { tags: { $slice: -1 }, _id: 0, a: 1 } });
    expect(sl).to.deep.equal({ a: 1, tags: ['y'] });
    const em = await coll.findOne({ _id: 4 as never }, { projection: { items: { $elemMatch: { c: 'g' } } } });
    expect(em).to.deep.equal({ _id: 4, items: [{ n: 5, c: 'g' }] });
    const pos = await coll.findOne({ 'items.n': 5 }, { projection: { 'items.$': 1 } });
    expect(pos).to.deep.equal({ _id: 4, items: [{ n: 5, c: 'g' }] });
    const computed = await coll.findOne({ _id: 2 as never }, { projection: { _id: 0, twice: { $multiply: ['$a', 2] } } });
    expect(computed).to.deep.equal({ twice: 5 });
  });

  it('honours skip, limit and sort together', async () => {
    const r = await coll.find({ a: { $type: 'number' } }).sort({ a: -1, _id: 1 }).skip(1).limit(3).toArray();
    expect(r.map((d) => d._id)).to.deep.equal([9, 7, 2]);
  });
});
