// Runs every bench/*.bench.ts (or the ones named on the command line) and prints one table.
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench, BenchRow } from './lib';

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const rows: BenchRow[] = [];
const failed: string[] = [];
const loadBefore = os.loadavg()[0]!;
for (const file of files) {
  process.stderr.write(`running ${file} …\n`);
  try {
    const mod = (await import(pathToFileURL(path.join(here, file)).href)) as { default: Bench };
    rows.push(...(await mod.default()));
  } catch (err) {
    // NOTE: one failing benchmark must not hide the others' figures; the run still exits non-zero.
    failed.push(file);
    process.stderr.write(`${file} failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  }
}

const fmt = (n: number) => (Number.isFinite(n) ? (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2)) : 'n/a');
console.log(`\n# Benchmarks — ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${loadBefore.toFixed(1)} → ${os.loadavg()[0]!.toFixed(1)}\n`);
console.log('| figure | value | baseline | baseline value | ratio |');
console.log('|---|---:|---|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.name} | ${fmt(r.value)} ${r.unit} | ${r.baselineName} | ${fmt(r.baseline)} ${r.unit} | ${fmt(r.ratio)}${r.ratioNote ? ` (${r.ratioNote})` : ''} |`);
}
if (failed.length) console.log(`\nFailed: ${failed.join(', ')} (see above).`);
process.exit(failed.length ? 1 : 0);
