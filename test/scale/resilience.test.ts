// Crashes and outages with real processes: the app killed right after a commit and in the middle of
// a burst of money-moving requests, the embedded engine killed under `npm start`'s supervisor, and
// Redis restarted empty while rounds, tenders and invoices wait for their time. What a command
// committed must still have every consequence exactly once; what a client was told must hold.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { Types } from 'mongoose';
import { Redis } from 'ioredis';
import { bullJobId } from '../../server/platform/queues';
import { redisOfTestRun, useCluster, type ClusterFixture } from '../support/cluster';
import { testClock } from '../support/global';
import { apiAt, createClusterUser, createDrug, freePort, freePorts, openClusterRound, socketAt, spawnApp, traceCodesFor, waitFor, type AppProcess, type ClusterUser } from '../support/processes';

const uniq = () => randomBytes(4).toString('hex');
const nextYear = () => new Date(testClock.now().getTime() + 400 * 86_400_000).toISOString().slice(0, 10);

async function count(db: Connection, collection: string, filter: Record<string, unknown>): Promise<number> {
  return db.db!.collection(collection).countDocuments(filter);
}

/** The parties of an order, with a hospital whose bank guarantees its invoices. */
async function parties({ cluster, operator, tradingDistributor }: ClusterFixture) {
  const finance = await createClusterUser(cluster, operator, 'hospital_finance', { orgName: `医院-${uniq()}`, hospitalLevel: 2 });
  const pharmacist = await createClusterUser(cluster, operator, 'pharmacist', { org: finance.org });
  const bank = await createClusterUser(cluster, operator, 'bank_officer', { orgName: `银行-${uniq()}` });
  const applied = await finance.api().post('/api/v1/finance/lines', { bankOrgId: bank.org.id, amountFen: 10_000_000, termMonths: 12 }).set('Idempotency-Key', `line-${uniq()}-${uniq()}`);
  expect(applied.status, JSON.stringify(applied.body)).to.equal(201);
  const approved = await bank.api().post(`/api/v1/finance/lines/${applied.body.id}/approve`, { limitFen: 10_000_000, annualRateBp: 365, maxTenorDays: 90, expiresOn: '2099-12-31' });
  expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
  const distributor = await tradingDistributor();
  return { finance, pharmacist, bank, distributor };
}

/** Places, confirms, ships and delivers a catalogue order; returns the acceptance to submit. */
async function deliveredOrder(p: { pharmacist: ClusterUser; distributor: ClusterUser }, drug: { id: string; tracePrefix: string }, quantity: number) {
  const placed = await p.pharmacist.api().post('/api/v1/orders', { urgency: 'regular', lines: [{ drugId: drug.id, distributorOrgId: p.distributor.org.id, source: 'catalogue', quantity }] }).set('Idempotency-Key', `order-${uniq()}-${uniq()}`);
  expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
  const order = placed.body.data[0] as { id: string; orderNo: string };
  expect((await p.distributor.api().post(`/api/v1/orders/${order.id}/confirm`, {})).status).to.equal(200);
  const codes = traceCodesFor(drug.tracePrefix, quantity);
  const batchNo = `B-${uniq()}`;
  const shipped = await p.distributor
    .api()
    .post(`/api/v1/orders/${order.id}/ship`, { carrier: '顺丰医药', trackingNo: `SF${uniq()}`, lines: [{ lineNo: 1, quantity, batchNo, expiryDate: nextYear(), codes }] })
    .set('Idempotency-Key', `ship-${uniq()}-${uniq()}`);
  expect(shipped.status, JSON.stringify(shipped.body)).to.equal(201);
  expect((await p.distributor.api().post(`/api/v1/orders/${order.id}/tracking`, { kind: 'delivered', location: '医院药库' })).status).to.equal(201);
  return { order, batchNo, expiryDate: shipped.body.shipment.lines[0].expiryDate as string, codes };
}

