import { expect } from 'chai';
import mongoose from 'mongoose';
import type { Socket } from 'socket.io-client';
import type { RoundLinesPayload } from '../../server/platform/realtime.events';
import { buildUser, connectSocket, emitAck, nextEvent, type TestUser } from '../support/factories';
import { buildOpenRound, catalogueOperator, quote, tradingDistributors } from '../support/quotation-factories';

interface Seen {
  event: string;
  payload: unknown;
}

/** A socket that records every event it receives. */
async function watcher(user: TestUser): Promise<{ socket: Socket; seen: Seen[] }> {
  const socket = await connectSocket(user.token);
  const seen: Seen[] = [];
  socket.onAny((event: string, payload: unknown) => seen.push({ event, payload }));
  return { socket, seen };
}

async function watch<T = { lines: Record<string, unknown>[]; round: Record<string, unknown>; seq: number; viewer: { alias: string | null } }>(socket: Socket, roundId: string) {
  const ack = await emitAck<T>(socket, 'round:watch', { roundId });
  if (ack.error) throw new Error(`watch refused: ${JSON.stringify(ack.error)}`);
  return ack.data!;
}

type Lines = RoundLinesPayload;

const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));

/** Fails when any payload a distributor received names another distributor (org id, name, user, e-mail). */
function assertNoForeignIdentity(seen: Seen[], others: TestUser[]): void {
  const text = JSON.stringify(seen);
  for (const o of others) {
    for (const secret of [o.org.id, o.org.name, o.id, o.email]) expect(text, `leaked ${secret}`).to.not.include(secret);
  }
}

