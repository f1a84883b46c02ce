import { expect } from 'chai';
import { Types } from 'mongoose';
import { commitPushes, movedRanks, movedRuns } from '../../server/modules/quotation/quotation.deltas';
import type { RoundRecord } from '../../server/modules/quotation/quotation.model';
import type { RoundLinesPayload } from '../../server/platform/realtime.events';
import { withRoundLock } from '../../server/modules/quotation/quotation.lock';
import { queuedQuotes } from '../../server/modules/quotation/quotation.quotes';
import { connectSocket, emitAck, type TestUser } from '../support/factories';
import { buildOpenRound, catalogueOperator, quote, tradingDistributors } from '../support/quotation-factories';
import { until } from '../support/wait';

const id = () => String(new Types.ObjectId());

function roundOf(visibility: RoundRecord['visibility'], lineIds: string[]): Pick<RoundRecord, '_id' | 'visibility' | 'lines'> {
  return { _id: new Types.ObjectId(), visibility, lines: lineIds.map((l, i) => ({ _id: new Types.ObjectId(l), no: i + 1, minDecrementFen: 100 })) as unknown as RoundRecord['lines'] };
}

type Change = Parameters<typeof commitPushes>[1]['changes'][number];

function change(kind: Change['kind'], lineId: string, orgId: string, alias: string, priceFen: number, seq: number, rank: number | null, quoteCount: number, bestPriceFen: number | null, bestChanged: boolean): Change {
  return {
    kind,
    lineId,
    seq,
    distributorOrgId: orgId,
    alias,
    own: { quoteId: id(), priceFen, receivedAt: new Date(Date.UTC(2028, 1, 28, 8, 0, seq)).toISOString(), status: kind === 'withdrawn' ? 'withdrawn' : 'active' },
    rank,
    quoteCount,
    bestPriceFen,
    bestChanged,
  };
}