describe('resilience: a crash right after a commit', function () {
  this.timeout(180_000);
  // NOTE: the web process started below kills itself right after committing an acceptance, before
  // any subscriber ran; the worker's outbox sweep (every 300 ms here) must finish the work.
  const live = useCluster({ web: 1, workers: 1, name: 'crash', env: { OUTBOX_SWEEP_MS: '300' } });

  it('commits the acceptance with its audit entry, and after the restart its notification, breach, settlement job and push each happen exactly once', async () => {
    const p = await parties(live);
    const drug = await createDrug(live.operator, { referencePriceFen: 10_000 });
    const { order, batchNo, expiryDate, codes } = await deliveredOrder(p, drug, 3);
    // The acceptance goes to a web process with the fault drill on: it dies after the commit.
    const doomed = await live.cluster.startWeb({ FAULT_CRASH_AFTER_COMMIT: 'orders.accepted' });
    const survivor = live.cluster.webs[0]!;
    const socket = await socketAt(survivor, p.distributor.token);
    const pushes: { event: string; status?: string; orderId?: string }[] = [];
    socket.onAny((event: string, payload: { status?: string; orderId?: string }) => pushes.push({ event, ...payload }));
    try {
      const acceptance = { lines: [{ lineNo: 1, acceptedQty: 2, refusedQty: 1, refusalReason: 'quality', note: '外包装破损', batchNo, expiryDate, codes: codes.slice(0, 2) }] };
      const res = await p.pharmacist.api(doomed).post(`/api/v1/orders/${order.id}/acceptance`, acceptance).set('Idempotency-Key', `acc-${uniq()}-${uniq()}`).catch((err: Error) => err);
      expect(res, 'the request dies with its process').to.be.instanceOf(Error);
      await waitFor(() => !doomed.alive(), 10_000, 'the crashed process to be gone');

      const orderId = new Types.ObjectId(order.id);
      // Committed with the command: the state, the invoice and the audit entry.
      expect((await live.db.db!.collection('orders').findOne({ _id: orderId }))!.status).to.equal('partially_accepted');
      expect(await count(live.db, 'finance_invoices', { orderId })).to.equal(1);
      expect(await count(live.db, 'audit_log', { action: 'order.partially_accepted', targetId: order.id })).to.equal(1);

      // After the crash, the sweep hands the committed facts to their subscribers.
      const accepted = await waitFor(async () => {
        const e = await live.db.db!.collection('outbox_events').findOne({ key: `order-accepted:${order.id}` });
        return e?.dispatchedAt ? e : undefined;
      }, 20_000, 'the sweep to dispatch orders.accepted');
      expect(accepted.handled).to.include('orders.notify-accepted');
      const invoice = (await live.db.db!.collection('finance_invoices').findOne({ orderId }))!;
      const qualityBreaches = () => count(live.db, 'credit_breaches', { orgId: new Types.ObjectId(p.distributor.org.id), code: 'QUALITY_REFUSAL' });
      await waitFor(async () => (await qualityBreaches()) > 0, 20_000, 'the quality breach');
      await waitFor(async () => (await live.cluster.queue().getJob(bullJobId(`invoice-settle:${String(invoice._id)}`))) !== undefined, 20_000, 'the settlement job');
      await waitFor(() => pushes.some((x) => x.event === 'order:updated' && x.orderId === order.id && x.status === 'partially_accepted'), 20_000, 'the push to the distributor');

      // A second and third sweep change nothing.
      await new Promise((r) => setTimeout(r, 1500));
      expect(await count(live.db, 'notifications', { kind: 'order.accepted', userId: new Types.ObjectId(p.distributor.id) })).to.equal(1);
      expect(await qualityBreaches()).to.equal(1);
      expect(await count(live.db, 'audit_log', { action: 'order.partially_accepted', targetId: order.id })).to.equal(1);
      const settleJobs = (await live.cluster.queue().getJobs(['delayed', 'waiting', 'active', 'completed'])).filter((j) => j.name === 'finance.settle-invoice' && (j.data as { invoiceId?: string }).invoiceId === String(invoice._id));
      expect(settleJobs, 'one settlement job').to.have.length(1);
      expect(pushes.filter((x) => x.event === 'order:updated' && x.orderId === order.id && x.status === 'partially_accepted'), 'one push of the acceptance').to.have.length(1);
    } finally {
      socket.disconnect();
    }
  });
});

