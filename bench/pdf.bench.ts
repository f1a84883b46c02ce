// Event-loop delay while PDFs render: idle, then with signed-commitment PDFs rendering in the worker
// pool (server/platform/pdf-pool.ts), then the same renders on the main thread as before the pool.
// Knobs: PDF_BENCH_RENDERS (renders per phase, default 96), PDF_BENCH_ROUNDS (the phases alternate, 8),
// PDF_BENCH_IN_FLIGHT (2), PDF_WORKERS.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHistogram } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { renderInline, type PdfDocumentKind } from '../server/platform/pdf-documents';
import { createPdfRenderer, defaultPdfWorkers } from '../server/platform/pdf-pool';
import { SignedLetterDocument } from '../server/modules/credit/credit.documents';
import { signedLetter } from '../test/support/pdf-fixtures';
import type { Bench, BenchRow } from './lib';
import { profiled, profileLines } from './profile';

interface Delay {
  p50: number;
  p99: number;
  max: number;
}

/** Event-loop delay (ms): the interval between 1 ms timer ticks (so ≥ 1 ms even when idle), over every phase it measured. */
function delayMeter() {
  const total = createHistogram();
  return {
    async during<T>(work: () => Promise<T>): Promise<T> {
      // NOTE: its own ticker rather than monitorEventLoopDelay: that one, disabled and enabled again,
      // counts the pause in between as a delay, and its histogram cannot be added to another.
      let last = performance.now();
      const ticker = setInterval(() => {
        const at = performance.now();
        total.record(Math.max(1, Math.round((at - last) * 1e6)));
        last = at;
      }, 1);
      try {
        return await work();
      } finally {
        clearInterval(ticker);
      }
    },
    read(): Delay {
      return { p50: total.percentile(50) / 1e6, p99: total.percentile(99) / 1e6, max: total.max / 1e6 };
    },
  };
}

/** Renders `total` documents keeping `inFlight` at a time; returns renders per second. */
async function renderAll(render: () => Promise<Buffer>, total: number, inFlight: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) {
        next += 1;
        await render();
        // NOTE: a request handler awaits I/O between renders too; this lets timers run between inline renders.
        await sleep(0);
      }
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

/** How many renders each profile (printed after the measures, so the profiler does not touch them) covers. */
const PROFILED_RENDERS = 30;

const WARM_UP_RENDERS = 5;

/**
 * `n` busy loops, each in a child process under SCHED_IDLE (no PDF, no allocation, no messages),
 * stopped until a phase resumes them: the event-loop delay they cause is what as much background CPU
 * work at the lowest priority as the pool's costs on this machine, the floor for the pool. Null where
 * `chrt` cannot start them.
 */
async function idleSpinners(n: number): Promise<{ during<T>(work: () => Promise<T>): Promise<T>; stop(): void } | null> {
  const children: ChildProcess[] = [];
  for (let i = 0; i < n; i += 1) {
    const child = spawn('chrt', ['--idle', '0', process.execPath, '-e', 'for (;;) {}'], { stdio: 'ignore' });
    const started = await new Promise<boolean>((resolve) => {
      child.once('error', () => resolve(false));
      child.once('spawn', () => resolve(true));
    });
    if (!started) {
      for (const c of children) c.kill('SIGKILL');
      return null;
    }
    child.kill('SIGSTOP');
    children.push(child);
  }
  const signal = (s: NodeJS.Signals) => children.forEach((c) => c.kill(s));
  return {
    async during(work) {
      signal('SIGCONT');
      try {
        return await work();
      } finally {
        signal('SIGSTOP');
      }
    },
    stop: () => signal('SIGKILL'),
  };
}

