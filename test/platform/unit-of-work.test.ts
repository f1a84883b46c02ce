import { expect } from 'chai';
import mongoose, { Schema, Types } from 'mongoose';
import { AuditEntry } from '../../server/platform/audit-log';
import { hashRequest, IdempotencyKey, runIdempotent } from '../../server/platform/idempotency';
import { msg } from '../../server/platform/messages';
import { runWithContext } from '../../server/platform/request-context';
import { outsideUnitOfWork, withCommand } from '../../server/platform/unit-of-work';

interface Pack {
  _id: Types.ObjectId;
  run: string;
  name: string;
  note?: string;
}
interface Tag {
  _id: Types.ObjectId;
  run: string;
  code: string;
}

const Pack = (mongoose.models.UowTestPack as mongoose.Model<Pack>) ?? mongoose.model<Pack>('UowTestPack', new Schema<Pack>({ run: String, name: String, note: String }, { versionKey: false, collection: 'test_uow_packs' }));
const TagSchema = new Schema<Tag>({ run: String, code: String }, { versionKey: false, collection: 'test_uow_tags' });
TagSchema.index({ code: 1 }, { unique: true });
const Tag = (mongoose.models.UowTestTag as mongoose.Model<Tag>) ?? mongoose.model<Tag>('UowTestTag', TagSchema);

const audited = (run: string) => AuditEntry.countDocuments({ action: 'test.uow', targetId: run });

describe('unit of work: staged inserts', () => {
  before(async () => {
    await Promise.all([Pack.createCollection().catch(() => undefined), Tag.createIndexes()]);
  });

  it('writes the staged documents of two collections and the audit entry with the commit, leaving undefined fields out', async () => {
    const run = new Types.ObjectId().toHexString();
    await withCommand(null, async (uow) => {
      uow.insert(Pack, [{ _id: new Types.ObjectId(), run, name: 'a', note: undefined }]);
      uow.insert(Tag, [{ _id: new Types.ObjectId(), run, code: `${run}-1` }]);
      uow.insert(Pack, [{ _id: new Types.ObjectId(), run, name: 'b' }]);
      uow.audit({ action: 'test.uow', targetType: 'test', targetId: run, summary: msg('common.all') });
      // NOTE: staged documents are written with the commit, not before.
      expect(await Pack.countDocuments({ run }).session(uow.session)).to.equal(0);
    });
    expect((await Pack.find({ run }).sort({ name: 1 }).lean()).map((p) => p.name)).to.deep.equal(['a', 'b']);
    expect(await Tag.countDocuments({ run })).to.equal(1);
    expect(await audited(run)).to.equal(1);
    const raw = await Pack.collection.findOne({ run, name: 'a' });
    expect(raw).to.not.have.property('note');
  });

  it('writes none of them when one insert fails (a duplicate key), the audit entry neither', async () => {
    const run = new Types.ObjectId().toHexString();
    await Tag.create({ run: 'earlier', code: `${run}-taken` });
    let failure: unknown;
    try {
      await withCommand(null, async (uow) => {
        uow.insert(Pack, [{ _id: new Types.ObjectId(), run, name: 'a' }]);
        uow.insert(Tag, [
          { _id: new Types.ObjectId(), run, code: `${run}-free` },
          { _id: new Types.ObjectId(), run, code: `${run}-taken` },
        ]);
        uow.audit({ action: 'test.uow', targetType: 'test', targetId: run, summary: msg('common.all') });
      });
    } catch (err) {
      failure = err;
    }
    expect(failure).to.have.property('code', 11000);
    expect(await Pack.countDocuments({ run })).to.equal(0);
    expect(await Tag.countDocuments({ run })).to.equal(0);
    expect(await audited(run)).to.equal(0);
  });

  it('writes nothing it staged when the command fails after staging', async () => {
    const run = new Types.ObjectId().toHexString();
    const refused = await withCommand(null, async (uow) => {
      uow.insert(Pack, [{ _id: new Types.ObjectId(), run, name: 'a' }]);
      uow.audit({ action: 'test.uow', targetType: 'test', targetId: run, summary: msg('common.all') });
      throw new Error('refused after staging');
    }).catch((err: Error) => err.message);
    expect(refused).to.equal('refused after staging');
    expect(await Pack.countDocuments({ run })).to.equal(0);
    expect(await audited(run)).to.equal(0);
  });
});

describe('unit of work: work outside it', () => {
  it('runs a mongoose query given unexecuted outside the command’s transaction: its write stands when the command fails', async () => {
    const run = new Types.ObjectId().toHexString();
    const refused = await withCommand(null, async () => {
      // NOTE: the query is returned, not awaited, inside: it runs when outsideUnitOfWork awaits it.
      await outsideUnitOfWork(() => Pack.updateOne({ run }, { $set: { name: 'outside' } }, { upsert: true }));
      throw new Error('refused after the write outside');
    }).catch((err: Error) => err.message);
    expect(refused).to.equal('refused after the write outside');
    expect((await Pack.findOne({ run }).lean())?.name).to.equal('outside');
  });

  it('reads outside the command’s transaction: a query given unexecuted does not see the command’s uncommitted write', async () => {
    const run = new Types.ObjectId().toHexString();
    await withCommand(null, async (uow) => {
      await Pack.create([{ run, name: 'inside' }], { session: uow.session });
      expect(await Pack.countDocuments({ run }), 'inside the transaction').to.equal(1);
      expect(await outsideUnitOfWork(() => Pack.countDocuments({ run })), 'outside it').to.equal(0);
      expect(await outsideUnitOfWork(async () => Pack.countDocuments({ run })), 'outside it, through an async function').to.equal(0);
    });
    expect(await Pack.countDocuments({ run })).to.equal(1);
  });

  it('passes on a plain value and a failure of the function', async () => {
    expect(await outsideUnitOfWork(() => 7)).to.equal(7);
    const failed = await outsideUnitOfWork(() => {
      throw new Error('failed outside');
    }).catch((err: Error) => err.message);
    expect(failed).to.equal('failed outside');
  });
});

