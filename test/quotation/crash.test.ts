// Live bidding across a kill -9, with real processes (two web processes and a worker against one
// engine and the local Redis): watchers whose web process died reconnect to the other and are
// replayed, from the database, every quote they missed (by the last sequence they saw); and no quote
// that was acknowledged over a socket is lost when the process that took it is killed mid-burst.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Types } from 'mongoose';
import type { Socket } from 'socket.io-client';
import { useCluster } from '../support/cluster';
import { createDrug, openClusterRound, waitFor, type AppProcess, type ClusterUser } from '../support/processes';

const uniq = () => randomBytes(4).toString('hex');

interface Missed {
  lineId: string;
  seq: number;
  type: string;
  alias: string | null;
  priceFen: number | null;
}

describe('live bidding across a kill -9 of a web process', function () {
  this.timeout(90_000);

  const live = useCluster({ web: 2, webSlots: 3, workers: 1, name: 'bidcrash', env: { QUOTE_RATE_LIMIT: '100000' } });

  async function distributors(n: number): Promise<ClusterUser[]> {
    const list: ClusterUser[] = [];
    for (let i = 0; i < n; i += 1) list.push(await live.tradingDistributor());
    return list;
  }

  async function watch(socket: Socket, roundId: string, sinceSeq?: number) {
    const reply = await socket.timeout(15_000).emitWithAck('round:watch', { roundId, ...(sinceSeq !== undefined ? { sinceSeq } : {}) });
    expect(reply.error, JSON.stringify(reply.error)).to.equal(undefined);
    return reply.data as { seq: number; missed?: Missed[]; missedTruncated?: boolean };
  }

  async function quote(socket: Socket, roundId: string, lineId: string, priceFen: number) {
    const reply = await socket.timeout(15_000).emitWithAck('quote:submit', { roundId, lineId, priceFen, clientKey: `ck-${uniq()}` });
    expect(reply.error, JSON.stringify(reply.error)).to.equal(undefined);
    return reply.data as { seq: number; alias: string };
  }

  it('replays to every watcher of the killed process, on another process, each quote it missed and only what it may see', async () => {
    const [web1, web2] = live.cluster.webs as [AppProcess, AppProcess];
    const [a, b] = (await distributors(2)) as [ClusterUser, ClusterUser];
    const drugs = [await createDrug(live.operator, { referencePriceFen: 300_000 }), await createDrug(live.operator, { referencePriceFen: 300_000 })];
    const round = await openClusterRound(live.operator, { drugIds: drugs.map((d) => d.id), closesInMs: 600_000 });
    const [line1, line2] = round.lines.map((l) => l.lineId) as [string, string];

    // the quoting distributors on web 1; the watchers (operators and distributor a) on web 2
    const [qa, qb] = [await live.connect(web1, a), await live.connect(web1, b)];
    const watchers = await Promise.all(Array.from({ length: 6 }, () => live.connect(web2, live.operator)));
    const aWatcher = await live.connect(web2, a);
    const lastSeen = new Map<Socket, number>();
    for (const w of [...watchers, aWatcher]) {
      lastSeen.set(w, (await watch(w, round.id)).seq);
      w.on('round:lines', (p: { seq: number }) => lastSeen.set(w, Math.max(lastSeen.get(w)!, p.seq)));
    }
    const before = await quote(qa, round.id, line1, 290_000);
    await waitFor(() => watchers.every((w) => lastSeen.get(w) === before.seq), 15_000, 'every operator watcher to see the first quote');

    // kill -9 of the process holding the watchers; quoting goes on through web 1 meanwhile
    const gone = Promise.all([...watchers, aWatcher].map((w) => new Promise((resolve) => w.once('disconnect', resolve))));
    await web2.kill('SIGKILL');
    await gone;
    const expected: [string, number, string][] = [];
    let price = { a: 290_000, b: 300_000 };
    for (let i = 0; i < 12; i += 1) {
      const who = i % 2 === 0 ? 'b' : 'a';
      const line = i % 3 === 2 ? line2 : line1;
      price = { ...price, [who]: price[who] - 5_000 };
      const done = await quote(who === 'a' ? qa : qb, round.id, line, price[who]);
      expected.push([line, done.seq, who]);
    }

    // they reconnect to the surviving process and say the last sequence they saw
    for (const w of watchers) {
      const again = await watch(await live.connect(web1, live.operator), round.id, lastSeen.get(w)!);
      expect(again.missedTruncated).to.equal(false);
      expect(again.missed!.map((m) => [m.lineId, m.seq]), 'every missed quote, in order').to.deep.equal(expected.map(([line, seq]) => [line, seq]));
      expect(again.missed!.every((m) => /^[A-Z]\d{3}$/.test(m.alias!))).to.equal(true);
      expect(again.seq).to.equal(expected.at(-1)![1]);
    }
    const aAgain = await watch(await live.connect(web1, a), round.id, lastSeen.get(aWatcher)!);
    expect(aAgain.missed!.map((m) => m.seq), 'a distributor is replayed its own quotes only').to.deep.equal(expected.filter(([, , who]) => who === 'a').map(([, seq]) => seq));
  });

  it('keeps every quote acknowledged over a socket when the process that took it is killed mid-burst', async () => {
    const web = await live.cluster.startWeb();
    const quoters = await distributors(6);
    const drug = await createDrug(live.operator, { referencePriceFen: 900_000 });
    const round = await openClusterRound(live.operator, { drugIds: [drug.id], closesInMs: 600_000, minDecrementBp: 1 });
    const lineId = round.lines[0]!.lineId;
    const acked: { seq: number; priceFen: number; clientKey: string }[] = [];
    const errors: string[] = [];
    const connected = await Promise.all(quoters.map((d) => live.connect(web, d)));
    let stop = false;
    const loops = connected.map(async (s, i) => {
      for (let n = 0; !stop; n += 1) {
        const priceFen = 900_000 - i - n * 100;
        const clientKey = `burst-${i}-${n}-${uniq()}`;
        try {
          const reply = await s.timeout(5_000).emitWithAck('quote:submit', { roundId: round.id, lineId, priceFen, clientKey });
          if (reply.data) acked.push({ seq: reply.data.seq, priceFen, clientKey });
          else errors.push(reply.error?.code);
        } catch {
          return;
        }
      }
    });
    await waitFor(() => acked.length >= 60, 30_000, 'a burst of acknowledged quotes');
    await web.kill('SIGKILL');
    stop = true;
    await Promise.all(loops);

    expect(errors, 'no quote was refused before the kill').to.deep.equal([]);
    const stored = await live.db.db!.collection('quotation_quotes').find({ roundId: new Types.ObjectId(round.id) }).toArray();
    const byKey = new Map(stored.map((q) => [q.clientKey as string, q]));
    for (const a of acked) {
      const q = byKey.get(a.clientKey);
      expect(q, `acknowledged quote ${a.clientKey} is stored`).to.not.equal(undefined);
      expect([q!.seq, q!.priceFen]).to.deep.equal([a.seq, a.priceFen]);
    }
    expect(new Set(stored.map((q) => q.seq)).size, 'sequence numbers unique').to.equal(stored.length);
    const trail = await live.db.db!.collection('quotation_events').countDocuments({ roundId: new Types.ObjectId(round.id), type: { $in: ['submitted', 'revised'] } });
    expect(trail, 'one trail entry per stored quote').to.equal(stored.length);
  });
});
