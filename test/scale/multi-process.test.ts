// Scale-out, proven with real processes: 3 web processes and 2 workers (children running
// `server/index.ts --role web|worker`) against one engine process and the local Redis. Quotes
// accepted by one process reach watchers on the others, filtered by visibility as on one process;
// an order and its invoice move through different processes; what must happen once happens once
// however many workers race for it; and after a SIGKILL of a web process and a worker mid-round
// the round still closes once, on time, and the clients keep (or get back) their state.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Types } from 'mongoose';
import type { Socket } from 'socket.io-client';
import { bullJobId } from '../../server/platform/queues';
import { useCluster } from '../support/cluster';
import { testClock } from '../support/global';
import { createClusterUser, createDrug, traceCodesFor, waitFor, type AppProcess, type ClusterUser } from '../support/processes';

const uniq = () => randomBytes(4).toString('hex');
/** An expiry date (YYYY-MM-DD) about a year ahead. */
const nextYear = () => new Date(testClock.now().getTime() + 400 * 86_400_000).toISOString().slice(0, 10);

interface Received {
  event: string;
  payload: Record<string, unknown>;
  at: number;
}

/** Every event a socket receives, in order. */
function record(socket: Socket): Received[] {
  const got: Received[] = [];
  socket.onAny((event: string, payload: Record<string, unknown>) => got.push({ event, payload, at: Date.now() }));
  return got;
}

function seen(got: Received[], event: string, match: (p: Record<string, unknown>) => boolean = () => true): Received | undefined {
  return got.find((r) => r.event === event && match(r.payload));
}

async function waitEvent(got: Received[], event: string, match: (p: Record<string, unknown>) => boolean, what: string, ms = 15_000): Promise<Record<string, unknown>> {
  return (await waitFor(() => seen(got, event, match), ms, what, 25)).payload;
}

const QUOTE_EVENTS = new Set(['round:lines']);

/** The one line a `round:lines` push of these one-line rounds carries. */
function line0(p: Record<string, unknown>): Record<string, any> {
  return (p.lines as Record<string, any>[])[0]!;
}

/** A `round:lines` push of the round whose line has `field` (and passes `match`). */
function linesWith(roundId: string, field: string, match: (l: Record<string, any>) => boolean = () => true) {
  return (p: Record<string, unknown>) => p.roundId === roundId && field in line0(p) && match(line0(p));
}

