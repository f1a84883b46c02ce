// Orders through the API against bare Express routes that authenticate the same way (the app's own
// auth middleware and session resolver) and do only the database work, measured in the same run
// against the same engine process and Redis:
// - placing: POST /api/v1/orders (10 catalogue lines, one pharmacist, sequential) against a bare
//   route that inserts the same order document with Mongoose (no validation, credit gate, price
//   lookup, idempotency, transaction, outbox, audit or notifications);
// - the orders list under 50 concurrent clients: GET /api/v1/orders?limit=20 and the HTML page
//   /orders against bare routes that run the same query (and, for the page, write a plain table).
// The bench's clients run in the app's process, so their cost is charged to both sides alike. Placing
// and its baseline run in alternating rounds, so a change of the machine's load hits both alike.
// Where the time goes: the app process is profiled in extra runs (BENCH_PROFILE_MS each) of placing
// and of the list page under load, and printed; with BENCH_ENGINE_ARGS=--cpu-prof the engine
// process's profile over the whole bench is printed too.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { Types } from 'mongoose';
import { authMiddleware } from '../server/platform/auth';
import type { Actor } from '../server/platform/auth';
import { createDrug } from '../server/modules/catalogue/catalogue.service';
import { generateValidGtin13, gs1CheckDigit } from '../server/modules/catalogue/catalogue.codes';
import { ensureDefaultCommitment } from '../server/modules/credit';
import { createOrganisation, createUser, login, resolveSession } from '../server/modules/identity';
import { Order } from '../server/modules/orders';
import { type BenchRow, opsPerSecond, percentile } from './lib';
import { startBenchApp } from './harness';
import { type CpuProfile, profiled, profileLines, readProfile } from './profile';

const MS = Number(process.env.BENCH_MS ?? 3000);
const LINES = 10;
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const LOAD_MS = Number(process.env.BENCH_LOAD_MS ?? 10_000);
const PROFILE_MS = Number(process.env.BENCH_PROFILE_MS ?? 2000);
const ROUNDS = 3;

/** With --cpu-prof in BENCH_ENGINE_ARGS, the engine writes its profile to a directory of ours on exit. */
function engineProfileDir(): { dir: string; ours: boolean } | undefined {
  const args = process.env.BENCH_ENGINE_ARGS ?? '';
  if (!args.split(' ').includes('--cpu-prof')) return undefined;
  const given = /--cpu-prof-dir=(\S+)/.exec(args)?.[1];
  if (given) return { dir: given, ours: false };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orders-engine-prof-'));
  process.env.BENCH_ENGINE_ARGS = `${args} --cpu-prof-dir=${dir}`;
  return { dir, ours: true };
}

/** The engine's busiest profile in `dir` (its loader thread writes an almost idle one too). */
function engineProfile(dir: string): CpuProfile | undefined {
  const busy = (p: CpuProfile) => {
    const idle = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
    return (p.samples ?? []).filter((id) => !idle.has(id)).length;
  };
  const profiles = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => readProfile(path.join(dir, f)));
  return profiles.sort((a, b) => busy(b) - busy(a))[0];
}

/** Runs `a` and `b` in alternating rounds for `ms` each in all: ops/s and this process's CPU ms per op of each. */
async function alternating(a: () => Promise<unknown>, b: () => Promise<unknown>, ms: number): Promise<{ rate: [number, number]; cpuMs: [number, number] }> {
  const ops = [0, 0];
  const took = [0, 0];
  const cpu = [0, 0];
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [i, fn] of [a, b].entries()) {
      const start = performance.now();
      const before = process.cpuUsage();
      while (performance.now() - start < ms / ROUNDS) {
        await fn();
        ops[i]! += 1;
      }
      const used = process.cpuUsage(before);
      cpu[i]! += (used.user + used.system) / 1000;
      took[i]! += performance.now() - start;
    }
  }
  return { rate: [ops[0]! / (took[0]! / 1000), ops[1]! / (took[1]! / 1000)], cpuMs: [cpu[0]! / ops[0]!, cpu[1]! / ops[1]!] };
}

