// One owner per live round, proven with real processes (three web processes and a worker against one
// engine and the local Redis): quotes of one round sent to every process are decided by the one that
// holds the round's lease (the others forward them: /healthz counts what each process forwarded and
// served), with no ROUND_BUSY; and after a SIGKILL of the owner mid-round a survivor takes the round
// over and every quote sent to a survivor is accepted, every acknowledged quote stored.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { Types } from 'mongoose';
import type { Socket } from 'socket.io-client';
import { useCluster } from '../support/cluster';
import { createDrug, openClusterRound, waitFor, type AppProcess, type ClusterUser } from '../support/processes';

const uniq = () => randomBytes(4).toString('hex');

interface Health {
  instance: string;
  forwarded: { sent: number; served: number };
}

interface Acked {
  seq: number;
  priceFen: number;
  clientKey?: string;
  quoteId: string;
}

describe('one process owns each live round', function () {
  this.timeout(120_000);

  // NOTE: a process killed in the middle of a commit leaves its transaction open, holding the round's
  // document, until the database aborts it (60 s on mongod and the engine by default): 10 s here.
  const live = useCluster({ web: 3, workers: 1, name: 'owner', env: { QUOTE_RATE_LIMIT: '100000', ROUND_LEASE_MS: '2000' }, engineTransactionLifetimeMs: 10_000 });
  let redis: Redis;

  before(() => {
    redis = new Redis(live.cluster.redisUrl, { maxRetriesPerRequest: 2 });
    redis.on('error', () => undefined);
  });
  after(() => redis?.disconnect());

  async function health(web: AppProcess): Promise<Health> {
    const res = await fetch(`${web.url}/healthz`);
    expect(res.status).to.equal(200);
    return (await res.json()) as Health;
  }

  /** The web process whose instance holds the round's lease now. */
  async function ownerOf(roundId: string): Promise<AppProcess | undefined> {
    const instance = await redis.get(`${live.cluster.queuePrefix}:lease:round-owner:${roundId}`);
    if (!instance) return undefined;
    for (const w of live.cluster.webs.filter((x) => x.alive())) if ((await health(w)).instance === instance) return w;
    return undefined;
  }

  async function distributors(n: number): Promise<ClusterUser[]> {
    const list: ClusterUser[] = [];
    for (let i = 0; i < n; i += 1) list.push(await live.tradingDistributor());
    return list;
  }

  async function openRound() {
    const drug = await createDrug(live.operator, { referencePriceFen: 900_000 });
    const round = await openClusterRound(live.operator, { drugIds: [drug.id], closesInMs: 600_000, minDecrementBp: 1 });
    return { id: round.id, lineId: round.lines[0]!.lineId };
  }

  async function socketQuote(s: Socket, roundId: string, lineId: string, priceFen: number, clientKey?: string) {
    return s.timeout(30_000).emitWithAck('quote:submit', { roundId, lineId, priceFen, ...(clientKey ? { clientKey } : {}) });
  }

  async function stored(roundId: string) {
    return live.db.db!.collection('quotation_quotes').find({ roundId: new Types.ObjectId(roundId) }).toArray();
  }

  it('decides every quote of a round in the process that holds its lease, whichever process the quote reached, with no ROUND_BUSY', async () => {
    const webs = live.cluster.webs.slice(0, 3);
    const quoters = await distributors(6);
    const round = await openRound();
    const before = await Promise.all(webs.map(health));
    const sockets = await Promise.all(quoters.map((d, i) => live.connect(webs[i % 3]!, d)));

    // six distributors, two on each process, quote at once: half over sockets (with a clientKey),
    // half over HTTP without one
    const sentTo = new Map<AppProcess, number>(webs.map((w) => [w, 0]));
    const acked: Acked[] = [];
    const errors: unknown[] = [];
    await Promise.all(
      sockets.map(async (s, i) => {
        const web = webs[i % 3]!;
        for (let n = 0; n < 8; n += 1) {
          const priceFen = 900_000 - i - n * 100;
          sentTo.set(web, sentTo.get(web)! + 1);
          if (i % 2 === 0) {
            const clientKey = `own-${i}-${n}-${uniq()}`;
            const reply = await socketQuote(s, round.id, round.lineId, priceFen, clientKey);
            if (reply.data) acked.push({ seq: reply.data.seq, priceFen, clientKey, quoteId: reply.data.quoteId });
            else errors.push(reply.error);
          } else {
            const res = await quoters[i]!.api(web).post(`/api/v1/rounds/${round.id}/quotes`, { lineId: round.lineId, priceFen });
            if (res.status === 201) acked.push({ seq: res.body.seq, priceFen, quoteId: res.body.quoteId });
            else errors.push(res.body);
          }
        }
      }),
    );
    expect(errors, 'every quote accepted (no ROUND_BUSY)').to.deep.equal([]);
    expect(acked).to.have.length(48);

    // the lease names one process; it forwarded nothing and served what the two others forwarded
    const owner = await ownerOf(round.id);
    expect(owner, 'a process holds the round').to.not.equal(undefined);
    const after = await Promise.all(webs.map(health));
    let forwarded = 0;
    for (const [i, w] of webs.entries()) {
      const sent = after[i]!.forwarded.sent - before[i]!.forwarded.sent;
      if (w === owner) expect(sent, `${w.name} (the owner) forwarded nothing`).to.equal(0);
      else expect(sent, `${w.name} forwarded each of its quotes to the owner`).to.equal(sentTo.get(w));
      forwarded += sent;
    }
    const ownerAt = webs.indexOf(owner!);
    expect(after[ownerAt]!.forwarded.served - before[ownerAt]!.forwarded.served, 'the owner decided every forwarded quote').to.equal(forwarded);

    // every acknowledged quote is stored as acknowledged; sequences 1..48 without a gap
    const quotes = await stored(round.id);
    const byId = new Map(quotes.map((q) => [String(q._id), q]));
    for (const a of acked) expect([byId.get(a.quoteId)?.seq, byId.get(a.quoteId)?.priceFen]).to.deep.equal([a.seq, a.priceFen]);
    expect(quotes.map((q) => q.seq as number).sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 48 }, (_, i) => i + 1));

    // through a process that does not own the round: an HTTP quote with an Idempotency-Key is replayed
    // for the same key and refused with another price; a withdrawal is done by the owner
    const other = webs.find((w) => w !== owner)!;
    const [d] = quoters as [ClusterUser];
    const key = `idem-${uniq()}-${uniq()}`;
    const first = await d.api(other).post(`/api/v1/rounds/${round.id}/quotes`, { lineId: round.lineId, priceFen: 800_000 }).set('Idempotency-Key', key);
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    const again = await d.api(other).post(`/api/v1/rounds/${round.id}/quotes`, { lineId: round.lineId, priceFen: 800_000 }).set('Idempotency-Key', key);
    expect([again.status, again.body]).to.deep.equal([201, first.body]);
    const reused = await d.api(webs.find((w) => w !== owner && w !== other)!).post(`/api/v1/rounds/${round.id}/quotes`, { lineId: round.lineId, priceFen: 790_000 }).set('Idempotency-Key', key);
    expect(reused.status, JSON.stringify(reused.body)).to.equal(422);
    const refused = await d.api(other).post(`/api/v1/rounds/${round.id}/quotes`, { lineId: round.lineId, priceFen: 800_000 });
    expect([refused.status, refused.body.error?.code], 'a refusal by the owner keeps its status and code').to.deep.equal([422, 'NOT_BELOW_PREVIOUS']);
    const withdrawn = await d.api(other).post(`/api/v1/rounds/${round.id}/lines/${round.lineId}/withdraw`);
    expect(withdrawn.status, JSON.stringify(withdrawn.body)).to.equal(200);
    expect(withdrawn.body).to.include({ status: 'withdrawn', seq: first.body.seq + 1 });
    const none = await d.api(other).post(`/api/v1/rounds/${round.id}/lines/${round.lineId}/withdraw`);
    expect([none.status, none.body.error?.code]).to.deep.equal([404, 'NO_ACTIVE_QUOTE']);
    expect(await ownerOf(round.id), 'the owner did not change').to.equal(owner);
  });

  it('after a SIGKILL of the owner mid-round, a survivor takes the round over: every quote sent to a survivor is accepted and every acknowledged quote is stored', async () => {
    const webs = live.cluster.webs.filter((w) => w.alive());
    const quoters = await distributors(6);
    const round = await openRound();
    // the first quote reaches web 1, which takes the round
    const first = await socketQuote(await live.connect(webs[0]!, quoters[0]!), round.id, round.lineId, 899_000, `first-${uniq()}`);
    expect(first.error, JSON.stringify(first.error)).to.equal(undefined);
    const owner = (await ownerOf(round.id))!;
    expect(owner).to.equal(webs[0]);
    const survivors = webs.filter((w) => w !== owner);

    // a burst on every process: four distributors through the survivors, two through the owner
    const sockets = await Promise.all(quoters.map((d, i) => live.connect(i < 4 ? survivors[i % survivors.length]! : owner, d)));
    const acked: Acked[] = [{ seq: first.data.seq, priceFen: 899_000, quoteId: first.data.quoteId }];
    const survivorErrors: unknown[] = [];
    let killed = false;
    let afterKill = 0;
    const loops = sockets.map(async (s, i) => {
      const viaSurvivor = i < 4;
      for (let n = 0; viaSurvivor ? !killed || afterKill < 24 : !killed; n += 1) {
        const priceFen = 898_000 - i - n * 100;
        const clientKey = `burst-${i}-${n}-${uniq()}`;
        let reply: { data?: { seq: number; quoteId: string }; error?: unknown };
        try {
          reply = await socketQuote(s, round.id, round.lineId, priceFen, clientKey);
        } catch (err) {
          if (viaSurvivor) survivorErrors.push((err as Error).message);
          return; // the owner's sockets die with it
        }
        if (reply.data) {
          acked.push({ seq: reply.data.seq, priceFen, clientKey, quoteId: reply.data.quoteId });
          if (killed && viaSurvivor) afterKill += 1;
        } else if (viaSurvivor) survivorErrors.push(reply.error);
      }
    });
    await waitFor(() => acked.length >= 40, 60_000, 'a burst of acknowledged quotes');
    await owner.kill('SIGKILL');
    killed = true;
    await Promise.all(loops);

    expect(survivorErrors, 'every quote sent to a survivor accepted').to.deep.equal([]);
    expect(afterKill).to.be.at.least(24);
    const next = await ownerOf(round.id);
    expect(survivors, 'a survivor owns the round now').to.include(next);

    const quotes = await stored(round.id);
    const byId = new Map(quotes.map((q) => [String(q._id), q]));
    for (const a of acked) {
      const q = byId.get(a.quoteId);
      expect(q, `acknowledged quote ${a.clientKey} is stored`).to.not.equal(undefined);
      expect([q!.seq, q!.priceFen]).to.deep.equal([a.seq, a.priceFen]);
    }
    expect(new Set(quotes.map((q) => q.seq)).size, 'sequence numbers unique').to.equal(quotes.length);
    expect(new Set(quotes.map((q) => q.clientKey)).size, 'each clientKey stored once').to.equal(quotes.length);
  });

  it('releases the rounds it owns at a graceful shutdown, so another process takes the next quote at once', async () => {
    // a process whose leases last a minute: a lease gone right after its exit was released, not expired
    const leaving = await live.cluster.startWeb({ ROUND_LEASE_MS: '60000' });
    const staying = live.cluster.webs.find((w) => w.alive() && w !== leaving)!;
    const [d1, d2] = (await distributors(2)) as [ClusterUser, ClusterUser];
    const round = await openRound();
    const first = await d1.api(leaving).post(`/api/v1/rounds/${round.id}/quotes`, { lineId: round.lineId, priceFen: 850_000 });
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    expect(await ownerOf(round.id)).to.equal(leaving);
    await leaving.kill('SIGTERM');
    expect(await redis.get(`${live.cluster.queuePrefix}:lease:round-owner:${round.id}`), 'the lease is gone with its owner').to.equal(null);
    const next = await d2.api(staying).post(`/api/v1/rounds/${round.id}/quotes`, { lineId: round.lineId, priceFen: 840_000 });
    expect(next.status, JSON.stringify(next.body)).to.equal(201);
    expect(next.body.seq).to.equal(first.body.seq + 1);
    expect(await ownerOf(round.id)).to.equal(staying);
  });
});