describe('unit of work: an idempotent request whose transaction opens with the lookup of its key', () => {
  /** As the HTTP layer runs a keyed request: in a request context, the whole handler one unit of work. */
  const request = (key: string, payload: unknown, runs: { n: number }, during?: () => Promise<unknown>) =>
    runWithContext({}, () =>
      runIdempotent(
        key,
        hashRequest('POST /test', payload),
        201,
        async () => ({
          status: 201,
          body: await withCommand(null, async (uow) => {
            runs.n += 1;
            const run = String((payload as { run: string }).run);
            if ((payload as { fail?: boolean }).fail) throw new Error('refused by the command');
            uow.insert(Pack, [{ _id: new Types.ObjectId(), run, name: `attempt ${runs.n}` }]);
            await during?.();
            return { attempt: runs.n, at: new Date(0) };
          }),
        }),
        { lookupInTransaction: true },
      ),
    );

  it('stores the reply with the effect, and a retry returns exactly the stored reply without running again', async () => {
    const run = new Types.ObjectId().toHexString();
    const key = `test:${run}`;
    const runs = { n: 0 };
    const first = await request(key, { run }, runs);
    expect(first).to.deep.equal({ status: 201, body: { attempt: 1, at: '1970-01-01T00:00:00.000Z' }, replayed: false });
    const stored = await IdempotencyKey.findById(key).lean<{ state: string; status: number; body: unknown }>();
    expect(stored).to.deep.include({ state: 'done', status: 201, body: first.body });
    const retry = await request(key, { run }, runs);
    expect(retry).to.deep.equal({ ...first, replayed: true });
    expect(runs.n).to.equal(1);
    expect(await Pack.countDocuments({ run })).to.equal(1);
  });

  it('refuses the same key with another payload (422) and writes nothing', async () => {
    const run = new Types.ObjectId().toHexString();
    const key = `test:${run}`;
    const runs = { n: 0 };
    await request(key, { run }, runs);
    const other = new Types.ObjectId().toHexString();
    const refused = await request(key, { run: other }, runs).catch((err: unknown) => err);
    expect(refused).to.have.property('status', 422);
    expect(refused).to.have.property('code', 'IDEMPOTENCY_KEY_REUSED');
    expect(await Pack.countDocuments({ run: other })).to.equal(0);
    expect(runs.n).to.equal(1);
  });

  it('answers a duplicate that arrives while the first runs with 409 and writes nothing of it; once the first commits, the key replays', async () => {
    const run = new Types.ObjectId().toHexString();
    const key = `test:${run}`;
    const runs = { n: 0 };
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const first = request(key, { run }, runs, () => {
      started();
      return held;
    });
    await running;
    const duplicate = await request(key, { run }, runs).catch((err: unknown) => err);
    expect(duplicate).to.have.property('status', 409);
    expect(duplicate).to.have.property('code', 'IDEMPOTENCY_IN_PROGRESS');
    release();
    const answered = await first;
    expect(answered).to.deep.include({ status: 201, replayed: false });
    expect(await request(key, { run }, runs)).to.deep.equal({ ...answered, replayed: true });
    expect(runs.n).to.equal(1);
    expect(await Pack.countDocuments({ run })).to.equal(1);
  });

  it('replays a reply that another request committed after this one’s transaction opened, without writing this one’s effect', async () => {
    // NOTE: under the lease this cannot happen between requests of this process; the test writes the
    // key as a request of a process whose lease had expired would, after this one's lookup. The
    // insert of the key then conflicts (first committer wins), the transaction is retried, and its
    // new lookup finds the stored reply.
    const run = new Types.ObjectId().toHexString();
    const key = `test:${run}`;
    const runs = { n: 0 };
    const payload = { run };
    const firstReply = { attempt: 'first', at: '1970-01-01T00:00:00.000Z' };
    const commitFirst = () =>
      outsideUnitOfWork(() =>
        IdempotencyKey.collection.insertOne({ _id: key as never, requestHash: hashRequest('POST /test', payload), state: 'done', status: 201, body: firstReply, createdAt: new Date(0) }),
      );
    let raced = false;
    const reply = await request(key, payload, runs, async () => {
      if (raced) return;
      raced = true;
      await commitFirst();
    });
    expect(reply).to.deep.equal({ status: 201, body: firstReply, replayed: true });
    expect(runs.n).to.equal(1);
    expect(await Pack.countDocuments({ run })).to.equal(0);
  });

  it('leaves no lease behind when the command fails: a retry with the key runs', async () => {
    const run = new Types.ObjectId().toHexString();
    const key = `test:${run}`;
    const runs = { n: 0 };
    const failed = await request(key, { run, fail: true }, runs).catch((err: Error) => err.message);
    expect(failed).to.equal('refused by the command');
    expect(await IdempotencyKey.countDocuments({ _id: key })).to.equal(0);
    const retried = await request(key, { run, fail: true }, runs).catch((err: Error) => err.message);
    expect(retried).to.equal('refused by the command');
    expect(runs.n).to.equal(2);
  });
});
