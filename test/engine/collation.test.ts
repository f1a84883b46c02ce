// Collations (what a Chinese catalogue needs): pinyin order for locale zh, case- and
// accent-insensitive comparison by strength, numeric ordering, collated and unique indexes,
// collection defaults, and when an index may answer a query of another collation.
import { expect } from 'chai';
import mongoose from 'mongoose';
import { type Collection, type Document, MongoServerError } from 'mongodb';
import { useEngineClient } from '../support/engine-client';
import { getMongoUri } from '../support/mongo';

// a private Mongoose instance: the conformance suite must not depend on the app's global settings
const odm = new mongoose.Mongoose();

const ZH = { locale: 'zh' };
const CI = { locale: 'zh', strength: 2 };

const FULL_DEFAULTS = {
  caseLevel: false,
  caseFirst: 'off',
  numericOrdering: false,
  alternate: 'non-ignorable',
  maxVariable: 'punct',
  normalization: false,
  backwards: false,
};

type Row = Document & { _id: number };

async function refusal(p: Promise<unknown>): Promise<MongoServerError> {
  try {
    await p;
  } catch (e) {
    return e as MongoServerError;
  }
  throw new Error('expected the server to refuse');
}

describe('engine: collation', () => {
  const engine = useEngineClient('engine_collation');
  let n = 0;
  const fresh = async (docs: Document[] = []): Promise<Collection<Row>> => {
    const coll = engine.client.db().collection<Row>(`c${++n}`);
    if (docs.length) await coll.insertMany(docs as Row[]);
    return coll;
  };
  const names = (docs: Document[]) => docs.map((d) => d.name as string);
  const plan = async (cursor: { explain(v: 'executionStats'): Promise<Document> }) => JSON.stringify((await cursor.explain('executionStats')).queryPlanner.winningPlan);

  it('sorts Chinese names in pinyin order under locale zh (and by code point without a collation)', async () => {
    const coll = await fresh(['张三', '李四', '王五', '赵六', '阿明', '白芍'].map((name, i) => ({ _id: i, name })));
    const pinyin = await coll.find({}, { collation: ZH }).sort({ name: 1 }).toArray();
    expect(names(pinyin)).to.deep.equal(['阿明', '白芍', '李四', '王五', '张三', '赵六']);
    const down = await coll.find({}, { collation: ZH }).sort({ name: -1 }).limit(2).toArray();
    expect(names(down)).to.deep.equal(['赵六', '张三']);
    const binary = await coll.find({}).sort({ name: 1 }).toArray();
    expect(names(binary)).to.deep.equal(['张三', '李四', '王五', '白芍', '赵六', '阿明']);
  });

  it('compares strings case-insensitively at strength 2 in equality, $in, ranges, count and distinct', async () => {
    const coll = await fresh([
      { _id: 1, name: 'Aspirin' },
      { _id: 2, name: 'ASPIRIN' },
      { _id: 3, name: 'aspirin' },
      { _id: 4, name: 'Ibuprofen' },
      { _id: 5, name: 'paracetamol' },
      { _id: 6, name: 7 },
    ]);
    expect(await coll.countDocuments({ name: 'aspirin' })).to.equal(1);
    expect(await coll.countDocuments({ name: 'aspirin' }, { collation: CI })).to.equal(3);
    expect(await coll.countDocuments({ name: { $eq: 'ASPIRIN' } }, { collation: { locale: 'en', strength: 2 } })).to.equal(3);
    expect(await coll.countDocuments({ name: { $in: ['IBUPROFEN', 'Paracetamol'] } }, { collation: CI })).to.equal(2);
    expect(await coll.countDocuments({ name: { $ne: 'aspirin' } }, { collation: CI })).to.equal(3);
    expect(await coll.countDocuments({ name: { $nin: ['aspirin', 'ibuprofen'] } }, { collation: CI })).to.equal(2);
    // binary order puts 'Ibuprofen' before 'aspirin'; under the collation i > a
    const above = await coll.find({ name: { $gt: 'b' } }, { collation: CI }).sort({ _id: 1 }).toArray();
    expect(names(above)).to.deep.equal(['Ibuprofen', 'paracetamol']);
    expect(await coll.countDocuments({ name: { $gt: 'b' } })).to.equal(1);
    expect(await coll.countDocuments({ name: { $lte: 'ASPIRIN' } }, { collation: CI })).to.equal(3);
    // the legacy count command
    expect(await coll.estimatedDocumentCount()).to.equal(6);
    const counted = await engine.client.db().command({ count: coll.collectionName, query: { name: 'ASPIRIN' }, collation: CI });
    expect(counted.n).to.equal(3);
    const distinct = await coll.distinct('name', { name: { $type: 'string' } }, { collation: CI });
    expect(distinct).to.have.length(3);
    expect((distinct as string[]).map((s) => s.toLowerCase())).to.deep.equal(['aspirin', 'ibuprofen', 'paracetamol']);
    expect(await coll.distinct('name', { name: { $type: 'string' } })).to.have.length(5);
  });

  it('ignores accents at strength 1, tells case apart with caseLevel, and orders numbers in strings with numericOrdering', async () => {
    const coll = await fresh([
      { _id: 1, name: 'cafe' },
      { _id: 2, name: 'Café' },
      { _id: 3, name: 'café' },
    ]);
    expect(await coll.countDocuments({ name: 'CAFE' }, { collation: { locale: 'fr', strength: 1 } })).to.equal(3);
    expect(await coll.countDocuments({ name: 'cafe' }, { collation: { locale: 'fr', strength: 2 } })).to.equal(1);
    expect(await coll.countDocuments({ name: 'cafe' }, { collation: { locale: 'fr', strength: 1, caseLevel: true } })).to.equal(2);
    expect(await coll.countDocuments({ name: 'cafe' }, { collation: { locale: 'fr', strength: 3 } })).to.equal(1);

    const lots = await fresh(['批次10', '批次2', '批次1', '批次21'].map((name, i) => ({ _id: i, name })));
    const plain = await lots.find({}, { collation: ZH }).sort({ name: 1 }).toArray();
    expect(names(plain)).to.deep.equal(['批次1', '批次10', '批次2', '批次21']);
    const numeric = await lots.find({}, { collation: { locale: 'zh', numericOrdering: true } }).sort({ name: 1 }).toArray();
    expect(names(numeric)).to.deep.equal(['批次1', '批次2', '批次10', '批次21']);
  });

  it('applies the collation to strings inside arrays and sub-documents', async () => {
    const coll = await fresh([
      { _id: 1, tags: ['Antibiotic', 'oral'], maker: { name: 'Sinopharm' } },
      { _id: 2, tags: ['vaccine'], maker: { name: 'sinovac' } },
    ]);
    expect(await coll.countDocuments({ tags: 'ANTIBIOTIC' }, { collation: CI })).to.equal(1);
    expect(await coll.countDocuments({ maker: { name: 'SINOPHARM' } }, { collation: CI })).to.equal(1);
    expect(await coll.countDocuments({ 'maker.name': { $in: ['SINOVAC', 'x'] } }, { collation: CI })).to.equal(1);
    expect(await coll.countDocuments({ tags: { $elemMatch: { $eq: 'ORAL' } } }, { collation: CI })).to.equal(1);
  });

  it('applies the collation to aggregate $match (leading and later) and $sort', async () => {
    const coll = await fresh([
      { _id: 1, name: '张三', city: 'Beijing' },
      { _id: 2, name: '李四', city: 'BEIJING' },
      { _id: 3, name: '阿明', city: 'beijing' },
      { _id: 4, name: '王五', city: 'Shanghai' },
    ]);
    const out = await coll
      .aggregate([{ $match: { city: 'beijing' } }, { $project: { name: 1, city: 1 } }, { $match: { city: { $ne: 'BEIJING ' } } }, { $sort: { name: 1 } }], { collation: CI })
      .toArray();
    expect(names(out)).to.deep.equal(['阿明', '李四', '张三']);
    const later = await coll.aggregate([{ $project: { name: 1, city: 1 } }, { $match: { city: 'SHANGHAI' } }], { collation: CI }).toArray();
    expect(names(later)).to.deep.equal(['王五']);
    const binary = await coll.aggregate([{ $match: { city: 'beijing' } }]).toArray();
    expect(binary).to.have.length(1);
  });

  it('applies the collation to update, delete and findAndModify filters (and findAndModify sort)', async () => {
    const coll = await fresh([
      { _id: 1, name: 'Aspirin', n: 0 },
      { _id: 2, name: 'ASPIRIN', n: 0 },
      { _id: 3, name: '张三', n: 0 },
      { _id: 4, name: '阿明', n: 0 },
    ]);
    const upd = await coll.updateMany({ name: 'aspirin' }, { $inc: { n: 1 } }, { collation: CI });
    expect(upd.matchedCount).to.equal(2);
    expect((await coll.updateMany({ name: 'aspirin' }, { $inc: { n: 1 } })).matchedCount).to.equal(0);
    const first = await coll.findOneAndUpdate({ _id: { $gte: 3 } }, { $set: { first: true } }, { sort: { name: 1 }, collation: ZH });
    expect(first?.name).to.equal('阿明');
    const removed = await coll.findOneAndDelete({ name: 'ASPIRIN' }, { collation: { locale: 'en', strength: 1 }, sort: { _id: 1 } });
    expect(removed?._id).to.equal(1);
    const del = await coll.deleteMany({ name: 'aspirin' }, { collation: CI });
    expect(del.deletedCount).to.equal(1);
    expect(await coll.countDocuments()).to.equal(2);
  });

  it('stores an index collation in full, refuses a case-variant duplicate in a strength-2 unique index with E11000, and will not build one over such duplicates', async () => {
    const coll = await fresh([{ _id: 1, code: 'abc' }]);
    await coll.createIndex({ code: 1 }, { unique: true, collation: CI, name: 'code_ci' });
    const spec = (await coll.listIndexes().toArray()).find((i) => i.name === 'code_ci');
    expect(spec?.collation).to.deep.equal({ locale: 'zh', ...FULL_DEFAULTS, strength: 2, version: '57.1' });
    const e = await refusal(coll.insertOne({ _id: 2, code: 'ABC' }));
    expect(e.code).to.equal(11000);
    expect(e.message).to.match(/^E11000 duplicate key error collection: engine_collation\.c\d+ index: code_ci dup key/);
    await coll.insertOne({ _id: 3, code: 'abd' });
    const u = await refusal(coll.updateOne({ _id: 3 }, { $set: { code: 'Abc' } }));
    expect(u.code).to.equal(11000);
    expect(await coll.countDocuments()).to.equal(2);

    const dupes = await fresh([
      { _id: 1, code: 'X1' },
      { _id: 2, code: 'x1' },
    ]);
    await dupes.createIndex({ code: 1 }, { unique: true });
    const b = await refusal(dupes.createIndex({ code: 1 }, { unique: true, collation: CI, name: 'code_ci' }));
    expect(b.code).to.equal(11000);
  });

  it('uses a collated index only for queries of the same collation, and still answers others by scanning', async () => {
    const coll = await fresh(Array.from({ length: 200 }, (_, i) => ({ _id: i, name: i % 2 ? `Drug${i}` : `drug${i}`, n: i })));
    await coll.createIndex({ name: 1 }, { collation: CI, name: 'name_ci' });
    await coll.createIndex({ n: 1 }, { collation: CI });
    expect(await plan(coll.find({ name: 'DRUG7' }, { collation: CI }))).to.include('IXSCAN');
    expect(await coll.countDocuments({ name: 'DRUG7' }, { collation: CI })).to.equal(1);
    // a binary query cannot use the case-insensitive index for strings: it scans, and answers exactly
    expect(await plan(coll.find({ name: 'Drug7' }))).to.include('COLLSCAN');
    expect(await coll.countDocuments({ name: 'Drug7' })).to.equal(1);
    expect(await coll.countDocuments({ name: 'DRUG7' })).to.equal(0);
    // numbers compare the same under every collation: that index serves any query
    expect(await plan(coll.find({ n: 7 }))).to.include('IXSCAN');
    // the index order is the collated order: a sort+limit reads it only under that collation
    const top = await coll.find({}, { collation: CI }).sort({ name: 1 }).limit(3).toArray();
    expect(top.map((d) => d.n)).to.deep.equal([0, 1, 10]);
    const binaryTop = await coll.find({}).sort({ name: 1 }).limit(2).toArray();
    expect(binaryTop.map((d) => d.n)).to.deep.equal([1, 101]);
  });

  it('lets the same key pattern exist once per collation', async () => {
    const coll = await fresh([{ _id: 1, name: 'a' }]);
    await coll.createIndex({ name: 1 }, { name: 'name_bin' });
    await coll.createIndex({ name: 1 }, { name: 'name_zh', collation: ZH });
    const list = await coll.listIndexes().toArray();
    expect(list.map((i) => i.name)).to.deep.equal(['_id_', 'name_bin', 'name_zh']);
    expect(list[1]).to.not.have.property('collation');
  });

  it('applies a collection default collation to queries and indexes without one; {locale: "simple"} overrides it', async () => {
    const name = `c${++n}`;
    await engine.client.db().createCollection(name, { collation: CI });
    const coll = engine.client.db().collection<Row>(name);
    const info = (await engine.client.db().listCollections({ name }).toArray())[0] as Document;
    expect(info.options.collation).to.deep.equal({ locale: 'zh', ...FULL_DEFAULTS, strength: 2, version: '57.1' });
    await coll.insertMany([
      { _id: 1, name: '王五', code: 'ab' },
      { _id: 2, name: '阿明', code: 'AB' },
    ]);
    expect(await coll.countDocuments({ code: 'Ab' })).to.equal(2);
    expect(await coll.countDocuments({ code: 'Ab' }, { collation: { locale: 'simple' } })).to.equal(0);
    expect(names(await coll.find().sort({ name: 1 }).toArray())).to.deep.equal(['阿明', '王五']);
    // 'ab' and 'AB' are one key under the default: a unique index cannot be built
    expect((await refusal(coll.createIndex({ code: 1 }, { unique: true }))).code).to.equal(11000);
    await coll.updateOne({ _id: 2 }, { $set: { code: 'AC' } });
    await coll.createIndex({ name: 1 });
    const spec = (await coll.listIndexes().toArray()).find((i) => i.name === 'name_1');
    expect(spec?.collation?.strength).to.equal(2);
    await coll.createIndex({ code: 1 }, { unique: true });
    expect((await refusal(coll.insertOne({ _id: 3, code: 'aB' }))).code).to.equal(11000);
  });

  it('treats locale "simple" as binary comparison', async () => {
    const coll = await fresh([
      { _id: 1, name: 'b' },
      { _id: 2, name: 'B' },
      { _id: 3, name: 'a' },
    ]);
    const out = await coll.find({}, { collation: { locale: 'simple' } }).sort({ name: 1 }).toArray();
    expect(names(out)).to.deep.equal(['B', 'a', 'b']);
    expect(await coll.countDocuments({ name: 'b' }, { collation: { locale: 'simple' } })).to.equal(1);
  });

  it('refuses an unknown locale, an unknown field and a bad strength as mongod does', async () => {
    const coll = await fresh([{ _id: 1, name: 'a' }]);
    const bad = await refusal(coll.find({}, { collation: { locale: 'xx_NOPE' } }).toArray());
    expect(bad.code).to.equal(2);
    expect(bad.message).to.equal(`Field 'locale' is invalid in: { locale: "xx_NOPE" }`);
    const unknown = await refusal(coll.find({}, { collation: { locale: 'zh', colour: 1 } as never }).toArray());
    expect(unknown.code).to.equal(40415);
    const strength = await refusal(coll.countDocuments({}, { collation: { locale: 'zh', strength: 9 } as never }));
    expect(strength.code).to.equal(2);
    const idx = await refusal(coll.createIndex({ name: 1 }, { collation: { locale: 'xx_NOPE' } }));
    expect(idx.code).to.equal(2);
  });

  it('works through Mongoose: a case-insensitive unique index declared on the schema and collated queries', async () => {
    const conn = await odm.createConnection(await getMongoUri('engine_collation')).asPromise();
    try {
      const schema = new odm.Schema({ name: String, sku: String });
      schema.index({ sku: 1 }, { unique: true, collation: { locale: 'zh', strength: 2 } });
      const Drug = conn.model('Drug', schema, `drugs${++n}`);
      await Drug.init();
      await Drug.create([{ name: '张三', sku: 'AB-1' }, { name: '阿明', sku: 'ab-2' }]);
      const e = await refusal(Drug.create({ name: '李四', sku: 'ab-1' }));
      expect(e.code).to.equal(11000);
      const hit = await Drug.findOne({ sku: 'AB-2' }).collation(CI).lean();
      expect(hit?.name).to.equal('阿明');
      const sorted = await Drug.find().sort({ name: 1 }).collation(ZH).lean();
      expect(sorted.map((d) => d.name)).to.deep.equal(['阿明', '张三']);
    } finally {
      await conn.close();
    }
  });
});
