// The engine's I/O figures:
//  1. single inserts through the driver, one at a time, against the engine and against a bare
//     wire-protocol server that decodes each message and answers without storing (same run, both
//     child processes), with the top of the engine's CPU profile during the run;
//  2. client waits while a large journal compacts, against the same client's idle latency.
// BENCH_MS sets each timed run (default 1500 ms); BENCH_COMPACT_MB the journal size (default 256);
// BENCH_ENGINE_IO=compaction skips part 1; BENCH_ENGINE_ARGS adds node options to the engine of part 2
// (--cpu-prof, --trace-gc, V8 heap flags).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MongoClient } from 'mongodb';
import { spawnEngine } from '../server/engine/spawn';
import { type BenchRow, opsPerSecond, percentile } from './lib';

const MS = Number(process.env.BENCH_MS ?? 1500);
const COMPACT_MB = Number(process.env.BENCH_COMPACT_MB ?? 256);
const here = path.dirname(fileURLToPath(import.meta.url));

async function startBare(): Promise<{ port: number; stop(): void }> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', tsx, path.join(here, 'bare-wire-server.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /bare ready (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (c) => reject(new Error(`bare server exited (${c})`)));
  });
  return { port, stop: () => child.kill('SIGTERM') };
}

async function insertRate(uri: string): Promise<number> {
  const client = await MongoClient.connect(uri, { maxPoolSize: 1 });
  try {
    const coll = client.db('io').collection('ins');
    let i = 0;
    const doc = () => ({ i: i++, name: `drug ${i}`, price: 19.5, at: new Date() });
    await opsPerSecond(() => coll.insertOne(doc()), 300); // warm-up
    const a = await opsPerSecond(() => coll.insertOne(doc()), MS);
    const b = await opsPerSecond(() => coll.insertOne(doc()), MS);
    return Math.max(a, b);
  } finally {
    await client.close();
  }
}

