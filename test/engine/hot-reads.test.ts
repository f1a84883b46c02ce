// The reads a page does every day examine the same number of documents however much history the
// collection holds: cursor pages ($or on the sort key), unread ({$exists: false} / null through the
// null keys), counts with a limit, and $match/$sort/$skip/$limit pipelines that stop early.
import { expect } from 'chai';
import { type Collection, type Document } from 'mongodb';
import { useEngineClient } from '../support/engine-client';

const T0 = Date.UTC(2025, 0, 1);
const HOUR = 3_600_000;

describe('engine: hot reads stay bounded as data grows', () => {
  const engine = useEngineClient('engine_hot_reads');
  let orders: Collection<Document>;
  let notes: Collection<Document>;
  let next = 0;

  /** `n` orders placed before every order so far (history grows backwards from T0), a few open */
  const addOrders = async (n: number) => {
    const docs = Array.from({ length: n }, (_, k) => {
      const i = next + k;
      // two orders share each hour, so a cursor meets ties on the sort key
      return { _id: 1_000_000 - i, h: `h${i % 4}`, status: i < 40 ? 'placed' : 'accepted', at: new Date(T0 - Math.floor(i / 2) * HOUR) };
    });
    next += n;
    await orders.insertMany(docs as never);
    await notes.insertMany(docs.map((d, k) => ({ user: d.h, at: d.at, ...(next - n + k < 40 ? {} : { readAt: d.at }) })) as never);
  };

  const examined = async (cmd: Document) => {
    const ex = await engine.client.db().command({ explain: cmd, verbosity: 'executionStats' });
    return { docs: ex.executionStats.totalDocsExamined as number, keys: ex.executionStats.totalKeysExamined as number, n: ex.executionStats.nReturned as number };
  };
  /** every document of the filter in memory, sorted newest first (the expected answer) */
  const scanSorted = async (filter: Document) => (await orders.find(filter).hint({ $natural: 1 }).toArray()).sort((a, b) => b.at.getTime() - a.at.getTime() || Number(b._id) - Number(a._id));
  const cursorFilter = (h: string, last: Document) => ({ h, $or: [{ at: { $lt: last.at } }, { at: last.at, _id: { $lt: last._id } }] });

  const reads = async () => {
    const first = await orders.find({ h: 'h1' }).sort({ at: -1, _id: -1 }).limit(30).toArray();
    const page2Filter = cursorFilter('h1', first[first.length - 1]!);
    return {
      page2: await examined({ find: 'orders', filter: page2Filter, sort: { at: -1, _id: -1 }, limit: 31 }),
      openByStatus: await examined({ find: 'orders', filter: { h: 'h1', status: 'placed' }, sort: { at: -1, _id: -1 }, limit: 31 }),
      unionOfStatuses: await examined({ find: 'orders', filter: { h: 'h2', $or: [{ status: 'placed' }, { status: 'shipped' }] } }),
      unreadCount: await examined({ aggregate: 'notes', pipeline: [{ $match: { user: 'h1', readAt: { $exists: false } } }, { $group: { _id: 1, n: { $sum: 1 } } }], cursor: {} }),
      unreadNull: await examined({ find: 'notes', filter: { user: 'h1', readAt: null } }),
      countCapped: await examined({ count: 'orders', query: { h: 'h3' }, limit: 25 }),
      countDocumentsCapped: await examined({ aggregate: 'orders', pipeline: [{ $match: { h: 'h3' } }, { $limit: 25 }, { $group: { _id: 1, n: { $sum: 1 } } }], cursor: {} }),
      narrowSorted: await examined({ find: 'orders', filter: { h: { $in: ['h1', 'h2'] }, status: 'placed' }, sort: { at: -1 }, limit: 500 }),
      pipelinePage: await examined({ aggregate: 'orders', pipeline: [{ $match: { h: 'h0' } }, { $sort: { at: -1, _id: -1 } }, { $skip: 10 }, { $limit: 5 }], cursor: {} }),
    };
  };
  let small: Awaited<ReturnType<typeof reads>>;

  before(async () => {
    orders = engine.client.db().collection('orders');
    notes = engine.client.db().collection('notes');
    await orders.createIndexes([{ key: { h: 1, at: -1, _id: -1 } }, { key: { h: 1, status: 1, at: -1, _id: -1 } }, { key: { at: -1 } }]);
    await notes.createIndexes([{ key: { user: 1, at: -1 } }, { key: { user: 1, readAt: 1 } }]);
    await addOrders(1_000);
    small = await reads();
  });

  it('pages with a cursor ($or on the sort key) from the cursor on, with the same rows as a scan', async () => {
    expect(small.page2.docs).to.be.at.most(32);
    let last: Document | undefined;
    const seen: number[] = [];
    for (let p = 0; p < 4; p += 1) {
      const filter = last ? cursorFilter('h1', last) : { h: 'h1' };
      const rows = await orders.find(filter).sort({ at: -1, _id: -1 }).limit(30).toArray();
      expect(rows.map((r) => r._id)).to.deep.equal((await scanSorted(filter)).slice(0, 30).map((r) => r._id));
      seen.push(...rows.map((r) => Number(r._id)));
      last = rows[rows.length - 1];
    }
    expect(new Set(seen).size).to.equal(120);
    // unsorted, the same $or is answered from index ranges too
    const unsorted = await examined({ find: 'orders', filter: cursorFilter('h1', last!) });
    expect(unsorted.keys).to.be.at.most(unsorted.n + 2);
  });

  it('reads a union of index ranges for a top-level $or when it is narrower than the rest of the filter', async () => {
    expect(small.unionOfStatuses.docs).to.equal(small.unionOfStatuses.n);
    const rows = await orders.find({ h: 'h2', $or: [{ status: 'placed' }, { status: 'shipped' }] }).toArray();
    expect(rows.map((r) => r._id).sort()).to.deep.equal((await orders.find({ h: 'h2', status: 'placed' }).hint({ $natural: 1 }).toArray()).map((r) => r._id).sort());
  });

  it('answers {$exists: false} and null equality from the null keys only', async () => {
    expect(small.unreadCount.docs).to.equal(10);
    expect(small.unreadNull.docs).to.equal(10);
    await notes.insertOne({ user: 'h1', at: new Date(T0), readAt: null });
    const missing = await notes.countDocuments({ user: 'h1', readAt: { $exists: false } });
    const nulls = await notes.countDocuments({ user: 'h1', readAt: null });
    expect([missing, nulls]).to.deep.equal([10, 11]);
    expect((await examined({ find: 'notes', filter: { user: 'h1', readAt: { $exists: false } } })).docs).to.equal(11);
    await notes.deleteOne({ user: 'h1', readAt: null });
  });

  it('answers {$exists: false} on a multikey index exactly as a scan', async () => {
    const c = engine.client.db().collection('multikey_exists');
    await c.insertMany([{ _id: 1, a: [] }, { _id: 2, a: [{ b: 1 }] }, { _id: 3, a: [{ c: 1 }] }, { _id: 4 }, { _id: 5, a: [{ b: 1 }, { c: 1 }] }, { _id: 6, a: { b: null } }] as never);
    await c.createIndex({ 'a.b': 1 });
    for (const filter of [{ 'a.b': { $exists: false } }, { 'a.b': null }]) {
      const viaIndex = (await c.find(filter).toArray()).map((d) => d._id).sort();
      const viaScan = (await c.find(filter).hint({ $natural: 1 }).toArray()).map((d) => d._id).sort();
      expect(viaIndex).to.deep.equal(viaScan);
    }
  });

  it('stops counting at the limit (count command and countDocuments)', async () => {
    expect([small.countCapped.n, small.countCapped.docs]).to.deep.equal([25, 25]);
    expect(small.countDocumentsCapped.docs).to.equal(25);
    expect(await orders.countDocuments({ h: 'h3' }, { limit: 25 })).to.equal(25);
    expect(await orders.countDocuments({ h: 'h3' }, { skip: 240, limit: 25 })).to.equal(Math.min(25, (await orders.countDocuments({ h: 'h3' })) - 240));
  });

  it('reads only skip + limit documents for $match, $sort, $skip, $limit, with the rows of a full sort', async () => {
    expect(small.pipelinePage.docs).to.equal(15);
    const all = await scanSorted({ h: 'h0' });
    const page = await orders.aggregate([{ $match: { h: 'h0' } }, { $sort: { at: -1, _id: -1 } }, { $skip: 10 }, { $limit: 5 }]).toArray();
    expect(page.map((r) => r._id)).to.deep.equal(all.slice(10, 15).map((r) => r._id));
    const limitThenSkip = await orders.aggregate([{ $match: { h: 'h0' } }, { $sort: { at: -1, _id: -1 } }, { $limit: 8 }, { $skip: 5 }, { $project: { _id: 1 } }]).toArray();
    expect(limitThenSkip.map((r) => r._id)).to.deep.equal(all.slice(5, 8).map((r) => r._id));
    const unsorted = await orders.aggregate([{ $match: { h: 'h0' } }, { $limit: 3 }]).toArray();
    expect(unsorted).to.have.length(3);
  });

  it('prefers an index that narrows the filter to a few keys over a walk in sort order that cannot fill the page', async () => {
    expect([small.narrowSorted.docs, small.narrowSorted.n]).to.deep.equal([20, 20]);
    const filter = { h: { $in: ['h1', 'h2'] }, status: 'placed' };
    const rows = await orders.find(filter).sort({ at: -1 }).limit(500).toArray();
    expect(rows.map((r) => r.at.getTime())).to.deep.equal((await scanSorted(filter)).map((r) => r.at.getTime()));
  });

  it('examines as many documents for each of these reads after ten times the history', async () => {
    await addOrders(9_000);
    const large = await reads();
    expect(large).to.deep.equal(small);
  });
});