describe('live board deltas (one push per room per commit)', () => {
  const [l1, l2] = [id(), id()];
  const [a, b, c] = [id(), id(), id()];
  // a quotes line 1; b undercuts a on line 1 then revises again; c quotes line 2; a was told rank 1 before.
  const commit = {
    seq: 14,
    changes: [
      change('submitted', l1, a, 'A001', 90_000, 11, 1, 1, 90_000, true),
      change('submitted', l1, b, 'B002', 80_000, 12, 1, 2, 80_000, true),
      change('submitted', l2, c, 'C003', 70_000, 13, 1, 1, 70_000, true),
      change('revised', l1, b, 'B002', 79_000, 14, 1, 2, 79_000, true),
    ],
    moved: movedRuns(l1, [{ distributorOrgId: a, rank: 2 }]),
  };

  it('rank mode: the operators get every change of every line in one push; each distributor one push with its own quote at its final rank, or its moved rank', () => {
    const pushes = commitPushes(roundOf('rank', [l1, l2]), commit);
    expect(pushes.operator.seq).to.equal(14);
    expect(pushes.operator.lines.map((l) => [l.lineId, l.quoteCount, l.bestPriceFen, l.quotes!.map((q) => [q.alias, q.priceFen, q.seq, q.rank])])).to.deep.equal([
      [l1, 2, 79_000, [['A001', 90_000, 11, 2], ['B002', 80_000, 12, 1], ['B002', 79_000, 14, 1]]],
      [l2, 1, 70_000, [['C003', 70_000, 13, 1]]],
    ]);
    expect(pushes.distributors).to.equal(null);
    expect([...pushes.orgs.keys()].sort()).to.deep.equal([a, b, c].sort());
    const ofA = pushes.orgs.get(a)!.lines;
    expect(ofA).to.have.length(1);
    expect(ofA[0]!.own).to.include({ priceFen: 90_000, rank: 2 });
    expect(ofA[0]).to.include({ nextMaxPriceFen: 89_900 });
    expect(ofA[0]).to.not.have.property('rank');
    const ofB = pushes.orgs.get(b)!.lines;
    expect(ofB.map((l) => l.own)).to.have.length(1);
    expect(ofB[0]!.own).to.include({ priceFen: 79_000, rank: 1 });
    for (const push of pushes.orgs.values()) {
      expect(push.seq).to.equal(14);
      for (const line of push.lines) expect(line).to.not.have.any.keys('quotes', 'bestPriceFen', 'quoteCount');
    }
  });

  it('rank mode: a distributor only moved by others hears its final rank alone', () => {
    const d = id();
    const pushes = commitPushes(roundOf('rank', [l1, l2]), { ...commit, moved: movedRuns(l1, [{ distributorOrgId: a, rank: 2 }, { distributorOrgId: d, rank: 3 }]) });
    expect(pushes.orgs.get(d)!.lines).to.deep.equal([{ lineId: l1, rank: 3 }]);
  });

  it('best mode: every distributor gets the changed lines’ final best price and count in one push; a revision that leaves the best alone adds nothing', () => {
    const pushes = commitPushes(roundOf('best', [l1, l2]), commit);
    expect(pushes.distributors!.lines).to.deep.equal([
      { lineId: l1, bestPriceFen: 79_000, quoteCount: 2 },
      { lineId: l2, bestPriceFen: 70_000, quoteCount: 1 },
    ]);
    const quiet = commitPushes(roundOf('best', [l1, l2]), { seq: 15, changes: [change('revised', l1, a, 'A001', 85_000, 15, 2, 2, 79_000, false)], moved: [] });
    expect(quiet.distributors).to.equal(null);
    expect(quiet.orgs.get(a)!.lines[0]!.own).to.include({ priceFen: 85_000, rank: 2 });
  });

  it('sealed mode: a distributor hears only its own quotes, without rank; nobody hears a move', () => {
    const pushes = commitPushes(roundOf('sealed', [l1, l2]), commit);
    expect(pushes.distributors).to.equal(null);
    expect(pushes.orgs.get(a)!.lines).to.have.length(1);
    expect(pushes.orgs.get(a)!.lines[0]!.own).to.include({ priceFen: 90_000, rank: null });
    for (const push of pushes.orgs.values()) for (const line of push.lines) expect(line).to.have.all.keys('lineId', 'own', 'nextMaxPriceFen');
    expect(pushes.operator.lines.flatMap((l) => l.quotes!).map((q) => q.priceFen)).to.deep.equal([90_000, 80_000, 79_000, 70_000]);
  });

  it('moved ranks travel as runs of consecutive ranks, one string of organisation ids per run, and read back exactly', () => {
    const orgs = Array.from({ length: 6 }, () => id());
    const moved = [2, 3, 4, 7, 9, 10].map((rank, i) => ({ distributorOrgId: orgs[i]!, rank }));
    const runs = movedRuns(l1, moved);
    expect(runs.map((r) => [r.fromRank, r.orgs.length / 24])).to.deep.equal([
      [2, 3],
      [7, 1],
      [9, 2],
    ]);
    expect(movedRanks(runs)).to.deep.equal(moved.map((m) => ({ lineId: l1, ...m })));
    expect(movedRuns(l1, [])).to.deep.equal([]);
  });

  it('a withdrawal reaches the operators as a withdrawn quote and its distributor as its withdrawn own quote', () => {
    const pushes = commitPushes(roundOf('rank', [l1]), {
      seq: 20,
      changes: [change('withdrawn', l1, b, 'B002', 79_000, 20, null, 1, 90_000, true)],
      moved: movedRuns(l1, [{ distributorOrgId: a, rank: 1 }]),
    });
    expect(pushes.operator.lines[0]!.quotes).to.have.length(1);
    expect(pushes.operator.lines[0]!.quotes![0]).to.include({ status: 'withdrawn', rank: null });
    expect(pushes.orgs.get(b)!.lines[0]!.own).to.include({ status: 'withdrawn', rank: null });
    expect(pushes.orgs.get(a)!.lines).to.deep.equal([{ lineId: l1, rank: 1 }]);
  });
});

