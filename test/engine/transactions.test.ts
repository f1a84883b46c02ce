// Sessions and transactions through Mongoose: commit, abort, write conflicts, snapshot reads.
import { expect } from 'chai';
import mongoose from 'mongoose';
import { useEngineConnection } from '../support/engine-client';

// a private Mongoose instance: the conformance suite must not depend on the app's global Mongoose
// settings (sanitizeFilter, strict modes) that the application installs in the same test run
const odm = new mongoose.Mongoose();

const accountSchema = new mongoose.Schema({ owner: { type: String, unique: true }, balance: Number });
const accountModel = (c: mongoose.Connection) => c.model('Account', accountSchema);

describe('engine: transactions', () => {
  const engine = useEngineConnection(odm, 'engine_txn');
  let Account: ReturnType<typeof accountModel>;

  before(async () => {
    Account = accountModel(engine.conn);
    await Account.init();
  });
  beforeEach(async () => {
    await Account.deleteMany({});
    await Account.create([
      { owner: 'a', balance: 100 },
      { owner: 'b', balance: 0 },
    ]);
  });

  it('commits all writes of connection.transaction() atomically', async () => {
    await engine.conn.transaction(async (session) => {
      await Account.updateOne({ owner: 'a' }, { $inc: { balance: -30 } }, { session });
      await Account.updateOne({ owner: 'b' }, { $inc: { balance: 30 } }, { session });
    });
    const all = await Account.find().sort({ owner: 1 }).lean();
    expect(all.map((x) => x.balance)).to.deep.equal([70, 30]);
  });

  it('aborts cleanly when the callback throws', async () => {
    let thrown: unknown;
    try {
      await engine.conn.transaction(async (session) => {
        await Account.updateOne({ owner: 'a' }, { $inc: { balance: -30 } }, { session });
        await Account.create([{ owner: 'c', balance: 5 }], { session });
        throw new Error('boom');
      });
    } catch (e) {
      thrown = e;
    }
    expect((thrown as Error).message).to.equal('boom');
    const all = await Account.find().sort({ owner: 1 }).lean();
    expect(all.map((x) => [x.owner, x.balance])).to.deep.equal([
      ['a', 100],
      ['b', 0],
    ]);
  });

  it('isolates uncommitted writes and reads its own snapshot', async () => {
    const session = await engine.conn.startSession();
    try {
      session.startTransaction();
      await Account.updateOne({ owner: 'a' }, { $set: { balance: 1 } }, { session });
      // outside the transaction: still the committed value
      expect((await Account.findOne({ owner: 'a' }).lean())?.balance).to.equal(100);
      // inside: its own write
      expect((await Account.findOne({ owner: 'a' }).session(session).lean())?.balance).to.equal(1);
      // a write committed by someone else after the snapshot is not visible inside
      await Account.updateOne({ owner: 'b' }, { $set: { balance: 7 } });
      expect((await Account.findOne({ owner: 'b' }).session(session).lean())?.balance).to.equal(0);
      await session.commitTransaction();
    } finally {
      await session.endSession();
    }
    expect((await Account.findOne({ owner: 'a' }).lean())?.balance).to.equal(1);
    expect((await Account.findOne({ owner: 'b' }).lean())?.balance).to.equal(7);
  });

  it("keeps a snapshot's version whole while later updates share and then change its unchanged parts", async () => {
    const raw = engine.conn.db!.collection<{ _id: number; seq: number; lines: { no: number; tags: string[] }[]; meta: { n: number } }>('shared_versions');
    const original = { _id: 1, seq: 0, lines: [{ no: 1, tags: ['a'] }, { no: 2, tags: ['b'] }], meta: { n: 1 } };
    await raw.deleteMany({});
    await raw.insertOne(structuredClone(original));
    const session = engine.conn.getClient().startSession();
    try {
      session.startTransaction();
      expect(await raw.findOne({ _id: 1 }, { session })).to.deep.equal(original);
      // the first update shares the lines and meta with the version the snapshot reads; the next ones change them
      await raw.updateOne({ _id: 1 }, { $set: { seq: 1 } });
      await raw.updateOne({ _id: 1 }, { $push: { 'lines.0.tags': 'c' }, $inc: { 'meta.n': 1 } });
      await raw.updateOne({ _id: 1 }, { $set: { 'lines.1.no': 9 } });
      expect(await raw.findOne({ _id: 1 }, { session })).to.deep.equal(original);
      await session.abortTransaction();
    } finally {
      await session.endSession();
    }
    expect(await raw.findOne({ _id: 1 })).to.deep.equal({ _id: 1, seq: 1, lines: [{ no: 1, tags: ['a', 'c'] }, { no: 9, tags: ['b'] }], meta: { n: 2 } });
  });

  it('reports a write conflict as code 112 with TransientTransactionError', async () => {
    const s1 = await engine.conn.startSession();
    const s2 = await engine.conn.startSession();
    try {
      s1.startTransaction();
      s2.startTransaction();
      await Account.updateOne({ owner: 'a' }, { $inc: { balance: 1 } }, { session: s1 });
      let caught: (Error & { code?: number; hasErrorLabel?: (l: string) => boolean }) | undefined;
      try {
        await Account.updateOne({ owner: 'a' }, { $inc: { balance: 1 } }, { session: s2 });
      } catch (e) {
        caught = e as typeof caught;
      }
      expect(caught?.code).to.equal(112);
      expect(caught?.hasErrorLabel?.('TransientTransactionError')).to.equal(true);
      await s1.commitTransaction();
      await s2.abortTransaction().catch(() => undefined);
    } finally {
      await s1.endSession();
      await s2.endSession();
    }
    expect((await Account.findOne({ owner: 'a' }).lean())?.balance).to.equal(101);
  });

  it('retries conflicting concurrent transactions until all succeed', async () => {
    const work = Array.from({ length: 8 }, () =>
      engine.conn.transaction(async (session) => {
        const a = await Account.findOne({ owner: 'a' }).session(session);
        await Account.updateOne({ _id: a!._id }, { $inc: { balance: -1 } }, { session });
        await Account.updateOne({ owner: 'b' }, { $inc: { balance: 1 } }, { session });
      }),
    );
    await Promise.all(work);
    const all = await Account.find().sort({ owner: 1 }).lean();
    expect(all.map((x) => x.balance)).to.deep.equal([92, 8]);
  });

  it('makes a non-transactional write wait for the transaction holding the document', async () => {
    const session = await engine.conn.startSession();
    try {
      session.startTransaction();
      await Account.updateOne({ owner: 'a' }, { $inc: { balance: 10 } }, { session });
      const outside = Account.updateOne({ owner: 'a' }, { $inc: { balance: 1 } });
      await new Promise((r) => setTimeout(r, 50));
      await session.commitTransaction();
      await outside;
    } finally {
      await session.endSession();
    }
    expect((await Account.findOne({ owner: 'a' }).lean())?.balance).to.equal(111);
  });

  it('checks unique keys against its own earlier writes: a duplicate in one transaction is refused, a key freed by an update or delete can be taken', async () => {
    // many writes in one transaction (as a batch of quotes or an order with its lines)
    await engine.conn.transaction(async (session) => {
      await Account.insertMany(Array.from({ length: 2000 }, (_, i) => ({ owner: `bulk-${i}`, balance: i })), { session });
      // a and the first bulk owner give their keys up, then others take them in the same transaction
      await Account.updateOne({ owner: 'a' }, { $set: { owner: 'a-renamed' } }, { session });
      await Account.deleteOne({ owner: 'bulk-0' }, { session });
      await Account.create([{ owner: 'a', balance: 1 }, { owner: 'bulk-0', balance: 2 }], { session, ordered: true });
    });
    expect(await Account.countDocuments({ owner: /^bulk-/ })).to.equal(2000);
    expect((await Account.findOne({ owner: 'a' }).lean())?.balance).to.equal(1);
    expect((await Account.findOne({ owner: 'a-renamed' }).lean())?.balance).to.equal(100);

    // the second write of a key this transaction already holds is a duplicate, and nothing is stored
    const refused = await engine.conn
      .transaction(async (session) => {
        await Account.create([{ owner: 'twice', balance: 1 }], { session });
        await Account.updateOne({ owner: 'b' }, { $set: { owner: 'twice' } }, { session });
      })
      .catch((e: { code?: number }) => e);
    expect((refused as { code?: number }).code).to.equal(11000);
    expect(await Account.countDocuments({ owner: 'twice' })).to.equal(0);
    expect(await Account.countDocuments({ owner: 'b' })).to.equal(1);
  });
});