describe('live board', () => {
  it('rank mode: the operator sees every quote by alias, each distributor only its own quote and rank', async () => {
    const round = await buildOpenRound({ lines: 2, referenceFen: 289_000 });
    const [a, b, c] = (await tradingDistributors(3)) as [TestUser, TestUser, TestUser];
    const op = await catalogueOperator();
    const [wo, wa, wb, wc] = await Promise.all([watcher(op), watcher(a), watcher(b), watcher(c)]);
    try {
      for (const w of [wo, wa, wb, wc]) await watch(w.socket, round.id);
      const [line1, line2] = round.lines as [(typeof round.lines)[0], (typeof round.lines)[0]];
      const opLine = nextEvent<Lines>(wo.socket, 'round:lines');
      const aOwn = nextEvent<Lines>(wa.socket, 'round:lines');
      await quote(a, round.id, line1.lineId, 250_000);
      const aFirst = await aOwn;
      expect(aFirst.lines).to.have.length(1);
      expect(aFirst.lines[0]!.own).to.include({ priceFen: 250_000, rank: 1 });
      expect(aFirst.lines[0]).to.not.have.property('quotes');
      expect(aFirst.lines[0]).to.not.have.property('bestPriceFen');
      const first = (await opLine).lines[0]!;
      // NOTE: the operator is pushed the quote as a delta (with the line's count and best), not the whole ranking.
      expect(first).to.include({ lineId: line1.lineId, quoteCount: 1, bestPriceFen: 250_000 });
      expect(first.quotes).to.have.length(1);
      expect(first.quotes![0]).to.include({ priceFen: 250_000, rank: 1, status: 'active' });
      expect(first.quotes![0]!.alias).to.match(/^[A-Z]\d{3}$/);
      const aDemoted = nextEvent<Lines>(wa.socket, 'round:lines');
      const second = nextEvent<Lines>(wo.socket, 'round:lines');
      await quote(b, round.id, line1.lineId, 240_000);
      expect((await aDemoted).lines).to.deep.equal([{ lineId: line1.lineId, rank: 2 }]);
      expect((await second).lines[0]).to.deep.include({ quoteCount: 2, bestPriceFen: 240_000 });
      await quote(c, round.id, line2.lineId, 280_000);
      await settle();
      const bState = await watch(wb.socket, round.id);
      expect(bState.lines[0]!.own).to.include({ priceFen: 240_000, rank: 1 });
      expect(bState.lines[0]).to.not.have.property('bestPriceFen');
      expect(bState.lines[0]).to.not.have.property('quotes');
      expect(bState.lines[1]!.own).to.equal(null);
      const opState = await watch(wo.socket, round.id);
      expect((opState.lines[0]!.quotes as { priceFen: number }[]).map((q) => q.priceFen)).to.deep.equal([240_000, 250_000]);
      expect(JSON.stringify(opState)).to.not.include(a.org.name);
      // c quoted only on line 2, so it heard nothing about line 1; nobody's identity reached any distributor.
      expect(wc.seen.filter((s) => JSON.stringify(s.payload).includes(line1.lineId))).to.deep.equal([]);
      assertNoForeignIdentity(wa.seen, [b, c]);
      assertNoForeignIdentity(wb.seen, [a, c]);
      assertNoForeignIdentity(wc.seen, [a, b]);
      expect(wa.seen.some((s) => JSON.stringify(s.payload).includes('240000'))).to.equal(false);
    } finally {
      for (const w of [wo, wa, wb, wc]) w.socket.close();
    }
  });

  it('best mode: every distributor hears the anonymous best price', async () => {
    const round = await buildOpenRound({ visibility: 'best' });
    const [a, b] = (await tradingDistributors(2)) as [TestUser, TestUser];
    const [wa, wb] = await Promise.all([watcher(a), watcher(b)]);
    try {
      await watch(wa.socket, round.id);
      await watch(wb.socket, round.id);
      const best = nextEvent<Lines>(wb.socket, 'round:lines');
      const result = await quote(a, round.id, round.lines[0]!.lineId, 200_000);
      expect(result).to.include({ rank: 1 });
      expect((await best).lines).to.deep.equal([{ lineId: round.lines[0]!.lineId, bestPriceFen: 200_000, quoteCount: 1 }]);
      const state = await watch(wb.socket, round.id);
      expect(state.lines[0]).to.include({ bestPriceFen: 200_000, quoteCount: 1, own: null });
      await settle(100);
      assertNoForeignIdentity(wb.seen, [a]);
    } finally {
      wa.socket.close();
      wb.socket.close();
    }
  });

  it('sealed mode: no distributor receives any price but its own before the close; the operator sees all', async () => {
    const round = await buildOpenRound({ visibility: 'sealed' });
    const [a, b] = (await tradingDistributors(2)) as [TestUser, TestUser];
    const op = await catalogueOperator();
    const [wo, wa, wb] = await Promise.all([watcher(op), watcher(a), watcher(b)]);
    try {
      for (const w of [wo, wa, wb]) await watch(w.socket, round.id);
      const { lineId } = round.lines[0]!;
      const opLine = nextEvent<Lines>(wo.socket, 'round:lines');
      const ack = await emitAck<{ rank: number | null; priceFen: number }>(wa.socket, 'quote:submit', { roundId: round.id, lineId, priceFen: 211_111, clientKey: `sealed-${round.id}-a` });
      expect(ack.data).to.include({ rank: null, priceFen: 211_111 });
      expect((await opLine).lines[0]!.quotes![0]!.priceFen).to.equal(211_111);
      await quote(b, round.id, lineId, 222_222);
      await settle();
      const stateB = await watch(wb.socket, round.id);
      expect(stateB.lines[0]!.own).to.include({ priceFen: 222_222, rank: null });
      expect(stateB.lines[0]).to.not.have.property('bestPriceFen');
      expect(stateB.lines[0]).to.not.have.property('results');
      expect(JSON.stringify(wb.seen)).to.not.include('211111');
      expect(JSON.stringify(wa.seen)).to.not.include('222222');
      const bLines = wb.seen.filter((s) => s.event === 'round:lines').flatMap((s) => (s.payload as Lines).lines);
      expect(bLines.map((l) => Object.keys(l).sort())).to.deep.equal([['lineId', 'nextMaxPriceFen', 'own']]);
      expect(bLines[0]!.own).to.include({ priceFen: 222_222, rank: null });
      assertNoForeignIdentity(wa.seen, [b]);
      assertNoForeignIdentity(wb.seen, [a]);
    } finally {
      for (const w of [wo, wa, wb]) w.socket.close();
    }
  });

  it('a reconnecting watcher gets the current state at once', async () => {
    const round = await buildOpenRound();
    const [a, b] = (await tradingDistributors(2)) as [TestUser, TestUser];
    const { lineId } = round.lines[0]!;
    const first = await watcher(a);
    await watch(first.socket, round.id);
    await quote(a, round.id, lineId, 200_000);
    first.socket.close();
    await quote(b, round.id, lineId, 150_000);
    const again = await watcher(a);
    try {
      const state = await watch(again.socket, round.id);
      expect(state.lines[0]!.own).to.include({ priceFen: 200_000, rank: 2 });
      expect(state.round).to.include({ status: 'open', id: round.id });
      expect(state.seq).to.be.at.least(2);
      expect(state.viewer.alias).to.match(/^[A-Z]\d{3}$/);
    } finally {
      again.socket.close();
    }
  });

  it('viewers joining at one sequence share one read of the round’s quotes; a quote moves the sequence and the next viewer sees it', async () => {
    const round = await buildOpenRound({ lines: 2 });
    const [a, b] = (await tradingDistributors(2)) as [TestUser, TestUser];
    const op = await catalogueOperator();
    const [line1] = round.lines as [(typeof round.lines)[0]];
    await quote(a, round.id, line1.lineId, 200_000);
    // The reads of the round's whole ranking (all active quotes, no line), counted at the driver.
    let reads = 0;
    mongoose.set('debug', (collection: string, method: string, filter: Record<string, unknown> | undefined) => {
      if (collection === 'quotation_quotes' && method === 'find' && String(filter?.roundId) === round.id && filter?.status === 'active' && filter.lineId === undefined) reads += 1;
    });
    const viewers = await Promise.all([op, op, op, a, a, b].map((u) => watcher(u)));
    try {
      const boards = await Promise.all(viewers.map((v) => watch<{ seq: number; lines: { quotes?: { priceFen: number; rank: number }[]; own?: { rank: number } | null }[] }>(v.socket, round.id)));
      expect(reads, 'six joins at one sequence').to.equal(1);
      expect(new Set(boards.map((x) => x.seq)).size).to.equal(1);
      expect(boards[0]!.lines[0]!.quotes!.map((q) => [q.priceFen, q.rank])).to.deep.equal([[200_000, 1]]);
      expect(boards[3]!.lines[0]!.own).to.include({ rank: 1 });

      await quote(b, round.id, line1.lineId, 150_000);
      const late = await watcher(op);
      viewers.push(late);
      const after = await watch<{ seq: number; lines: { quotes?: { priceFen: number; rank: number }[] }[] }>(late.socket, round.id);
      expect(after.seq).to.be.greaterThan(boards[0]!.seq);
      expect(after.lines[0]!.quotes!.map((q) => [q.priceFen, q.rank])).to.deep.equal([
        [150_000, 1],
        [200_000, 2],
      ]);
      expect(reads, 'a new sequence is read afresh').to.equal(2);
      const again = await watch<{ seq: number }>(viewers[3]!.socket, round.id);
      expect(again.seq).to.equal(after.seq);
      expect(reads, 'and then shared again').to.equal(2);
    } finally {
      mongoose.set('debug', false);
      for (const v of viewers) v.socket.close();
    }
  });

  it('refuses to show a round to those who may not see it', async () => {
    const draft = await buildOpenRound({ draft: true });
    const open = await buildOpenRound();
    const [d, bank, pharmacist] = await Promise.all([buildUser('distributor'), buildUser('bank_officer'), buildUser('pharmacist')]);
    const sd = await connectSocket(d.token);
    const sb = await connectSocket(bank.token);
    const sp = await connectSocket(pharmacist.token);
    try {
      expect((await emitAck(sd, 'round:watch', { roundId: draft.id })).error?.code).to.equal('ROUND_NOT_FOUND');
      expect((await emitAck(sb, 'round:watch', { roundId: open.id })).error?.code).to.equal('ROUND_NOT_FOUND');
      expect((await emitAck(sd, 'round:watch', { roundId: { $ne: null } })).error?.code).to.equal('VALIDATION_FAILED');
      const hospital = await emitAck<{ lines: Record<string, unknown>[]; round: { status: string } }>(sp, 'round:watch', { roundId: open.id });
      expect(hospital.data!.round.status).to.equal('open');
      expect(hospital.data!.lines[0]).to.not.have.property('quotes');
      expect(hospital.data!.lines[0]!.listing).to.deep.equal([]);
    } finally {
      sd.close();
      sb.close();
      sp.close();
    }
  });
});