describe('live board: a committed batch of quotes', () => {
  /** Operator board state rebuilt from pushes, the way the page applies them (client/pages/round-board.ts). */
  function applyOperator(board: Map<string, { alias: string; priceFen: number; receivedAt: string; seq: number }[]>, push: RoundLinesPayload) {
    for (const line of push.lines) {
      let quotes = board.get(line.lineId) ?? [];
      for (const { status, rank: _rank, ...q } of line.quotes ?? []) quotes = [...quotes.filter((x) => x.alias !== q.alias), ...(status === 'active' ? [q] : [])];
      board.set(line.lineId, quotes.sort((x, y) => x.priceFen - y.priceFen || Date.parse(x.receivedAt) - Date.parse(y.receivedAt) || x.seq - y.seq));
    }
  }

  it('reaches each room in one push carrying every changed line, and watchers applying the pushes end with the board a fresh load shows', async () => {
    const round = await buildOpenRound({ lines: 2, referenceFen: 300_000 });
    const [l1, l2] = round.lines.map((l) => l.lineId) as [string, string];
    const [a, b, c] = (await tradingDistributors(3)) as [TestUser, TestUser, TestUser];
    const op = await catalogueOperator();
    // before the batch: a leads line 1, b follows
    await quote(a, round.id, l1, 250_000);
    await quote(b, round.id, l1, 260_000);
    const [so, sa, sb, sc] = await Promise.all([op, a, b, c].map((u) => connectSocket(u.token)));
    const pushes = new Map<unknown, RoundLinesPayload[]>([so, sa, sb, sc].map((s) => [s, []]));
    try {
      const boards = new Map<unknown, { seq: number; lines: { lineId: string; quotes?: { alias: string; priceFen: number; receivedAt: string; seq: number }[]; own?: { priceFen: number; rank: number | null } | null }[] }>();
      for (const s of [so, sa, sb, sc]) {
        const ack = await emitAck<never>(s, 'round:watch', { roundId: round.id });
        boards.set(s, ack.data!);
        s.on('round:lines', (p: RoundLinesPayload) => pushes.get(s)!.push(p));
      }
      // hold the round so that the next quotes are decided and committed together, in one batch
      let release!: () => void;
      const held = withRoundLock(round.id, () => new Promise<void>((resolve) => (release = resolve)));
      const acks = Promise.all([
        emitAck<{ seq: number }>(sb, 'quote:submit', { roundId: round.id, lineId: l1, priceFen: 240_000, clientKey: `batch-${round.id}-b` }),
        emitAck<{ seq: number }>(sc, 'quote:submit', { roundId: round.id, lineId: l1, priceFen: 230_000, clientKey: `batch-${round.id}-c1` }),
        emitAck<{ seq: number }>(sc, 'quote:submit', { roundId: round.id, lineId: l2, priceFen: 200_000, clientKey: `batch-${round.id}-c2` }),
      ]);
      await until(() => queuedQuotes(round.id) === 3, 5000, 'three quotes queued behind the held round');
      release();
      await held;
      const replies = await acks;
      for (const r of replies) expect(r.error, JSON.stringify(r.error)).to.equal(undefined);
      const lastSeq = Math.max(...replies.map((r) => r.data!.seq));
      await until(() => [...pushes.values()].every((list) => list.length > 0), 5000, 'every watcher to get its push');
      await new Promise((r) => setTimeout(r, 200));

      // one push per room, carrying the whole commit
      for (const list of pushes.values()) expect(list.map((p) => p.seq)).to.deep.equal([lastSeq]);
      const opPush = pushes.get(so)![0]!;
      expect(opPush.lines.map((l) => l.lineId)).to.have.members([l1, l2]);
      expect(opPush.lines.find((l) => l.lineId === l1)).to.include({ quoteCount: 3, bestPriceFen: 230_000 });
      expect(opPush.lines.flatMap((l) => l.quotes!).map((q) => q.priceFen).sort()).to.deep.equal([200_000, 230_000, 240_000]);
      expect(pushes.get(sa)![0]!.lines).to.deep.equal([{ lineId: l1, rank: 3 }]);
      expect(pushes.get(sb)![0]!.lines).to.have.length(1);
      expect(pushes.get(sb)![0]!.lines[0]!.own).to.include({ priceFen: 240_000, rank: 2 });
      const ofC = pushes.get(sc)![0]!.lines;
      expect(ofC.map((l) => [l.lineId, l.own?.priceFen, l.own?.rank])).to.have.deep.members([
        [l1, 230_000, 1],
        [l2, 200_000, 1],
      ]);

      // the operator's board rebuilt from its first load and the pushes equals a fresh load
      const fresh = (await emitAck<{ lines: { lineId: string; quotes: { alias: string; priceFen: number; receivedAt: string; seq: number }[] }[] }>(so, 'round:watch', { roundId: round.id })).data!;
      const rebuilt = new Map(boards.get(so)!.lines.map((l) => [l.lineId, (l.quotes ?? []).map(({ alias, priceFen, receivedAt, seq }) => ({ alias, priceFen, receivedAt, seq }))]));
      for (const p of pushes.get(so)!) applyOperator(rebuilt, p);
      for (const line of fresh.lines) expect(rebuilt.get(line.lineId), `line ${line.lineId}`).to.deep.equal(line.quotes.map(({ alias, priceFen, receivedAt, seq }) => ({ alias, priceFen, receivedAt, seq })));
      // each distributor's own price and rank, from its first load and its push, equals a fresh load
      for (const s of [sa, sb, sc]) {
        const mine = new Map(boards.get(s)!.lines.map((l) => [l.lineId, { priceFen: l.own?.priceFen ?? null, rank: l.own?.rank ?? null }]));
        for (const p of pushes.get(s)!) {
          for (const line of p.lines) {
            if (line.own) mine.set(line.lineId, { priceFen: line.own.priceFen, rank: line.own.rank });
            if (line.rank !== undefined) mine.set(line.lineId, { ...mine.get(line.lineId)!, rank: line.rank });
          }
        }
        const now = (await emitAck<{ lines: { lineId: string; own: { priceFen: number; rank: number | null } | null }[] }>(s, 'round:watch', { roundId: round.id })).data!;
        for (const line of now.lines) expect(mine.get(line.lineId)).to.deep.equal({ priceFen: line.own?.priceFen ?? null, rank: line.own?.rank ?? null });
      }
    } finally {
      for (const s of [so, sa, sb, sc]) s.close();
    }
  });
});
