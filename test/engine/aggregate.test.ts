// Aggregation pipelines through Mongoose: $match/$group/$sort/$project/$unwind/$lookup (both
// forms)/$facet/$count/$limit/$skip/$addFields, and numeric accumulators over every number type.
import { expect } from 'chai';
import mongoose from 'mongoose';
import { Decimal128, Double, Long } from 'mongodb';
import { useEngineConnection } from '../support/engine-client';

// a private Mongoose instance: the conformance suite must not depend on the app's global Mongoose
// settings (sanitizeFilter, strict modes) that the application installs in the same test run
const odm = new mongoose.Mongoose();

describe('engine: aggregation', () => {
  const engine = useEngineConnection(odm, 'engine_agg');
  let Drug: mongoose.Model<{ name: string; form: string; price: number }>;
  let Line: mongoose.Model<{ drug: mongoose.Types.ObjectId; hospital: string; qty: number; tags: string[] }>;

  before(async () => {
    Drug = engine.conn.model('Drug', new mongoose.Schema({ name: String, form: String, price: Number })) as never;
    Line = engine.conn.model('Line', new mongoose.Schema({ drug: mongoose.Schema.Types.ObjectId, hospital: String, qty: Number, tags: [String] })) as never;
    const [a, b, c] = await Drug.create([
      { name: 'urokinase', form: 'injection', price: 1950 },
      { name: 'aspirin', form: 'oral', price: 10 },
      { name: 'heparin', form: 'injection', price: 300 },
    ]);
    await Line.create([
      { drug: a!._id, hospital: 'h1', qty: 2, tags: ['urgent', 'cold'] },
      { drug: a!._id, hospital: 'h2', qty: 1, tags: ['cold'] },
      { drug: b!._id, hospital: 'h1', qty: 100, tags: [] },
      { drug: c!._id, hospital: 'h3', qty: 5, tags: ['urgent'] },
    ]);
  });

  it('groups, sorts and projects', async () => {
    const r = await Line.aggregate([
      { $match: { qty: { $gte: 1 } } },
      { $group: { _id: '$hospital', qty: { $sum: '$qty' }, n: { $sum: 1 }, max: { $max: '$qty' }, avg: { $avg: '$qty' } } },
      { $sort: { qty: -1 } },
      { $project: { _id: 0, hospital: '$_id', qty: 1, n: 1, max: 1, avg: 1 } },
    ]);
    expect(r).to.deep.equal([
      { qty: 102, n: 2, max: 100, avg: 51, hospital: 'h1' },
      { qty: 5, n: 1, max: 5, avg: 5, hospital: 'h3' },
      { qty: 1, n: 1, max: 1, avg: 1, hospital: 'h2' },
    ]);
  });

  it('unwinds arrays and counts', async () => {
    const r = await Line.aggregate([{ $unwind: '$tags' }, { $group: { _id: '$tags', n: { $sum: 1 } } }, { $sort: { _id: 1 } }]);
    expect(r).to.deep.equal([
      { _id: 'cold', n: 2 },
      { _id: 'urgent', n: 2 },
    ]);
    const c = await Line.aggregate([{ $match: { hospital: 'h1' } }, { $count: 'total' }]);
    expect(c).to.deep.equal([{ total: 2 }]);
    const kept = await Line.aggregate([{ $unwind: { path: '$tags', preserveNullAndEmptyArrays: true } }, { $count: 'n' }]);
    expect(kept).to.deep.equal([{ n: 5 }]);
  });

  it('joins with $lookup (localField/foreignField and pipeline with let)', async () => {
    const r = await Line.aggregate([
      { $match: { hospital: 'h1' } },
      { $lookup: { from: 'drugs', localField: 'drug', foreignField: '_id', as: 'drug' } },
      { $unwind: '$drug' },
      { $sort: { 'drug.name': 1 } },
      { $project: { _id: 0, name: '$drug.name', value: { $multiply: ['$qty', '$drug.price'] } } },
    ]);
    expect(r).to.deep.equal([
      { name: 'aspirin', value: 1000 },
      { name: 'urokinase', value: 3900 },
    ]);
    const p = await Drug.aggregate([
      { $match: { form: 'injection' } },
      {
        $lookup: {
          from: 'lines',
          let: { id: '$_id' },
          pipeline: [{ $match: { $expr: { $eq: ['$drug', '$$id'] } } }, { $group: { _id: null, qty: { $sum: '$qty' } } }],
          as: 'usage',
        },
      },
      { $project: { _id: 0, name: 1, qty: { $ifNull: [{ $first: '$usage.qty' }, 0] } } },
      { $sort: { name: 1 } },
    ]);
    expect(p).to.deep.equal([
      { name: 'heparin', qty: 5 },
      { name: 'urokinase', qty: 3 },
    ]);
  });

  it('runs $facet with $skip/$limit/$addFields', async () => {
    const [r] = await Line.aggregate([
      { $addFields: { big: { $gt: ['$qty', 4] } } },
      { $sort: { qty: 1 } },
      {
        $facet: {
          page: [{ $skip: 1 }, { $limit: 2 }, { $project: { _id: 0, qty: 1, big: 1 } }],
          total: [{ $count: 'n' }],
        },
      },
    ]);
    expect(r).to.deep.equal({ page: [{ qty: 2, big: false }, { qty: 5, big: true }], total: [{ n: 4 }] });
  });

  it('sums every numeric type with MongoDB result types', async () => {
    const coll = engine.conn.db!.collection('nums');
    await coll.insertMany([
      { g: 'i', v: 1 },
      { g: 'i', v: 2 },
      { g: 'l', v: Long.fromNumber(5) },
      { g: 'l', v: 2 },
      { g: 'd', v: Decimal128.fromString('1.10') },
      { g: 'd', v: 2 },
      { g: 'f', v: 0.5 },
      { g: 'f', v: 2 },
      { g: 'f', v: 'not a number' },
    ]);
    const r = await coll.aggregate([{ $group: { _id: '$g', s: { $sum: '$v' } } }, { $sort: { _id: 1 } }], { promoteValues: false, promoteLongs: false }).toArray();
    const byG = Object.fromEntries(r.map((x) => [String(x._id), x.s]));
    expect((byG.d as Decimal128).toString()).to.equal('3.10');
    expect(byG.d).to.be.instanceOf(Decimal128);
    expect(byG.f).to.be.instanceOf(Double);
    expect((byG.f as Double).value).to.equal(2.5);
    expect(byG.l).to.be.instanceOf(Long);
    expect((byG.l as Long).toNumber()).to.equal(7);
    expect((byG.i as { value: number }).value ?? byG.i).to.equal(3);
  });

  it('converts BSON values and formats dates in expressions', async () => {
    const coll = engine.conn.db!.collection('conv');
    const id = new mongoose.Types.ObjectId('65f0c0ffee0000000000abcd');
    await coll.insertOne({ _id: id, at: new Date('2024-03-01T20:00:00Z'), n: Long.fromNumber(41), s: '12', price: Decimal128.fromString('9.99') });
    const [r] = await coll
      .aggregate([
        {
          $project: {
            _id: 0,
            idStr: { $toString: '$_id' },
            day: { $dateToString: { date: '$at', format: '%Y-%m-%d', timezone: 'Asia/Shanghai' } },
            next: { $add: ['$n', 1] },
            num: { $toInt: '$s' },
            back: { $toObjectId: { $toString: '$_id' } },
            t: { $type: '$price' },
            bad: { $convert: { input: 'x', to: 'int', onError: -1 } },
            isNum: { $isNumber: '$n' },
            gt: { $gt: ['$price', 9.5] },
          },
        },
      ])
      .toArray();
    expect(r).to.deep.equal({ idStr: '65f0c0ffee0000000000abcd', day: '2024-03-02', next: 42, num: 12, back: id, t: 'decimal', bad: -1, isNum: true, gt: true });
  });

  it('accelerates a leading $match with an index', async () => {
    await Line.collection.createIndex({ hospital: 1 });
    const ex = await Line.collection.find({ hospital: 'h3' }).explain('executionStats');
    expect(ex.executionStats.totalDocsExamined).to.equal(1);
    const r = await Line.aggregate([{ $match: { hospital: 'h3' } }, { $project: { _id: 0, qty: 1 } }]);
    expect(r).to.deep.equal([{ qty: 5 }]);
  });
});
