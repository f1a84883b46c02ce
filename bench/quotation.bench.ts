// Live bidding: quote-to-watcher latency (p50/p95/p99 over EVERY watcher sent the quote: a distributor
// emits `quote:submit`, each operator watcher receives the quote in its commit's `round:lines` delta), the bidder's
// acknowledgement, the event-loop delay during the burst, memory per watcher socket, and accepted
// quotes per second, with 200
// distributor sockets quoting and 50 watchers (10 operators, 40 hospital pharmacists) on one round of
// 50 lines. The baseline is a bare socket.io server in the same process and run, with the same 250
// clients, that acknowledges each message and relays it to the 50 watchers — no auth, rules,
// database, Redis adapter or per-viewer filtering.
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as ioClient, type Socket } from 'socket.io-client';
import type { Actor } from '../server/platform/auth';
import { generateValidGtin13, gs1CheckDigit } from '../server/modules/catalogue/catalogue.codes';
import { createDrug } from '../server/modules/catalogue/catalogue.service';
import { ensureDefaultCommitment } from '../server/modules/credit';
import { createOrganisation, createUser, login } from '../server/modules/identity';
import { createRound, Round, scheduleRound } from '../server/modules/quotation';
import { type BenchRow, percentile } from './lib';
import { startBenchApp } from './harness';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { profiled, profileLines, readProfile } from './profile';

const MS = Number(process.env.BENCH_MS ?? 5000);
const DISTRIBUTORS = Number(process.env.BENCH_DISTRIBUTORS ?? 200);
const WATCHERS = 50;
const OPERATOR_WATCHERS = 10;
const LINES = 50;
const REFERENCE_FEN = 10_000_000;

const SYSTEM: Actor = { id: '000000000000000000000000', sessionId: 'bench', email: 'bench@local', name: 'bench', role: 'operator', orgId: '000000000000000000000000', orgType: 'operator', orgName: 'bench' };

function connect(url: string, token?: string): Promise<Socket> {
  const socket = ioClient(url, { transports: ['websocket'], auth: token ? { token } : {}, reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

async function inBatches<T>(n: number, size: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += size) out.push(...(await Promise.all(Array.from({ length: Math.min(size, n - i) }, (_, k) => fn(i + k)))));
  return out;
}

interface LoadResult {
  accepted: number;
  refused: number;
  seconds: number;
  /** send → receipt, for every watcher that received each accepted message */
  latencies: number[];
  /** send → acknowledgement */
  acks: number[];
  /** event-loop delay while the senders ran (this process holds the app and the clients) */
  loopP99: number;
  /** CPU time used while the senders ran: this process (app and clients), and the engine process (app runs) */
  cpuMs: { here: number; engine: number };
}

/** CPU time (ms) of this process's child running the engine (`engine/cli.ts`), from /proc; 0 where there is none. */
function engineCpuMs(): number {
  try {
    for (const pid of readdirSync('/proc').filter((f) => /^\d+$/.test(f))) {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== process.pid) continue;
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('engine/cli.ts')) continue;
      // utime + stime, in clock ticks (100 a second on Linux)
      return (Number(fields[11]) + Number(fields[12])) * 10;
    }
  } catch {
    // not Linux, or the process went away
  }
  return 0;
}

/**
 * Runs `senders` closed loops for `ms`: each sends, waits for its acknowledgement, sends again.
 * `send` resolves with the id the broadcast will carry (or null when refused); `received` maps ids
 * to the time a watcher got the broadcast.
 */
