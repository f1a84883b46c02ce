// Live bidding: quote-to-broadcast latency (p50/p95/p99: a distributor emits `quote:submit`, an
// operator watcher receives the line's new ranking) and accepted quotes per second, with 200
// distributor sockets quoting and 50 watchers (10 operators, 40 hospital pharmacists) on one round of
// 50 lines. The baseline is a bare socket.io server in the same process and run, with the same 250
// clients, that acknowledges each message and relays it to the 50 watchers — no auth, rules,
// database, Redis adapter or per-viewer filtering.
import { createServer } from 'node:http';
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
  latencies: number[];
}

/**
 * Runs `senders` closed loops for `ms`: each sends, waits for its acknowledgement, sends again.
 * `send` resolves with the id the broadcast will carry (or null when refused); `received` maps ids
 * to the time a watcher got the broadcast.
 */
async function closedLoop(senders: number, ms: number, send: (sender: number, n: number) => Promise<{ id: string | null; sentAt: number }>, received: Map<string, number>): Promise<LoadResult> {
  const sent: { id: string; sentAt: number }[] = [];
  let refused = 0;
  const start = performance.now();
  const deadline = start + ms;
  await Promise.all(
    Array.from({ length: senders }, async (_, s) => {
      for (let n = 0; performance.now() < deadline; n += 1) {
        const r = await send(s, n);
        if (r.id) sent.push({ id: r.id, sentAt: r.sentAt });
        else refused += 1;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  await new Promise((r) => setTimeout(r, 500));
  const latencies = sent.map((x) => (received.get(x.id) ?? Number.NaN) - x.sentAt).filter((v) => Number.isFinite(v));
  return { accepted: sent.length, refused, seconds, latencies };
}

async function appRun(): Promise<{ idle: LoadResult; busy: LoadResult }> {
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
    // The first operator watcher timestamps every line broadcast by its round sequence number.
    const received = new Map<string, number>();
    watcherSockets[0]!.on('round:line', (p: { seq: number }) => received.set(String(p.seq), performance.now()));

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
    const busy = await closedLoop(DISTRIBUTORS, MS, send, received);
    if (refusals.size) process.stderr.write(`quotation bench: refused quotes by code ${JSON.stringify(Object.fromEntries(refusals))}\n`);
    return { idle, busy };
  } finally {
    for (const s of sockets) s.close();
    await bench.close();
  }
}

async function baselineRun(): Promise<{ idle: LoadResult; busy: LoadResult }> {
  const httpServer = createServer();
  const io = new Server(httpServer, { transports: ['websocket'], serveClient: false });
  io.on('connection', (socket) => {
    socket.on('watch', (_p: unknown, ack: (r: unknown) => void) => {
      void socket.join('watchers');
      ack({ data: true });
    });
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
    for (const w of watchers) await w.timeout(10_000).emitWithAck('watch', {});
    const received = new Map<string, number>();
    watchers[0]!.on('relay', (p: { id: string }) => received.set(p.id, performance.now()));
    const send = async (sender: number, n: number) => {
      const id = `${sender}:${n}`;
      const sentAt = performance.now();
      await senders[sender]!.timeout(30_000).emitWithAck('msg', { id, payload: { lineId: 'x'.repeat(24), priceFen: 1_000_000 + n } });
      return { id, sentAt };
    };
    await closedLoop(Math.min(20, DISTRIBUTORS), 500, send, received);
    const idle = await closedLoop(1, Math.min(MS, 3000), send, received);
    const busy = await closedLoop(DISTRIBUTORS, MS, send, received);
    return { idle, busy };
  } finally {
    for (const s of [...senders, ...watchers]) s.close();
    await new Promise<void>((resolve) => io.close(() => resolve()));
  }
}

export default async function quotationBench(): Promise<BenchRow[]> {
  const app = await appRun();
  const bare = await baselineRun();
  const rows: BenchRow[] = [];
  const baselineName = 'bare socket.io relay (ack + broadcast, same 250 clients)';
  for (const [label, a, b] of [
    ['one quote at a time', app.idle, bare.idle],
    [`${DISTRIBUTORS} distributors at once`, app.busy, bare.busy],
  ] as const) {
    for (const p of [50, 95, 99]) {
      const value = percentile(a.latencies, p);
      const baseline = percentile(b.latencies, p);
      rows.push({ name: `quotation: quote-to-broadcast latency p${p}, ${label} (${LINES} lines, ${WATCHERS} watchers)`, value, unit: 'ms', baselineName, baseline, ratio: value / baseline, ratioNote: 'app / baseline, lower is better' });
    }
  }
  const qps = app.busy.accepted / app.busy.seconds;
  const relayed = bare.busy.accepted / bare.busy.seconds;
  rows.push({ name: `quotation: accepted quotes/s, ${DISTRIBUTORS} distributors quoting at once (refused: ${app.busy.refused})`, value: qps, unit: 'msg/s', baselineName, baseline: relayed, ratio: qps / relayed, ratioNote: 'app / baseline, higher is better' });
  return rows;
}
