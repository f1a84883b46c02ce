// `npm run load [-- --seconds 60 --pharmacists 3 --web 3 --workers 2]`: a realistic day on loopback,
// for a bounded time, against the scaled-out app (the engine, N web processes and M workers as child
// processes, the local Redis). 3 hospitals × N pharmacists order (from the catalogue, then from the
// published listings, cheapest first); 20 distributors quote live in two overlapping rounds, and
// confirm, ship and deliver what they are sent; pharmacists accept deliveries (invoices), hospital
// finance pays some invoices early; at the end of the day the remaining invoices reach their due
// date and the settlement jobs pay them. Reports throughput and latency per kind, error counts
// (must be zero), exactly-once checks and the ledger consistency check; exits 1 on any error.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Types } from 'mongoose';
import { io as ioClient, type Socket } from 'socket.io-client';
import {
  createClusterUser,
  createDrug,
  seedOperator,
  signClusterCommitment,
  startCluster,
  traceCodesFor,
  waitFor,
  type AppProcess,
  type Cluster,
  type ClusterUser,
} from '../test/support/processes';
import { bullJobId } from '../server/platform/queues';
import { percentile } from './lib';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    pharmacists: { type: 'string', default: '3' },
    distributors: { type: 'string', default: '20' },
    web: { type: 'string', default: '3' },
    workers: { type: 'string', default: '2' },
    drugs: { type: 'string', default: '24' },
  },
});
const SECONDS = Math.max(10, Number(args.seconds));
const PHARMACISTS = Math.max(1, Number(args.pharmacists));
const DISTRIBUTORS = Math.max(2, Number(args.distributors));
const HOSPITALS = 3;
const WEB = Math.max(1, Number(args.web));
const WORKERS = Math.max(1, Number(args.workers));
const DRUGS = Math.max(4, Number(args.drugs));

// ---------------------------------------------------------------------------------------------
// Measurements

interface Kind {
  ok: number;
  ms: number[];
  errors: Map<string, number>;
}
const kinds = new Map<string, Kind>();
const pushes = new Map<string, number>();
const errorSamples: string[] = [];

function kind(name: string): Kind {
  let k = kinds.get(name);
  if (!k) kinds.set(name, (k = { ok: 0, ms: [], errors: new Map() }));
  return k;
}

function fail(name: string, what: string, detail: string): void {
  const k = kind(name);
  k.errors.set(what, (k.errors.get(what) ?? 0) + 1);
  if (errorSamples.length < 20) errorSamples.push(`${name}: ${what} ${detail.slice(0, 300)}`);
}

const rand = (a: number, b: number) => a + Math.floor(Math.random() * (b - a + 1));
const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const uid = () => Math.random().toString(36).slice(2, 10) + Date.now().toString(36);

interface Reply {
  status: number;
  // NOTE: the replies are read loosely here; their shapes are checked by the module tests
  body: any;
}

