// Behaviour specific to the embedded engine (skipped against a real MongoDB): TTL sweeping,
// direct connections with transactions, the CLI argument contract.
import { expect } from 'chai';
import { MongoClient } from 'mongodb';
import { parseArgs } from '../../server/engine/cli-args';
import { startEngine } from '../../server/engine/index';
import { usingEmbeddedEngine } from '../support/mongo';

(usingEmbeddedEngine() ? describe : describe.skip)('engine: engine-specific behaviour', () => {
  it('deletes expired documents through a TTL index', async () => {
    const e = await startEngine({ memory: true });
    const c = await MongoClient.connect(`${e.uri}ttl`);
    try {
      const coll = c.db().collection('sessions');
      await coll.createIndex({ at: 1 }, { expireAfterSeconds: 60 });
      await coll.insertMany([{ at: new Date(Date.now() - 120_000) }, { at: new Date() }, { at: 'not a date' }]);
      expect(e.engine.ttlPass()).to.equal(1);
      expect(await coll.countDocuments()).to.equal(2);
    } finally {
      await c.close();
      await e.close();
    }
  });

  it('runs transactions over a direct connection', async () => {
    const e = await startEngine({ memory: true });
    const c = await MongoClient.connect(`${e.uri}direct?directConnection=true`);
    try {
      const coll = c.db().collection('t');
      await coll.insertOne({ _id: 1 as never, n: 0 });
      await c.withSession((s) => s.withTransaction(() => coll.updateOne({ _id: 1 as never }, { $inc: { n: 1 } }, { session: s })));
      expect((await coll.findOne({ _id: 1 as never }))!.n).to.equal(1);
    } finally {
      await c.close();
      await e.close();
    }
  });

  it('parses the CLI contract', () => {
    expect(parseArgs(['--port', '27018', '--dbpath', './data/mongo'])).to.include({ port: 27018, dbpath: './data/mongo', memory: false, fsync: 'batch' });
    expect(parseArgs(['--port=0', '--memory', '--host', '0.0.0.0', '--fsync', 'always'])).to.include({ port: 0, memory: true, host: '0.0.0.0', fsync: 'always' });
    expect(() => parseArgs(['--port', '1'])).to.throw(/--dbpath DIR or --memory/);
    expect(() => parseArgs(['--memory', '--fsync', 'sometimes'])).to.throw(/--fsync/);
  });
});
