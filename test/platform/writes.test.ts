// A unit of work's writes in one command (platform/writes.ts): the same statements, results and
// errors through MongoDB 8's bulkWrite and, as on an older server, one command per statement; and
// a command's staged writes reach the database as ONE command before its commit.
import { createRequire } from 'node:module';
import { expect } from 'chai';
import mongoose, { Schema, Types } from 'mongoose';
import { OutboxEvent } from '../../server/platform/events';
import { msg } from '../../server/platform/messages';
import { withCommand } from '../../server/platform/unit-of-work';
import { withoutUndefined, writeInOrder, type Write } from '../../server/platform/writes';

interface Box {
  _id: Types.ObjectId;
  run: string;
  code: string;
  qty: number;
  note?: string | null;
}
const BoxSchema = new Schema<Box>({ run: String, code: String, qty: Number, note: String }, { versionKey: false, collection: 'test_writes_boxes' });
BoxSchema.index({ code: 1 }, { unique: true });
const Box = (mongoose.models.WritesTestBox as mongoose.Model<Box>) ?? mongoose.model<Box>('WritesTestBox', BoxSchema);
interface Tally {
  _id: Types.ObjectId;
  run: string;
  n: number;
}
const Tally = (mongoose.models.WritesTestTally as mongoose.Model<Tally>) ?? mongoose.model<Tally>('WritesTestTally', new Schema<Tally>({ run: String, n: Number }, { versionKey: false, collection: 'test_writes_tallies' }));

// NOTE: the driver's connection class, to see each command it sends with its session.
const { Connection } = createRequire(import.meta.url)('mongodb/lib/cmap/connection.js') as { Connection: { prototype: { command: (...args: unknown[]) => Promise<unknown> } } };

/** The names of the commands the app's client sends while `fn` runs, with the session `fn` names through `use`. */
async function commandsOf(fn: (use: (session: unknown) => void) => Promise<unknown>): Promise<string[]> {
  const seen: { name: string; session: unknown }[] = [];
  let session: unknown;
  const original = Connection.prototype.command;
  Connection.prototype.command = function (this: unknown, ...args: unknown[]) {
    const [, cmd, options] = args as [unknown, Record<string, unknown>, { session?: unknown } | undefined];
    seen.push({ name: Object.keys(cmd)[0]!, session: options?.session });
    return original.apply(this, args);
  };
  try {
    await fn((s) => (session = s));
  } finally {
    Connection.prototype.command = original;
  }
  return seen.filter((c) => c.session === session).map((c) => c.name);
}

describe('writes in one command (MongoDB 8 bulkWrite) and statement by statement', () => {
  before(async () => {
    await Promise.all([Box.createIndexes(), Tally.createCollection().catch(() => undefined)]);
  });

  for (const via of ['best', 'statements'] as const) {
    describe(via === 'best' ? 'one bulkWrite command' : 'one command per statement (servers before 8.0)', () => {
      it('applies inserts and updates on two collections in order and answers each', async () => {
        const run = new Types.ObjectId().toHexString();
        const tally = new Types.ObjectId();
        const writes: Write[] = [
          { op: 'insert', model: Tally, doc: { _id: tally, run, n: 0 } },
          { op: 'insert', model: Box, doc: { _id: new Types.ObjectId(), run, code: `${run}-a`, qty: 1, note: undefined } },
          { op: 'insert', model: Box, doc: { _id: new Types.ObjectId(), run, code: `${run}-b`, qty: 2 } },
          { op: 'update', model: Box, filter: { run }, update: { $inc: { qty: 10 } }, multi: true },
          { op: 'update', model: Tally, filter: { _id: tally, n: 0 }, update: { $set: { n: 1 } } },
          { op: 'update', model: Tally, filter: { _id: tally, n: 0 }, update: { $set: { n: 2 } } },
          { op: 'update', model: Tally, filter: { run: `${run}-new` }, update: { $setOnInsert: { n: 7 } }, upsert: true },
        ];
        const results = await writeInOrder(null, writes, via);
        expect(results.map((r) => [r.matched, r.modified, r.upserted])).to.deep.equal([
          [0, 0, false],
          [0, 0, false],
          [0, 0, false],
          [2, 2, false],
          [1, 1, false],
          [0, 0, false],
          [0, 0, true],
        ]);
        expect((await Box.find({ run }).sort({ code: 1 }).lean()).map((b) => b.qty)).to.deep.equal([11, 12]);
        expect((await Tally.findById(tally).lean())?.n).to.equal(1);
        expect((await Tally.findOne({ run: `${run}-new` }).lean())?.n).to.equal(7);
        // an undefined field is left out, not stored as null
        expect(await Box.collection.findOne({ code: `${run}-a` })).to.not.have.property('note');
      });

      it('fails with the server error of the first failing statement (a duplicate key is 11000) and, in a transaction, writes nothing', async () => {
        const run = new Types.ObjectId().toHexString();
        await Box.create({ run, code: `${run}-taken`, qty: 1 });
        let caught: unknown;
        try {
          await mongoose.connection.transaction(async (session) => {
            await writeInOrder(
              session,
              [
                { op: 'insert', model: Tally, doc: { _id: new Types.ObjectId(), run, n: 1 } },
                { op: 'insert', model: Box, doc: { _id: new Types.ObjectId(), run, code: `${run}-taken`, qty: 2 } },
              ],
              via,
            );
          });
        } catch (err) {
          caught = err;
        }
        expect((caught as { code?: number }).code).to.equal(11000);
        expect(await Tally.countDocuments({ run })).to.equal(0);
        expect(await Box.countDocuments({ run })).to.equal(1);
      });
    });
  }

  it('withoutUndefined leaves out undefined fields at any depth and copies only what changes', () => {
    const id = new Types.ObjectId();
    const clean = { a: 1, b: { c: [1, { d: 2 }] }, id };
    expect(withoutUndefined(clean)).to.equal(clean);
    const dirty = { a: 1, x: undefined, b: { c: [1, { d: 2, y: undefined }] }, id, at: new Date(0) };
    const out = withoutUndefined(dirty);
    expect(out).to.deep.equal({ a: 1, b: { c: [1, { d: 2 }] }, id, at: new Date(0) });
    expect(out.id).to.equal(id);
    expect(dirty).to.have.property('x');
  });

  it("a unit of work's staged events, inserts, audit entry and stored reply are one command before the commit", async () => {
    const run = new Types.ObjectId().toHexString();
    const names = await commandsOf((use) =>
      withCommand(null, async (uow) => {
        use(uow.session);
        uow.insert(Box, [{ _id: new Types.ObjectId(), run, code: `${run}-1`, qty: 1 }]);
        uow.insert(Tally, [{ _id: new Types.ObjectId(), run, n: 1 }]);
        uow.audit({ action: 'test.writes', targetType: 'test', targetId: run, summary: msg('common.all') });
      }),
    );
    // the opening read, the staged writes, the commit
    expect(names).to.deep.equal(['find', 'bulkWrite', 'commitTransaction']);
    expect(await Box.countDocuments({ run })).to.equal(1);
    expect(await Tally.countDocuments({ run })).to.equal(1);
    expect(await OutboxEvent.countDocuments({ key: run })).to.equal(0);
  });
});