interface LoadRun {
  latencies: number[];
  errors: number;
  ms: number;
}

/** `clients` loops each sending `request` back to back for `ms`: the latencies (ms) and failures. */
async function loadRun(request: () => Promise<Response>, clients: number, ms: number): Promise<LoadRun> {
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() - start < ms) {
        const t = performance.now();
        const res = await request();
        await res.arrayBuffer();
        if (res.status !== 200) errors += 1;
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, errors, ms: performance.now() - start };
}

/** Each request under load for `ms` in all, in alternating rounds: requests/s, p99 latency (ms) and failures of each. */
async function underLoad<K extends string>(requests: Record<K, () => Promise<Response>>, clients: number, ms: number): Promise<Record<K, { rps: number; p99: number; errors: number }>> {
  const runs = new Map<K, LoadRun>();
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [name, request] of Object.entries(requests) as [K, () => Promise<Response>][]) {
      const r = await loadRun(request, clients, ms / ROUNDS);
      const sum = runs.get(name);
      runs.set(name, sum ? { latencies: [...sum.latencies, ...r.latencies], errors: sum.errors + r.errors, ms: sum.ms + r.ms } : r);
    }
  }
  return Object.fromEntries([...runs].map(([name, r]) => [name, { rps: r.latencies.length / (r.ms / 1000), p99: percentile(r.latencies, 99), errors: r.errors }])) as Record<K, { rps: number; p99: number; errors: number }>;
}

const SYSTEM: Actor = { id: '000000000000000000000000', sessionId: 'bench', email: 'bench@local', name: 'bench', role: 'operator', orgId: '000000000000000000000000', orgType: 'operator', orgName: 'bench' };