describe('resilience: kill -9 of the app in the middle of a burst', function () {
  this.timeout(300_000);
  const live = useCluster({ web: 1, webSlots: 2, workers: 1, name: 'burst', env: { QUOTE_RATE_LIMIT: '10000' } });

  it('keeps every acknowledged order, deposit and quote; every retry with the same key completes or replays the first answer, none answers 409; the ledger balances', async () => {
    const p = await parties(live);
    const drugs = await Promise.all(Array.from({ length: 3 }, () => createDrug(live.operator, { referencePriceFen: 100_000 })));
    const quoters = await Promise.all(Array.from({ length: 6 }, () => live.tradingDistributor('报价企业')));
    const round = await openClusterRound(live.operator, { drugIds: drugs.map((d) => d.id), closesInMs: 600_000 });

    interface Call {
      user: ClusterUser;
      path: string;
      body: Record<string, unknown>;
      key: string;
      first?: { status: number; body: unknown } | Error;
    }
    const calls: Call[] = [];
    // NOTE: enough orders that the kill finds several order-number blocks taken and handed out (a
    // block that went back with a dead transaction gave duplicate order numbers to the retries).
    for (let i = 0; i < 100; i += 1) {
      calls.push({ user: p.pharmacist, path: '/api/v1/orders', body: { urgency: 'regular', lines: [{ drugId: drugs[i % 3]!.id, distributorOrgId: p.distributor.org.id, source: 'catalogue', quantity: 1 + (i % 5) }] }, key: `burst-order-${i}-${uniq()}` });
      if (i < 40) calls.push({ user: p.finance, path: '/api/v1/finance/account/deposits', body: { amountFen: 1000 + i, reference: `DEP-${i}-${uniq()}` }, key: `burst-deposit-${i}-${uniq()}` });
    }
    // each distributor undercuts itself line by line, so every quote is a valid new price
    for (const [qi, q] of quoters.entries()) {
      for (const [li, line] of round.lines.entries()) {
        calls.push({ user: q, path: `/api/v1/rounds/${round.id}/quotes`, body: { lineId: line.lineId, priceFen: 90_000 - qi * 100 - li }, key: `burst-quote-${qi}-${li}-${uniq()}` });
      }
    }

    const web = live.cluster.webs[0]!;
    let answered = 0;
    const fire = calls.map(async (c) => {
      c.first = await c.user
        .api(web)
        .post(c.path, c.body)
        .set('Idempotency-Key', c.key)
        .then((r) => ({ status: r.status, body: r.body as unknown }))
        .catch((err: Error) => err);
      answered += 1;
    });
    await waitFor(() => answered >= calls.length / 3, 60_000, 'a third of the burst to be answered', 5);
    await web.kill('SIGKILL');
    await Promise.all(fire);

    const acknowledged = calls.filter((c) => !(c.first instanceof Error) && c.first!.status >= 200 && c.first!.status < 300);
    const statuses = calls.map((c) => (c.first instanceof Error ? 'dead' : `${c.first!.status}${c.first!.status >= 300 ? ` ${JSON.stringify(c.first!.body).slice(0, 200)}` : ''}`));
    expect(acknowledged.length, `some requests were answered before the kill: ${JSON.stringify(statuses)}`).to.be.greaterThan(0);
    expect(calls.some((c) => c.first instanceof Error), 'some requests died with the process').to.equal(true);

    const restarted = await live.cluster.startWeb();
    for (const c of calls) {
      const retry = await c.user.api(restarted).post(c.path, c.body).set('Idempotency-Key', c.key);
      expect(retry.status, `${c.path} ${c.key}: ${JSON.stringify(retry.body)}`).to.not.equal(409);
      expect(retry.status, `${c.path} ${c.key}: ${JSON.stringify(retry.body)}`).to.be.within(200, 299);
      if (!(c.first instanceof Error) && c.first!.status >= 200 && c.first!.status < 300) expect(retry.body, `replay of ${c.key}`).to.deep.equal(c.first!.body);
    }

    // Every acknowledged write is stored, once.
    const orderIds = calls.filter((c) => c.path === '/api/v1/orders').map((c) => c.key);
    for (const c of acknowledged.filter((x) => x.path === '/api/v1/orders')) {
      const id = ((c.first as { body: { data: { id: string }[] } }).body.data[0]!).id;
      expect(await count(live.db, 'orders', { _id: new Types.ObjectId(id) }), `order of ${c.key}`).to.equal(1);
    }
    expect(await count(live.db, 'orders', { hospitalOrgId: new Types.ObjectId(p.pharmacist.org.id) }), 'one order per key').to.equal(orderIds.length);
    const deposits = calls.filter((c) => c.path.endsWith('/deposits'));
    expect(await count(live.db, 'finance_entries', { kind: 'deposit', hospitalOrgId: new Types.ObjectId(p.finance.org.id) }), 'one deposit per key').to.equal(deposits.length);
    const quotes = calls.filter((c) => c.path.endsWith('/quotes'));
    expect(await count(live.db, 'quotation_quotes', { roundId: new Types.ObjectId(round.id) }), 'one quote per key').to.equal(quotes.length);

    const check = await live.operator.api(restarted).get('/api/v1/finance/ledger/check');
    expect(check.status).to.equal(200);
    expect(check.body, JSON.stringify(check.body)).to.include({ ok: true });
  });
});

