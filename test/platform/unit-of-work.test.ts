import { expect } from 'chai';
import mongoose, { Schema, Types } from 'mongoose';
import { AuditEntry } from '../../server/platform/audit-log';
import { hashRequest, IdempotencyKey, runIdempotent } from '../../server/platform/idempotency';
import { msg } from '../../server/platform/messages';
import { runWithContext } from '../../server/platform/request-context';
import { withCommand } from '../../server/platform/unit-of-work';

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

describe('unit of work: an idempotent request whose transaction opens with the lookup of its key', () => {
  /** As the HTTP layer runs a keyed request: in a request context, the whole handler one unit of work. */
  const request = (key: string, payload: unknown, runs: { n: number }) =>
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
            uow.insert(Pack, [{ _id: new Types.ObjectId(), run, name: `attempt ${runs.n}` }]);
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
});