const pdfBench: Bench = async () => {
  const total = Number(process.env.PDF_BENCH_RENDERS ?? 96);
  const inFlight = Number(process.env.PDF_BENCH_IN_FLIGHT ?? 2);
  const rounds = Math.max(1, Number(process.env.PDF_BENCH_ROUNDS ?? 8));
  const idleMs = 2000;
  const workers = Number(process.env.PDF_WORKERS ?? defaultPdfWorkers()) || defaultPdfWorkers();
  const kind = SignedLetterDocument as PdfDocumentKind<typeof signedLetter>;
  // The app's default (render threads under SCHED_IDLE) and PDF_WORKER_PRIORITY=low (nice 19) side by side.
  const pool = createPdfRenderer({ workers, priority: 'idle' });
  const nicePool = createPdfRenderer({ workers, priority: 'low' });
  // …and the default pool allowed on every CPU (PDF_RENDER_CPUS=all), as before it kept off the first.
  const everyCpuPool = createPdfRenderer({ workers, priority: 'idle', cpus: 'all' });
  const spinner = await idleSpinners(Math.min(workers, inFlight));
  try {
    // Warm-up outside the measures: the workers start (tsx, fonts), and every thread renders a few
    // documents so that every side runs optimised code.
    for (let round = 0; round < WARM_UP_RENDERS; round += 1) {
      await Promise.all(Array.from({ length: workers }, () => pool.render(kind, signedLetter, 'zh')));
      await Promise.all(Array.from({ length: workers }, () => nicePool.render(kind, signedLetter, 'zh')));
      await Promise.all(Array.from({ length: workers }, () => everyCpuPool.render(kind, signedLetter, 'zh')));
      await renderInline(kind, signedLetter, 'zh');
    }

    // NOTE: the phases alternate over several rounds (idle, pool, nice pool, main thread), so a burst
    // of other load on the machine falls on all of them alike rather than on one.
    const idleMeter = delayMeter();
    const pooledMeter = delayMeter();
    const niceMeter = delayMeter();
    const everyCpuMeter = delayMeter();
    const inlineMeter = delayMeter();
    const spinnerMeter = delayMeter();
    const perRound = Math.max(1, Math.round(total / rounds));
    let pooledSeconds = 0;
    let inlineSeconds = 0;
    for (let round = 0; round < rounds; round += 1) {
      await idleMeter.during(() => sleep(idleMs / rounds));
      if (spinner) await spinner.during(() => spinnerMeter.during(() => sleep(idleMs / rounds)));
      pooledSeconds += perRound / (await pooledMeter.during(() => renderAll(() => pool.render(kind, signedLetter, 'zh'), perRound, inFlight)));
      await niceMeter.during(() => renderAll(() => nicePool.render(kind, signedLetter, 'zh'), perRound, inFlight));
      await everyCpuMeter.during(() => renderAll(() => everyCpuPool.render(kind, signedLetter, 'zh'), perRound, inFlight));
      inlineSeconds += perRound / (await inlineMeter.during(() => renderAll(() => renderInline(kind, signedLetter, 'zh'), perRound, inFlight)));
    }
    const [idle, pooled, nice, inline, spun, everyCpu] = [idleMeter.read(), pooledMeter.read(), niceMeter.read(), inlineMeter.read(), spinnerMeter.read(), everyCpuMeter.read()];
    const pooledRate = (perRound * rounds) / pooledSeconds;
    const inlineRate = (perRound * rounds) / inlineSeconds;

    const what = `${perRound * rounds} signed commitments (${rounds} rounds), ${inFlight} in flight`;
    const lower = 'pool / idle, lower is better; goal ≤ 2';
    // Where the time goes (node:inspector's CPU profiler in this process): a render's own work, on the
    // main thread; and what the main thread still does while the pool renders (messages, buffers).
    const inlineProfile = (await profiled(() => renderAll(() => renderInline(kind, signedLetter, 'zh'), PROFILED_RENDERS, inFlight))).profile;
    const pooledProfile = (await profiled(() => renderAll(() => pool.render(kind, signedLetter, 'zh'), PROFILED_RENDERS, inFlight))).profile;
    process.stderr.write(`${profileLines(`pdf: ${PROFILED_RENDERS} renders on the main thread, where a render goes`, inlineProfile, 12)}\n\n`);
    process.stderr.write(`${profileLines(`pdf: the main thread while the pool renders ${PROFILED_RENDERS}`, pooledProfile, 8)}\n\n`);
    return [
      { name: `pdf: event-loop delay p99 while ${what} in the pool (${workers} workers, SCHED_IDLE, off the first CPU)`, value: pooled.p99, unit: 'ms', baselineName: 'idle event loop, same process', baseline: idle.p99, ratio: pooled.p99 / idle.p99, ratioNote: lower },
      { name: `pdf: event-loop delay p50 while ${what} in the pool`, value: pooled.p50, unit: 'ms', baselineName: 'idle event loop', baseline: idle.p50, ratio: pooled.p50 / idle.p50, ratioNote: 'pool / idle, lower is better' },
      { name: `pdf: event-loop delay max while ${what} in the pool`, value: pooled.max, unit: 'ms', baselineName: 'idle event loop', baseline: idle.max, ratio: pooled.max / idle.max, ratioNote: 'pool / idle, lower is better' },
      ...(spinner
        ? [
            { name: `pdf: event-loop delay p99 while ${Math.min(workers, inFlight)} busy loops with no PDF run in SCHED_IDLE processes (as much background CPU work at the lowest priority as the pool's)`, value: spun.p99, unit: 'ms', baselineName: 'idle event loop', baseline: idle.p99, ratio: spun.p99 / idle.p99, ratioNote: 'busy loops / idle: what the machine charges for busy cores' },
            { name: `pdf: event-loop delay p99 while ${what} in the pool, against the SCHED_IDLE busy loops`, value: pooled.p99, unit: 'ms', baselineName: 'SCHED_IDLE busy loops, no PDF', baseline: spun.p99, ratio: pooled.p99 / spun.p99, ratioNote: 'pool / busy loops: what the PDFs add beyond busy cores' },
          ]
        : []),
      { name: `pdf: event-loop delay p99 while ${what} in the same pool allowed on every CPU (PDF_RENDER_CPUS=all)`, value: everyCpu.p99, unit: 'ms', baselineName: 'idle event loop', baseline: idle.p99, ratio: everyCpu.p99 / idle.p99, ratioNote: 'every-CPU pool / idle, lower is better' },
      { name: `pdf: event-loop delay p99 while ${what} in a pool at nice 19 (PDF_WORKER_PRIORITY=low)`, value: nice.p99, unit: 'ms', baselineName: 'idle event loop', baseline: idle.p99, ratio: nice.p99 / idle.p99, ratioNote: 'nice pool / idle, lower is better' },
      { name: `pdf: event-loop delay p99 while ${what} on the main thread (PDF_WORKERS=0, as before the pool)`, value: inline.p99, unit: 'ms', baselineName: 'idle event loop', baseline: idle.p99, ratio: inline.p99 / idle.p99, ratioNote: 'inline / idle, lower is better' },
      { name: `pdf: event-loop delay max while ${what} on the main thread`, value: inline.max, unit: 'ms', baselineName: 'idle event loop', baseline: idle.max, ratio: inline.max / idle.max, ratioNote: 'inline / idle, lower is better' },
      { name: `pdf: signed-commitment renders/s in the pool (${workers} workers, ${inFlight} in flight)`, value: pooledRate, unit: 'renders/s', baselineName: 'same renders on the main thread', baseline: inlineRate, ratio: pooledRate / inlineRate, ratioNote: 'pool / inline, higher is better' },
    ] satisfies BenchRow[];
  } finally {
    spinner?.stop();
    await pool.close();
    await nicePool.close();
    await everyCpuPool.close();
  }
};

export default pdfBench;
