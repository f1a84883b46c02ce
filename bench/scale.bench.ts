// Scale-out benchmark: accepted quotes per second and quote-to-broadcast latency through the real
// live-bidding path (socket `quote:submit` → validation, credit gate, one transaction on the round,
// ack, fan-out through the Redis Streams adapter), first with 1 web process, then with 3 (bidders
// and watchers spread over them), against one engine process, one worker and the local Redis.
// Baselines from the same run: a bare socket.io server in its own process (ack echo for throughput,
// broadcast for latency), driven by the same clients at the same concurrency and pace.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io as ioClient, type Socket } from 'socket.io-client';
import {
  createClusterUser,
  createDrug,
  openClusterRound,
  seedOperator,
  signClusterCommitment,
  startCluster,
  type AppProcess,
  type ClusterUser,
  type OpenedRound,
} from '../test/support/processes';
import { percentile, type BenchRow } from './lib';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.SCALE_BENCH_SECONDS ?? 5);
const BIDDERS = Number(process.env.SCALE_BENCH_BIDDERS ?? 12);
const WATCHERS = Number(process.env.SCALE_BENCH_WATCHERS ?? 9);
const ROUNDS = 3;
/** latency phase: at most one quote per MIN_PACE_MS, up to MAX_SAMPLES quotes in about LATENCY_BUDGET_MS */
const MIN_PACE_MS = 40;
const MAX_SAMPLES = 150;
const LATENCY_BUDGET_MS = Number(process.env.SCALE_BENCH_LATENCY_MS ?? 10_000);

function connect(url: string, token?: string): Promise<Socket> {
  const socket = ioClient(url, { transports: ['websocket'], auth: token ? { token } : {}, extraHeaders: { origin: url }, reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

interface Bidder {
  socket: Socket;
  round: OpenedRound;
  priceFen: number;
  n: number;
}

/** Closed loop: every bidder quotes 1 fen lower as soon as its previous quote is acknowledged. */
async function throughput(bidders: Bidder[], seconds: number, submit: (b: Bidder) => Promise<{ ok: boolean; code?: string }>) {
  const refused = new Map<string, number>();
  let accepted = 0;
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    bidders.map(async (b) => {
      while (performance.now() < end) {
        const r = await submit(b);
        if (r.ok) accepted += 1;
        else refused.set(r.code ?? 'ERROR', (refused.get(r.code ?? 'ERROR') ?? 0) + 1);
      }
    }),
  );
  return { perSec: accepted / ((performance.now() - start) / 1000), refused };
}

/**
 * Open loop at a fixed pace: each quote's send time, matched (by round and sequence number from the
 * ack) with the time every watcher received the broadcast.
 */
async function latency(setup: Setup, paceMs: number, count: number) {
  const received = new Map<string, number[]>();
  const listeners = setup.watchers.map((w) => {
    const fn = (payload: Record<string, unknown>) => {
      const at = performance.now();
      for (const key of setup.keysOf(payload)) {
        const list = received.get(key) ?? [];
        list.push(at);
        received.set(key, list);
      }
    };
    w.on(setup.event, fn);
    return () => w.off(setup.event, fn);
  });
  const sent = new Map<string, number>();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i += 1) {
    const b = setup.bidders[i % setup.bidders.length]!;
    const t0 = performance.now();
    pending.push(
      setup.submit(b).then((r) => {
        if (r.ok && r.key) sent.set(r.key, t0);
      }),
    );
    await new Promise((r) => setTimeout(r, paceMs));
  }
  await Promise.all(pending);
  await new Promise((r) => setTimeout(r, 1000));
  for (const off of listeners) off();
  const samples: number[] = [];
  for (const [key, t0] of sent) for (const t of received.get(key) ?? []) samples.push(t - t0);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), samples: samples.length };
}

async function quoteSubmit(b: Bidder): Promise<{ ok: boolean; code?: string; key?: string }> {
  b.n += 1;
  b.priceFen -= 1;
  const line = b.round.lines[0]!;
  try {
    const reply = await b.socket.timeout(30_000).emitWithAck('quote:submit', { roundId: b.round.id, lineId: line.lineId, priceFen: b.priceFen, clientKey: `bench-${b.socket.id}-${b.n}` });
    if (reply.data) return { ok: true, key: `${b.round.id}:${reply.data.seq}` };
    return { ok: false, code: reply.error?.code };
  } catch {
    return { ok: false, code: 'TIMEOUT' };
  }
}