async function closedLoop(senders: number, ms: number, send: (sender: number, n: number) => Promise<{ id: string | null; sentAt: number }>, received: Map<string, number[]>): Promise<LoadResult> {
  const sent: { id: string; sentAt: number }[] = [];
  const acks: number[] = [];
  let refused = 0;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const engine0 = engineCpuMs();
  const start = performance.now();
  const deadline = start + ms;
  await Promise.all(
    Array.from({ length: senders }, async (_, s) => {
      for (let n = 0; performance.now() < deadline; n += 1) {
        const r = await send(s, n);
        acks.push(performance.now() - r.sentAt);
        if (r.id) sent.push({ id: r.id, sentAt: r.sentAt });
        else refused += 1;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = { here: (cpu.user + cpu.system) / 1000, engine: engineCpuMs() - engine0 };
  loop.disable();
  await new Promise((r) => setTimeout(r, 500));
  const latencies = sent.flatMap((x) => (received.get(x.id) ?? []).map((t) => t - x.sentAt));
  return { accepted: sent.length, refused, seconds, latencies, acks, loopP99: loop.percentile(99) / 1e6, cpuMs };
}

async function appRun(): Promise<{ idle: LoadResult; busy: LoadResult; perSocket: number }> {
  const bench = await startBenchApp('quotation', { env: { QUOTE_RATE_LIMIT: '1000000', LOGIN_RATE_LIMIT: '1000000' } });
  const { runId, app } = bench;
  const url = app.url!;
  const sockets: Socket[] = [];
  try {
    await ensureDefaultCommitment();
    const userOf = async (type: 'distributor' | 'hospital' | 'operator', role: 'distributor' | 'pharmacist' | 'operator', i: number) => {
      const org = (await createOrganisation(SYSTEM, { name: `bench-${type}-${runId}-${i}`, type, ...(type === 'hospital' ? { hospitalLevel: 2 as const, address: '示范市 1 号' } : {}) })) as unknown as { id: string };
      const email = `${role}-${i}-${runId}@bench.local`;
      await createUser(SYSTEM, { orgId: org.id, name: `${role} ${i}`, email, role, password: 'bench-password-1' });
      return (await login(email, 'bench-password-1', { ip: `bench-${i}` })).token;
    };
    const distributorTokens = await inBatches(DISTRIBUTORS, 20, async (i) => {
      const token = await userOf('distributor', 'distributor', i);
      const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
      const letter = (await (await fetch(`${url}/api/v1/credit/commitment`, { headers })).json()) as { version: { id: string }; textSha256: string };
      const signed = await fetch(`${url}/api/v1/credit/commitment/sign`, { method: 'POST', headers, body: JSON.stringify({ versionId: letter.version.id, textSha256: letter.textSha256 }) });
      if (signed.status !== 201) throw new Error(`signing failed: ${signed.status}`);
      return token;
    });
    const operatorTokens = await inBatches(OPERATOR_WATCHERS, 10, (i) => userOf('operator', 'operator', i));
    const hospitalTokens = await inBatches(WATCHERS - OPERATOR_WATCHERS, 20, (i) => userOf('hospital', 'pharmacist', i));

    const drugIds = await inBatches(LINES, 10, async (i) => {
      const enterprise = String(30_000 + i);
      const body = `869${enterprise}${String(50_000 + i).padStart(5, '0')}`;
      const drug = await createDrug(SYSTEM, {
        genericNameZh: `基准短缺药品${i}`,
        genericNameEn: `Bench shortage drug ${i}`,
        dosageForm: '注射剂',
        formClass: 'small_volume_injection',
        specification: '2ml:10mg',
        packUnit: '支',
        manufacturer: '基准制药',
        nhsaCode: `XB01ADD${String(100 + i)}A0020101${enterprise}`,
        standardCode: body + gs1CheckDigit(body),
        gtin: generateValidGtin13(710_000_000 + i),
        tracePrefix: String(6_000_000 + i),
        categories: { shortage: true, vbp: false, regular: false },
        referencePriceFen: REFERENCE_FEN,
        effectiveFrom: new Date(Date.now() - 86_400_000).toISOString(),
      });
      return drug.id;
    });
    const round = await createRound(SYSTEM, {
      title: `基准报价轮次 ${runId}`,
      lines: drugIds.map((drugId) => ({ drugId })),
      opensAt: new Date().toISOString(),
      closesAt: new Date(Date.now() + 3600_000).toISOString(),
      visibility: 'rank',
      minDecrementBp: 1,
      antiSniping: { windowSec: 1, extendSec: 1, maxExtensions: 0 },
    });
    const roundId = String(round._id);
    await scheduleRound(SYSTEM, roundId);
    for (let i = 0; i < 100 && (await Round.findById(roundId).lean<{ status: string }>())?.status !== 'open'; i += 1) await new Promise((r) => setTimeout(r, 50));
    const lineIds = round.lines.map((l) => String(l._id));

    const distributorSockets = await inBatches(DISTRIBUTORS, 50, (i) => connect(url, distributorTokens[i]));
    const watcherSockets = await inBatches(WATCHERS, 50, (i) => connect(url, i < OPERATOR_WATCHERS ? operatorTokens[i] : hospitalTokens[i - OPERATOR_WATCHERS]));
    sockets.push(...distributorSockets, ...watcherSockets);
    for (const s of [...distributorSockets, ...watcherSockets]) {
      const ack = (await s.timeout(10_000).emitWithAck('round:watch', { roundId })) as { error?: unknown };
      if (ack.error) throw new Error(`watch refused: ${JSON.stringify(ack.error)}`);
    }
    // Every watcher that is sent quotes (the operators; hospitals see none while quoting runs)
    // timestamps each quote it receives by the round's sequence number.
    const received = new Map<string, number[]>();
    for (const w of watcherSockets.slice(0, OPERATOR_WATCHERS)) {
      // one push per commit: every quote it carries counts as received now
      w.on('round:lines', (p: { lines: { quotes?: { seq: number }[] }[] }) => {
        const at = performance.now();
        for (const line of p.lines) {
          for (const q of line.quotes ?? []) {
            const list = received.get(String(q.seq));
            if (list) list.push(at);
            else received.set(String(q.seq), [at]);
          }
        }
      });
    }

    // BENCH_COUNT_PUSHES=1: how many pushes each accepted quote costs the server (each one broadcast
    // through the adapter); off by default, so the measured runs carry no extra listener.
    const pushes = new Map<string, number>();
    if (process.env.BENCH_COUNT_PUSHES === '1') for (const s of [...distributorSockets, ...watcherSockets]) s.onAny((event: string) => pushes.set(event, (pushes.get(event) ?? 0) + 1));
    const pushesBefore = (): Map<string, number> => new Map(pushes);

    const lastPrice = new Map<string, number>();
    const refusals = new Map<string, number>();
    let keySeq = 0;
    const send = async (sender: number, n: number) => {
      const lineId = lineIds[(sender + n * 7) % LINES]!;
      const key = `${sender}:${lineId}`;
      const priceFen = (lastPrice.get(key) ?? REFERENCE_FEN - sender) - 1000 - ((sender * 31 + n) % 97);
      const sentAt = performance.now();
      const ack = (await distributorSockets[sender]!.timeout(30_000).emitWithAck('quote:submit', { roundId, lineId, priceFen, clientKey: `b-${runId}-${sender}-${(keySeq += 1)}` })) as { data?: { seq: number }; error?: { code: string } };
      if (!ack.data) {
        refusals.set(ack.error?.code ?? 'NO_REPLY', (refusals.get(ack.error?.code ?? 'NO_REPLY') ?? 0) + 1);
        return { id: null, sentAt };
      }
      lastPrice.set(key, priceFen);
      return { id: String(ack.data.seq), sentAt };
    };
    // Warm up, then one quote at a time (latency without queueing), then all 200 at once.
    await closedLoop(Math.min(20, DISTRIBUTORS), 500, send, received);
    const idle = await closedLoop(1, Math.min(MS, 3000), send, received);
    const pushed0 = pushesBefore();
    const busy = await closedLoop(DISTRIBUTORS, MS, send, received);
    const perQuote = [...pushes].map(([event, n]) => `${event} ${((n - (pushed0.get(event) ?? 0)) / Math.max(1, busy.accepted)).toFixed(2)}`);
    if (pushes.size) process.stderr.write(`quotation bench: messages received by the clients per accepted quote, 200 at once: ${perQuote.join(', ')}\n`);
    // Where the time goes: a short second burst under the CPU profiler (the measured one runs unprofiled).
    if (process.env.BENCH_PROFILE !== '0') {
      const { profile } = await profiled(() => closedLoop(DISTRIBUTORS, Math.min(MS, 2000), send, received));
      process.stderr.write(`${profileLines(`quotation bench: ${DISTRIBUTORS} distributors at once (app and its 250 clients in this process)`, profile, 15)}\n`);
      // BENCH_PROFILE_OUT=FILE keeps the whole profile (for DevTools, or a look by caller and package).
      if (process.env.BENCH_PROFILE_OUT) writeFileSync(process.env.BENCH_PROFILE_OUT, JSON.stringify(profile));
    }
    if (refusals.size) process.stderr.write(`quotation bench: refused quotes by code ${JSON.stringify(Object.fromEntries(refusals))}\n`);
    const perSocket = await memoryPerWatcher(url, operatorTokens[0]!, (s) => s.timeout(10_000).emitWithAck('round:watch', { roundId }));
    return { idle, busy, perSocket };
  } finally {
    for (const s of sockets) s.close();
    await bench.close();
    printEngineProfile();
  }
}

/** With BENCH_ENGINE_ARGS='--cpu-prof --cpu-prof-dir=DIR', the engine's profile of the whole app run (set-up included). */
const startedAt = Date.now();
function printEngineProfile(): void {
  const dir = /--cpu-prof-dir=(\S+)/.exec(process.env.BENCH_ENGINE_ARGS ?? '')?.[1];
  if (!dir) return;
  // NOTE: the engine's main thread writes the largest of the files its process leaves (its loader thread writes one too).
  const newest = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).mtimeMs >= startedAt)
    .sort((a, b) => statSync(b).size - statSync(a).size)[0];
  if (newest) process.stderr.write(`${profileLines('quotation bench: the engine process (whole app run, set-up included)', readProfile(newest), 15)}\n`);
}

const gc = (() => {
  v8.setFlagsFromString('--expose_gc');
  return vm.runInNewContext('gc') as () => void;
})();

function heapAfterGc(): number {
  for (let i = 0; i < 3; i += 1) gc();
  return process.memoryUsage().heapUsed;
}

/**
 * Heap per watcher socket: 200 more watchers connect and watch, measured after GC. The clients live
 * in this process too, for the app and the bare server alike, so both figures include the same
 * client-side cost. One watcher joins before the first measurement: what the app keeps per round
 * for the joins at one sequence (its ranking, a few seconds) is not a cost of each socket.
 */
async function memoryPerWatcher(url: string, token: string | undefined, watchOne: (s: Socket) => Promise<unknown>): Promise<number> {
  const N = 200;
  const first = await connect(url, token);
  await watchOne(first);
  const before = heapAfterGc();
  const extra = await inBatches(N, 50, () => connect(url, token));
  for (const s of extra) await watchOne(s);
  await new Promise((r) => setTimeout(r, 200));
  const after = heapAfterGc();
  for (const s of [first, ...extra]) s.close();
  return (after - before) / N / 1024;
}

async function baselineRun(): Promise<{ idle: LoadResult; busy: LoadResult; perSocket: number; echoP99: number }> {
  const httpServer = createServer();
  const io = new Server(httpServer, { transports: ['websocket'], serveClient: false });
  io.on('connection', (socket) => {
    socket.on('watch', (_p: unknown, ack: (r: unknown) => void) => {
      void socket.join('watchers');
      ack({ data: true });
    });
    socket.on('echo', (p: unknown, ack: (r: unknown) => void) => ack({ data: p }));
    socket.on('msg', (p: { id: string }, ack: (r: unknown) => void) => {
      ack({ data: { id: p.id } });
      io.to('watchers').emit('relay', p);
    });
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  const senders = await inBatches(DISTRIBUTORS, 50, () => connect(url));
  const watchers = await inBatches(WATCHERS, 50, () => connect(url));
  try {
    // NOTE: only as many watchers join as the app pushes each quote to (its operators), so both
    // servers fan each message out to the same number of sockets.
    for (const w of watchers.slice(0, OPERATOR_WATCHERS)) await w.timeout(10_000).emitWithAck('watch', {});
    const received = new Map<string, number[]>();
    for (const w of watchers.slice(0, OPERATOR_WATCHERS)) {
      w.on('relay', (p: { id: string }) => {
        const at = performance.now();
        const list = received.get(p.id);
        if (list) list.push(at);
        else received.set(p.id, [at]);
      });
    }
    const send = async (sender: number, n: number) => {
      const id = `${sender}:${n}`;
      const sentAt = performance.now();
      await senders[sender]!.timeout(30_000).emitWithAck('msg', { id, payload: { lineId: 'x'.repeat(24), priceFen: 1_000_000 + n } });
      return { id, sentAt };
    };
    await closedLoop(Math.min(20, DISTRIBUTORS), 500, send, received);
    const idle = await closedLoop(1, Math.min(MS, 3000), send, received);
    const busy = await closedLoop(DISTRIBUTORS, MS, send, received);
    const echo: number[] = [];
    for (let i = 0; i < 300; i += 1) {
      const t0 = performance.now();
      await senders[0]!.timeout(10_000).emitWithAck('echo', { i });
      echo.push(performance.now() - t0);
    }
    const perSocket = await memoryPerWatcher(url, undefined, (s) => s.timeout(10_000).emitWithAck('watch', {}));
    return { idle, busy, perSocket, echoP99: percentile(echo.slice(50), 99) };
  } finally {
    for (const s of [...senders, ...watchers]) s.close();
    await new Promise<void>((resolve) => io.close(() => resolve()));
  }
}

export default async function quotationBench(): Promise<BenchRow[]> {
  const app = await appRun();
  const bare = await baselineRun();
  const rows: BenchRow[] = [];
  const baselineName = 'bare socket.io relay (ack + broadcast, same clients)';
  for (const [label, a, b] of [
    ['one quote at a time', app.idle, bare.idle],
    [`${DISTRIBUTORS} distributors at once`, app.busy, bare.busy],
  ] as const) {
    for (const p of [50, 95, 99]) {
      const value = percentile(a.latencies, p);
      const baseline = percentile(b.latencies, p);
      rows.push({ name: `quotation: quote → every watcher p${p}, ${label} (${LINES} lines, ${OPERATOR_WATCHERS} watchers sent each quote)`, value, unit: 'ms', baselineName, baseline, ratio: value / baseline, ratioNote: 'app / baseline, lower is better' });
    }
    const ack = percentile(a.acks, 99);
    const bareAck = percentile(b.acks, 99);
    rows.push({ name: `quotation: acknowledgement p99, ${label}`, value: ack, unit: 'ms', baselineName, baseline: bareAck, ratio: ack / bareAck, ratioNote: 'app / baseline, lower is better' });
    rows.push({ name: `quotation: event-loop delay p99 during ${label} (app and clients share the process)`, value: a.loopP99, unit: 'ms', baselineName, baseline: b.loopP99, ratio: a.loopP99 / b.loopP99, ratioNote: 'lower is better' });
  }
  const qps = app.busy.accepted / app.busy.seconds;
  const relayed = bare.busy.accepted / bare.busy.seconds;
  // NOTE: CPU time per message is what load on the machine changes least: the ceiling on 2 cores is 2000 ms / (ms per quote).
  const perQuote = (app.busy.cpuMs.here + app.busy.cpuMs.engine) / app.busy.accepted;
  const perRelayed = bare.busy.cpuMs.here / bare.busy.accepted;
  rows.push({
    name: `quotation: CPU per accepted quote, ${DISTRIBUTORS} at once (app + its clients ${(app.busy.cpuMs.here / app.busy.accepted).toFixed(2)} ms, engine ${(app.busy.cpuMs.engine / app.busy.accepted).toFixed(2)} ms)`,
    value: perQuote,
    unit: 'ms',
    baselineName,
    baseline: perRelayed,
    ratio: perQuote / perRelayed,
    ratioNote: 'app / baseline, lower is better',
  });
  rows.push({ name: `quotation: accepted quotes/s, ${DISTRIBUTORS} distributors quoting at once (refused: ${app.busy.refused})`, value: qps, unit: 'msg/s', baselineName, baseline: relayed, ratio: qps / relayed, ratioNote: 'app / baseline, higher is better' });
  const write = await engineWriteP99();
  const budget = bare.echoP99 + write + 5;
  rows.push({ name: 'quotation: acknowledgement p99, one quote at a time', value: percentile(app.idle.acks, 99), unit: 'ms', baselineName: `bare echo p99 ${bare.echoP99.toFixed(2)} + one engine write p99 ${write.toFixed(2)} + 5 ms`, baseline: budget, ratio: percentile(app.idle.acks, 99) / budget, ratioNote: 'goal ≤ 1' });
  rows.push({ name: 'quotation: heap per watcher socket (after GC)', value: app.perSocket, unit: 'KiB', baselineName: 'bare socket.io server, same clients', baseline: bare.perSocket, ratio: app.perSocket / bare.perSocket, ratioNote: 'lower is better' });
  return rows;
}

/** p99 of one insert to the engine through the driver (a fresh in-memory engine process). */
async function engineWriteP99(): Promise<number> {
  const { spawnEngine } = await import('../server/engine/spawn');
  const { MongoClient } = await import('mongodb');
  const engine = await spawnEngine({ memory: true, port: 0, host: '127.0.0.1' });
  const client = await MongoClient.connect(`${engine.uri}bench_write`);
  try {
    const coll = client.db('bench_write').collection('w');
    const times: number[] = [];
    for (let i = 0; i < 550; i += 1) {
      const t0 = performance.now();
      await coll.insertOne({ i, at: new Date(), priceFen: 1_000_000 + i });
      if (i >= 50) times.push(performance.now() - t0);
    }
    return percentile(times, 99);
  } finally {
    await client.close();
    await engine.stop();
  }
}
