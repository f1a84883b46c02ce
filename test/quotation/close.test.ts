import { expect } from 'chai';
import { Types } from 'mongoose';
import { jobHandlers } from '../../jobs';
import { Queues } from '../../server/platform/queues';
import { closeRound, Listing, Quote, QuoteEvent, Round } from '../../server/modules/quotation';
import { connectSocket, emitAck, nextEvent, type TestUser, buildUser } from '../support/factories';
import { testApp, testClock } from '../support/global';
import { buildOpenRound, quote, tradingDistributors, waitForRoundStatus } from '../support/quotation-factories';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The close job's state and, while delayed, when BullMQ will run it (its score in the delayed set). */
async function closeJobTimestamp(roundId: string): Promise<{ state: string; runAt: number }> {
  const queues = testApp().platform.queues;
  const job = await queues.getJob(`round-close:${roundId}`);
  if (!job) throw new Error('no close job');
  const score = await testApp().platform.redis.zscore(queues.queue.toKey('delayed'), job.id!);
  // NOTE: Redis holds the wall-clock time the job runs at; the round's times are on the test clock.
  const clockAhead = testClock.now().getTime() - Date.now();
  return { state: await job.getState(), runAt: score === null ? Number.NaN : Math.floor(Number(score) / 0x1000) + clockAhead };
}