interface Setup {
  bidders: Bidder[];
  watchers: Socket[];
  submit: (b: Bidder) => Promise<{ ok: boolean; code?: string; key?: string }>;
  event: string;
  /** The quotes a push carries (a commit's push carries several). */
  keysOf: (payload: Record<string, unknown>) => string[];
  close(): Promise<void>;
}

/** The app: bidders and watchers spread over the given web processes, on fresh rounds. */
async function setupApp(webs: AppProcess[], operator: ClusterUser, distributors: ClusterUser[], watcherUsers: ClusterUser[]): Promise<Setup> {
  const drugs = await Promise.all(Array.from({ length: ROUNDS }, () => createDrug(operator, { referencePriceFen: 2_890_000 })));
  const rounds = await Promise.all(drugs.map((d) => openClusterRound(operator, { drugIds: [d.id], closesInMs: 30 * 60_000, visibility: 'rank', minDecrementBp: 0 })));
  const bidders: Bidder[] = await Promise.all(
    distributors.map(async (d, i) => ({ socket: await connect(webs[i % webs.length]!.url!, d.token), round: rounds[i % rounds.length]!, priceFen: 2_890_000, n: 0 })),
  );
  const watchers = await Promise.all(watcherUsers.map((u, i) => connect(webs[i % webs.length]!.url!, u.token)));
  for (const w of watchers) {
    for (const r of rounds) {
      const reply = await w.timeout(30_000).emitWithAck('round:watch', { roundId: r.id });
      if (reply.error) throw new Error(`round:watch failed: ${JSON.stringify(reply.error)}`);
    }
  }
  return {
    bidders,
    watchers,
    submit: quoteSubmit,
    event: 'round:lines',
    keysOf: (p) => (p.lines as { quotes?: { seq: number }[] }[]).flatMap((l) => (l.quotes ?? []).map((q) => `${p.roundId}:${q.seq}`)),
    async close() {
      for (const s of [...bidders.map((b) => b.socket), ...watchers]) s.disconnect();
      for (const r of rounds) await operator.api().post(`/api/v1/rounds/${r.id}/cancel`, { reason: '基准测试结束' }).catch(() => undefined);
    },
  };
}

// A bare socket.io server in its own process: `quote` is acknowledged with a sequence number and
// broadcast to the watchers' room, nothing else.
const BARE_SERVER = `
import { createServer } from 'node:http';
import { Server } from 'socket.io';
const http = createServer();
const io = new Server(http, { transports: ['websocket'], cors: { origin: true } });
let seq = 0;
io.on('connection', (socket) => {
  socket.on('watch', (ack) => { socket.join('watchers'); ack({ ok: true }); });
  socket.on('quote', (payload, ack) => { seq += 1; ack({ data: { seq } }); io.to('watchers').emit('line', { seq }); });
});
http.listen(0, '127.0.0.1', () => process.stdout.write('bare ready ' + http.address().port + '\\n'));
process.stdin.on('end', () => process.exit(0)); process.stdin.resume();
`;

async function setupBare(): Promise<Setup> {
  const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', BARE_SERVER], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /bare ready (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`bare socket.io server exited (${code})`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const fake: OpenedRound = { id: 'bare', lines: [{ lineId: 'bare', drugId: 'bare', referenceFen: 0 }], closesAt: new Date() };
  const bidders: Bidder[] = await Promise.all(Array.from({ length: BIDDERS }, async () => ({ socket: await connect(url), round: fake, priceFen: 2_890_000, n: 0 })));
  const watchers = await Promise.all(Array.from({ length: WATCHERS }, () => connect(url)));
  for (const w of watchers) await w.timeout(5000).emitWithAck('watch');
  return {
    bidders,
    watchers,
    async submit(b) {
      b.n += 1;
      b.priceFen -= 1;
      try {
        const reply = await b.socket.timeout(30_000).emitWithAck('quote', { roundId: 'bare', lineId: 'bare', priceFen: b.priceFen, clientKey: `bare-${b.n}` });
        return { ok: true, key: `bare:${reply.data.seq}` };
      } catch {
        return { ok: false, code: 'TIMEOUT' };
      }
    },
    event: 'line',
    keysOf: (p) => [`bare:${p.seq}`],
    async close() {
      for (const s of [...bidders.map((b) => b.socket), ...watchers]) s.disconnect();
      child.kill('SIGTERM');
    },
  };
}

async function measureThroughput(s: Setup) {
  await throughput(s.bidders, 1, s.submit); // warm-up
  return throughput(s.bidders, SECONDS, s.submit);
}