/** One API call through a given process, timed and counted under `name`; non-2xx is an error. */
async function call(name: string, user: ClusterUser, proc: AppProcess, method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown, idempotent = false): Promise<Reply | null> {
  const t0 = performance.now();
  try {
    const res = await fetch(`${proc.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${user.token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(idempotent ? { 'idempotency-key': `load-${uid()}` } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    const parsed = text ? JSON.parse(text) : undefined;
    if (res.status >= 200 && res.status < 300) {
      const k = kind(name);
      k.ok += 1;
      k.ms.push(performance.now() - t0);
      return { status: res.status, body: parsed };
    }
    fail(name, `${res.status} ${parsed?.error?.code ?? ''}`.trim(), `${method} ${path} ${text}`);
    return { status: res.status, body: parsed };
  } catch (err) {
    fail(name, 'NETWORK', `${method} ${path} ${(err as Error).message}`);
    return null;
  }
}

function connect(proc: AppProcess, user: ClusterUser): Promise<Socket> {
  const socket = ioClient(proc.url!, { transports: ['websocket'], auth: { token: user.token }, extraHeaders: { origin: proc.url! }, reconnection: true, forceNew: true });
  socket.onAny((event: string) => pushes.set(event, (pushes.get(event) ?? 0) + 1));
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

// ---------------------------------------------------------------------------------------------
// The cast

interface Hospital {
  finance: ClusterUser;
  pharmacists: ClusterUser[];
  bank: ClusterUser;
}
interface Drug {
  id: string;
  tracePrefix: string;
  referenceFen: number;
}
interface RoundPlan {
  id: string;
  opensAt: number;
  closesAt: number;
  lines: { lineId: string; drugId: string; referenceFen: number; minDecrementFen: number }[];
}

async function setup(cluster: Cluster) {
  const operator = await seedOperator(cluster);
  const via = () => pick(cluster.webs);
  // the payment term is as short as the settings allow (one day); the day's end brings the due dates
  const settings = await operator.api(via()).patch('/api/v1/settings', { finance: { paymentTermDays: 1 } });
  if (settings.status !== 200) throw new Error(`settings: ${settings.status} ${JSON.stringify(settings.body)}`);
  const banks = [await createClusterUser(cluster, operator, 'bank_officer', { orgName: '示范农村商业银行' }), await createClusterUser(cluster, operator, 'bank_officer', { orgName: '示范城市商业银行' })];
  const hospitals: Hospital[] = [];
  const names = ['示范市人民医院', '示范市中医院', '城东社区卫生服务中心'];
  for (let h = 0; h < HOSPITALS; h += 1) {
    const finance = await createClusterUser(cluster, operator, 'hospital_finance', { orgName: names[h] ?? `医院${h + 1}`, hospitalLevel: (3 - (h % 3)) as 1 | 2 | 3 });
    const pharmacists: ClusterUser[] = [];
    for (let i = 0; i < PHARMACISTS; i += 1) pharmacists.push(await createClusterUser(cluster, operator, 'pharmacist', { org: finance.org }));
    const bank = banks[h % banks.length]!;
    const applied = await finance.api(via()).post('/api/v1/finance/lines', { bankOrgId: bank.org.id, amountFen: 50_000_000_00, termMonths: 12 }).set('Idempotency-Key', `line-${uid()}`);
    if (applied.status !== 201) throw new Error(`line: ${applied.status} ${JSON.stringify(applied.body)}`);
    const approved = await bank.api(via()).post(`/api/v1/finance/lines/${applied.body.id}/approve`, { limitFen: 50_000_000_00, annualRateBp: 435, maxTenorDays: 90, expiresOn: '2099-12-31' });
    if (approved.status !== 200) throw new Error(`approve: ${approved.status} ${JSON.stringify(approved.body)}`);
    // the small clinic's working capital runs short, so some of its invoices need a bank advance
    const balance = h === HOSPITALS - 1 ? 300_000_00 : 40_000_000_00;
    const prepaid = await operator.api(via()).post(`/api/v1/finance/accounts/${finance.org.id}/prepayments`, { amountFen: balance, reference: `YB-${uid()}` }).set('Idempotency-Key', `prepay-${uid()}`);
    if (prepaid.status !== 201) throw new Error(`prepayment: ${prepaid.status} ${JSON.stringify(prepaid.body)}`);
    hospitals.push({ finance, pharmacists, bank });
  }
  const distributors: ClusterUser[] = [];
  for (let i = 0; i < DISTRIBUTORS; i += 1) {
    const d = await createClusterUser(cluster, operator, 'distributor', { orgName: `示范医药配送企业${String(i + 1).padStart(2, '0')}` });
    await signClusterCommitment(operator, d);
    distributors.push(d);
  }
  const drugs: Drug[] = [];
  for (let i = 0; i < DRUGS; i += 1) {
    const referenceFen = rand(20, 3000) * 100;
    const d = await createDrug(operator, { referencePriceFen: referenceFen, via: via() });
    drugs.push({ id: d.id, tracePrefix: d.tracePrefix, referenceFen });
  }
  return { operator, hospitals, distributors, drugs };
}

async function createRound(cluster: Cluster, operator: ClusterUser, drugs: Drug[], opensAt: number, closesAt: number, title: string): Promise<RoundPlan> {
  const web = pick(cluster.webs);
  const created = await call('round: create', operator, web, 'POST', '/api/v1/rounds', {
    title,
    lines: drugs.map((d) => ({ drugId: d.id })),
    opensAt: new Date(opensAt).toISOString(),
    closesAt: new Date(closesAt).toISOString(),
    visibility: 'rank',
    antiSniping: { windowSec: 3, extendSec: 2, maxExtensions: 2 },
  });
  if (created?.status !== 201) throw new Error('could not create a round');
  const scheduled = await call('round: schedule', operator, web, 'POST', `/api/v1/rounds/${created.body.id}/schedule`);
  if (scheduled?.status !== 200) throw new Error('could not schedule a round');
  const board = await call('round: read', operator, web, 'GET', `/api/v1/rounds/${created.body.id}`);
  return {
    id: created.body.id,
    opensAt,
    closesAt,
    lines: board!.body.lines.map((l: RoundPlan['lines'][number]) => ({ lineId: l.lineId, drugId: l.drugId, referenceFen: l.referenceFen, minDecrementFen: l.minDecrementFen })),
  };
}

// ---------------------------------------------------------------------------------------------
// The day

async function main(): Promise<void> {
  const t0 = Date.now();
  process.stderr.write(`starting the engine, ${WEB} web processes and ${WORKERS} workers …\n`);
  const cluster = await startCluster({
    web: WEB,
    workers: WORKERS,
    name: 'load',
    nodeEnv: 'production',
    logLevel: 'error',
    env: { QUOTE_RATE_LIMIT: '100000' },
    // NOTE: as `npm run start:web` / `start:worker` run them (package.json).
    nodeArgs: ['--max-semi-space-size=64'],
  });
  let exitCode = 1;
  try {
    process.stderr.write(`cluster ready in ${((Date.now() - t0) / 1000).toFixed(1)} s; creating organisations, users, lines and drugs …\n`);
    const { operator, hospitals, distributors, drugs } = await setup(cluster);
    const webOf = (i: number) => cluster.webs[i % cluster.webs.length]!;
    const sockets: Socket[] = [];
    const pharmacists = hospitals.flatMap((h) => h.pharmacists);
    for (const [i, u] of [...pharmacists, ...distributors, ...hospitals.map((h) => h.finance)].entries()) sockets.push(await connect(webOf(i), u));

    const start = Date.now();
    const end = start + SECONDS * 1000;
    const half = Math.floor(drugs.length / 2);
    process.stderr.write(`setup done in ${((start - t0) / 1000).toFixed(1)} s; the day runs for ${SECONDS} s …\n`);
    const rounds = [
      await createRound(cluster, operator, drugs.slice(0, half), start, start + SECONDS * 350, `第一轮短缺药品报价（${half} 个品种）`),
      await createRound(cluster, operator, drugs.slice(half), start + SECONDS * 250, start + SECONDS * 600, `第二轮短缺药品报价（${drugs.length - half} 个品种）`),
    ];
    for (const [i, d] of distributors.entries()) for (const r of rounds) sockets[pharmacists.length + i]!.emit('round:watch', { roundId: r.id }, () => undefined);
    const prefixOf = new Map(drugs.map((d) => [d.id, d.tracePrefix]));
    const running = () => Date.now() < end;

    // distributors quote live over their sockets: each on a few lines per round, 1 fen to a few % lower each time
    const quoting = distributors.map(async (d, i) => {
      const socket = sockets[pharmacists.length + i]!;
      const own = new Map<string, number>();
      const mine = new Map(rounds.map((r) => [r.id, [...r.lines].sort(() => Math.random() - 0.5).slice(0, Math.max(2, Math.ceil(r.lines.length / 3)))]));
      let n = 0;
      while (running()) {
        const now = Date.now();
        const open = rounds.filter((r) => now >= r.opensAt + 500 && now < r.closesAt - 2000);
        if (!open.length) {
          await sleep(250);
          continue;
        }
        const r = pick(open);
        const line = pick(mine.get(r.id)!);
        const previous = own.get(line.lineId);
        const price = previous === undefined ? Math.floor(line.referenceFen * (0.8 + Math.random() * 0.19)) : previous - Math.max(line.minDecrementFen, Math.floor(previous * Math.random() * 0.02));
        if (price < line.referenceFen * 0.3) {
          await sleep(200);
          continue;
        }
        n += 1;
        const q0 = performance.now();
        try {
          const reply = await socket.timeout(60_000).emitWithAck('quote:submit', { roundId: r.id, lineId: line.lineId, priceFen: price, clientKey: `load-${d.org.id}-${n}` });
          if (reply.data) {
            own.set(line.lineId, price);
            const k = kind('quote (socket)');
            k.ok += 1;
            k.ms.push(performance.now() - q0);
          } else if (reply.error?.code === 'ROUND_CLOSED' && Date.now() >= r.closesAt - 2500) {
            // the round closed while the quote was on its way: the database decided, as it should
            kind('quote refused at the close (expected)').ok += 1;
          } else fail('quote (socket)', reply.error?.code ?? 'ERROR', reply.error?.message ?? '');
        } catch (err) {
          fail('quote (socket)', 'TIMEOUT', (err as Error).message);
        }
        await sleep(rand(300, 1200));
      }
    });

    // distributors confirm, ship and deliver what they are sent
    const fulfilling = distributors.map(async (d, i) => {
      const web = webOf(i + 1);
      while (running()) {
        const placed = await call('order: list (distributor)', d, web, 'GET', '/api/v1/orders?status=placed&limit=20');
        for (const o of placed?.body?.data ?? []) {
          if (!running()) break;
          await call('order: confirm', d, webOf(i + 2), 'POST', `/api/v1/orders/${o.id}/confirm`, {});
        }
        const confirmed = await call('order: list (distributor)', d, web, 'GET', '/api/v1/orders?status=confirmed&limit=20');
        for (const o of confirmed?.body?.data ?? []) {
          if (!running()) break;
          const lines = o.lines
            .filter((l: { confirmedQty: number }) => l.confirmedQty > 0)
            .map((l: { lineNo: number; drugId: string; confirmedQty: number }) => ({
              lineNo: l.lineNo,
              quantity: l.confirmedQty,
              batchNo: `B${new Date().toISOString().slice(2, 10).replace(/-/g, '')}${rand(100, 999)}`,
              expiryDate: new Date(Date.now() + 400 * 86_400_000).toISOString().slice(0, 10),
              codes: traceCodesFor(prefixOf.get(l.drugId)!, l.confirmedQty),
            }));
          await call('order: ship', d, webOf(i), 'POST', `/api/v1/orders/${o.id}/ship`, { carrier: '顺丰医药', trackingNo: `SF${uid()}`, lines }, true);
        }
        const shipped = await call('order: list (distributor)', d, web, 'GET', '/api/v1/orders?status=shipped&limit=20');
        for (const o of shipped?.body?.data ?? []) {
          if (!running()) break;
          await call('order: track (delivered)', d, webOf(i + 2), 'POST', `/api/v1/orders/${o.id}/tracking`, { kind: 'delivered', location: '医院药库' });
        }
        await sleep(rand(500, 1500));
      }
    });

    // pharmacists order (cheapest current listing, else the catalogue) and accept deliveries
    const ordering = pharmacists.map(async (p, i) => {
      const web = webOf(i);
      const mine = new Set<string>();
      while (running()) {
        const lines = [];
        const chosen = [...drugs].sort(() => Math.random() - 0.5).slice(0, rand(1, 3));
        for (const drug of chosen) {
          const listings = await call('order: listings of a drug', p, web, 'GET', `/api/v1/orders/listings?drugId=${drug.id}`);
          const cheapest = (listings?.body?.data ?? []).find((l: { credit: { suspended: boolean } | null }) => !l.credit?.suspended);
          if (cheapest) lines.push({ drugId: drug.id, distributorOrgId: cheapest.distributorOrgId, source: 'listing', refId: cheapest.listingId, quantity: rand(1, 6) });
          else lines.push({ drugId: drug.id, distributorOrgId: pick(distributors).org.id, source: 'catalogue', quantity: rand(1, 6) });
        }
        const placed = await call(lines.some((l) => l.source === 'listing') ? 'order: place (listing)' : 'order: place (catalogue)', p, web, 'POST', '/api/v1/orders', { urgency: Math.random() < 0.2 ? 'urgent' : 'regular', lines }, true);
        for (const o of placed?.body?.data ?? []) mine.add(o.id);
        // NOTE: each pharmacist receives the goods it ordered (a colleague's delivery is theirs to check)
        const delivered = await call('order: list (hospital)', p, web, 'GET', '/api/v1/orders?status=delivered&limit=50');
        for (const o of delivered?.body?.data ?? []) {
          if (!running()) break;
          if (!mine.has(o.id)) continue;
          const shipment = await call('order: shipment', p, web, 'GET', `/api/v1/orders/${o.id}/shipment`);
          if (!shipment) continue;
          const acceptance = {
            lines: shipment.body.lines.map((l: { lineNo: number; quantity: number; batchNo: string; expiryDate: string; codes: string[] }) => ({
              lineNo: l.lineNo,
              acceptedQty: l.quantity,
              refusedQty: 0,
              batchNo: l.batchNo,
              expiryDate: l.expiryDate,
              codes: l.codes,
            })),
          };
          await call('order: accept (invoice)', p, webOf(i + 1), 'POST', `/api/v1/orders/${o.id}/acceptance`, acceptance, true);
        }
        await sleep(rand(800, 2500));
      }
    });

    // hospital finance pays about a third of the open invoices early
    const paying = hospitals.map(async (h, i) => {
      const web = webOf(i + 2);
      const decided = new Set<string>();
      while (running()) {
        const open = await call('invoice: list', h.finance, web, 'GET', '/api/v1/finance/invoices?status=open&limit=50');
        for (const inv of open?.body?.data ?? []) {
          if (decided.has(inv.id) || !running()) continue;
          decided.add(inv.id);
          if (Math.random() < 0.35) await call('invoice: pay early', h.finance, web, 'POST', `/api/v1/finance/invoices/${inv.id}/pay`, {}, true);
        }
        await sleep(rand(1500, 3000));
      }
    });

    await Promise.all([...quoting, ...fulfilling, ...ordering, ...paying]);
    const dayMs = Date.now() - start;
    process.stderr.write(`the day is over (${(dayMs / 1000).toFixed(1)} s); waiting for the rounds and settling invoices at their due date …\n`);

    // the rounds closed on their own during the day (a worker job each); both must be published
    const db = (await cluster.db()).db!;
    for (const r of rounds) {
      await waitFor(async () => (await db.collection('quotation_rounds').findOne({ _id: oid(r.id) }))?.status === 'published', 60_000, `round ${r.id} published`);
    }

    // due date: the platform's shortest payment term is a day, so the clock of the remaining open
    // invoices is moved to their due date, and their scheduled settlement jobs run now
    const settleStart = Date.now();
    const due = await db.collection('finance_invoices').find({ status: 'open' }, { projection: { _id: 1 } }).toArray();
    await db.collection('finance_invoices').updateMany({ _id: { $in: due.map((d) => d._id) } }, { $set: { dueAt: new Date(Date.now() - 1000) } });
    for (const d of due) {
      const job = await cluster.queue().getJob(bullJobId(`invoice-settle:${String(d._id)}`));
      if (job) await job.promote().catch(() => undefined);
      else fail('invoice: due-date settlement', 'NO_JOB', String(d._id));
    }
    await waitFor(
      async () => (await db.collection('outbox_events').countDocuments({ key: { $in: due.map((d) => `invoice-settled:${String(d._id)}`) }, dispatchedAt: { $exists: true } })) === due.length,
      120_000,
      `${due.length} due-date settlements`,
      250,
    );
    const settleMs = Date.now() - settleStart;

    // exactly once, from the database
    const invoices = await db.collection('finance_invoices').find({}).toArray();
    const settledAtDue = invoices.filter((inv) => due.some((d) => String(d._id) === String(inv._id)));
    const entries = db.collection('finance_entries');
    const checks: [string, boolean, string][] = [];
    const settleEntries = await entries.countDocuments({ kind: 'settlement' });
    const payEntries = await entries.countDocuments({ kind: 'invoice_payment' });
    const earlyPaid = invoices.length - settledAtDue.length;
    checks.push(['one settlement entry per invoice settled at its due date', settleEntries === settledAtDue.filter((i) => (i.settlement?.fromAccountFen ?? 0) + (i.settlement?.advanceFen ?? 0) > 0).length, `${settleEntries} entries, ${settledAtDue.length} invoices`]);
    checks.push(['one payment entry per invoice paid early', payEntries === earlyPaid, `${payEntries} entries, ${earlyPaid} invoices`]);
    const perOrder = await db.collection('finance_invoices').aggregate([{ $group: { _id: '$orderId', n: { $sum: 1 } } }, { $match: { n: { $gt: 1 } } }]).toArray();
    checks.push(['at most one invoice per order', perOrder.length === 0, `${perOrder.length} orders with more`]);
    for (const r of rounds) {
      const closes = await db.collection('quotation_events').countDocuments({ roundId: oid(r.id), type: 'closed' });
      checks.push([`round ${r.id.slice(-6)} closed once`, closes === 1, `${closes} close events`]);
    }
    const ledger = await call('ledger: consistency check', operator, cluster.webs[0]!, 'GET', '/api/v1/finance/ledger/check');
    checks.push(['ledger: every balance equals its journal, every entry sums to zero', ledger?.body?.ok === true, JSON.stringify(ledger?.body ?? null).slice(0, 200)]);
    const outcomes = new Map<string, number>();
    for (const inv of settledAtDue) outcomes.set(inv.settlement?.outcome ?? '?', (outcomes.get(inv.settlement?.outcome ?? '?') ?? 0) + 1);

    for (const s of sockets) s.disconnect();

    // the report
    const errors = [...kinds.values()].reduce((a, k) => a + [...k.errors.values()].reduce((x, y) => x + y, 0), 0);
    const fmt = (n: number) => (Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n.toFixed(1)) : '–');
    const lines: string[] = [];
    lines.push(`\n# Load — ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${os.loadavg()[0]!.toFixed(1)}`);
    lines.push(`\n${WEB} web processes + ${WORKERS} workers + engine, local Redis; ${HOSPITALS} hospitals × ${PHARMACISTS} pharmacists, ${DISTRIBUTORS} distributors, ${drugs.length} drugs in 2 rounds; day ${(dayMs / 1000).toFixed(1)} s.\n`);
    lines.push('| kind | done | per second | p50 ms | p99 ms | errors |');
    lines.push('|---|---:|---:|---:|---:|---:|');
    for (const [name, k] of [...kinds].sort(([a], [b]) => a.localeCompare(b))) {
      const errs = [...k.errors.values()].reduce((a, b) => a + b, 0);
      lines.push(`| ${name} | ${k.ok} | ${fmt(k.ok / (dayMs / 1000))} | ${fmt(percentile(k.ms, 50))} | ${fmt(percentile(k.ms, 99))} | ${errs}${errs ? ` (${[...k.errors].map(([c, n]) => `${c}×${n}`).join(', ')})` : ''} |`);
    }
    lines.push(`| invoice: due-date settlement (jobs; rate over the settlement window) | ${settledAtDue.length} | ${fmt(settledAtDue.length / (settleMs / 1000))} | | | 0 |`);
    lines.push(`\nLive pushes received: ${[...pushes].sort(([a], [b]) => a.localeCompare(b)).map(([e, n]) => `${e} ${n}`).join(', ')}.`);
    lines.push(`Due-date settlements: ${[...outcomes].map(([o, n]) => `${o} ${n}`).join(', ') || 'none'} (${fmt(settleMs / 1000)} s).`);
    lines.push('\n| check | result | detail |');
    lines.push('|---|---|---|');
    for (const [what, ok, detail] of checks) lines.push(`| ${what} | ${ok ? 'ok' : 'FAILED'} | ${detail} |`);
    lines.push(`\nErrors: ${errors}.`);
    if (errorSamples.length) lines.push(`First errors:\n${errorSamples.map((e) => `  ${e}`).join('\n')}`);
    console.log(lines.join('\n'));
    exitCode = errors === 0 && checks.every(([, ok]) => ok) ? 0 : 1;
  } finally {
    await cluster.stop();
  }
  process.exit(exitCode);
}

function oid(id: string): Types.ObjectId {
  return new Types.ObjectId(id);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
