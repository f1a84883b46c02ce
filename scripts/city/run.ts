// `npm run city [-- --months 12 --scale 1 --seed 000 --start 2027-01-01 --keep ./data/city --quiet --no-readme --json FILE]`:
// generates the city, runs its months through the app on simulated time with a progress bar, prints
// the report and keeps its latest table in README.md ("A year of a city"). Exits 1 if a check failed.
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildReport } from './report';
import { runCity } from './sim';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const BEGIN = '<!-- city-report:begin -->';
const END = '<!-- city-report:end -->';

const { values: args } = parseArgs({
  options: {
    months: { type: 'string', default: '12' },
    scale: { type: 'string', default: '1' },
    seed: { type: 'string', default: '000' },
    start: { type: 'string', default: '2027-01-01' },
    keep: { type: 'string' },
    'run-off': { type: 'string', default: '31' },
    quiet: { type: 'boolean', default: false },
    'no-readme': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const months = Number(args.months);
const scale = Number(args.scale);
if (!Number.isInteger(months) || months < 1 || months > 36) fail('--months must be a whole number from 1 to 36');
if (!(scale > 0 && scale <= 4)) fail('--scale must be a number above 0 and at most 4');
if (!/^\d{4}-\d{2}-\d{2}$/.test(args.start!) || Number.isNaN(new Date(`${args.start}T00:00:00+08:00`).getTime())) fail('--start must be a day, YYYY-MM-DD');

function bar(done: number, total: number, width = 30): string {
  const n = Math.round((done / Math.max(1, total)) * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}]`;
}

async function main(): Promise<number> {
  const tty = process.stderr.isTTY && !args.quiet;
  const say = (s: string) => {
    if (!args.quiet) process.stderr.write(s);
  };
  say(`city seed ${args.seed}, scale ${scale}, ${months} month(s) from ${args.start}${args.keep ? `, kept in ${args.keep}` : ''}\n`);
  let lastLine = 0;
  const sim = await runCity({
    seed: args.seed!,
    scale,
    months,
    start: args.start!,
    keepDir: args.keep,
    runOffDays: Math.max(0, Math.min(120, Number(args['run-off']) || 0)),
    onProgress: (p) => {
      const line = `${bar(p.day, p.days)} ${p.simDate}  day ${p.day}/${p.days}  orders ${p.orders}  ${(p.wallMs / 60_000).toFixed(1)} min  ${p.phase}`;
      if (tty) say(`\r${line.padEnd(100)}`);
      else if (Date.now() - lastLine > 30_000 || p.day === p.days) {
        lastLine = Date.now();
        say(`${line}\n`);
      }
    },
    onMonth: (m) => say(`${tty ? '\n' : ''}month ${m.month} done at ${m.simDate}: ${(m.wallMs / 60_000).toFixed(1)} min, engine ${m.engineRssMb} MB, disk ${m.diskMb} MB\n`),
  });
  let ok = false;
  try {
    say('\nchecking …\n');
    const report = await buildReport(sim, { loadAverage: os.loadavg() });
    console.log(`\n${report.text}\n`);
    ok = report.ok;
    if (args.json) writeFileSync(args.json, `${JSON.stringify({ ok, checks: report.checks, figures: report.figures, counters: sim.counters, months: sim.months, wallMs: sim.wallMs }, null, 2)}\n`);
    if (!args['no-readme']) {
      const file = path.join(ROOT, 'README.md');
      const readme = readFileSync(file, 'utf8');
      const i = readme.indexOf(BEGIN);
      const j = readme.indexOf(END);
      if (i >= 0 && j > i) {
        writeFileSync(file, `${readme.slice(0, i + BEGIN.length)}\n${report.readmeTable}\n${readme.slice(j)}`);
        say('README.md: the city table is updated\n');
      }
    }
    if (args.keep) {
      console.log(`The city is kept in ${path.resolve(args.keep)}: \`npm start -- --city ${args.keep}\` opens it in the browser (every password: ${sim.city.password}; operator ${sim.city.operator.email}, pharmacists pharm1@${sim.city.domain} …).`);
    }
  } finally {
    await sim.stop();
  }
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
