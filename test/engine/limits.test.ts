// mongod's refusals that do not depend on the data: the 16 MiB document limit, filters and
// pipelines that are invalid even on an empty collection, and index order under a hint.
import { expect } from 'chai';
import mongoose from 'mongoose';
import { MongoServerError } from 'mongodb';
import { failure, useEngineClient } from '../support/engine-client';
import { getMongoUri } from '../support/mongo';

const odm = new mongoose.Mongoose();
const MiB = 1024 * 1024;

describe('engine: document size limit and up-front validation', () => {
  const engine = useEngineClient('engine_limits');

  // (from 17 MiB on, the driver's own serializer refuses before anything is sent, as with mongod)
  it('refuses to insert a document over 16 MiB with BSONObjectTooLarge (10334)', async () => {
    const e = await failure(engine.db.collection('big').insertOne({ blob: 'x'.repeat(16.5 * MiB) }));
    expect(e.code).to.equal(10334);
    expect(e.message).to.match(/^BSONObj size: \d+ \(0x[0-9A-F]+\) is invalid\. Size must be between 0 and 16793600\(16MB\) First element: insert: "big"$/);
    expect(await engine.db.collection('big').countDocuments()).to.equal(0);
  });

  it('refuses a document just over 16 MiB as "object to insert too large" (BadValue)', async () => {
    const e = await failure(engine.db.collection('big').insertOne({ blob: 'x'.repeat(16 * MiB) }));
    expect(e.code).to.equal(2);
    expect(e.message).to.match(/^object to insert too large\. size in bytes: \d+, max size: 16777216$/);
  });

  it('refuses an update whose result would pass 16 MiB, leaving the document as it was', async () => {
    const coll = engine.db.collection('grow');
    await coll.insertOne({ _id: 1 as never, a: 'y'.repeat(9 * MiB) });
    const e = await failure(coll.updateOne({ _id: 1 as never }, { $set: { b: 'z'.repeat(9 * MiB) } }));
    expect(e.code).to.equal(10334);
    expect(e.message).to.equal('Resulting document after update is larger than 16777216');
    const doc = await coll.findOne({ _id: 1 as never });
    expect(doc).to.not.have.property('b');
  });

  it('measures a document updated again by the fields the update changes, growing and shrinking, to the same limit', async () => {
    // the first update measures the whole result; the next ones only the top-level fields they name
    const coll = engine.db.collection('regrow');
    await coll.insertOne({ _id: 2 as never, a: '', n: 0 });
    await coll.updateOne({ _id: 2 as never }, { $set: { a: 'a'.repeat(6 * MiB) } });
    await coll.updateOne({ _id: 2 as never }, { $set: { b: 'b'.repeat(6 * MiB) }, $inc: { n: 1 } });
    const tooBig = await failure(coll.updateOne({ _id: 2 as never }, { $set: { c: 'c'.repeat(5 * MiB) } }));
    expect(tooBig.code).to.equal(10334);
    await coll.updateOne({ _id: 2 as never }, { $unset: { a: '' } });
    await coll.updateOne({ _id: 2 as never }, { $rename: { b: 'r' } });
    // 6 MiB + 9 MiB fits once `a` is gone, 6 + 6 + 9 would not
    await coll.updateOne({ _id: 2 as never }, { $set: { c: 'c'.repeat(9 * MiB) } });
    const grown = await failure(coll.updateOne({ _id: 2 as never }, { $set: { 'd.e': 'd'.repeat(2 * MiB) } }));
    expect(grown.code).to.equal(10334);
    const doc = await coll.findOne({ _id: 2 as never }, { projection: { n: 1, r: { $strLenBytes: '$r' }, c: { $strLenBytes: '$c' }, d: 1 } });
    expect(doc).to.deep.equal({ _id: 2, n: 1, r: 6 * MiB, c: 9 * MiB });
  });

  it('surfaces the size refusal through Mongoose as a MongoServerError with code 10334', async () => {
    const conn = await odm.createConnection(await getMongoUri('engine_limits')).asPromise();
    try {
      const M = conn.model('Blob', new odm.Schema({ body: String }));
      const e = (await M.create({ body: 'q'.repeat(16.5 * MiB) }).catch((x: unknown) => x)) as MongoServerError;
      expect(e.name).to.equal('MongoServerError');
      expect(e.code).to.equal(10334);
    } finally {
      await conn.close();
    }
  });

  it('refuses an unknown query operator with BadValue on a collection that does not exist', async () => {
    const coll = engine.db.collection('never_created');
    const bad = { a: { $notAnOperator: 1 } };
    const checks: [string, () => Promise<unknown>][] = [
      ['find', () => coll.find(bad).toArray()],
      ['count', () => coll.countDocuments(bad)],
      ['update', () => coll.updateOne(bad, { $set: { b: 1 } })],
      ['delete', () => coll.deleteMany(bad)],
      ['aggregate', () => coll.aggregate([{ $match: bad }]).toArray()],
      ['aggregate later $match', () => coll.aggregate([{ $project: { a: 1 } }, { $match: bad }]).toArray()],
      ['findOneAndUpdate', () => coll.findOneAndUpdate(bad, { $set: { b: 1 } })],
    ];
    for (const [what, p] of checks) {
      const e = await failure(p());
      expect(e.code, what).to.equal(2);
      expect(e.message, what).to.equal('unknown operator: $notAnOperator');
    }
    expect((await engine.db.listCollections({ name: 'never_created' }).toArray()).length).to.equal(0);
  });

  it('refuses an unknown aggregation stage with 40324 naming it', async () => {
    const e = await failure(engine.db.collection('never_created').aggregate([{ $foo: {} }]).toArray());
    expect(e.code).to.equal(40324);
    expect(e.message).to.equal("Unrecognized pipeline stage name: '$foo'");
  });

  it('returns documents in index order when a hint is given with an empty filter', async () => {
    const coll = engine.db.collection('hinted');
    await coll.createIndex({ rank: -1 }, { name: 'rank_desc' });
    await coll.insertMany([3, 1, 4, 1.5, 9, 2].map((rank, i) => ({ _id: i as never, rank })));
    const byName = await coll.find({}).hint('rank_desc').toArray();
    expect(byName.map((d) => d.rank)).to.deep.equal([9, 4, 3, 2, 1.5, 1]);
    const byKey = await coll.find({}, { projection: { _id: 0 } }).hint({ rank: -1 }).toArray();
    expect(byKey.map((d) => d.rank)).to.deep.equal([9, 4, 3, 2, 1.5, 1]);
    const agg = await coll.aggregate([{ $project: { rank: 1 } }], { hint: 'rank_desc' }).toArray();
    expect(agg.map((d) => d.rank)).to.deep.equal([9, 4, 3, 2, 1.5, 1]);
  });
});