function refusedNote(refused: Map<string, number>): string {
  const total = [...refused.values()].reduce((a, b) => a + b, 0);
  return total ? `; ${total} refused: ${[...refused].map(([c, n]) => `${c}×${n}`).join(', ')}` : '';
}

export default async function scaleBench(): Promise<BenchRow[]> {
  const cluster = await startCluster({ web: 1, webSlots: 3, workers: 1, name: 'benchscale', nodeEnv: 'production', logLevel: 'error', env: { QUOTE_RATE_LIMIT: '1000000' } });
  const setups: Setup[] = [];
  try {
    const operator = await seedOperator(cluster);
    const distributors: ClusterUser[] = [];
    for (let i = 0; i < BIDDERS; i += 1) {
      const d = await createClusterUser(cluster, operator, 'distributor', { orgName: `基准配送企业${i + 1}` });
      await signClusterCommitment(operator, d);
      distributors.push(d);
    }
    const watcherUsers: ClusterUser[] = [];
    for (let i = 0; i < WATCHERS; i += 1) watcherUsers.push(await createClusterUser(cluster, operator, 'operator', { org: operator.org }));

    const bare = await setupBare();
    setups.push(bare);
    const bareT = await measureThroughput(bare);
    const one = await setupApp(cluster.webs.slice(0, 1), operator, distributors, watcherUsers);
    setups.push(one);
    const oneT = await measureThroughput(one);
    // NOTE: latency is measured under light load (half the 1-process capacity, at most one quote per
    // 40 ms), the same pace for every setup, so it shows the path and not a queue.
    const paceMs = Math.max(MIN_PACE_MS, Math.ceil(2000 / Math.max(oneT.perSec, 0.1)));
    const samples = Math.max(30, Math.min(MAX_SAMPLES, Math.floor(LATENCY_BUDGET_MS / paceMs)));
    const bareL = await latency(bare, paceMs, samples);
    const oneL = await latency(one, paceMs, samples);
    await one.close();
    await Promise.all([cluster.startWeb(), cluster.startWeb()]);
    const three = await setupApp(cluster.webs.slice(0, 3), operator, distributors, watcherUsers);
    setups.push(three);
    const threeT = await measureThroughput(three);
    const threeL = await latency(three, paceMs, samples);

    const setup = `${BIDDERS} bidders on ${ROUNDS} rounds, ${WATCHERS} watchers`;
    const pace = `${samples} quotes at 1 per ${paceMs} ms`;
    return [
      {
        name: `scale: accepted quotes/s, 1 web process (${setup}${refusedNote(oneT.refused)})`,
        value: oneT.perSec,
        unit: 'quotes/s',
        baselineName: 'bare socket.io ack echo, same clients',
        baseline: bareT.perSec,
        ratio: oneT.perSec / bareT.perSec,
        ratioNote: 'app / bare',
      },
      {
        name: `scale: accepted quotes/s, 3 web processes (clients spread${refusedNote(threeT.refused)})`,
        value: threeT.perSec,
        unit: 'quotes/s',
        baselineName: 'same, 1 web process',
        baseline: oneT.perSec,
        ratio: threeT.perSec / oneT.perSec,
        ratioNote: '3 web / 1 web',
      },
      {
        name: `scale: quote→broadcast p99, 1 web process (${pace}, ${oneL.samples} deliveries)`,
        value: oneL.p99,
        unit: 'ms',
        baselineName: `bare socket.io broadcast p99 (same pace, ${bareL.samples} deliveries)`,
        baseline: bareL.p99,
        ratio: oneL.p99 / bareL.p99,
        ratioNote: 'app / bare, lower is better',
      },
      {
        name: `scale: quote→broadcast p99, 3 web processes (watchers spread, ${threeL.samples} deliveries)`,
        value: threeL.p99,
        unit: 'ms',
        baselineName: 'same, 1 web process',
        baseline: oneL.p99,
        ratio: threeL.p99 / oneL.p99,
        ratioNote: '3 web / 1 web, lower is better',
      },
      {
        name: 'scale: quote→broadcast p50, 3 web processes',
        value: threeL.p50,
        unit: 'ms',
        baselineName: 'same, 1 web process',
        baseline: oneL.p50,
        ratio: threeL.p50 / oneL.p50,
        ratioNote: '3 web / 1 web, lower is better',
      },
    ];
  } finally {
    for (const s of setups) await s.close().catch(() => undefined);
    await cluster.stop();
  }
}