describe('closing a round', () => {
  it('extends the close when a quote changes the best price in the last window, at most maxExtensions times, moving the one close job', async () => {
    const round = await buildOpenRound({ closesInMs: 3000, antiSniping: { windowSec: 60, extendSec: 2, maxExtensions: 2 }, referenceFen: 300_000 });
    const [a, b] = (await tradingDistributors(2)) as [TestUser, TestUser];
    const pharmacist = await buildUser('pharmacist');
    const watcherSocket = await connectSocket(pharmacist.token);
    try {
      await emitAck(watcherSocket, 'round:watch', { roundId: round.id });
      const { lineId } = round.lines[0]!;
      const closesAt0 = new Date(round.closesAt).getTime();
      const extended = nextEvent<{ closesAt: string; extensions: number; maxExtensions: number }>(watcherSocket, 'round:extended');
      const q1 = await a.api().post(`/api/v1/rounds/${round.id}/quotes`, { lineId, priceFen: 250_000 });
      expect(q1.body.extended).to.equal(true);
      const e1 = await extended;
      expect(e1).to.include({ extensions: 1, maxExtensions: 2 });
      expect(new Date(e1.closesAt).getTime()).to.equal(closesAt0 + 2000);
      const job1 = await closeJobTimestamp(round.id);
      expect(job1.state).to.equal('delayed');
      expect(job1.runAt).to.be.within(closesAt0 + 2000 - 250, closesAt0 + 2000 + 250);
      // A quote that does not beat the best price does not extend.
      const q2 = await b.api().post(`/api/v1/rounds/${round.id}/quotes`, { lineId, priceFen: 260_000 });
      expect(q2.body.extended).to.equal(false);
      const q3 = await b.api().post(`/api/v1/rounds/${round.id}/quotes`, { lineId, priceFen: 240_000 });
      expect(q3.body.extended).to.equal(true);
      const q4 = await a.api().post(`/api/v1/rounds/${round.id}/quotes`, { lineId, priceFen: 230_000 });
      expect(q4.body.extended, 'cap reached').to.equal(false);
      const stored = await Round.findById(round.id).lean<{ closesAt: Date; extensions: number; scheduledClosesAt: Date }>();
      expect(stored!.extensions).to.equal(2);
      expect(stored!.closesAt.getTime()).to.equal(closesAt0 + 4000);
      expect(stored!.scheduledClosesAt.getTime()).to.equal(closesAt0);
      const finalJob = await closeJobTimestamp(round.id);
      expect(finalJob.runAt).to.be.within(closesAt0 + 4000 - 250, closesAt0 + 4000 + 250);
      await waitForRoundStatus(round.id, 'published', 10_000);
      const closed = await Round.findById(round.id).lean<{ closedAt: Date }>();
      expect(closed!.closedAt.getTime()).to.be.at.least(closesAt0 + 4000);
      expect(closed!.closedAt.getTime() - (closesAt0 + 4000)).to.be.below(1500);
      const events = await QuoteEvent.find({ roundId: new Types.ObjectId(round.id) }).lean<{ type: string }[]>();
      expect(events.filter((e) => e.type === 'extended')).to.have.length(2);
      expect(events.filter((e) => e.type === 'closed')).to.have.length(1);
    } finally {
      watcherSocket.close();
    }
  });

  it('closes exactly once and on time across a worker restart in the middle of the round', async () => {
    const queues = testApp().platform.queues as unknown as { worker?: { close(): Promise<void> }; startWorker: Queues['startWorker'] };
    const round = await buildOpenRound({ closesInMs: 3000 });
    const [a] = (await tradingDistributors(1)) as [TestUser];
    await quote(a, round.id, round.lines[0]!.lineId, 200_000);
    // The process dies: its worker stops; the round and its close job stay in MongoDB and Redis.
    await queues.worker!.close();
    const { config, logger } = testApp().platform;
    const redisUrl = (testApp().platform.redis.options as { host: string; port: number }).port
      ? `redis://${testApp().platform.redis.options.host}:${testApp().platform.redis.options.port}`
      : 'redis://127.0.0.1:6379';
    const restarted = new Queues(redisUrl, config.queuePrefix, logger, () => testApp().platform.clock.now());
    try {
      expect((await closeJobTimestamp(round.id)).state).to.equal('delayed');
      await sleep(300);
      restarted.startWorker(jobHandlers);
      await waitForRoundStatus(round.id, 'published', 10_000);
      const closedAt = (await Round.findById(round.id).lean<{ closedAt: Date; closesAt: Date }>())!;
      expect(closedAt.closedAt.getTime() - closedAt.closesAt.getTime()).to.be.within(0, 1500);
      // The job running again (BullMQ's at-least-once) changes nothing.
      expect(await closeRound(round.id)).to.equal('published');
      expect(await closeRound(round.id)).to.equal('published');
      const events = await QuoteEvent.find({ roundId: new Types.ObjectId(round.id), type: 'closed' }).lean();
      expect(events).to.have.length(1);
      expect(await QuoteEvent.countDocuments({ roundId: new Types.ObjectId(round.id), type: 'published' })).to.equal(1);
      expect(await Listing.countDocuments({ roundId: new Types.ObjectId(round.id) })).to.equal(1);
    } finally {
      await restarted.close();
      queues.startWorker(jobHandlers);
    }
  });

  it('lets the database decide a quote racing the close: each is either in the listing or refused as closed', async () => {
    const distributors = await tradingDistributors(4);
    const round = await buildOpenRound({ closesInMs: 6000, referenceFen: 500_000 });
    const { lineId } = round.lines[0]!;
    const closesAt = new Date(round.closesAt).getTime();
    // Everyone is in before the race, so the listing has each distributor's last accepted quote.
    for (const [i, d] of distributors.entries()) await quote(d, round.id, lineId, 450_000 - i * 1000);
    const wait = closesAt - testClock.now().getTime() - 150;
    expect(wait, 'the setup took longer than the round was open').to.be.greaterThan(0);
    await sleep(wait);
    const attempts = await Promise.all(
      distributors.flatMap((d, i) =>
        Array.from({ length: 6 }, (_, k) =>
          sleep(k * 60).then(() => d.api().post(`/api/v1/rounds/${round.id}/quotes`, { lineId, priceFen: 400_000 - i * 1000 - k * 10_000 })),
        ),
      ),
    );
    await waitForRoundStatus(round.id, 'published', 10_000);
    const accepted = attempts.filter((r) => r.status === 201);
    const refused = attempts.filter((r) => r.status !== 201);
    expect(refused.length).to.be.greaterThan(0);
    for (const r of refused) expect(['ROUND_CLOSED', 'INSUFFICIENT_DECREMENT', 'NOT_BELOW_PREVIOUS']).to.include(r.body.error.code);
    expect(refused.some((r) => r.body.error.code === 'ROUND_CLOSED')).to.equal(true);
    const finalClose = (await Round.findById(round.id).lean<{ closesAt: Date }>())!.closesAt.getTime();
    for (const r of accepted) expect(new Date(r.body.receivedAt).getTime()).to.be.below(finalClose);
    // The listing holds exactly each distributor's last accepted quote.
    const listing = await Listing.find({ roundId: new Types.ObjectId(round.id) }).lean<{ quoteId: Types.ObjectId }[]>();
    const active = await Quote.find({ roundId: new Types.ObjectId(round.id), status: 'active' }).lean<{ _id: Types.ObjectId }[]>();
    expect(listing.map((l) => String(l.quoteId)).sort()).to.deep.equal(active.map((q) => String(q._id)).sort());
    expect(listing).to.have.length(distributors.length);
    for (const r of accepted) {
      const later = accepted.some((x) => x.body.alias === r.body.alias && x.body.seq > r.body.seq);
      expect(listing.some((l) => String(l.quoteId) === r.body.quoteId)).to.equal(!later);
    }
  });
});
