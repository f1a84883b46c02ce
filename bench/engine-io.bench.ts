// The engine's I/O figures:
//  1. single inserts through the driver, one at a time, against the engine and against a bare
//     wire-protocol server that decodes each message and answers without storing (same run, both
//     child processes), with the top of the engine's CPU profile during the run;
//  2. client waits while a large journal compacts, against the same client's idle latency.
// BENCH_MS sets each timed run (default 1500 ms); BENCH_COMPACT_MB the journal size (default 256).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MongoClient } from 'mongodb';
import { startEngine } from '../server/engine/index';
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

async function compactionBench(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-compact-'));
  const engine = await startEngine({ dbpath: dir, compactBytes: Number.MAX_SAFE_INTEGER, fsync: 'never' });
  const client = await MongoClient.connect(`${engine.uri}io`, { maxPoolSize: 4 });
  try {
    const coll = client.db('io').collection('bulk');
    const pad = 'x'.repeat(1000);
    let id = 0;
    while (engine.persistence!.stats().journalBytes < COMPACT_MB * 1024 * 1024) {
      await coll.insertMany(Array.from({ length: 1000 }, () => ({ _id: id++, pad, n: id })) as never, { ordered: false });
    }
    const journalMB = engine.persistence!.stats().journalBytes / 1024 / 1024;
    const probe = client.db('io').collection('probe');
    await probe.insertOne({ _id: 1 as never, n: 0 });
    const measure = async (until: () => boolean): Promise<number[]> => {
      const waits: number[] = [];
      while (!until()) {
        const t = performance.now();
        await probe.findOne({ _id: 1 as never });
        waits.push(performance.now() - t);
      }
      return waits;
    };
    const idleEnd = performance.now() + 2000;
    const idle = await measure(() => performance.now() > idleEnd);
    let done = false;
    const t0 = performance.now();
    const compaction = engine.persistence!.compact().then(() => (done = true));
    const during = await measure(() => done);
    await compaction;
    const took = performance.now() - t0;
    console.log(`\ncompaction of a ${journalMB.toFixed(0)} MB journal (${id} documents) took ${took.toFixed(0)} ms; ${during.length} client reads meanwhile`);
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
    ];
  } finally {
    await client.close();
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export default async function engineIoBench(): Promise<BenchRow[]> {
  return [...(await insertBench()), ...(await compactionBench())];
}
