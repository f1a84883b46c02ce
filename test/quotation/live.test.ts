// The live-bidding path: quotes decided against the round's book held in memory, persisted a batch at
// a time, pushed as deltas, replayed by sequence to a client that reconnects, and gated by a cached
// credit answer that a sanction drops at once.
import { expect } from 'chai';
import { Types } from 'mongoose';
import { Quote, Round } from '../../server/modules/quotation';
import { recordManualBreach } from '../support/credit-factories';
import { buildUser, connectSocket, emitAck, type TestUser } from '../support/factories';
import { testClock } from '../support/global';
import { buildOpenRound, catalogueOperator, quote, tradingDistributors } from '../support/quotation-factories';

interface Missed {
  lineId: string;
  seq: number;
  type: string;
  alias: string | null;
  priceFen: number | null;
  at: string;
}

async function watchSince(user: TestUser, roundId: string, sinceSeq?: number) {
  const socket = await connectSocket(user.token);
  try {
    const ack = await emitAck<{ seq: number; missed?: Missed[]; missedTruncated?: boolean; lines: Record<string, unknown>[] }>(socket, 'round:watch', { roundId, ...(sinceSeq !== undefined ? { sinceSeq } : {}) });
    if (ack.error) throw new Error(`watch refused: ${JSON.stringify(ack.error)}`);
    return ack.data!;
  } finally {
    socket.close();
  }
}