describe('resilience: the embedded engine killed under npm start', function () {
  this.timeout(180_000);
  let app: AppProcess | undefined;
  let dir: string;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gpo-engine-'));
  });

  after(async () => {
    await app?.kill('SIGTERM', 10_000);
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 at once while the engine is down, restarts it, and is back with every acknowledged write', async () => {
    // NOTE: both at once, so they differ (the app and its engine on one port: EADDRINUSE).
    const [port, enginePort] = (await freePorts(2)) as [number, number];
    app = await spawnApp({
      name: 'all',
      role: 'all',
      echo: process.env.SCALE_LOG === '1',
      port,
      readyTimeoutMs: 120_000,
      env: {
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        ENGINE_PORT: String(enginePort),
        ENGINE_DBPATH: dir,
        MONGODB_DB: `gpo_engine_${uniq()}`,
        QUEUE_PREFIX: `gpo_engine_${uniq()}`,
        REDIS_URL: redisOfTestRun(),
        REDIS_AUTOSTART: 'false',
        DEMO_MODE: 'true',
        LOG_LEVEL: 'info',
        JWT_SECRET: randomBytes(32).toString('hex'),
        ...testClock.timelineEnv(),
      },
    });
    const url = app.url!;
    await waitFor(() => /is running at/.test(app!.output()), 60_000, 'the demo data to be loaded', 100);
    const login = await apiAt(url).post('/api/v1/auth/login', { email: 'operator@demo.gpo', password: 'demo-2026-gpo' });
    expect(login.status, JSON.stringify(login.body)).to.equal(200);
    const op = apiAt(url, login.body.token);
    const before = await op.post('/api/v1/organisations', { name: `写入后崩溃银行-${uniq()}`, type: 'bank' });
    expect(before.status).to.equal(201);

    const enginePid = Number(/"enginePid":(\d+)/.exec(app.output())?.[1]);
    expect(enginePid, 'the engine pid in the start-up log').to.be.greaterThan(0);
    process.kill(enginePid, 'SIGKILL');
    const killedAt = Date.now();

    const ready = await waitFor(async () => ((await fetch(`${url}/readyz`)).status === 503 ? Date.now() : undefined), 5000, '/readyz to answer 503', 20);
    expect(ready - killedAt, '/readyz says 503 within a second').to.be.below(1000);
    const t0 = Date.now();
    const refused = await op.get('/api/v1/organisations');
    expect(Date.now() - t0, 'a request fails fast').to.be.below(2000);
    expect(refused.status).to.equal(503);
    expect(refused.body.error.code).to.equal('DATABASE_UNAVAILABLE');

    // The supervisor restarts the engine; the app finds it again by itself.
    const restarted = await waitFor(() => /embedded engine restarted/.test(app!.output()) && Date.now(), 30_000, 'the engine to be restarted', 50);
    const back = await waitFor(async () => ((await fetch(`${url}/readyz`)).status === 200 ? Date.now() : undefined), 15_000, 'the app to be ready again', 50);
    expect(back - restarted, 'back to normal within 10 s of the engine').to.be.below(10_000);
    const list = await op.get('/api/v1/organisations');
    expect(list.status).to.equal(200);
    expect(JSON.stringify(list.body)).to.contain(before.body.id);
    const after = await op.post('/api/v1/organisations', { name: `恢复后银行-${uniq()}`, type: 'bank' });
    expect(after.status).to.equal(201);
  });
});

