// Field names mongod stores that JavaScript treats specially or that look like operators:
// own `__proto__` keys (stored, never a prototype change), `$`-prefixed names (accepted where
// MongoDB 5.0+ accepts them, refused where it refuses them) and DBRefs in queries.
import { expect } from 'chai';
import { type Collection, DBRef, ObjectId } from 'mongodb';
import { failure, useEngineClient } from '../support/engine-client';

const own = (json: string): Record<string, unknown> => JSON.parse(json) as Record<string, unknown>;

function expectNoPollution(): void {
  expect(({} as Record<string, unknown>).polluted, 'Object.prototype.polluted').to.equal(undefined);
  expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).to.equal(false);
  expect(({} as Record<string, unknown>).x, 'Object.prototype.x').to.equal(undefined);
}

describe('engine: __proto__, $-prefixed field names and DBRefs', () => {
  const engine = useEngineClient('engine_field_names');
  after(() => {
    expectNoPollution();
  });

  describe('own __proto__ keys', () => {
    let coll: Collection;
    before(() => {
      coll = engine.db.collection('proto');
    });

    it('stores an own __proto__ field on insert and returns it as an own field', async () => {
      await coll.insertOne({ _id: 1 as never, ...own('{"__proto__": {"polluted": "yes"}, "a": 1}') });
      const raw = await engine.db.command({ find: 'proto', filter: { _id: 1 } });
      const doc = raw.cursor.firstBatch[0] as Record<string, unknown>;
      expect(Object.keys(doc)).to.deep.equal(['_id', '__proto__', 'a']);
      expect(Object.getOwnPropertyDescriptor(doc, '__proto__')?.value).to.deep.equal({ polluted: 'yes' });
      expect(Object.getPrototypeOf(doc)).to.equal(Object.prototype);
      expectNoPollution();
    });

    it('matches and projects on a __proto__ path', async () => {
      expect(await coll.countDocuments({ '__proto__.polluted': 'yes' })).to.equal(1);
      const p = await coll.findOne({ _id: 1 as never }, { projection: { '__proto__.polluted': 1, _id: 0 } });
      expect(Object.getOwnPropertyDescriptor(p, '__proto__')?.value).to.deep.equal({ polluted: 'yes' });
      expectNoPollution();
    });

    it('stores __proto__ through $set, dotted paths and upserts without touching any prototype', async () => {
      await coll.insertOne({ _id: 2 as never, a: 1 });
      await coll.updateOne({ _id: 2 as never }, { $set: own('{"__proto__": {"x": 1}}') });
      await coll.updateOne({ _id: 2 as never }, { $set: { '__proto__.polluted': 'yes', 'b.__proto__.polluted': 'yes' } });
      await coll.updateOne({ _id: 3 as never }, { $set: { '__proto__.polluted': 'up' } }, { upsert: true });
      const two = (await engine.db.command({ find: 'proto', filter: { _id: 2 } })).cursor.firstBatch[0];
      expect(Object.getOwnPropertyDescriptor(two, '__proto__')?.value).to.deep.equal({ x: 1, polluted: 'yes' });
      expect(Object.getOwnPropertyDescriptor(two.b, '__proto__')?.value).to.deep.equal({ polluted: 'yes' });
      const three = (await engine.db.command({ find: 'proto', filter: { _id: 3 } })).cursor.firstBatch[0];
      expect(Object.getOwnPropertyDescriptor(three, '__proto__')?.value).to.deep.equal({ polluted: 'up' });
      expectNoPollution();
    });

    it('runs aggregation over documents holding __proto__ and refuses (never follows) a __proto__ path in an expression', async () => {
      const agg = await coll.aggregate([{ $match: { _id: { $in: [1, 2] } } }, { $sort: { _id: 1 } }, { $project: { a: 1, whole: '$$ROOT' } }]).toArray();
      expect(agg.map((d) => d.a)).to.deep.equal([1, 1]);
      expect(Object.getOwnPropertyDescriptor(agg[0]!.whole, '__proto__')?.value).to.deep.equal({ polluted: 'yes' });
      // the engine's expression evaluator (mingo) will not walk a __proto__ path; mongod would
      const e = await failure(coll.updateOne({ _id: 2 as never }, [{ $set: { 'c.__proto__.polluted': 'pipe' } }]));
      expect(e.message).to.match(/__proto__/);
      const e2 = await failure(coll.aggregate([{ $project: { v: '$__proto__.polluted' } }]).toArray());
      expect(e2.message).to.match(/__proto__/);
      expectNoPollution();
    });
  });

  describe('$-prefixed field names (MongoDB 5.0+ rules)', () => {
    let coll: Collection;
    const TOP = (f: string, path = f) =>
      `The dollar ($) prefixed field '${f}' in '${path}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`;
    before(async () => {
      coll = engine.db.collection('dollars');
      await coll.insertOne({ _id: 'E123' as never, address: { $number: 123, $street: 'Elm Road' }, $rooms: { br: 2, bath: 1 }, preferences: {} });
    });

    it('accepts $-prefixed names at any level on insert, DBRef-like names included', async () => {
      await coll.insertOne({ _id: 'b1' as never, $id: 'h1961-01', location: { $db: 'novels', $ref: '2007042768', $inc: true } });
      const doc = await coll.findOne({ _id: 'b1' as never });
      expect(doc).to.deep.include({ $id: 'h1961-01', location: { $db: 'novels', $ref: '2007042768', $inc: true } });
      expect((await coll.findOne({ _id: 'E123' as never }))!.$rooms).to.deep.equal({ br: 2, bath: 1 });
    });

    it('accepts a nested $-prefixed path in $set, such as preferences.$each', async () => {
      await coll.updateOne({ _id: 'E123' as never }, { $set: { 'preferences.$each': [1, 2], 'address.$street': 'Oak Road' } });
      const doc = await coll.findOne({ _id: 'E123' as never });
      expect(doc!.preferences).to.deep.equal({ $each: [1, 2] });
      expect(doc!.address).to.deep.equal({ $number: 123, $street: 'Oak Road' });
    });

    it('refuses a top-level $-prefixed field in $set on an existing document (52)', async () => {
      const e = await failure(coll.updateOne({ _id: 'E123' as never }, { $set: { phone: 25.17, $hotel: 320.1 } }));
      expect(e.code).to.equal(52);
      expect(e.message).to.equal(TOP('$hotel'));
      const push = await failure(coll.updateOne({ _id: 'E123' as never }, { $push: { $each: ['x'] } } as never));
      expect(push.code).to.equal(52);
      expect(push.message).to.equal(TOP('$each'));
      expect(await coll.findOne({ _id: 'E123' as never })).to.not.have.property('phone');
    });

    it('accepts the same $set when an upsert inserts the document, and refuses it once the document exists', async () => {
      const r = await coll.updateOne({ date: '2021-07-07' }, { $set: { phone: 25.17, $hotel: 320.1 } }, { upsert: true });
      expect(r.upsertedCount).to.equal(1);
      expect(await coll.findOne({ date: '2021-07-07' })).to.deep.include({ phone: 25.17, $hotel: 320.1 });
      const e = await failure(coll.updateOne({ date: '2021-07-07' }, { $set: { phone: 25.17, $hotel: 320.1 } }, { upsert: true }));
      expect(e.code).to.equal(52);
    });

    it('refuses a top-level $-prefixed field in a replacement and accepts nested ones', async () => {
      const e = await failure(coll.replaceOne({ _id: 'E123' as never }, { address: { $number: 1 }, $rooms: { br: 3 } }));
      expect(e.code).to.equal(52);
      expect(e.message).to.equal(TOP('$rooms'));
      await coll.replaceOne({ _id: 'E123' as never }, { address: { $number: 124, $street: 'Elm Road' } });
      expect(await coll.findOne({ _id: 'E123' as never })).to.deep.equal({ _id: 'E123', address: { $number: 124, $street: 'Elm Road' } });
    });

    it('sets and reads a top-level $-prefixed field through a pipeline with $setField/$getField', async () => {
      await coll.updateOne({ _id: 'E123' as never }, [
        { $replaceWith: { $setField: { field: { $literal: '$rooms' }, input: '$$ROOT', value: { br: 5 } } } },
      ]);
      expect((await coll.findOne({ _id: 'E123' as never }))!.$rooms).to.deep.equal({ br: 5 });
      const got = await coll.aggregate([{ $match: { _id: 'E123' } }, { $project: { br: { $getField: { field: { $literal: '$rooms' }, input: '$$ROOT' } } } }]).toArray();
      expect(got[0]!.br).to.deep.equal({ br: 5 });
    });
  });

  describe('DBRefs in queries', () => {
    let coll: Collection;
    const alice = new ObjectId();
    const bob = new ObjectId();
    before(async () => {
      coll = engine.db.collection('orders');
      await coll.insertMany([
        { _id: 1 as never, owner: new DBRef('users', alice), refs: [new DBRef('users', alice), new DBRef('drugs', 7 as never, 'catalogue')] },
        { _id: 2 as never, owner: new DBRef('users', bob), refs: [new DBRef('users', bob)] },
      ]);
    });

    it('matches an embedded DBRef by equality and returns it as a DBRef', async () => {
      const found = await coll.find({ owner: new DBRef('users', alice) }).toArray();
      expect(found.map((d) => d._id)).to.deep.equal([1]);
      expect(found[0]!.owner).to.be.instanceOf(DBRef);
      expect((found[0]!.owner as DBRef).oid.equals(alice)).to.equal(true);
      expect(await coll.countDocuments({ owner: { $ref: 'users', $id: bob } })).to.equal(1);
    });

    it('queries $id, $ref and $db inside DBRefs by path and with $elemMatch', async () => {
      expect((await coll.find({ 'owner.$id': bob }).toArray()).map((d) => d._id)).to.deep.equal([2]);
      expect(await coll.countDocuments({ 'owner.$ref': 'users' })).to.equal(2);
      expect((await coll.find({ 'refs.$db': 'catalogue' }).toArray()).map((d) => d._id)).to.deep.equal([1]);
      expect((await coll.find({ refs: { $elemMatch: { $ref: 'drugs', $id: 7 } } }).toArray()).map((d) => d._id)).to.deep.equal([1]);
      expect((await coll.find({ refs: { $elemMatch: { $id: bob } } }).toArray()).map((d) => d._id)).to.deep.equal([2]);
    });

    it('updates by a DBRef path and seeds an upsert from a DBRef equality', async () => {
      await coll.updateOne({ 'owner.$id': alice }, { $set: { paid: true } });
      expect((await coll.findOne({ _id: 1 as never }))!.paid).to.equal(true);
      const carol = new ObjectId();
      await coll.updateOne({ owner: new DBRef('users', carol) }, { $set: { paid: false } }, { upsert: true });
      const up = await coll.findOne({ 'owner.$id': carol });
      expect((up!.owner as DBRef).collection).to.equal('users');
    });
  });
});