describe('live bidding: book, deltas, replay and the cached gate', () => {
  it('replays to a reconnecting watcher the changes after the sequence it last saw, as each viewer may see them', async () => {
    const round = await buildOpenRound({ lines: 2, referenceFen: 300_000 });
    const [a, b] = (await tradingDistributors(2)) as [TestUser, TestUser];
    const op = await catalogueOperator();
    const pharmacist = await buildUser('pharmacist');
    const [line1, line2] = round.lines as [(typeof round.lines)[0], (typeof round.lines)[0]];

    const first = await quote(a, round.id, line1.lineId, 290_000);
    const seen = first.seq;
    // the watchers are away while three more changes happen
    await quote(b, round.id, line1.lineId, 280_000);
    await quote(a, round.id, line1.lineId, 270_000);
    await quote(b, round.id, line2.lineId, 260_000);

    const opView = await watchSince(op, round.id, seen);
    expect(opView.missed!.map((m) => [m.lineId, m.type, m.priceFen])).to.deep.equal([
      [line1.lineId, 'submitted', 280_000],
      [line1.lineId, 'revised', 270_000],
      [line2.lineId, 'submitted', 260_000],
    ]);
    expect(opView.missed!.map((m) => m.seq)).to.deep.equal([seen + 1, seen + 2, seen + 3]);
    expect(opView.missed!.every((m) => /^[A-Z]\d{3}$/.test(m.alias!))).to.equal(true);
    expect(JSON.stringify(opView.missed)).to.not.include(a.org.id).and.to.not.include(b.org.name);
    expect(opView.missedTruncated).to.equal(false);

    const aView = await watchSince(a, round.id, seen);
    expect(aView.missed!.map((m) => [m.type, m.priceFen])).to.deep.equal([['revised', 270_000]]);
    expect(JSON.stringify(aView.missed)).to.not.include('280000').and.to.not.include('260000');

    expect((await watchSince(pharmacist, round.id, seen)).missed).to.deep.equal([]);
    expect((await watchSince(op, round.id, opView.seq)).missed, 'nothing after the latest sequence').to.deep.equal([]);
    expect(await watchSince(op, round.id), 'no sinceSeq: the board alone').to.not.have.property('missed');
    const bad = await (async () => {
      const socket = await connectSocket(op.token);
      try {
        return await emitAck(socket, 'round:watch', { roundId: round.id, sinceSeq: -1 });
      } finally {
        socket.close();
      }
    })();
    expect(bad.error?.code).to.equal('VALIDATION_FAILED');
  });

  it('takes a burst of concurrent quotes in one order: unique consecutive sequence numbers, and the same ranking as the database', async () => {
    const round = await buildOpenRound({ lines: 1, referenceFen: 500_000, minDecrementBp: 1 });
    const lineId = round.lines[0]!.lineId;
    const distributors = await tradingDistributors(8);
    const replies = await Promise.all(
      distributors.flatMap((d, i) => [0, 1, 2].map((n) => d.api().post(`/api/v1/rounds/${round.id}/quotes`, { lineId, priceFen: 490_000 - i * 1_000 - n * 100 }))),
    );
    const accepted = replies.filter((r) => r.status === 201).map((r) => r.body as { seq: number; priceFen: number; quoteId: string });
    const refused = replies.filter((r) => r.status !== 201);
    // a distributor's later quote may arrive first; then its earlier, higher one is refused (no undercut)
    for (const r of refused) expect(r.body.error.code).to.be.oneOf(['NOT_BELOW_PREVIOUS', 'INSUFFICIENT_DECREMENT']);
    expect(accepted.length).to.be.at.least(distributors.length);
    const seqs = accepted.map((q) => q.seq).sort((x, y) => x - y);
    expect(new Set(seqs).size).to.equal(seqs.length);
    const stored = await Round.findById(round.id).lean<{ seq: number }>();
    expect(seqs[seqs.length - 1]).to.equal(stored!.seq);
    expect(seqs[seqs.length - 1]! - seqs[0]! + 1).to.equal(seqs.length);

    const active = await Quote.find({ roundId: new Types.ObjectId(round.id), lineId: new Types.ObjectId(lineId), status: 'active' }).sort({ priceFen: 1, receivedAt: 1, seq: 1 }).lean<{ priceFen: number }[]>();
    expect(active).to.have.length(distributors.length);
    const op = await catalogueOperator();
    const board = await watchSince(op, round.id);
    const quotes = (board.lines[0] as { quotes: { priceFen: number; rank: number }[] }).quotes;
    expect(quotes.map((q) => q.priceFen)).to.deep.equal(active.map((q) => q.priceFen));
    expect(quotes.map((q) => q.rank)).to.deep.equal(active.map((_, i) => i + 1));
  });

  it('refuses the next quote at once when a sanction suspends a distributor whose pass was remembered', async () => {
    const round = await buildOpenRound({ lines: 1, referenceFen: 300_000 });
    const lineId = round.lines[0]!.lineId;
    const [d] = (await tradingDistributors(1)) as [TestUser];
    await quote(d, round.id, lineId, 290_000);
    await quote(d, round.id, lineId, 280_000);
    await recordManualBreach(d.org.id, { points: 45 });
    const refused = await d.api().post(`/api/v1/rounds/${round.id}/quotes`, { lineId, priceFen: 270_000 });
    expect(refused.status).to.equal(422);
    expect(refused.body.error.code).to.equal('DISTRIBUTOR_SUSPENDED');
  });

  it('notices a book made stale behind its back (a quote written by another process) and decides on the stored state', async () => {
    const round = await buildOpenRound({ lines: 1, referenceFen: 300_000 });
    const lineId = round.lines[0]!.lineId;
    const [a, b] = (await tradingDistributors(2)) as [TestUser, TestUser];
    const first = await quote(a, round.id, lineId, 290_000);
    // Another process accepted b's quote: written to the database, not through this process's book.
    const stored = await Round.findById(round.id).lean<{ seq: number }>();
    const seq = stored!.seq + 1;
    await Quote.create({ roundId: new Types.ObjectId(round.id), lineId: new Types.ObjectId(lineId), distributorOrgId: new Types.ObjectId(b.org.id), distributorName: b.org.name, alias: 'Z999', userId: new Types.ObjectId(b.id), priceFen: 250_000, receivedAt: testClock.now(), seq, status: 'active', channel: 'http' });
    await Round.updateOne({ _id: new Types.ObjectId(round.id) }, { $set: { seq } });
    const next = await quote(a, round.id, lineId, 280_000);
    expect(next.seq, 'the sequence continues after the other process').to.equal(seq + 1);
    expect(next.rank, 'ranked behind the quote this process never saw').to.equal(2);
    expect(first.seq).to.be.below(seq);
  });
});
