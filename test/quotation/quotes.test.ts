import { expect } from 'chai';
import { Types } from 'mongoose';
import { Quote, QuoteEvent, Round } from '../../server/modules/quotation';
import { buildTradingDistributor } from '../support/credit-factories';
import { buildUser, connectSocket, emitAck, type TestUser } from '../support/factories';
import { testApp, testClock } from '../support/global';
import { buildOpenRound, catalogueOperator, quote, tradingDistributors, type BuiltRound } from '../support/quotation-factories';

async function quotesOf(roundId: string, orgId?: string) {
  return Quote.find({ roundId: new Types.ObjectId(roundId), ...(orgId ? { distributorOrgId: new Types.ObjectId(orgId) } : {}) }).lean<{ priceFen: number; status: string; seq: number }[]>();
}

async function roundSeq(roundId: string): Promise<number> {
  return (await Round.findById(roundId).lean<{ seq: number }>())!.seq;
}

/** Posts a quote expected to be refused and checks nothing was stored. */
async function expectRefused(user: TestUser, round: BuiltRound, lineId: string, priceFen: number, status: number, code: string): Promise<void> {
  const before = { quotes: (await quotesOf(round.id)).length, seq: await roundSeq(round.id) };
  const res = await user.api().post(`/api/v1/rounds/${round.id}/quotes`, { lineId, priceFen });
  expect(res.status, JSON.stringify(res.body)).to.equal(status);
  expect(res.body.error.code).to.equal(code);
  expect(res.body.error.message).to.be.a('string').that.is.not.empty;
  expect((await quotesOf(round.id)).length).to.equal(before.quotes);
  expect(await roundSeq(round.id)).to.equal(before.seq);
}

