// Index management and index use: equality and range queries read only matching documents.
import { expect } from 'chai';
import { type Collection, type Document } from 'mongodb';
import { useEngineClient } from '../support/engine-client';
import type { Index } from '../../server/engine/indexes';
import { type Plan, TRIAL_KEYS, fewestKeys } from '../../server/engine/planner';

describe('engine: indexes', () => {
  const engine = useEngineClient('engine_indexes');
  let coll: Collection<Document>;
  const stats = async (filter: Document, sort?: Document) => {
    const cursor = coll.find(filter);
    if (sort) cursor.sort(sort);
    const ex = await cursor.explain('executionStats');
    return { docs: ex.executionStats.totalDocsExamined as number, n: ex.executionStats.nReturned as number, plan: JSON.stringify(ex.queryPlanner.winningPlan) };
  };

  before(async () => {
    coll = engine.client.db().collection('docs');
    const docs = Array.from({ length: 2000 }, (_, i) => ({
      _id: i,
      email: `u${i}@x.cn`,
      city: `c${i % 20}`,
      age: i % 90,
      at: new Date(Date.UTC(2024, 0, 1) + i * 3600_000),
      tags: [`t${i % 7}`, `t${(i + 1) % 7}`],
      ...(i % 2 === 0 ? { code: `K${i}` } : {}),
    }));
    await coll.insertMany(docs as never);
    await coll.createIndexes([
      { key: { email: 1 }, unique: true },
      { key: { city: 1, age: -1 } },
      { key: { at: 1 } },
      { key: { tags: 1 } },
      { key: { code: 1 }, unique: true, sparse: true },
    ]);
  });

  it('uses indexes for equality lookups', async () => {
    const byId = await stats({ _id: 1234 });
    expect([byId.docs, byId.n]).to.deep.equal([1, 1]);
    const byEmail = await stats({ email: 'u77@x.cn' });
    expect([byEmail.docs, byEmail.n]).to.deep.equal([1, 1]);
    expect(byEmail.plan).to.contain('IXSCAN');
    const compound = await stats({ city: 'c3', age: 3 });
    expect(compound.n).to.equal(12); // i ≡ 3 (mod 180)
    expect(compound.docs).to.equal(12);
    const prefix = await stats({ city: 'c5' });
    expect([prefix.docs, prefix.n]).to.deep.equal([100, 100]);
    const multikey = await stats({ tags: 't3' });
    expect(multikey.n).to.equal(Array.from({ length: 2000 }, (_, i) => i % 7).filter((r) => r === 2 || r === 3).length);
    expect(multikey.docs).to.equal(multikey.n);
    const inList = await stats({ email: { $in: ['u1@x.cn', 'u2@x.cn', 'nobody'] } });
    expect([inList.docs, inList.n]).to.deep.equal([2, 2]);
  });

  it('uses indexes for range queries', async () => {
    const r = await stats({ at: { $gte: new Date(Date.UTC(2024, 0, 2)), $lt: new Date(Date.UTC(2024, 0, 3)) } });
    expect([r.docs, r.n]).to.deep.equal([24, 24]);
    const c = await stats({ city: 'c1', age: { $gt: 50 } });
    expect(c.docs).to.equal(c.n);
    expect(c.n).to.equal((await coll.find({ city: 'c1', age: { $gt: 50 } }).toArray()).length);
    const open = await stats({ _id: { $gte: 1990 } });
    expect([open.docs, open.n]).to.deep.equal([10, 10]);
  });

  it('reads sorted pages and $or branches from indexes', async () => {
    const page = await coll.find({ city: 'c3' }).sort({ age: -1 }).limit(5).explain('executionStats');
    expect(page.executionStats.totalDocsExamined).to.equal(5);
    const expected = (await coll.find({ city: 'c3' }).hint({ $natural: 1 }).toArray()).sort((a, b) => b.age - a.age).slice(0, 5).map((d) => d.age);
    expect((await coll.find({ city: 'c3' }).sort({ age: -1 }).limit(5).toArray()).map((d) => d.age)).to.deep.equal(expected);
    const latest = await coll.find({}).sort({ at: -1 }).limit(3).explain('executionStats');
    expect(latest.executionStats.totalDocsExamined).to.equal(3);
    expect((await coll.find({}).sort({ at: -1 }).limit(3).toArray()).map((d) => d._id)).to.deep.equal([1999, 1998, 1997]);
    expect((await coll.find({ at: { $gte: new Date(Date.UTC(2024, 0, 2)) } }).sort({ at: 1 }).skip(2).limit(2).toArray()).map((d) => d._id)).to.deep.equal([26, 27]);
    const or = await stats({ $or: [{ email: 'u1@x.cn' }, { _id: 5 }] });
    expect([or.docs, or.n]).to.deep.equal([2, 2]);
  });

  it('prefers the more selective of two equally usable indexes', async () => {
    const c = engine.client.db().collection('selective');
    await c.insertMany(Array.from({ length: 3000 }, (_, i) => ({ status: i % 2 ? 'open' : 'closed', owner: `o${i}` })));
    await c.createIndexes([{ key: { status: 1 } }, { key: { owner: 1 } }]);
    const ex = await c.find({ status: 'open', owner: 'o7' }).explain('executionStats');
    expect(ex.executionStats.nReturned).to.equal(1);
    expect(ex.executionStats.totalDocsExamined).to.equal(1);
  });

  it('races equally usable indexes in step, so the trial costs the narrowest walk, not every walk up to the cap', () => {
    let pulled = 0;
    const plan = (keys: number): Plan => ({
      index: {
        *scan() {
          for (let i = 0; i < keys; i++) {
            pulled++;
            yield String(i);
          }
        },
      } as unknown as Index,
      scans: [{ prefix: [] }],
      score: 2,
    });
    const wide = plan(5000);
    const narrow = plan(3);
    const other = plan(5000);
    expect(fewestKeys([wide, narrow, other], TRIAL_KEYS)).to.equal(narrow);
    // 4 steps of 3 walks at most (the narrow walk ends at its 4th step)
    expect(pulled).to.be.at.most(12);
    const first = plan(7);
    const same = plan(7);
    expect(fewestKeys([first, same], TRIAL_KEYS)).to.equal(first);
    const big = plan(2000);
    const bigger = plan(3000);
    expect(fewestKeys([bigger, big], TRIAL_KEYS)).to.equal(bigger); // both past the cap: the first
  });

  it('refuses a document with parallel arrays under a compound index and leaves the index as it was', async () => {
    const c = engine.client.db().collection('parallel');
    await c.createIndex({ a: 1, b: 1 });
    await c.insertMany([{ a: 1, b: 2 }, { a: 2, b: 1 }]);
    const plan = async () => JSON.stringify((await c.find({ a: { $gte: 0 } }).sort({ a: 1, b: 1 }).explain('executionStats')).queryPlanner.winningPlan);
    const before = await plan();
    const refused = await c.insertOne({ a: [1, 2], b: [3, 4] }).catch((e) => e);
    expect(refused.code).to.equal(171);
    expect(await c.countDocuments()).to.equal(2);
    // a refused document does not make the index multikey: it still gives the sort order
    expect(await plan()).to.equal(before);
    expect((await c.find({ a: { $gte: 0 } }).sort({ a: 1, b: 1 }).toArray()).map((d) => d.a)).to.deep.equal([1, 2]);
  });

  it('returns the same results with and without an index', async () => {
    const viaIndex = await coll.find({ city: 'c7', age: { $lte: 40 } }).sort({ _id: 1 }).toArray();
    const viaScan = await coll.find({ city: 'c7', age: { $lte: 40 } }).hint({ $natural: 1 }).sort({ _id: 1 }).toArray();
    expect(viaIndex.map((d) => d._id)).to.deep.equal(viaScan.map((d) => d._id));
    expect(viaIndex.length).to.be.greaterThan(0);
  });

  it('lists, creates idempotently and drops indexes', async () => {
    const names = (await coll.indexes()).map((i) => i.name).sort();
    expect(names).to.deep.equal(['_id_', 'at_1', 'city_1_age_-1', 'code_1', 'email_1', 'tags_1']);
    expect(await coll.createIndex({ at: 1 })).to.equal('at_1');
    const conflict = await coll.createIndex({ at: 1 }, { name: 'other' }).catch((e) => e);
    expect(conflict.code).to.equal(85);
    const specConflict = await coll.createIndex({ age: 1 }, { name: 'at_1' }).catch((e) => e);
    expect(specConflict.code).to.equal(86);
    await coll.dropIndex('at_1');
    expect((await coll.indexes()).some((i) => i.name === 'at_1')).to.equal(false);
    const missing = await coll.dropIndex('nope').catch((e) => e);
    expect(missing.code).to.equal(27);
    await coll.createIndex({ at: 1 });
  });

  it('refuses to build a unique index over duplicate data', async () => {
    const e = await coll.createIndex({ city: 1 }, { unique: true }).catch((x) => x);
    expect(e.code).to.equal(11000);
    expect((await coll.indexes()).some((i) => i.name === 'city_1')).to.equal(false);
  });

  it('treats missing fields as null in non-sparse unique indexes', async () => {
    const c = engine.client.db().collection('uniqnull');
    await c.createIndex({ k: 1 }, { unique: true });
    await c.insertOne({ a: 1 });
    const e = await c.insertOne({ a: 2 }).catch((x) => x);
    expect(e.code).to.equal(11000);
    expect(e.keyValue).to.deep.equal({ k: null });
    const s = engine.client.db().collection('uniqsparse');
    await s.createIndex({ k: 1 }, { unique: true, sparse: true });
    await s.insertMany([{ a: 1 }, { a: 2 }, { k: 1 }]);
    expect(await s.countDocuments()).to.equal(3);
    // a sparse index cannot answer {k: null}: results still include documents without k
    expect(await s.countDocuments({ k: null })).to.equal(2);
  });

  it('keeps every index right through updates that change one indexed field, none, or an array (entries of untouched indexes are left alone)', async () => {
    const c = engine.client.db().collection('partialupdates');
    await c.createIndexes([{ key: { round: 1, status: 1, price: 1 } }, { key: { round: 1, org: 1 } }, { key: { round: 1, line: 1, org: 1 }, unique: true, partialFilterExpression: { status: 'active' } }, { key: { tags: 1 } }]);
    const ids = (await c.insertMany(Array.from({ length: 40 }, (_, i) => ({ round: 1, org: i % 10, line: Math.floor(i / 10), status: 'active', price: 1000 - i, tags: ['a'] })))).insertedIds;
    const byIndex = async (filter: Document, hint: Document) => (await c.find(filter).hint(hint).toArray()).map((d) => String(d._id)).sort();
    // only the status moves: the {round, org} index is left as it was and still finds the document
    await c.updateMany({ line: 0 }, { $set: { status: 'superseded' } });
    expect(await byIndex({ round: 1, status: 'superseded' }, { round: 1, status: 1, price: 1 })).to.have.length(10);
    expect(await byIndex({ round: 1, org: 3 }, { round: 1, org: 1 })).to.have.length(4);
    // out of the partial unique index: the same (line, org) can be active again
    await c.insertOne({ round: 1, org: 0, line: 0, status: 'active', price: 1, tags: ['a'] });
    const dup = await c.insertOne({ round: 1, org: 0, line: 0, status: 'active', price: 2 }).catch((e) => e);
    expect(dup.code).to.equal(11000);
    // a field no index holds, then an array element
    await c.updateOne({ _id: ids[5] }, { $set: { note: 'x' } });
    await c.updateOne({ _id: ids[6] }, { $set: { tags: ['b', 'c'] } });
    expect(await byIndex({ tags: 'a' }, { tags: 1 })).to.have.length(40);
    expect(await byIndex({ tags: 'c' }, { tags: 1 })).to.deep.equal([String(ids[6])]);
    expect(await byIndex({ round: 1, org: 5 }, { round: 1, org: 1 })).to.include(String(ids[5]));
    // every index holds exactly the documents a full scan finds
    for (const hint of [{ round: 1, status: 1, price: 1 }, { round: 1, org: 1 }]) expect(await byIndex({ round: 1 }, hint)).to.deep.equal(await byIndex({ round: 1 }, { $natural: 1 }));
  });

  it('refuses a second document with the same ObjectId _id, in a transaction and out of one', async () => {
    const c = engine.client.db().collection('oids');
    const { insertedId } = await c.insertOne({ a: 1 });
    expect((await c.insertOne({ _id: insertedId, a: 2 }).catch((e) => e)).code).to.equal(11000);
    const session = engine.client.startSession();
    try {
      const e = await session
        .withTransaction(async () => {
          await c.insertOne({ _id: insertedId, a: 3 }, { session });
        })
        .catch((x) => x);
      expect(e.code).to.equal(11000);
    } finally {
      await session.endSession();
    }
    expect(await c.countDocuments()).to.equal(1);
  });
});