describe('scale-out: 3 web processes and 2 workers against one database and Redis', function () {
  this.timeout(60_000);

  const live = useCluster({ web: 3, webSlots: 4, workers: 2, name: 'mp', env: { QUOTE_RATE_LIMIT: '1000' } });
  let web1: AppProcess;
  let web2: AppProcess;
  let web3: AppProcess;

  function drug(referencePriceFen = 289_000): Promise<{ id: string; tracePrefix: string }> {
    return createDrug(live.operator, { referencePriceFen, via: web1 });
  }

  /** A round over one new drug, open now and closing `closesInMs` from now; resolves when it is open. */
  async function openRound(visibility: 'rank' | 'best' | 'sealed', closesInMs: number) {
    const d = await drug();
    const at = testClock.now().getTime();
    const created = await live.operator.api(web2).post('/api/v1/rounds', {
      title: `多进程测试轮次 ${uniq()}`,
      lines: [{ drugId: d.id }],
      opensAt: new Date(at).toISOString(),
      closesAt: new Date(at + closesInMs).toISOString(),
      visibility,
      antiSniping: { windowSec: 1, extendSec: 1, maxExtensions: 0 },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const id = created.body.id as string;
    const scheduled = await live.operator.api(web3).post(`/api/v1/rounds/${id}/schedule`);
    expect(scheduled.status, JSON.stringify(scheduled.body)).to.equal(200);
    const board = await waitFor(
      async () => {
        const res = await live.operator.api(web1).get(`/api/v1/rounds/${id}`);
        return res.body.round?.status === 'open' ? res.body : undefined;
      },
      15_000,
      'the round to open (opening job on a worker)',
    );
    return { id, lineId: board.lines[0].lineId as string, closesAt: new Date(board.round.closesAt as string), drugId: d.id };
  }

  async function watch(socket: Socket, roundId: string) {
    const reply = await socket.timeout(10_000).emitWithAck('round:watch', { roundId });
    expect(reply.error, JSON.stringify(reply.error)).to.equal(undefined);
    return reply.data;
  }

  /** Adds copies of a job under other ids, as a lost-and-recovered schedule or a second scheduler would. */
  async function duplicateJobs(name: string, payload: Record<string, string>, copies: number, runAt: Date) {
    const delay = Math.max(0, runAt.getTime() - testClock.now().getTime());
    for (let i = 0; i < copies; i += 1) {
      await live.cluster.queue().add(name, payload, { jobId: bullJobId(`duplicate-${name}-${uniq()}`), delay, attempts: 5, backoff: { type: 'exponential', delay: 200 } });
    }
  }

  async function countWhere(collection: string, filter: Record<string, unknown>): Promise<number> {
    return live.db.db!.collection(collection).countDocuments(filter);
  }

  before(() => {
    [web1, web2, web3] = live.cluster.webs as [AppProcess, AppProcess, AppProcess];
  });

  it('runs three web processes and two workers that all answer /readyz or hold a queue connection', async () => {
    for (const w of live.cluster.webs) {
      const res = await fetch(`${w.url}/readyz`);
      expect(res.status, w.name).to.equal(200);
    }
    expect(await live.cluster.queue().getWorkersCount()).to.be.at.least(2);
    expect(new Set(live.cluster.webs.map((w) => w.pid)).size).to.equal(3);
  });

  it('pushes a quote accepted by one process to watchers on the others, filtered by visibility exactly as on one process; each round closes once', async function () {
    this.timeout(90_000);
    const [d1, d2, d3] = [await live.tradingDistributor(), await live.tradingDistributor(), await live.tradingDistributor()];
    const pharmacist = await createClusterUser(live.cluster, live.operator, 'pharmacist');
    const best = await openRound('best', 14_000);
    const sealed = await openRound('sealed', 14_000);
    // duplicates of each close job, due at the close: both workers race for them
    for (const r of [best, sealed]) await duplicateJobs('quotation.round.close', { roundId: r.id }, 3, r.closesAt);

    const [s1, s2, s3, sOp, sHosp] = await Promise.all([live.connect(web1, d1), live.connect(web2, d2), live.connect(web3, d3), live.connect(web2, live.operator), live.connect(web3, pharmacist)]);
    const [g1, g2, g3, gOp, gHosp] = [s1, s2, s3, sOp, sHosp].map(record) as [Received[], Received[], Received[], Received[], Received[]];
    for (const s of [s1, s2, s3, sOp, sHosp]) for (const r of [best, sealed]) await watch(s, r.id);

    // best mode: d1 quotes through web 1 (HTTP)
    const q1 = await d1.api(web1).post(`/api/v1/rounds/${best.id}/quotes`, { lineId: best.lineId, priceFen: 250_000 });
    expect(q1.status, JSON.stringify(q1.body)).to.equal(201);
    const own1 = line0(await waitEvent(g1, 'round:lines', linesWith(best.id, 'own'), 'd1 (web 1) hears its own quote'));
    expect(own1.own).to.include({ priceFen: 250_000, rank: 1 });
    const line1 = line0(await waitEvent(gOp, 'round:lines', linesWith(best.id, 'quotes'), 'the operator (web 2) hears the quote'));
    expect(line1.quotes).to.deep.equal([{ alias: q1.body.alias, priceFen: 250_000, receivedAt: q1.body.receivedAt, seq: q1.body.seq, rank: 1, status: 'active' }]);
    expect(line1).to.include({ quoteCount: 1, bestPriceFen: 250_000 });
    for (const [g, who] of [[g2, 'd2 (web 2)'], [g3, 'd3 (web 3)']] as const) {
      const b = line0(await waitEvent(g, 'round:lines', linesWith(best.id, 'bestPriceFen', (l) => l.bestPriceFen === 250_000), `${who} hears the anonymous best price`));
      expect(Object.keys(b).sort()).to.deep.equal(['bestPriceFen', 'lineId', 'quoteCount']);
    }

    // d2 undercuts through web 2 (socket): d1 on web 1 hears that its rank moved
    const q2 = await s2.timeout(10_000).emitWithAck('quote:submit', { roundId: best.id, lineId: best.lineId, priceFen: 240_000, clientKey: `ck-${uniq()}` });
    expect(q2.error, JSON.stringify(q2.error)).to.equal(undefined);
    expect(q2.data).to.include({ rank: 1, bestPriceFen: 240_000 });
    const rank1 = line0(await waitEvent(g1, 'round:lines', linesWith(best.id, 'rank'), 'd1 (web 1) hears it was overtaken'));
    expect(rank1).to.deep.equal({ lineId: best.lineId, rank: 2 });
    await waitEvent(g3, 'round:lines', linesWith(best.id, 'bestPriceFen', (l) => l.bestPriceFen === 240_000), 'd3 (web 3) hears the new best price');
    const line2 = line0(await waitEvent(gOp, 'round:lines', linesWith(best.id, 'quotes', (l) => l.quoteCount === 2), 'the operator hears both quotes'));
    expect(line2.quotes[0]).to.include({ alias: q2.data.alias, rank: 1 });
    expect(line2).to.include({ bestPriceFen: 240_000 });

    // sealed mode: d3 quotes through web 3, d1 through web 1; only the quoter and the operator hear a price
    const q3 = await d3.api(web3).post(`/api/v1/rounds/${sealed.id}/quotes`, { lineId: sealed.lineId, priceFen: 200_000 });
    expect(q3.status, JSON.stringify(q3.body)).to.equal(201);
    expect(q3.body.rank).to.equal(null);
    const q4 = await s1.timeout(10_000).emitWithAck('quote:submit', { roundId: sealed.id, lineId: sealed.lineId, priceFen: 210_000, clientKey: `ck-${uniq()}` });
    expect(q4.error, JSON.stringify(q4.error)).to.equal(undefined);
    expect(q4.data.rank).to.equal(null);
    const ownSealed = line0(await waitEvent(g3, 'round:lines', linesWith(sealed.id, 'own'), 'd3 (web 3) hears its own sealed quote'));
    expect(ownSealed.own).to.include({ priceFen: 200_000, rank: null });
    await waitEvent(g1, 'round:lines', linesWith(sealed.id, 'own'), 'd1 (web 1) hears its own sealed quote');
    await waitEvent(gOp, 'round:lines', linesWith(sealed.id, 'quotes', (l) => l.quoteCount === 2), 'the operator (web 2) sees sealed prices live');

    // both rounds close (on a worker) and publish; everyone watching hears it once
    for (const [g, who] of [[g1, 'd1'], [g2, 'd2'], [g3, 'd3'], [gOp, 'operator'], [gHosp, 'hospital']] as const) {
      for (const r of [best, sealed]) await waitEvent(g, 'round:published', (p) => p.roundId === r.id, `${who} hears round ${r.id} published`, 30_000);
    }
    for (const g of [g1, g2, g3, gOp, gHosp]) {
      for (const r of [best, sealed]) expect(g.filter((x) => x.event === 'round:closed' && x.payload.roundId === r.id), 'round:closed once').to.have.length(1);
    }

    // visibility: the hospital heard no quote at all; no distributor heard a competitor's identity
    expect(gHosp.filter((x) => QUOTE_EVENTS.has(x.event))).to.deep.equal([]);
    const identities = new Map([
      [d1, [d1.org.id, d1.org.name, q1.body.alias as string]],
      [d2, [d2.org.id, d2.org.name, q2.data.alias as string]],
      [d3, [d3.org.id, d3.org.name, q3.body.alias as string]],
    ]);
    for (const [me, got] of [[d1, g1], [d2, g2], [d3, g3]] as const) {
      const text = JSON.stringify(got.filter((x) => QUOTE_EVENTS.has(x.event)));
      for (const [other, marks] of identities) if (other !== me) for (const m of marks) expect(text, `${me.name} saw ${other.name}`).not.to.include(m);
    }
    // sealed: before the close, d2 (no quote) heard nothing but timing, d1 and d3 only their own quote
    const beforeClose = (g: Received[]) => g.slice(0, g.findIndex((x) => x.event === 'round:closed' && x.payload.roundId === sealed.id)).filter((x) => x.payload.roundId === sealed.id);
    expect(beforeClose(g2).map((x) => x.event).filter((e) => QUOTE_EVENTS.has(e))).to.deep.equal([]);
    const quoteFields = (g: Received[]) => beforeClose(g).filter((x) => QUOTE_EVENTS.has(x.event)).map((x) => Object.keys(line0(x.payload)).sort());
    expect(quoteFields(g1)).to.deep.equal([['lineId', 'nextMaxPriceFen', 'own']]);
    expect(quoteFields(g3)).to.deep.equal([['lineId', 'nextMaxPriceFen', 'own']]);

    // exactly once in the database, however many close jobs ran on the two workers
    for (const r of [best, sealed]) {
      const roundId = new Types.ObjectId(r.id);
      expect(await countWhere('quotation_events', { roundId, type: 'closed' }), 'closed events').to.equal(1);
      expect(await countWhere('quotation_events', { roundId, type: 'published' }), 'published events').to.equal(1);
      expect(await countWhere('quotation_listings', { roundId }), 'listing entries').to.equal(2);
      const round = await live.db.db!.collection('quotation_rounds').findOne({ _id: roundId });
      expect(round!.status).to.equal('published');
    }
  });

  // Walks a catalogue order through the processes: placed on web 1, confirmed on web 2, shipped and
  // delivered on web 3; returns the order and the shipment ready for acceptance.
  async function deliveredOrderAcrossProcesses(parties: { pharmacist: ClusterUser; distributor: ClusterUser; drug: { id: string; tracePrefix: string } }, quantity = 2) {
    const { pharmacist, distributor: dist, drug: d } = parties;
    const placed = await pharmacist
      .api(web1)
      .post('/api/v1/orders', { urgency: 'regular', lines: [{ drugId: d.id, distributorOrgId: dist.org.id, source: 'catalogue', quantity }] })
      .set('Idempotency-Key', `order-${uniq()}-${uniq()}`);
    expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
    const order = placed.body.data[0];
    const confirmed = await dist.api(web2).post(`/api/v1/orders/${order.id}/confirm`, {});
    expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
    const codes = traceCodesFor(d.tracePrefix, quantity);
    const batchNo = `B-${uniq()}`;
    const shipped = await dist
      .api(web3)
      .post(`/api/v1/orders/${order.id}/ship`, { carrier: '顺丰医药', trackingNo: `SF${uniq()}`, lines: [{ lineNo: 1, quantity, batchNo, expiryDate: nextYear(), codes }] })
      .set('Idempotency-Key', `ship-${uniq()}-${uniq()}`);
    expect(shipped.status, JSON.stringify(shipped.body)).to.equal(201);
    const delivered = await dist.api(web3).post(`/api/v1/orders/${order.id}/tracking`, { kind: 'delivered', location: '医院药库' });
    expect(delivered.status, JSON.stringify(delivered.body)).to.equal(201);
    const acceptance = { lines: [{ lineNo: 1, acceptedQty: quantity, refusedQty: 0, batchNo, expiryDate: shipped.body.shipment.lines[0].expiryDate, codes }] };
    return { order: order as { id: string; orderNo: string; totalFen: number }, acceptance };
  }

  async function hospitalWithBank() {
    const finance = await createClusterUser(live.cluster, live.operator, 'hospital_finance', { orgName: `医院-${uniq()}`, hospitalLevel: 2 });
    const pharmacist = await createClusterUser(live.cluster, live.operator, 'pharmacist', { org: finance.org });
    const bank = await createClusterUser(live.cluster, live.operator, 'bank_officer', { orgName: `银行-${uniq()}` });
    const applied = await finance.api(web2).post('/api/v1/finance/lines', { bankOrgId: bank.org.id, amountFen: 10_000_000, termMonths: 12 }).set('Idempotency-Key', `line-${uniq()}-${uniq()}`);
    expect(applied.status, JSON.stringify(applied.body)).to.equal(201);
    const approved = await bank.api(web3).post(`/api/v1/finance/lines/${applied.body.id}/approve`, { limitFen: 10_000_000, annualRateBp: 365, maxTenorDays: 90, expiresOn: '2099-12-31' });
    expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
    const paid = await live.operator.api(web1).post(`/api/v1/finance/accounts/${finance.org.id}/prepayments`, { amountFen: 5_000_000, reference: `YB-${uniq()}` }).set('Idempotency-Key', `prepay-${uniq()}-${uniq()}`);
    expect(paid.status, JSON.stringify(paid.body)).to.equal(201);
    return { finance, pharmacist, bank };
  }

  it('moves an order through different processes, pushes every step to the hospital on another process, and makes one invoice from racing acceptances', async function () {
    this.timeout(60_000);
    const { pharmacist } = await hospitalWithBank();
    const dist = await live.tradingDistributor();
    const d = await drug(12_345);
    const sHosp = await live.connect(web2, pharmacist);
    const sDist = await live.connect(web1, dist);
    const [gHosp, gDist] = [record(sHosp), record(sDist)];

    const { order, acceptance } = await deliveredOrderAcrossProcesses({ pharmacist, distributor: dist, drug: d });
    // two acceptance submissions race on two processes (a double click behind a load balancer)
    const [a, b] = await Promise.all([
      pharmacist.api(web1).post(`/api/v1/orders/${order.id}/acceptance`, acceptance).set('Idempotency-Key', `acc-${uniq()}-${uniq()}`),
      pharmacist.api(web3).post(`/api/v1/orders/${order.id}/acceptance`, acceptance).set('Idempotency-Key', `acc-${uniq()}-${uniq()}`),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses[0], JSON.stringify([a.body, b.body])).to.equal(201);
    expect(statuses[1], JSON.stringify([a.body, b.body])).to.be.within(400, 499);
    const orderId = new Types.ObjectId(order.id);
    expect(await countWhere('finance_invoices', { orderId }), 'invoices of the order').to.equal(1);

    for (const status of ['placed', 'confirmed', 'shipped', 'delivered', 'accepted']) {
      await waitEvent(gHosp, 'order:updated', (p) => p.orderId === order.id && p.status === status, `the hospital (web 2) hears ${status}`);
    }
    await waitEvent(gHosp, 'order:tracking', (p) => p.orderId === order.id && p.kind === 'delivered', 'the hospital hears the delivery');
    await waitEvent(gDist, 'order:updated', (p) => p.orderId === order.id && p.status === 'placed', 'the distributor (web 1) hears the new order');
  });

  it('settles an invoice once: an early payment raced through three processes, and a due-date settlement raced by duplicate jobs on both workers', async function () {
    this.timeout(90_000);
    const { finance, pharmacist } = await hospitalWithBank();
    const dist = await live.tradingDistributor();
    const d = await drug(12_345);
    const invoices: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      const { order, acceptance } = await deliveredOrderAcrossProcesses({ pharmacist, distributor: dist, drug: d }, 3);
      const res = await pharmacist.api(live.cluster.webs[i]).post(`/api/v1/orders/${order.id}/acceptance`, acceptance).set('Idempotency-Key', `acc-${uniq()}-${uniq()}`);
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      invoices.push(res.body.acceptance.invoiceId);
    }
    const [early, due] = invoices as [string, string];
    const sFin = await live.connect(web3, finance);
    const gFin = record(sFin);

    // early payment: the same invoice paid through three processes at once
    const replies = await Promise.all(live.cluster.webs.map((w) => finance.api(w).post(`/api/v1/finance/invoices/${early}/pay`, {}).set('Idempotency-Key', `pay-${uniq()}-${uniq()}`)));
    expect(replies.filter((r) => r.status === 200), JSON.stringify(replies.map((r) => [r.status, r.body]))).to.have.length(1);
    for (const r of replies.filter((x) => x.status !== 200)) expect(r.status, JSON.stringify(r.body)).to.equal(409);
    expect(await countWhere('finance_entries', { idempotencyKey: `pay:${early}` })).to.equal(1);

    // due date: the payment term cannot be shorter than a day, so the test moves this invoice's due
    // date into the past, releases its scheduled job now and adds duplicates for the other worker
    const dueId = new Types.ObjectId(due);
    await live.db.db!.collection('finance_invoices').updateOne({ _id: dueId }, { $set: { dueAt: new Date(testClock.now().getTime() - 1000) } });
    const scheduled = await live.cluster.queue().getJob(bullJobId(`invoice-settle:${due}`));
    expect(scheduled, 'the settlement job scheduled at acceptance').to.not.equal(undefined);
    await duplicateJobs('finance.settle-invoice', { invoiceId: due }, 4, testClock.now());
    await scheduled!.promote();
    const settled = await waitFor(
      async () => {
        const inv = await live.db.db!.collection('finance_invoices').findOne({ _id: dueId });
        const fact = await live.db.db!.collection('outbox_events').findOne({ key: `invoice-settled:${due}`, dispatchedAt: { $exists: true } });
        return inv?.settledAt && fact ? inv : undefined;
      },
      30_000,
      'the due-date settlement and its effects',
    );
    expect(settled.status).to.equal('paid');
    expect(settled.payments).to.have.length(1);
    expect(await countWhere('finance_entries', { idempotencyKey: `settle:${due}` })).to.equal(1);
    expect(await countWhere('finance_entries', { invoiceId: dueId, kind: 'settlement' }), 'settlement entries of the invoice').to.equal(1);
    expect(await countWhere('finance_entries', { invoiceId: dueId, kind: 'invoice_payment' }), 'payments of the invoice').to.equal(0);
    await waitEvent(gFin, 'invoice:settled', (p) => p.invoiceId === due && p.status === 'paid', 'the hospital (web 3) hears the settlement');
    await waitEvent(gFin, 'invoice:settled', (p) => p.invoiceId === early && p.status === 'paid', 'the hospital hears the early payment');

    const check = await live.operator.api(web2).get('/api/v1/finance/ledger/check');
    expect(check.status).to.equal(200);
    expect(check.body, JSON.stringify(check.body)).to.include({ ok: true });
  });

  it('records one breach for a missed confirmation deadline although both workers run duplicate deadline jobs', async function () {
    this.timeout(60_000);
    const { pharmacist } = await hospitalWithBank();
    const dist = await live.tradingDistributor();
    const d = await drug(12_345);
    const before = await live.operator.api(web1).get('/api/v1/settings');
    expect(before.status).to.equal(200);
    const patched = await live.operator.api(web1).patch('/api/v1/settings', { orders: { confirmWithinSec: 2 } });
    expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
    let orderId: string;
    try {
      const placed = await pharmacist
        .api(web2)
        .post('/api/v1/orders', { urgency: 'urgent', lines: [{ drugId: d.id, distributorOrgId: dist.org.id, source: 'catalogue', quantity: 1 }] })
        .set('Idempotency-Key', `order-${uniq()}-${uniq()}`);
      expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
      orderId = placed.body.data[0].id;
    } finally {
      const restored = await live.operator.api(web1).patch('/api/v1/settings', { orders: { confirmWithinSec: before.body.orders.confirmWithinSec } });
      expect(restored.status).to.equal(200);
    }
    await duplicateJobs('orders.confirm-deadline', { orderId }, 4, new Date(testClock.now().getTime() + 2500));
    const key = `order-confirmation-late:${orderId}`;
    await waitFor(async () => (await countWhere('credit_breaches', { sourceKey: key })) > 0, 30_000, 'the breach');
    // let every duplicate job finish before counting
    await waitFor(async () => (await live.cluster.queue().getJobCounts('waiting', 'delayed', 'active')).active === 0, 15_000, 'the queue to drain');
    expect(await countWhere('outbox_events', { key })).to.equal(1);
    expect(await countWhere('credit_breaches', { sourceKey: key })).to.equal(1);
    const order = await live.db.db!.collection('orders').findOne({ _id: new Types.ObjectId(orderId) });
    expect(order?.missed?.confirmation).to.be.an.instanceOf(Date);
  });

  it('after a SIGKILL of one web process and one worker mid-round, closes the round once and on time; surviving clients keep their state and a reconnecting client gets the current board', async function () {
    this.timeout(90_000);
    const [d1, d2, d3] = [await live.tradingDistributor(), await live.tradingDistributor(), await live.tradingDistributor()];
    const round = await openRound('rank', 14_000);
    const [s1, s2, s3, sOp] = await Promise.all([live.connect(web1, d1), live.connect(web2, d2), live.connect(web3, d3), live.connect(web2, live.operator)]);
    const [g1, g2, , gOp] = [s1, s2, s3, sOp].map(record) as [Received[], Received[], Received[], Received[]];
    for (const s of [s1, s2, s3, sOp]) await watch(s, round.id);

    const q3 = await s3.timeout(10_000).emitWithAck('quote:submit', { roundId: round.id, lineId: round.lineId, priceFen: 260_000, clientKey: `ck-${uniq()}` });
    expect(q3.error, JSON.stringify(q3.error)).to.equal(undefined);
    const q1 = await d1.api(web1).post(`/api/v1/rounds/${round.id}/quotes`, { lineId: round.lineId, priceFen: 255_000 });
    expect(q1.status).to.equal(201);
    await waitEvent(gOp, 'round:lines', linesWith(round.id, 'quotes', (l) => l.quoteCount === 2), 'the operator sees both quotes');

    // the crash: web 3 (with d3's socket) and the first worker die without any cleanup
    const disconnected = new Promise<string>((resolve) => s3.once('disconnect', (reason) => resolve(reason)));
    const victims = [web3, live.cluster.workers[0]!];
    await Promise.all(victims.map((p) => p.kill('SIGKILL')));
    expect(victims.every((p) => !p.alive())).to.equal(true);
    await disconnected;
    // replacements start meanwhile (they join the running cluster while the round goes on)
    const replacements = Promise.all([live.cluster.startWeb(), live.cluster.startWorker()]);
    replacements.catch(() => undefined);

    // the survivors carry on: d2 quotes through web 2, d1 (web 1) hears its rank move, the operator hears the line
    const q2 = await d2.api(web2).post(`/api/v1/rounds/${round.id}/quotes`, { lineId: round.lineId, priceFen: 250_000 });
    expect(q2.status, JSON.stringify(q2.body)).to.equal(201);
    await waitEvent(g1, 'round:lines', linesWith(round.id, 'rank', (l) => l.rank === 2), 'd1 (web 1) hears it was overtaken after the crash');
    await waitEvent(gOp, 'round:lines', linesWith(round.id, 'quotes', (l) => l.quoteCount === 3), 'the operator (web 2) sees the third quote');

    // d3 reconnects (a load balancer would send it to a surviving process) and gets the current board
    const s3b = await live.connect(web1, d3);
    const g3b = record(s3b);
    const board = await watch(s3b, round.id);
    expect(board.round.status).to.equal('open');
    expect(board.seq).to.be.at.least(3);
    expect(board.lines[0].own).to.include({ priceFen: 260_000, rank: 3 });
    expect(JSON.stringify(board)).not.to.include(d1.org.id).and.not.to.include(d2.org.id);

    // the surviving worker closes the round at its time, exactly once
    for (const [g, who] of [[g1, 'd1'], [g2, 'd2'], [g3b, 'd3 (reconnected)'], [gOp, 'operator']] as const) {
      await waitEvent(g, 'round:published', (p) => p.roundId === round.id, `${who} hears the round published`, 30_000);
      expect(g.filter((x) => x.event === 'round:closed' && x.payload.roundId === round.id), `${who}: round:closed once`).to.have.length(1);
    }
    const roundId = new Types.ObjectId(round.id);
    const stored = await live.db.db!.collection('quotation_rounds').findOne({ _id: roundId });
    expect(stored!.status).to.equal('published');
    const lateMs = (stored!.closedAt as Date).getTime() - round.closesAt.getTime();
    expect(lateMs, 'closed at (ms after the close time)').to.be.within(0, 10_000);
    expect(await countWhere('quotation_events', { roundId, type: 'closed' })).to.equal(1);
    expect(await countWhere('quotation_listings', { roundId })).to.equal(3);
    const late = await d1.api(web1).post(`/api/v1/rounds/${round.id}/quotes`, { lineId: round.lineId, priceFen: 240_000 });
    expect(late.status).to.equal(422);
    expect(late.body.error.code).to.equal('ROUND_CLOSED');

    // the replacement web process serves the same board
    const [web4] = await replacements;
    const s4 = await live.connect(web4, d2);
    const again = await watch(s4, round.id);
    expect(again.round.status).to.equal('published');
    expect(again.lines[0].results.find((r: { own: boolean }) => r.own)).to.include({ priceFen: 250_000, rank: 1 });
  });
});