describe('resilience: Redis restarted empty', function () {
  this.timeout(300_000);
  let redis: ChildProcess | undefined;
  let redisPort: number;

  async function startRedis(): Promise<void> {
    redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitFor(async () => {
      const c = new Redis({ port: redisPort, lazyConnect: true, maxRetriesPerRequest: 0 });
      c.on('error', () => undefined);
      try {
        await c.connect();
        return (await c.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        c.disconnect();
      }
    }, 10_000, 'redis-server to start', 50);
  }

  before(async () => {
    redisPort = await freePort();
    await startRedis();
  });

  const live = useCluster(() => ({ web: 1, workers: 1, name: 'redisloss', redisUrl: `redis://127.0.0.1:${redisPort}`, env: { SCHEDULE_SWEEP_MS: '1000', OUTBOX_SWEEP_MS: '500' } }));

  after(() => {
    redis?.kill('SIGKILL');
  });

  it('closes the open round, opens the tender and settles the due invoice, each within one sweep interval of its time and exactly once', async () => {
    const p = await parties(live);
    const drug = await createDrug(live.operator, { referencePriceFen: 50_000 });
    // An open round closing in a few seconds, with one quote.
    const round = await openClusterRound(live.operator, { drugIds: [drug.id], closesInMs: 8000 });
    const quoted = await p.distributor.api().post(`/api/v1/rounds/${round.id}/quotes`, { lineId: round.lines[0]!.lineId, priceFen: 45_000 }).set('Idempotency-Key', `q-${uniq()}-${uniq()}`);
    expect(quoted.status, JSON.stringify(quoted.body)).to.equal(201);
    // An open tender closing in a few seconds (its declaration closed a moment before).
    const vbpDrug = await createDrug(live.operator, { referencePriceFen: 2000, vbp: true });
    const declaration = await live.operator.api().post('/api/v1/vbp/declarations', { title: `报量 ${uniq()}`, drugIds: [vbpDrug.id], deadline: new Date(testClock.now().getTime() + 2000).toISOString() });
    expect(declaration.status, JSON.stringify(declaration.body)).to.equal(201);
    const declared = await p.pharmacist.api().put(`/api/v1/vbp/declarations/${declaration.body.id}/entries`, { entries: [{ drugId: vbpDrug.id, quantity: 1000 }] });
    expect(declared.status, JSON.stringify(declared.body)).to.equal(200);
    await new Promise((r) => setTimeout(r, 2500));
    const tender = await live.operator
      .api()
      .post('/api/v1/vbp/tenders', { title: `集采 ${uniq()}`, declarationId: declaration.body.id, closesAt: new Date(testClock.now().getTime() + 8000).toISOString(), lines: [{ drugId: vbpDrug.id, ceilingFen: 2000 }] })
      .set('Idempotency-Key', `t-${uniq()}-${uniq()}`);
    expect(tender.status, JSON.stringify(tender.body)).to.equal(201);
    // An invoice whose due date is moved to a few seconds from now (the payment term is days long).
    const { order, batchNo, expiryDate, codes } = await deliveredOrder(p, drug, 2);
    const accepted = await p.pharmacist.api().post(`/api/v1/orders/${order.id}/acceptance`, { lines: [{ lineNo: 1, acceptedQty: 2, refusedQty: 0, batchNo, expiryDate, codes }] }).set('Idempotency-Key', `a-${uniq()}-${uniq()}`);
    expect(accepted.status, JSON.stringify(accepted.body)).to.equal(201);
    const invoiceId = new Types.ObjectId(accepted.body.acceptance.invoiceId as string);
    // NOTE: the acceptance's subscriber schedules the settlement for the real due date, days ahead. It
    // must have done so before Redis is killed: scheduled only after the restart (late under load),
    // that job waits for the real date, and the sweep leaves a delayed job alone.
    await waitFor(async () => (await live.cluster.queue().getJob(bullJobId(`invoice-settle:${String(invoiceId)}`))) !== undefined, 20_000, 'the settlement job to be scheduled');
    const dueAt = new Date(testClock.now().getTime() + 8000);
    await live.db.db!.collection('finance_invoices').updateOne({ _id: invoiceId }, { $set: { dueAt } });

    // Redis restarts with nothing: every delayed job is gone.
    redis!.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    await startRedis();

    const roundDone = await waitFor(async () => {
      const r = await live.db.db!.collection('quotation_rounds').findOne({ _id: new Types.ObjectId(round.id) });
      return r?.status === 'published' ? r : undefined;
    }, 40_000, 'the round to close and publish', 100);
    expect(roundDone.closedAt.getTime() - round.closesAt.getTime(), 'closed within a sweep interval of its time').to.be.below(3000);
    const tenderDone = await waitFor(async () => {
      const t = await live.db.db!.collection('vbp_tenders').findOne({ _id: new Types.ObjectId(tender.body.id as string) });
      return t && t.status !== 'open' ? t : undefined;
    }, 40_000, 'the tender to open', 100);
    expect(tenderDone.status).to.not.equal('open');
    const invoice = await waitFor(async () => {
      const i = await live.db.db!.collection('finance_invoices').findOne({ _id: invoiceId });
      return i?.settledAt ? i : undefined;
    }, 40_000, 'the invoice to settle', 100);
    expect(invoice.settledAt.getTime() - dueAt.getTime(), 'settled within a sweep interval of its due date').to.be.below(3000);

    await new Promise((r) => setTimeout(r, 3000));
    expect(await count(live.db, 'quotation_listings', { roundId: new Types.ObjectId(round.id) }), 'one listing entry').to.equal(1);
    expect(await count(live.db, 'finance_entries', { invoiceId, kind: 'settlement' }), 'one settlement entry').to.equal(1);
    expect(await count(live.db, 'outbox_events', { key: `round-published:${round.id}` })).to.equal(1);
  });
});