describe('quotes', () => {
  it('accepts a quote at or below the reference with server time and sequence, and ranks ties by time', async () => {
    const round = await buildOpenRound({ referenceFen: 289_000 });
    const [a, b, c] = (await tradingDistributors(3)) as [TestUser, TestUser, TestUser];
    const lineId = round.lines[0]!.lineId;
    const before = testClock.now().getTime();
    const qa = await quote(a, round.id, lineId, 289_000);
    const qb = await quote(b, round.id, lineId, 195_000);
    const qc = await quote(c, round.id, lineId, 195_000);
    expect(qa.rank).to.equal(1);
    expect(qb.rank).to.equal(1);
    expect(qc.rank).to.equal(2);
    expect(qc.seq).to.be.greaterThan(qb.seq);
    expect(qb.seq).to.be.greaterThan(qa.seq);
    const stored = await Quote.findById(qb.quoteId).lean<{ receivedAt: Date; status: string; alias: string }>();
    expect(stored!.receivedAt.getTime()).to.be.within(before - 1000, testClock.now().getTime() + 1000);
    expect(stored!.alias).to.match(/^[A-Z]\d{3}$/);
    const board = await a.api().get(`/api/v1/rounds/${round.id}`);
    expect(board.body.lines[0].own).to.include({ priceFen: 289_000, rank: 3, status: 'active' });
    expect(board.body.lines[0]).to.not.have.property('bestPriceFen');
    expect(board.body.lines[0].nextMaxPriceFen).to.equal(289_000 - round.lines[0]!.minDecrementFen);
    expect(await QuoteEvent.countDocuments({ roundId: new Types.ObjectId(round.id), type: 'submitted' })).to.equal(3);
  });

  it('refuses a price above the reference, and a revision that does not undercut by the minimum decrement', async () => {
    const round = await buildOpenRound({ referenceFen: 289_000 });
    const d = await buildTradingDistributor();
    const { lineId, minDecrementFen } = round.lines[0]!;
    expect(minDecrementFen).to.equal(1445);
    await expectRefused(d, round, lineId, 289_001, 422, 'ABOVE_REFERENCE');
    await quote(d, round.id, lineId, 250_000);
    await expectRefused(d, round, lineId, 250_000, 422, 'NOT_BELOW_PREVIOUS');
    await expectRefused(d, round, lineId, 260_000, 422, 'NOT_BELOW_PREVIOUS');
    await expectRefused(d, round, lineId, 250_000 - minDecrementFen + 1, 422, 'INSUFFICIENT_DECREMENT');
    const revised = await quote(d, round.id, lineId, 250_000 - minDecrementFen);
    expect(revised.rank).to.equal(1);
    const mine = await quotesOf(round.id, d.org.id);
    expect(mine.map((q) => [q.priceFen, q.status])).to.have.deep.members([
      [250_000, 'superseded'],
      [250_000 - minDecrementFen, 'active'],
    ]);
    const refusals = await QuoteEvent.find({ roundId: new Types.ObjectId(round.id), type: 'refused' }).lean<{ code: string; priceFen: number; alias: string }[]>();
    expect(refusals.map((r) => r.code)).to.have.members(['ABOVE_REFERENCE', 'NOT_BELOW_PREVIOUS', 'NOT_BELOW_PREVIOUS', 'INSUFFICIENT_DECREMENT']);
    expect(refusals.find((r) => r.code === 'INSUFFICIENT_DECREMENT')!.alias).to.match(/^[A-Z]\d{3}$/);
  });

  it('refuses malformed quotes with 400 and unknown rounds or lines with 404, storing nothing', async () => {
    const round = await buildOpenRound();
    const d = await buildTradingDistributor();
    const { lineId } = round.lines[0]!;
    const bad: unknown[] = [{ lineId, priceFen: 1000.5 }, { lineId, priceFen: -1 }, { lineId, priceFen: '1000' }, { lineId }, { lineId: 'x', priceFen: 100 }, { lineId, priceFen: 100, extra: 1 }, { lineId: { $gt: '' }, priceFen: 100 }];
    for (const body of bad) {
      const res = await d.api().post(`/api/v1/rounds/${round.id}/quotes`, body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
    }
    expect((await d.api().post(`/api/v1/rounds/${round.id}/quotes`, { lineId: new Types.ObjectId().toString(), priceFen: 100 })).body.error.code).to.equal('LINE_NOT_FOUND');
    expect((await d.api().post(`/api/v1/rounds/${new Types.ObjectId()}/quotes`, { lineId, priceFen: 100 })).status).to.equal(404);
    expect((await quotesOf(round.id)).length).to.equal(0);
  });

  it('only lets trading distributors quote: other roles 403, an unsigned commitment 422, before the opening 422', async () => {
    const round = await buildOpenRound();
    const { lineId } = round.lines[0]!;
    const pharmacist = await buildUser('pharmacist');
    expect((await pharmacist.api().post(`/api/v1/rounds/${round.id}/quotes`, { lineId, priceFen: 100 })).status).to.equal(403);
    const op = await catalogueOperator();
    expect((await op.api().post(`/api/v1/rounds/${round.id}/quotes`, { lineId, priceFen: 100 })).status).to.equal(403);
    const unsigned = await buildUser('distributor');
    await expectRefused(unsigned, round, lineId, 100_000, 422, 'COMMITMENT_NOT_SIGNED');
    const later = await buildOpenRound({ opensInMs: 60_000, closesInMs: 120_000 });
    const d = await buildTradingDistributor();
    await expectRefused(d, later, later.lines[0]!.lineId, 100_000, 422, 'ROUND_NOT_OPEN');
  });

  it('refuses quotes after the close and on a cancelled round', async () => {
    const round = await buildOpenRound({ closesInMs: 800 });
    const d = await buildTradingDistributor();
    await new Promise((r) => setTimeout(r, 1000));
    await expectRefused(d, round, round.lines[0]!.lineId, 100_000, 422, 'ROUND_CLOSED');
    const other = await buildOpenRound();
    const op = await catalogueOperator();
    await op.api().post(`/api/v1/rounds/${other.id}/cancel`, { reason: '测试取消' });
    await expectRefused(d, other, other.lines[0]!.lineId, 100_000, 422, 'ROUND_CANCELLED');
  });

  it('replays an HTTP quote for the same Idempotency-Key and refuses the key with another price', async () => {
    const round = await buildOpenRound();
    const d = await buildTradingDistributor();
    const { lineId } = round.lines[0]!;
    const first = await d.api().post(`/api/v1/rounds/${round.id}/quotes`, { lineId, priceFen: 200_000 }).set('Idempotency-Key', `quote-${round.id}-1`);
    const again = await d.api().post(`/api/v1/rounds/${round.id}/quotes`, { lineId, priceFen: 200_000 }).set('Idempotency-Key', `quote-${round.id}-1`);
    expect(first.status).to.equal(201);
    expect(again.status).to.equal(201);
    expect(again.body.quoteId).to.equal(first.body.quoteId);
    const other = await d.api().post(`/api/v1/rounds/${round.id}/quotes`, { lineId, priceFen: 190_000 }).set('Idempotency-Key', `quote-${round.id}-1`);
    expect(other.status).to.equal(422);
    expect(other.body.error.code).to.equal('IDEMPOTENCY_KEY_REUSED');
    expect((await quotesOf(round.id)).length).to.equal(1);
  });

  it('treats a retried socket quote with the same clientKey as the same quote', async () => {
    const round = await buildOpenRound();
    const d = await buildTradingDistributor();
    const socket = await connectSocket(d.token);
    try {
      const { lineId } = round.lines[0]!;
      const payload = { roundId: round.id, lineId, priceFen: 180_000, clientKey: `ck-${round.id}` };
      const [one, two] = await Promise.all([emitAck<{ quoteId: string; replayed: boolean }>(socket, 'quote:submit', payload), emitAck<{ quoteId: string; replayed: boolean }>(socket, 'quote:submit', payload)]);
      expect(one.data?.quoteId).to.be.a('string');
      expect(two.data?.quoteId).to.equal(one.data?.quoteId);
      expect([one.data?.replayed, two.data?.replayed]).to.have.members([false, true]);
      const reused = await emitAck(socket, 'quote:submit', { ...payload, priceFen: 170_000 });
      expect(reused.error?.code).to.equal('CLIENT_KEY_REUSED');
      const malformed = await emitAck(socket, 'quote:submit', { roundId: round.id, lineId, priceFen: 170_000 });
      expect(malformed.error?.code).to.equal('VALIDATION_FAILED');
      expect((await quotesOf(round.id)).length).to.equal(1);
    } finally {
      socket.close();
    }
  });

  it('withdraws a quote before the close; a new quote must still undercut the withdrawn price', async () => {
    const round = await buildOpenRound();
    const d = await buildTradingDistributor();
    const { lineId, minDecrementFen } = round.lines[0]!;
    await quote(d, round.id, lineId, 200_000);
    const res = await d.api().post(`/api/v1/rounds/${round.id}/lines/${lineId}/withdraw`);
    expect(res.status).to.equal(200);
    expect(res.body.status).to.equal('withdrawn');
    const again = await d.api().post(`/api/v1/rounds/${round.id}/lines/${lineId}/withdraw`);
    expect(again.status).to.equal(404);
    expect(again.body.error.code).to.equal('NO_ACTIVE_QUOTE');
    const board = await d.api().get(`/api/v1/rounds/${round.id}`);
    expect(board.body.lines[0].own).to.include({ status: 'withdrawn', rank: null });
    await expectRefused(d, round, lineId, 200_000, 422, 'NOT_BELOW_PREVIOUS');
    await quote(d, round.id, lineId, 200_000 - minDecrementFen);
    expect(await QuoteEvent.countDocuments({ roundId: new Types.ObjectId(round.id), type: 'withdrawn' })).to.equal(1);
  });

  it('limits each distributor to the configured number of quote attempts a minute (429)', async () => {
    const round = await buildOpenRound({ referenceFen: 1_000_000 });
    const d = await buildTradingDistributor();
    const socket = await connectSocket(d.token);
    try {
      const { lineId } = round.lines[0]!;
      const limit = testApp().platform.config.quoteRateLimit;
      const replies = [];
      for (let i = 0; i <= limit; i += 1) replies.push(emitAck(socket, 'quote:submit', { roundId: round.id, lineId, priceFen: 2_000_000, clientKey: `rl-${round.id}-${i}` }, 15_000));
      const all = await Promise.all(replies);
      expect(all.filter((r) => r.error?.code === 'ABOVE_REFERENCE')).to.have.length(limit);
      expect(all.filter((r) => r.error?.code === 'RATE_LIMITED')).to.have.length(1);
      const http = await d.api().post(`/api/v1/rounds/${round.id}/quotes`, { lineId, priceFen: 900_000 });
      expect(http.status).to.equal(429);
      expect(http.headers['retry-after']).to.match(/^\d+$/);
      expect((await quotesOf(round.id)).length).to.equal(0);
    } finally {
      socket.close();
    }
  });
});