/** Self time per function from a .cpuprofile, as "share  function  file:line". */
function topOfProfile(file: string, n: number): string[] {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]; samples: number[]; timeDeltas: number[] };
  const dt = new Map<number, number>();
  p.samples.forEach((s, i) => dt.set(s, (dt.get(s) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const self = new Map<string, number>();
  let total = 0;
  for (const node of p.nodes) {
    const f = node.callFrame;
    if (f.functionName === '(idle)') continue; // waiting for the client: not the engine's cost
    const t = dt.get(node.id) ?? 0;
    total += t;
    const where = f.url.replace(/.*node_modules\//, '').replace(/.*server\/engine\//, 'engine/');
    const k = `${f.functionName || '(anonymous)'}  ${where ? `${where}:${f.lineNumber + 1}` : ''}`;
    self.set(k, (self.get(k) ?? 0) + t);
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, t]) => `${((t / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
}

async function insertBench(): Promise<BenchRow[]> {
  const profDir = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-prof-'));
  const bare = await startBare();
  const engine = await spawnEngine({ memory: true, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
  try {
    const bareUri = `mongodb://127.0.0.1:${bare.port}/?directConnection=true`;
    const b1 = await insertRate(bareUri);
    const e1 = await insertRate(`${engine.uri}io`);
    const b2 = await insertRate(bareUri);
    const e2 = await insertRate(`${engine.uri}io`);
    const bareRate = Math.max(b1, b2);
    const engineRate = Math.max(e1, e2);
    await engine.stop();
    const prof = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (prof) {
      console.log('\nwhere the engine process spends its busy time during the insert runs (self time, share of non-idle samples, top 15):');
      for (const line of topOfProfile(path.join(profDir, prof), 15)) console.log(`  ${line}`);
    }
    return [
      {
        name: 'engine-io: insertOne one at a time (driver, separate process)',
        value: engineRate,
        unit: 'ops/s',
        baselineName: 'bare wire server (decode OP_MSG, answer {ok:1,n:1})',
        baseline: bareRate,
        ratio: engineRate / bareRate,
        ratioNote: 'engine / bare; goal ≥ 0.5',
      },
    ];
  } finally {
    bare.stop();
    await engine.stop().catch(() => undefined);
    fs.rmSync(profDir, { recursive: true, force: true });
  }
}

interface GcPause {
  at: number;
  ms: number;
  kind: string;
}

/** The engine section of serverStatus (see cmd-admin.ts). */
async function engineStatus(client: MongoClient, gcSince?: number): Promise<{ persistence: { journalBytes: number; compacting: boolean } | null; clock: { epochMs: number; monoUs: number }; gcPauses?: GcPause[] }> {
  const r = await client.db('admin').command(gcSince === undefined ? { serverStatus: 1 } : { serverStatus: 1, gcSince });
  return r.engine as never;
}

const summariseGc = (pauses: GcPause[]): string => {
  const byKind = new Map<string, number[]>();
  for (const p of pauses) byKind.set(p.kind, [...(byKind.get(p.kind) ?? []), p.ms]);
  if (byKind.size === 0) return 'none';
  return [...byKind.entries()]
    .map(([k, ms]) => `${k} ×${ms.length} (total ${ms.reduce((a, b) => a + b, 0).toFixed(0)} ms, max ${Math.max(...ms).toFixed(1)} ms, p50 ${percentile(ms, 50).toFixed(1)} ms)`)
    .join('; ');
};

/**
 * What the engine's CPU did in [from, to] (epoch ms), from its .cpuprofile: self time per function,
 * and for each of `waits` (the longest client waits) what the engine's samples inside it show.
 */
function profileWindow(file: string, clock: { epochMs: number; monoUs: number }, from: number, to: number, n: number, waits: { at: number; ms: number }[]): string[] {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]; startTime: number; samples: number[]; timeDeltas: number[] };
  const toEpoch = (us: number) => clock.epochMs + (us - clock.monoUs) / 1000;
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const label = (id: number) => {
    const f = byId.get(id)!.callFrame;
    const where = f.url.replace(/.*node_modules\//, '').replace(/.*server\/engine\//, 'engine/');
    return `${f.functionName || '(anonymous)'}${where ? `  ${where}:${f.lineNumber + 1}` : ''}`;
  };
  const samples: { at: number; ms: number; k: string }[] = [];
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    const at = toEpoch(t);
    if (at >= from && at <= to) samples.push({ at, ms: (p.timeDeltas[i + 1] ?? 0) / 1000, k: label(p.samples[i]!) });
  }
  const tally = (ss: typeof samples) => {
    const m = new Map<string, number>();
    for (const x of ss) m.set(x.k, (m.get(x.k) ?? 0) + x.ms);
    return [...m.entries()].sort((a, b) => b[1] - a[1]);
  };
  const busy = samples.filter((x) => !x.k.startsWith('(idle)'));
  const total = busy.reduce((a, x) => a + x.ms, 0);
  const lines = tally(busy)
    .slice(0, n)
    .map(([k, ms]) => `${((ms / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
  lines.push(`busy ${total.toFixed(0)} ms of ${(to - from).toFixed(0)} ms; inside the longest client waits the engine was doing:`);
  for (const w of waits) {
    const top = tally(samples.filter((x) => x.at >= w.at && x.at <= w.at + w.ms)).slice(0, 4);
    lines.push(`  ${w.ms.toFixed(1)} ms at +${w.at - from} ms: ${top.map(([k, ms]) => `${k.split('  ')[0]} ${ms.toFixed(1)}`).join(', ') || 'no samples'}`);
  }
  return lines;
}

async function compactionBench(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-compact-'));
  // the engine runs in its own process, as under `npm start`; BENCH_ENGINE_ARGS adds node options
  // (--cpu-prof: the profile of the compaction window is printed; --trace-gc: V8's lines are printed)
  const nodeArgs = (process.env.BENCH_ENGINE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const profDir = nodeArgs.includes('--cpu-prof') && !nodeArgs.some((a) => a.startsWith('--cpu-prof-dir')) ? fs.mkdtempSync(path.join(os.tmpdir(), 'engine-prof-')) : null;
  if (profDir) nodeArgs.push(`--cpu-prof-dir=${profDir}`);
  const engine = await spawnEngine({ dbpath: dir, compactBytes: Number.MAX_SAFE_INTEGER, fsync: 'never', nodeArgs, timeoutMs: 120_000 });
  const traceGc: string[] = [];
  if (nodeArgs.includes('--trace-gc')) {
    engine.child.stdout!.on('data', (d: string) => {
      for (const line of d.split('\n')) if (/Scavenge|Mark-Compact|Mark-sweep/i.test(line)) traceGc.push(line.trim());
    });
  }
  const client = await MongoClient.connect(`${engine.uri}io`, { maxPoolSize: 4 });
  const admin = await MongoClient.connect(`${engine.uri}admin`, { maxPoolSize: 1 });
  try {
    const coll = client.db('io').collection('bulk');
    const pad = 'x'.repeat(1000);
    let id = 0;
    for (let b = 0; ; b++) {
      if (b % 16 === 0 && (await engineStatus(admin)).persistence!.journalBytes >= COMPACT_MB * 1024 * 1024) break;
      await coll.insertMany(Array.from({ length: 1000 }, () => ({ _id: id++, pad, n: id })) as never, { ordered: false });
    }
    const journalMB = (await engineStatus(admin)).persistence!.journalBytes / 1024 / 1024;
    const probe = client.db('io').collection('probe');
    await probe.insertOne({ _id: 1 as never, n: 0 });
    const measure = async (until: () => boolean): Promise<{ at: number; ms: number }[]> => {
      const waits: { at: number; ms: number }[] = [];
      while (!until()) {
        const at = Date.now();
        const t = performance.now();
        await probe.findOne({ _id: 1 as never });
        waits.push({ at, ms: performance.now() - t });
      }
      return waits;
    };
    const idleFrom = Date.now();
    const idleEnd = performance.now() + 2000;
    const idleWaits = await measure(() => performance.now() > idleEnd);
    const idleTo = Date.now();
    const traceFrom = traceGc.length;
    let done = false;
    const t0 = Date.now();
    const compaction = admin
      .db('admin')
      .command({ engineCompact: 1 })
      .then(() => (done = true));
    const duringWaits = await measure(() => done);
    await compaction;
    const t1 = Date.now();
    const status = await engineStatus(admin, idleFrom);
    const pauses = status.gcPauses ?? [];
    const idleGc = pauses.filter((p) => p.at >= idleFrom && p.at < idleTo);
    const duringGc = pauses.filter((p) => p.at >= t0 && p.at <= t1);
    const idle = idleWaits.map((w) => w.ms);
    const during = duringWaits.map((w) => w.ms);
    console.log(`\ncompaction of a ${journalMB.toFixed(0)} MB journal (${id} documents, engine in its own process${nodeArgs.length ? `, node ${nodeArgs.join(' ')}` : ''}) took ${t1 - t0} ms; ${during.length} client reads meanwhile, load average ${os.loadavg()[0]!.toFixed(1)}`);
    console.log(`  client wait during: max ${Math.max(...during).toFixed(1)} ms, p99 ${percentile(during, 99).toFixed(1)} ms, p50 ${percentile(during, 50).toFixed(2)} ms; idle (2 s before): max ${Math.max(...idle).toFixed(1)} ms, p99 ${percentile(idle, 99).toFixed(1)} ms`);
    console.log(`  engine GC pauses during compaction: ${summariseGc(duringGc)}`);
    console.log(`  engine GC pauses idle: ${summariseGc(idleGc)}`);
    console.log('  the longest client waits and the engine GC pauses inside each:');
    const longest = [...duringWaits].sort((a, b) => b.ms - a.ms).slice(0, 8);
    for (const w of longest) {
      const inside = duringGc.filter((p) => p.at + p.ms >= w.at && p.at <= w.at + w.ms);
      const gcMs = inside.reduce((a, p) => a + p.ms, 0);
      console.log(`    ${w.ms.toFixed(1).padStart(6)} ms at +${w.at - t0} ms: GC ${gcMs.toFixed(1)} ms${inside.length ? ` (${inside.map((p) => `${p.kind} ${p.ms.toFixed(1)}`).join(', ')})` : ''}`);
    }
    if (traceGc.length > traceFrom) {
      console.log(`  --trace-gc during the idle and compaction windows (${traceGc.length - traceFrom} lines, longest 10):`);
      const ms = (l: string) => Number(/,\s*([\d.]+)\s*\/\s*[\d.]+\s*ms/.exec(l)?.[1] ?? 0);
      for (const l of traceGc.slice(traceFrom).sort((a, b) => ms(b) - ms(a)).slice(0, 10)) console.log(`    ${l}`);
    }
    await admin.close();
    await client.close();
    await engine.stop();
    const prof = profDir ? fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile')) : undefined;
    if (prof) {
      console.log('  where the engine spends its busy time during compaction (self time, share of non-idle samples, top 12):');
      for (const line of profileWindow(path.join(profDir!, prof), status.clock, t0, t1, 12, longest)) console.log(`    ${line}`);
    }
    const maxGc = (ps: GcPause[]) => (ps.length ? Math.max(...ps.map((p) => p.ms)) : 0);
    return [
      {
        name: `engine-io: max client wait while a ${journalMB.toFixed(0)} MB journal compacts`,
        value: Math.max(...during),
        unit: 'ms',
        baselineName: 'same client idle, max',
        baseline: Math.max(...idle),
        ratio: Math.max(...during) / Math.max(...idle),
        ratioNote: 'during / idle; goal: under 50 ms',
      },
      {
        name: `engine-io: p99 client wait while a ${journalMB.toFixed(0)} MB journal compacts`,
        value: percentile(during, 99),
        unit: 'ms',
        baselineName: 'same client idle, p99',
        baseline: percentile(idle, 99),
        ratio: percentile(during, 99) / percentile(idle, 99),
        ratioNote: 'during / idle',
      },
      {
        name: `engine-io: longest engine GC pause while a ${journalMB.toFixed(0)} MB journal compacts`,
        value: maxGc(duringGc),
        unit: 'ms',
        baselineName: 'longest engine GC pause idle (2 s)',
        baseline: maxGc(idleGc),
        ratio: maxGc(duringGc) / maxGc(idleGc),
        ratioNote: 'during / idle',
      },
    ];
  } finally {
    await admin.close().catch(() => undefined);
    await client.close().catch(() => undefined);
    await engine.stop().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
    if (profDir) fs.rmSync(profDir, { recursive: true, force: true });
  }
}

export default async function engineIoBench(): Promise<BenchRow[]> {
  // BENCH_ENGINE_IO=compaction runs the compaction part alone
  const part = process.env.BENCH_ENGINE_IO;
  return [...(part === 'compaction' ? [] : await insertBench()), ...(await compactionBench())];
}
