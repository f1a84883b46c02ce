// BSON fidelity: every type the app can store survives a round trip with its exact type, and
// $inc keeps MongoDB's numeric result types.
import { expect } from 'chai';
import mongoose from 'mongoose';
import { Binary, BSONRegExp, Code, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID } from 'mongodb';
import { useEngineClient } from '../support/engine-client';
import { getMongoUri } from '../support/mongo';

// a private Mongoose instance: the conformance suite must not depend on the app's global Mongoose
// settings (sanitizeFilter, strict modes) that the application installs in the same test run
const odm = new mongoose.Mongoose();

describe('engine: BSON fidelity', () => {
  const engine = useEngineClient('engine_bson');

  it('round-trips every BSON type exactly', async () => {
    const coll = engine.client.db().collection('types');
    const doc = {
      _id: new ObjectId(),
      int: new Int32(7),
      dbl: new Double(7),
      dblFrac: new Double(7.25),
      negZero: new Double(-0),
      long: Long.fromString('9223372036854775807'),
      dec: Decimal128.fromString('12345678901234567890.1234567890'),
      str: 'héllo 汉字',
      bool: false,
      date: new Date('2024-02-29T12:34:56.789Z'),
      nil: null,
      re: new BSONRegExp('^a.c$', 'im'),
      bin: new Binary(Buffer.from([0, 1, 2, 255]), 0),
      uuid: new UUID('0123456789abcdef0123456789abcdef'),
      ts: new Timestamp({ t: 123, i: 4 }),
      min: new MinKey(),
      max: new MaxKey(),
      code: new Code('function () { return 1 }'),
      nested: { a: [1, new Double(2), { b: [null, 'x'] }], empty: {}, emptyArr: [] },
    };
    await coll.insertOne(doc);
    const raw = await coll.findOne({ _id: doc._id }, { promoteValues: false, promoteLongs: false, bsonRegExp: true });
    expect(raw!.int).to.be.instanceOf(Int32);
    expect(raw!.dbl).to.be.instanceOf(Double);
    expect((raw!.dbl as Double).value).to.equal(7);
    expect((raw!.dblFrac as Double).value).to.equal(7.25);
    expect(Object.is((raw!.negZero as Double).value, -0)).to.equal(true);
    expect((raw!.long as Long).toString()).to.equal('9223372036854775807');
    expect((raw!.dec as Decimal128).toString()).to.equal('12345678901234567890.1234567890');
    expect(raw!.str).to.equal('héllo 汉字');
    expect(raw!.bool).to.equal(false);
    expect((raw!.date as Date).toISOString()).to.equal('2024-02-29T12:34:56.789Z');
    expect(raw!.nil).to.equal(null);
    expect(raw).to.have.property('nil');
    expect(raw).to.not.have.property('missing');
    expect((raw!.re as BSONRegExp).pattern).to.equal('^a.c$');
    expect((raw!.re as BSONRegExp).options).to.equal('im');
    expect(Buffer.from((raw!.bin as Binary).buffer).toString('hex')).to.equal('000102ff');
    expect((raw!.uuid as Binary).sub_type).to.equal(4);
    expect((raw!.ts as Timestamp).t).to.equal(123);
    expect(raw!.min).to.be.instanceOf(MinKey);
    expect(raw!.max).to.be.instanceOf(MaxKey);
    expect((raw!.code as Code).code).to.equal('function () { return 1 }');
    const nested = raw!.nested as { a: unknown[]; empty: object; emptyArr: unknown[] };
    expect(nested.a[0]).to.be.instanceOf(Int32);
    expect(nested.a[1]).to.be.instanceOf(Double);
    expect(nested.a[2]).to.deep.equal({ b: [null, 'x'] });
    expect(nested.empty).to.deep.equal({});
    expect(nested.emptyArr).to.deep.equal([]);
    // and the default (promoted) view
    const promoted = await coll.findOne({ _id: doc._id });
    expect(promoted!.int).to.equal(7);
    expect(promoted!.dbl).to.equal(7);
    expect(promoted!.date).to.be.instanceOf(Date);
  });

  it('keeps int32 and double distinct for $type queries and updates', async () => {
    const coll = engine.client.db().collection('nums');
    await coll.insertMany([
      { _id: 1 as never, v: new Int32(1) },
      { _id: 2 as never, v: new Double(1) },
      { _id: 3 as never, v: Long.fromNumber(1) },
      { _id: 4 as never, v: Decimal128.fromString('1') },
    ]);
    const t = async (type: string) => (await coll.find({ v: { $type: type } }).toArray()).map((d) => d._id);
    expect(await t('int')).to.deep.equal([1]);
    expect(await t('double')).to.deep.equal([2]);
    expect(await t('long')).to.deep.equal([3]);
    expect(await t('decimal')).to.deep.equal([4]);
    expect((await coll.find({ v: 1 }).toArray()).length).to.equal(4);
    await coll.updateMany({}, { $inc: { v: 1 } });
    const after = await coll.find({}, { promoteValues: false, promoteLongs: false }).sort({ _id: 1 }).toArray();
    expect(after[0]!.v).to.be.instanceOf(Int32);
    expect(after[1]!.v).to.be.instanceOf(Double);
    expect(after[2]!.v).to.be.instanceOf(Long);
    expect(after[3]!.v).to.be.instanceOf(Decimal128);
    expect(after.map((d) => Number(String(d.v)))).to.deep.equal([2, 2, 2, 2]);
    // int32 overflow promotes to int64; a double increment makes a double
    await coll.updateOne({ _id: 1 as never }, { $set: { v: new Int32(2147483647) } });
    await coll.updateOne({ _id: 1 as never }, { $inc: { v: 1 } });
    await coll.updateOne({ _id: 3 as never }, { $inc: { v: 0.5 } });
    await coll.updateOne({ _id: 4 as never }, { $inc: { v: Decimal128.fromString('0.10') } });
    const x = await coll.find({}, { promoteValues: false, promoteLongs: false }).sort({ _id: 1 }).toArray();
    expect(x[0]!.v).to.be.instanceOf(Long);
    expect((x[0]!.v as Long).toString()).to.equal('2147483648');
    expect(x[2]!.v).to.be.instanceOf(Double);
    expect((x[2]!.v as Double).value).to.equal(2.5);
    expect((x[3]!.v as Decimal128).toString()).to.equal('2.10');
    // changing only the BSON type of a value is a modification
    await coll.insertOne({ _id: 5 as never, v: new Int32(1) });
    const r = await coll.updateOne({ _id: 5 as never }, { $set: { v: new Double(1) } });
    expect(r.modifiedCount).to.equal(1);
    expect((await coll.findOne({ _id: 5 as never }, { promoteValues: false }))!.v).to.be.instanceOf(Double);
    expect((await coll.updateOne({ _id: 5 as never }, { $set: { v: new Double(1) } })).modifiedCount).to.equal(0);
  });

  it('round-trips Mongoose schema types (ObjectId refs, Decimal128, Map, Buffer, dates, nested arrays)', async () => {
    const conn = await odm.createConnection(await getMongoUri('engine_bson')).asPromise();
    try {
      const M = conn.model(
        'Thing',
        new mongoose.Schema({
          ref: mongoose.Schema.Types.ObjectId,
          price: mongoose.Schema.Types.Decimal128,
          attrs: { type: Map, of: String },
          blob: Buffer,
          when: Date,
          matrix: [[Number]],
          big: BigInt,
          maybe: { type: String, default: null },
        }),
      );
      const ref = new mongoose.Types.ObjectId();
      const saved = await M.create({ ref, price: '19.99', attrs: { a: 'b' }, blob: Buffer.from('hi'), when: new Date(0), matrix: [[1, 2], [3]], big: 1234567890123456789n });
      const got = await M.findById(saved._id);
      expect(got!.ref!.equals(ref)).to.equal(true);
      expect(got!.price!.toString()).to.equal('19.99');
      expect(got!.attrs!.get('a')).to.equal('b');
      expect(Buffer.from(got!.blob as Buffer).toString()).to.equal('hi');
      expect(got!.when!.getTime()).to.equal(0);
      expect(got!.matrix).to.deep.equal([[1, 2], [3]]);
      expect(got!.big).to.equal(1234567890123456789n);
      expect(got!.maybe).to.equal(null);
      expect(await M.countDocuments({ price: { $gt: mongoose.Types.Decimal128.fromString('19.5') } })).to.equal(1);
    } finally {
      await conn.close();
    }
  });
});
