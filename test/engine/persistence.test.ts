// Durability of --dbpath: restart, torn journal tails, compaction, the directory lock, and a
// child engine SIGKILLed in the middle of a write loop. Engine-only (skipped against MONGODB_URI).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { serialize } from 'bson';
import { Binary, BSONRegExp, Decimal128, Double, Long, MongoClient, ObjectId, Timestamp } from 'mongodb';
import { NO_ROOM, UNSUPPORTED, writeDoc } from '../../server/engine/bson-write';
import { startEngine } from '../../server/engine/index';
import { frameInto, readRecords } from '../../server/engine/journal-files';
import { DocRecord } from '../../server/engine/snapshots';
import type { Doc } from '../../server/engine/values';
import { spawnEngine } from '../../server/engine/spawn';
import { usingEmbeddedEngine } from '../support/mongo';

function tmpDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `engine-${tag}-`));
}

const suite = usingEmbeddedEngine() ? describe : describe.skip;

suite('engine: persistence', () => {
  const dirs: string[] = [];
  const mk = (tag: string) => {
    const d = tmpDir(tag);
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('keeps documents, indexes and BSON types across a clean restart', async () => {
    const dir = mk('restart');
    const e1 = await startEngine({ dbpath: dir });
    const c1 = await MongoClient.connect(`${e1.uri}p`);
    const id = new ObjectId();
    await c1.db().collection('t').createIndex({ email: 1 }, { unique: true, partialFilterExpression: { email: { $exists: true } } });
    await c1.db().collection('t').insertOne({ _id: id, email: 'a@b', d: new Double(2), l: Long.fromString('9007199254740993'), m: Decimal128.fromString('1.10'), at: new Date(5) });
    await c1.db().collection('t').updateOne({ _id: id }, { $inc: { l: 1 } });
    await c1.close();
    await e1.close();

    const e2 = await startEngine({ dbpath: dir });
    const c2 = await MongoClient.connect(`${e2.uri}p`);
    const got = await c2.db().collection('t').findOne({ _id: id }, { promoteValues: false });
    expect(got!.d).to.be.instanceOf(Double);
    expect((got!.l as Long).toString()).to.equal('9007199254740994');
    expect((got!.m as Decimal128).toString()).to.equal('1.10');
    const idx = await c2.db().collection('t').indexes();
    expect(idx.map((i) => i.name)).to.deep.equal(['_id_', 'email_1']);
    const err = await c2.db().collection('t').insertOne({ email: 'a@b' }).catch((e) => e);
    expect(err.code).to.equal(11000);
    await c2.close();
    await e2.close();
  });

  it('keeps collection default collations and collated unique indexes across a restart', async () => {
    const dir = mk('collation');
    const e1 = await startEngine({ dbpath: dir });
    const c1 = await MongoClient.connect(`${e1.uri}p`);
    await c1.db().createCollection('zh', { collation: { locale: 'zh', strength: 2 } });
    await c1.db().collection('zh').createIndex({ code: 1 }, { unique: true });
    await c1.db().collection('zh').createIndex({ name: 1 }, { name: 'name_bin', collation: { locale: 'simple' } });
    await c1.db().collection('zh').insertMany([{ code: 'ab', name: '张三' }, { code: 'cd', name: '阿明' }]);
    await c1.close();
    await e1.close();

    const e2 = await startEngine({ dbpath: dir });
    const c2 = await MongoClient.connect(`${e2.uri}p`);
    const coll = c2.db().collection('zh');
    const err = await coll.insertOne({ code: 'AB' }).catch((e) => e);
    expect(err.code).to.equal(11000);
    expect((await coll.find({}, { projection: { _id: 0, name: 1 } }).sort({ name: 1 }).toArray()).map((d) => d.name)).to.deep.equal(['阿明', '张三']);
    const idx = await coll.indexes();
    expect(idx.find((i) => i.name === 'name_bin')?.collation).to.deep.equal({ locale: 'simple' });
    expect(idx.find((i) => i.name === 'code_1')?.collation?.strength).to.equal(2);
    await c2.close();
    await e2.close();
  });

  it('replays catalog changes (rename, index drops, collection and database drops)', async () => {
    const dir = mk('catalog');
    const e1 = await startEngine({ dbpath: dir });
    const c1 = await MongoClient.connect(`${e1.uri}cat`);
    const db = c1.db();
    await db.collection('a').insertMany([{ k: 1 }, { k: 2 }]);
    await db.collection('a').createIndex({ k: 1 }, { unique: true });
    await db.collection('a').createIndex({ z: 1 });
    await db.renameCollection('a', 'b');
    await db.collection('b').dropIndex('z_1');
    await db.collection('c').insertOne({ gone: true });
    await db.collection('c').drop();
    await c1.db('cat2').collection('x').insertOne({});
    await c1.db('cat2').dropDatabase();
    await db.collection('b').updateOne({ k: 2 }, { $set: { k: 3 } });
    await db.collection('b').deleteOne({ k: 1 });
    await c1.close();
    await e1.close();
    const e2 = await startEngine({ dbpath: dir });
    const c2 = await MongoClient.connect(`${e2.uri}cat`);
    expect((await c2.db().listCollections().toArray()).map((x) => x.name)).to.deep.equal(['b']);
    expect((await c2.db().collection('b').indexes()).map((i) => i.name)).to.deep.equal(['_id_', 'k_1']);
    expect((await c2.db().collection('b').find({}, { projection: { _id: 0 } }).toArray())).to.deep.equal([{ k: 3 }]);
    const dbs = (await c2.db('admin').admin().listDatabases()).databases.map((d) => d.name);
    expect(dbs).to.include('cat');
    expect(dbs).to.not.include('cat2');
    await c2.close();
    await e2.close();
  });

  it('ignores a torn journal tail and keeps every complete record', async () => {
    const dir = mk('torn');
    const e1 = await startEngine({ dbpath: dir });
    const c1 = await MongoClient.connect(`${e1.uri}p`);
    for (let i = 0; i < 20; i++) await c1.db().collection('t').insertOne({ i });
    await c1.close();
    // simulate a crash: drop the lock as a dead process would leave it, then tear the last record
    await e1.close();
    const journal = fs.readdirSync(dir).find((f) => f.startsWith('journal-'))!;
    const file = path.join(dir, journal);
    const size = fs.statSync(file).size;
    fs.truncateSync(file, size - 7);
    fs.appendFileSync(file, Buffer.from([1, 2, 3]));
    const e2 = await startEngine({ dbpath: dir });
    expect(e2.persistence!.stats().tornTailBytes).to.be.greaterThan(0);
    const c2 = await MongoClient.connect(`${e2.uri}p`);
    const n = await c2.db().collection('t').countDocuments();
    expect(n).to.equal(19);
    await c2.db().collection('t').insertOne({ i: 'after' });
    await c2.close();
    await e2.close();
    const e3 = await startEngine({ dbpath: dir });
    const c3 = await MongoClient.connect(`${e3.uri}p`);
    expect(await c3.db().collection('t').countDocuments()).to.equal(20);
    await c3.close();
    await e3.close();
  });

  it('compacts the journal into a snapshot and recovers from snapshot + journal', async () => {
    const dir = mk('compact');
    const e1 = await startEngine({ dbpath: dir, compactBytes: 64 * 1024 });
    const c1 = await MongoClient.connect(`${e1.uri}p`);
    const coll = c1.db().collection('t');
    await coll.createIndex({ k: 1 });
    for (let i = 0; i < 30; i++) await coll.insertMany(Array.from({ length: 50 }, (_, j) => ({ k: i * 50 + j, pad: 'x'.repeat(50) })));
    await coll.deleteMany({ k: { $lt: 100 } });
    await new Promise((r) => setImmediate(r));
    expect(e1.persistence!.stats().generation).to.be.greaterThan(0);
    expect(fs.existsSync(path.join(dir, 'snapshot.bson'))).to.equal(true);
    await c1.close();
    // no clean close: the lock file stays behind like after a crash; simulate a dead owner
    await e1.engine.close();
    await e1.close();
    const e2 = await startEngine({ dbpath: dir });
    const c2 = await MongoClient.connect(`${e2.uri}p`);
    expect(await c2.db().collection('t').countDocuments()).to.equal(1400);
    const plan = await c2.db().collection('t').find({ k: 500 }).explain('executionStats');
    expect(plan.executionStats.totalDocsExamined).to.equal(1);
    await c2.close();
    await e2.close();
  });

  it('writes the state as of the start of compaction while documents are updated, deleted and re-inserted meanwhile', async function () {
    this.timeout(120_000);
    const dir = mk('compact-live');
    const e1 = await startEngine({ dbpath: dir, compactBytes: Number.MAX_SAFE_INTEGER, fsync: 'never' });
    const c1 = await MongoClient.connect(`${e1.uri}p`, { maxPoolSize: 8 });
    const coll = c1.db().collection<{ _id: number; u: number; v: number; pad: string }>('t');
    await coll.createIndex({ u: 1 }, { unique: true });
    // NOTE: enough documents that the snapshot takes many turns of the change loop below, on a fast machine too.
    const N = 40_000;
    for (let i = 0; i < N; i += 1000) {
      await coll.insertMany(Array.from({ length: 1000 }, (_, j) => ({ _id: i + j, u: i + j, v: 0, pad: 'x'.repeat(800) })));
    }
    const sortById = { sort: { _id: 1 as const } };
    const atStart = await coll.find({}, sortById).toArray();
    let done = false;
    const compaction = e1.persistence!.compact().then(() => (done = true));
    let changes = 0;
    // every kind of change, spread over the whole collection, until the snapshot is in place
    for (let k = 0; !done; k++) {
      const id = (k * 7919) % N;
      const a = coll.updateOne({ _id: id }, { $inc: { v: 1 } });
      const b = coll.deleteOne({ _id: (id + 1) % N });
      const c = coll.deleteOne({ _id: (id + 2) % N }).then(() => coll.insertOne({ _id: (id + 2) % N, u: (id + 2) % N, v: -1, pad: 'y' }).catch(() => undefined));
      const d = coll.insertOne({ _id: N + k, u: N + k, v: 0, pad: 'z' });
      await Promise.all([a, b, c, d]);
      changes += 4;
    }
    await compaction;
    expect(changes, 'changes landed while the snapshot was written').to.be.greaterThan(40);
    const atEnd = await coll.find({}, sortById).toArray();
    await c1.close();
    await e1.close();

    // the snapshot alone is the state when compaction started
    const alone = mk('compact-live-snapshot');
    fs.copyFileSync(path.join(dir, 'snapshot.bson'), path.join(alone, 'snapshot.bson'));
    const e2 = await startEngine({ dbpath: alone });
    const c2 = await MongoClient.connect(`${e2.uri}p`);
    const t2 = c2.db().collection('t');
    expect(await t2.find({}, sortById).toArray()).to.deep.equal(atStart);
    expect(await t2.countDocuments({ u: { $gte: 0 } }, { hint: { u: 1 } })).to.equal(atStart.length);
    const dup = await t2.insertOne({ _id: -1, u: 5 } as never).catch((e: { code?: number }) => e);
    expect((dup as { code?: number }).code).to.equal(11000);
    await c2.close();
    await e2.close();

    // snapshot + the new generation's journal is the state at the end
    const e3 = await startEngine({ dbpath: dir });
    const c3 = await MongoClient.connect(`${e3.uri}p`);
    const t3 = c3.db().collection('t');
    expect(await t3.find({}, sortById).toArray()).to.deep.equal(atEnd);
    expect(await t3.countDocuments({ u: { $gte: 0 } }, { hint: { u: 1 } })).to.equal(atEnd.length);
    await c3.close();
    await e3.close();
  });

  it('writes plain documents with the same bytes as bson, and leaves other types to it', () => {
    const docs: Doc[] = [
      { _id: 1, s: 'plain', u: 'ünïcödé 药品 — 😀 \ud800 lone', long: 'z'.repeat(70_000), e: '' },
      { n: [0, -1, 2147483647, -2147483648, 2147483648, -2147483649, 2 ** 53, 2 ** 53 + 2, -0, 0.1, Number.NaN, Infinity, -Infinity, 1e300] },
      { b: [true, false], z: null, skip: undefined, arr: [undefined, null, [], {}, [[1]]], ü: { 'ключ': 1, '': 2, '10': 3, '2': 4 } },
      { at: new Date(0), neg: new Date(-1), old: new Date(-8.64e15), far: new Date(8.64e15), bad: new Date(Number.NaN), now: new Date(1733500000123) },
      { o: new ObjectId(), l: Long.fromString('-9007199254740993'), l2: Long.fromNumber(5), d: new Double(3), d2: new Double(-0), deep: { a: { b: { c: [{ d: 'e' }] } } } },
      { arr: Array.from({ length: 1005 }, (_, i) => (i % 3 ? i : `s${i}`)) },
      Object.assign(Object.create(null) as Doc, { nullProto: 1 }),
    ];
    for (const d of docs) {
      const want = Buffer.from(serialize(d, { checkKeys: false, ignoreUndefined: true }));
      const out = Buffer.alloc(want.length + 64);
      const end = writeDoc(out, 3, d, out.length);
      expect(end, JSON.stringify(Object.keys(d))).to.equal(3 + want.length);
      expect(out.subarray(3, end).equals(want), JSON.stringify(Object.keys(d))).to.equal(true);
      // one byte short of room: refused
      expect(writeDoc(Buffer.alloc(want.length + 2), 3, d, want.length + 2)).to.equal(NO_ROOM);
    }
    for (const d of [{ m: Decimal128.fromString('1.1') }, { b: new Binary(Buffer.from([1])) }, { r: /a/ }, { t: new Timestamp({ t: 1, i: 2 }) }, { x: 1n }, { nested: { deep: [new BSONRegExp('a', '')] } }]) {
      expect(writeDoc(Buffer.alloc(1024), 0, d as Doc, 1024)).to.equal(UNSUPPORTED);
    }
  });

  it('frames a snapshot document record, written document by document into a buffer, as bson frames the whole record', () => {
    const docs: Doc[] = [
      { _id: 1, s: 'plain', u: 'ünïcödé 药品 — 😀', n: 2.5, i: -7, big: 2 ** 40, b: true, z: null },
      { _id: new ObjectId(), at: new Date(1234), l: Long.fromString('9007199254740993'), m: Decimal128.fromString('1.10'), d: new Double(3) },
      { _id: 'k', nested: { a: [1, 'two', { three: 3 }], e: {} }, arr: [], bin: new Binary(Buffer.from([1, 2, 3])), re: new BSONRegExp('^a', 'i') },
      ...Array.from({ length: 120 }, (_, i) => ({ _id: 100 + i, pad: 'x'.repeat(i * 7) })),
    ];
    const rec = new DocRecord('db é', 'coll ü');
    const out = Buffer.alloc(1 << 20);
    let at = rec.begin(out, 0);
    for (const d of docs) at = rec.add(out, at, d);
    const end = rec.finish(out, at);
    const want = Buffer.alloc(1 << 20);
    const wantEnd = frameInto({ t: 'd', db: 'db é', coll: 'coll ü', docs } as Doc, 1 << 19, want, 0);
    expect(end).to.equal(wantEnd);
    expect(out.subarray(0, end).equals(want.subarray(0, wantEnd))).to.equal(true);
    // a document that does not fit is refused and leaves the record as it was
    const small = Buffer.alloc(200);
    const r2 = new DocRecord('d', 'c');
    let p = r2.begin(small, 0);
    p = r2.add(small, p, { _id: 1 });
    expect(r2.add(small, p, { _id: 2, pad: 'y'.repeat(300) })).to.equal(-1);
    const e2 = r2.finish(small, p);
    const { records, validBytes } = readRecords(small.subarray(0, e2));
    expect(validBytes).to.equal(e2);
    expect(records).to.have.length(1);
    expect((records[0]!.docs as Doc[]).map((d) => d._id)).to.deep.equal([1]);
    // a record that holds no document is dropped
    const r3 = new DocRecord('d', 'c');
    expect(r3.finish(small, r3.begin(small, 40))).to.equal(40);
  });

  it('recovers after a compaction that ran while writes continued: documents bigger than the output buffers, every type, several collections', async function () {
    this.timeout(120_000);
    const dir = mk('compact-big');
    const e1 = await startEngine({ dbpath: dir, compactBytes: Number.MAX_SAFE_INTEGER, fsync: 'never' });
    const c1 = await MongoClient.connect(`${e1.uri}p`, { maxPoolSize: 8 });
    const big = c1.db().collection<{ _id: string; s: string; n: number }>('bïg');
    const small = c1.db('other').collection<{ _id: number }>('small');
    const huge = 'h'.repeat(9 * 1024 * 1024); // more than one 8 MiB output buffer
    await big.insertOne({ _id: 'huge-1', s: huge, n: 1 } as never);
    for (let i = 0; i < 30; i++) await big.insertOne({ _id: `mid-${i}`, s: 'm'.repeat(600 * 1024), n: i } as never);
    await big.insertOne({ _id: 'huge-2', s: huge, n: 2 } as never);
    for (let i = 0; i < 20_000; i += 2000) {
      await small.insertMany(Array.from({ length: 2000 }, (_, j) => ({ _id: i + j, at: new Date(i + j), l: Long.fromNumber(i + j), d: new Double(j), s: `ünï ${j}`, o: { a: [j, { b: j }] } })) as never);
    }
    const sortById = { sort: { _id: 1 as const } };
    let done = false;
    const compaction = e1.persistence!.compact().then(() => (done = true));
    let k = 0;
    while (!done) {
      await Promise.all([
        small.insertOne({ _id: 100_000 + k, w: k } as never),
        small.updateOne({ _id: (k * 31) % 20_000 }, { $set: { w: k } }),
        small.deleteOne({ _id: (k * 17 + 5) % 20_000 }),
        big.updateOne({ _id: `mid-${k % 30}` }, { $inc: { n: 100 } }),
      ]);
      k++;
    }
    await compaction;
    expect(k, 'writes landed while the snapshot was written').to.be.greaterThan(0);
    const bigAtEnd = await big.find({}, sortById).toArray();
    const smallAtEnd = await small.find({}, sortById).toArray();
    await c1.close();
    await e1.close();

    const e2 = await startEngine({ dbpath: dir });
    const c2 = await MongoClient.connect(`${e2.uri}p`);
    expect(await c2.db().collection('bïg').find({}, sortById).toArray()).to.deep.equal(bigAtEnd);
    expect(await c2.db('other').collection('small').find({}, sortById).toArray()).to.deep.equal(smallAtEnd);
    await c2.close();
    await e2.close();
  });

  it('acknowledges fsync=always and j:true writes after they reach the disk', async () => {
    const dir = mk('fsync');
    const e1 = await startEngine({ dbpath: dir, fsync: 'always' });
    const c1 = await MongoClient.connect(`${e1.uri}p`);
    await Promise.all(Array.from({ length: 50 }, (_, i) => c1.db().collection('t').insertOne({ i })));
    await c1.db().collection('t').insertOne({ i: 'j' }, { writeConcern: { w: 1, j: true } });
    await c1.close();
    await e1.close();
    const e2 = await startEngine({ dbpath: dir, fsync: 'never' });
    const c2 = await MongoClient.connect(`${e2.uri}p`);
    expect(await c2.db().collection('t').countDocuments()).to.equal(51);
    await c2.db().collection('t').insertOne({ i: 'k' }, { writeConcern: { j: true } });
    await c2.close();
    await e2.close();
  });

  it('refuses a second engine on a locked directory', async () => {
    const dir = mk('lock');
    const e1 = await startEngine({ dbpath: dir });
    const err = await startEngine({ dbpath: dir }).catch((e) => e as Error);
    expect(err).to.be.instanceOf(Error);
    expect((err as Error).message).to.match(/already open|locked/);
    await e1.close();
    const e2 = await startEngine({ dbpath: dir });
    await e2.close();
  });

  it('loses no acknowledged write when the engine is SIGKILLed mid-write', async function () {
    this.timeout(120_000);
    const dir = mk('crash');
    const eng = await spawnEngine({ dbpath: dir });
    const client = await MongoClient.connect(`${eng.uri}crash`, { maxPoolSize: 8, serverSelectionTimeoutMS: 2000 });
    const db = client.db();
    await db.collection('docs').createIndex({ seq: 1 }, { unique: true });
    await db.collection('accounts').insertMany([
      { _id: 'a' as never, balance: 1000 },
      { _id: 'b' as never, balance: 0 },
    ]);
    await db.collection('counter').insertOne({ _id: 'c' as never, n: 0 });
    const ackedSeq: number[] = [];
    let ackedCounter = 0;
    let ackedTransfers = 0;
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const seq = w * 1_000_000 + i;
        try {
          await db.collection('docs').insertOne({ seq, w, body: 'y'.repeat(200) });
          ackedSeq.push(seq);
        } catch {
          return;
        }
      }
    };
    const counter = async () => {
      while (!stop) {
        try {
          const r = await db.collection('counter').findOneAndUpdate({ _id: 'c' as never }, { $inc: { n: 1 } }, { returnDocument: 'after' });
          ackedCounter = Math.max(ackedCounter, r!.n as number);
        } catch {
          return;
        }
      }
    };
    const transfers = async () => {
      while (!stop) {
        const s = client.startSession();
        try {
          await s.withTransaction(async () => {
            await db.collection('accounts').updateOne({ _id: 'a' as never }, { $inc: { balance: -1 } }, { session: s });
            await db.collection('accounts').updateOne({ _id: 'b' as never }, { $inc: { balance: 1 } }, { session: s });
          });
          ackedTransfers++;
        } catch {
          return;
        } finally {
          await s.endSession().catch(() => undefined);
        }
      }
    };
    const loops = [writer(1), writer(2), writer(3), counter(), transfers()];
    await new Promise((r) => setTimeout(r, 1500));
    eng.child.kill('SIGKILL');
    await new Promise((r) => eng.child.once('exit', r));
    stop = true;
    await Promise.allSettled(loops);
    await client.close(true).catch(() => undefined);
    expect(ackedSeq.length).to.be.greaterThan(50);

    const eng2 = await spawnEngine({ dbpath: dir });
    const c2 = await MongoClient.connect(`${eng2.uri}crash`);
    const db2 = c2.db();
    const seqs = new Set((await db2.collection('docs').find({}, { projection: { seq: 1 } }).toArray()).map((d) => d.seq as number));
    const missing = ackedSeq.filter((s) => !seqs.has(s));
    expect(missing, 'acknowledged inserts missing after the crash').to.deep.equal([]);
    const counterDoc = await db2.collection('counter').findOne({ _id: 'c' as never });
    expect(counterDoc!.n as number).to.be.at.least(ackedCounter);
    const accounts = await db2.collection('accounts').find().sort({ _id: 1 }).toArray();
    expect((accounts[0]!.balance as number) + (accounts[1]!.balance as number), 'transfers are atomic').to.equal(1000);
    expect(accounts[1]!.balance as number).to.be.at.least(ackedTransfers);
    // every document complete and the unique index consistent with the data
    const docs = await db2.collection('docs').find().toArray();
    expect(docs.every((d) => typeof d.seq === 'number' && (d.body as string).length === 200)).to.equal(true);
    expect(await db2.collection('docs').countDocuments({ seq: { $gte: 0 } })).to.equal(docs.length);
    await c2.close();
    await eng2.stop();
  });

  it('loses no acknowledged write when the engine is SIGKILLed while it compacts', async function () {
    this.timeout(180_000);
    const dir = mk('crash-compact');
    let sawStart = 0;
    let onStart: (() => void) | null = null;
    const eng = await spawnEngine({
      dbpath: dir,
      compactBytes: 8 * 1024 * 1024,
      logger: (l) => {
        if (l.includes('compaction started')) {
          sawStart++;
          onStart?.();
        }
      },
    });
    const client = await MongoClient.connect(`${eng.uri}crashc`, { maxPoolSize: 8, serverSelectionTimeoutMS: 2000 });
    const db = client.db();
    // enough live data that writing a snapshot spans many slices
    for (let i = 0; i < 30; i++) {
      await db.collection('bulk').insertMany(Array.from({ length: 1000 }, (_, j) => ({ _id: i * 1000 + j, pad: 'p'.repeat(1000) })) as never);
    }
    await db.collection('counter').insertOne({ _id: 'c' as never, n: 0 });
    const acked: number[] = [];
    let ackedCounter = 0;
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const seq = w * 1_000_000 + i;
        try {
          await db.collection('docs').insertOne({ _id: seq as never, body: 'z'.repeat(2000) });
          acked.push(seq);
        } catch {
          return;
        }
      }
    };
    const counter = async () => {
      while (!stop) {
        try {
          const r = await db.collection('counter').findOneAndUpdate({ _id: 'c' as never }, { $inc: { n: 1 } }, { returnDocument: 'after' });
          ackedCounter = Math.max(ackedCounter, r!.n as number);
        } catch {
          return;
        }
      }
    };
    const before = sawStart;
    const started = new Promise<void>((r) => (onStart = () => sawStart > before && r()));
    const loops = [writer(1), writer(2), counter()];
    await started;
    // a new journal generation is opened when compaction starts; the old one goes when the snapshot is in place
    const midway = fs.readdirSync(dir).filter((f) => /^journal-\d+\.log$/.test(f)).length >= 2;
    eng.child.kill('SIGKILL');
    await new Promise((r) => eng.child.once('exit', r));
    stop = true;
    await Promise.allSettled(loops);
    await client.close(true).catch(() => undefined);
    expect(midway, 'the kill landed while the snapshot was being written').to.equal(true);

    const eng2 = await spawnEngine({ dbpath: dir });
    const c2 = await MongoClient.connect(`${eng2.uri}crashc`);
    const db2 = c2.db();
    const ids = new Set((await db2.collection('docs').find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id as unknown as number));
    expect(acked.filter((s) => !ids.has(s)), 'acknowledged inserts missing after the crash').to.deep.equal([]);
    expect(await db2.collection('bulk').countDocuments()).to.equal(30_000);
    expect((await db2.collection('counter').findOne({ _id: 'c' as never }))!.n as number).to.be.at.least(ackedCounter);
    await c2.close();
    await eng2.stop();
  });
});