async function json(url: string, init: { method?: string; token: string; body?: unknown; key?: string }): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { Authorization: `Bearer ${init.token}`, 'Content-Type': 'application/json', ...(init.key ? { 'Idempotency-Key': init.key } : {}) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

export default async function ordersBench(): Promise<BenchRow[]> {
  const profileDir = engineProfileDir();
  const bench = await startBenchApp('orders');
  const profiles: string[] = [];
  const { runId, app } = bench;
  const base = `${app.url}/api/v1`;
  try {
    // A hospital pharmacist, a distributor that signed the commitment, ten drugs with reference prices.
    const hospital = (await createOrganisation(SYSTEM, { name: `bench-hospital-${runId}`, type: 'hospital', hospitalLevel: 2, address: '清远市清城区 1 号' })) as unknown as { id: string };
    const distributorOrg = (await createOrganisation(SYSTEM, { name: `bench-distributor-${runId}`, type: 'distributor' })) as unknown as { id: string };
    await createUser(SYSTEM, { orgId: hospital.id, name: 'bench pharmacist', email: `ph-${runId}@bench.local`, role: 'pharmacist', password: 'bench-password-1' });
    await createUser(SYSTEM, { orgId: distributorOrg.id, name: 'bench distributor', email: `di-${runId}@bench.local`, role: 'distributor', password: 'bench-password-1' });
    const pharmacist = (await login(`ph-${runId}@bench.local`, 'bench-password-1', { ip: 'bench' })).token;
    const distributor = (await login(`di-${runId}@bench.local`, 'bench-password-1', { ip: 'bench' })).token;
    await ensureDefaultCommitment();
    const letter = await json(`${base}/credit/commitment`, { token: distributor });
    const signed = await json(`${base}/credit/commitment/sign`, { method: 'POST', token: distributor, body: { versionId: letter.body.version.id, textSha256: letter.body.textSha256 } });
    if (signed.status !== 201) throw new Error(`signing failed: ${signed.status} ${JSON.stringify(signed.body)}`);
    const drugIds: string[] = [];
    for (let i = 0; i < LINES; i += 1) {
      const enterprise = String(20_000 + i);
      const body = `869${enterprise}${String(40_000 + i).padStart(5, '0')}`;
      const drug = await createDrug(SYSTEM, {
        genericNameZh: `基准药品${i}`,
        genericNameEn: `Bench drug ${i}`,
        dosageForm: '片剂',
        formClass: 'oral_solid',
        specification: '0.25g',
        packUnit: '盒',
        manufacturer: '基准制药',
        nhsaCode: `XA01ABD${String(100 + i)}A0020101${enterprise}`,
        standardCode: body + gs1CheckDigit(body),
        gtin: generateValidGtin13(700_000_000 + i),
        tracePrefix: String(5_000_000 + i),
        categories: { shortage: false, vbp: false, regular: true },
        referencePriceFen: 1000 + i,
        effectiveFrom: new Date(Date.now() - 86_400_000).toISOString(),
      });
      drugIds.push(drug.id);
    }
    const cart = { urgency: 'regular', lines: drugIds.map((drugId, i) => ({ drugId, distributorOrgId: distributorOrg.id, source: 'catalogue', quantity: 1 + i })) };

    // Warm up both paths, then measure each for MS.
    let n = 0;
    const placeOne = async () => {
      n += 1;
      const res = await json(`${base}/orders`, { method: 'POST', token: pharmacist, body: cart, key: `bench-${runId}-${n}` });
      if (res.status !== 201) throw new Error(`placing failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.data[0];
    };
    const template = await placeOne();
    const stored = await Order.findById(template.id).lean();
    const baselineDoc = () => ({ ...stored!, _id: new Types.ObjectId(), orderNo: `BENCH-${runId}-${(n += 1)}` });


    // The bare routes: the same authentication, then only the database work.
    const hospitalId = new Types.ObjectId(hospital.id);
    const bare = express();
    bare.use(express.json({ limit: '1mb' }));
    bare.use(authMiddleware(app.platform.config, resolveSession, app.platform.clock));
    bare.post('/bare/orders', async (req, res) => {
      if (!req.actor) return void res.status(401).end();
      const doc = await Order.create(baselineDoc());
      res.status(201).json({ id: String(doc._id) });
    });
    const sameQuery = () => Order.find({ hospitalOrgId: hospitalId }).sort({ placedAt: -1, _id: -1 }).limit(21).lean<{ orderNo: string; status: string; totalFen: number }[]>();
    bare.get('/bare/orders', async (req, res) => {
      if (!req.actor) return void res.status(401).end();
      res.json({ data: (await sameQuery()).slice(0, 20) });
    });
    bare.get('/bare/orders-page', async (req, res) => {
      if (!req.actor) return void res.status(401).end();
      const rows = (await sameQuery()).slice(0, 20);
      res.type('html').send(`<!doctype html><table>${rows.map((r) => `<tr><td>${r.orderNo}</td><td>${r.status}</td><td>${r.totalFen}</td></tr>`).join('')}</table>`);
    });
    const server = bare.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const bareUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const bareOne = async () => {
        const res = await fetch(`${bareUrl}/bare/orders`, { method: 'POST', headers: { Authorization: `Bearer ${pharmacist}`, 'Content-Type': 'application/json' }, body: JSON.stringify(cart) });
        if (res.status !== 201) throw new Error(`bare insert failed: ${res.status}`);
        await res.arrayBuffer();
      };
      // NOTE: BENCH_DROP_AFTER_COMMIT (a diagnostic) leaves every consequence of an order to the sweep,
      // so the CPU per order is the request's alone.
      if (process.env.BENCH_DROP_AFTER_COMMIT) (app.platform.relay as unknown as { dropAfterCommit: boolean }).dropAfterCommit = true;
      for (let i = 0; i < 20; i += 1) await bareOne();
      for (let i = 0; i < 20; i += 1) await placeOne();
      const placing = await alternating(placeOne, bareOne, 2 * MS);
      const [api, plain] = placing.rate;
      // NOTE: CPU time is steadier than throughput on a shared machine; the consequences of an order
      // (notification, job, push, receipt) run after its reply and are counted where they run.
      profiles.push(`orders: app process CPU per order: API ${placing.cpuMs[0].toFixed(2)} ms, bare route ${placing.cpuMs[1].toFixed(2)} ms (${(placing.cpuMs[0] / placing.cpuMs[1]).toFixed(2)}×)`);
      const placingProfile = (await profiled(() => opsPerSecond(placeOne, PROFILE_MS, 1))).profile;
      // NOTE: BENCH_PROFILE_SAVE keeps the placing profile for a closer look (e.g. in Chrome's DevTools).
      if (process.env.BENCH_PROFILE_SAVE) writeFileSync(process.env.BENCH_PROFILE_SAVE, JSON.stringify(placingProfile));
      profiles.push(profileLines(`orders: placing, app process (${PROFILE_MS} ms)`, placingProfile, 12));
      if (process.env.BENCH_PLACING_ONLY) {
        return [{ name: `orders: placed through the API (${LINES} lines each)`, value: api, unit: 'orders/s', baselineName: 'bare Express route, same auth, inserts the same order document', baseline: plain, ratio: api / plain, ratioNote: 'API / baseline, higher is better; goal ≥ 0.5' }];
      }

      const get = (url: string, accept = 'application/json') => () => fetch(url, { headers: { Authorization: `Bearer ${pharmacist}`, Accept: accept } });
      const { apiList, bareList, pageList, barePage } = await underLoad(
        { apiList: get(`${base}/orders?limit=20`), bareList: get(`${bareUrl}/bare/orders`), pageList: get(`${app.url}/orders`, 'text/html'), barePage: get(`${bareUrl}/bare/orders-page`, 'text/html') },
        CLIENTS,
        LOAD_MS,
      );
      const pageProfile = await profiled(() => loadRun(get(`${app.url}/orders`, 'text/html'), CLIENTS, PROFILE_MS));
      profiles.push(profileLines(`orders: list page under ${CLIENTS} clients, app process (${PROFILE_MS} ms)`, pageProfile.profile, 12));
      for (const [name, r] of Object.entries({ apiList, bareList, pageList, barePage })) if (r.errors > 0) throw new Error(`${name}: ${r.errors} requests failed`);
      const load = `${CLIENTS} clients, ${(LOAD_MS / 1000).toFixed(0)} s`;
      return [
        {
          name: `orders: placed through the API (${LINES} lines each)`,
          value: api,
          unit: 'orders/s',
          baselineName: 'bare Express route, same auth, inserts the same order document',
          baseline: plain,
          ratio: api / plain,
          ratioNote: 'API / baseline, higher is better; goal ≥ 0.5',
        },
        { name: `orders list API, throughput (${load})`, value: apiList.rps, unit: 'req/s', baselineName: 'bare route, same auth and query', baseline: bareList.rps, ratio: apiList.rps / bareList.rps, ratioNote: 'higher is better; goal ≥ 0.5' },
        { name: `orders list API, p99 (${load})`, value: apiList.p99, unit: 'ms', baselineName: 'bare route, same auth and query', baseline: bareList.p99, ratio: apiList.p99 / bareList.p99, ratioNote: 'lower is better; goal ≤ 2' },
        { name: `orders list page (HTML), throughput (${load})`, value: pageList.rps, unit: 'req/s', baselineName: 'bare route, same auth and query, plain table', baseline: barePage.rps, ratio: pageList.rps / barePage.rps, ratioNote: 'higher is better; goal ≥ 0.5' },
        { name: `orders list page (HTML), p99 (${load})`, value: pageList.p99, unit: 'ms', baselineName: 'bare route, same auth and query, plain table', baseline: barePage.p99, ratio: pageList.p99 / barePage.p99, ratioNote: 'lower is better; goal ≤ 2' },
      ];
    } finally {
      server.close();
    }
  } finally {
    await bench.close();
    const engine = profileDir ? engineProfile(profileDir.dir) : undefined;
    if (engine) profiles.push(profileLines('orders: engine process over the whole bench', engine, 12));
    if (profileDir?.ours) rmSync(profileDir.dir, { recursive: true, force: true });
    if (profiles.length) console.log(`\n${profiles.join('\n\n')}\n`);
  }
}
