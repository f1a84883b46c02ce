// Event-loop delay while PDFs render: idle, then with signed-commitment PDFs rendering in the worker
// pool (server/platform/pdf-pool.ts), then the same renders on the main thread as before the pool.
// Knobs: PDF_BENCH_RENDERS (renders per phase, default 48), PDF_BENCH_IN_FLIGHT (2), PDF_WORKERS.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { renderInline, type PdfDocumentKind } from '../server/platform/pdf-documents';
import { createPdfRenderer, defaultPdfWorkers } from '../server/platform/pdf-pool';
import { SignedLetterDocument } from '../server/modules/credit/credit.documents';
import { signedLetter } from '../test/support/pdf-fixtures';
import type { Bench, BenchRow } from './lib';

interface Delay {
  p50: number;
  p99: number;
  max: number;
}

/** Event-loop delay (ms) while `work` runs: the interval between 1 ms timer ticks (so ≥ 1 ms even when idle). */
async function delayDuring(work: () => Promise<unknown>): Promise<Delay> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await work();
  h.disable();
  return { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
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

// NOTE: from `node --import tsx --cpu-prof` over 30 inline renders of the same signed commitment
// (self time, start-up and idle left out), after the fonts were parsed once per thread instead of
// once per document (that parsing alone was a third of a render before).
const WHERE_THE_TIME_GOES =
  'where a render goes (node --cpu-prof, self time): fontkit reading glyphs for shaping and the subset (with restructure, tiny-inflate) ~31%, ' +
  'pdfkit line wrapping and PDF objects ~19%, GC ~15%, zlib deflating page streams and the font subset ~14%; nothing else above 3%.';

const WARM_UP_RENDERS = 5;

const pdfBench: Bench = async () => {
  const total = Number(process.env.PDF_BENCH_RENDERS ?? 48);
  const inFlight = Number(process.env.PDF_BENCH_IN_FLIGHT ?? 2);
  const workers = Number(process.env.PDF_WORKERS ?? defaultPdfWorkers()) || defaultPdfWorkers();
  const kind = SignedLetterDocument as PdfDocumentKind<typeof signedLetter>;
  const pool = createPdfRenderer({ workers });
  try {
    // Warm-up outside the measures: the workers start (tsx, fonts), and every thread renders a few
    // documents so that both sides run optimised code.
    for (let round = 0; round < WARM_UP_RENDERS; round += 1) {
      await Promise.all(Array.from({ length: workers }, () => pool.render(kind, signedLetter, 'zh')));
      await renderInline(kind, signedLetter, 'zh');
    }

    const idle = await delayDuring(() => sleep(2000));
    let pooledRate = 0;
    const pooled = await delayDuring(async () => {
      pooledRate = await renderAll(() => pool.render(kind, signedLetter, 'zh'), total, inFlight);
    });
    let inlineRate = 0;
    const inline = await delayDuring(async () => {
      inlineRate = await renderAll(() => renderInline(kind, signedLetter, 'zh'), total, inFlight);
    });

    const what = `${total} signed commitments, ${inFlight} in flight`;
    const lower = 'pool / idle, lower is better; goal ≤ 2';
    process.stderr.write(`pdf: ${WHERE_THE_TIME_GOES}\n`);
    return [
      { name: `pdf: event-loop delay p99 while ${what} in the pool (${workers} workers)`, value: pooled.p99, unit: 'ms', baselineName: 'idle event loop, same process', baseline: idle.p99, ratio: pooled.p99 / idle.p99, ratioNote: lower },
      { name: `pdf: event-loop delay p50 while ${what} in the pool`, value: pooled.p50, unit: 'ms', baselineName: 'idle event loop', baseline: idle.p50, ratio: pooled.p50 / idle.p50, ratioNote: 'pool / idle, lower is better' },
      { name: `pdf: event-loop delay max while ${what} in the pool`, value: pooled.max, unit: 'ms', baselineName: 'idle event loop', baseline: idle.max, ratio: pooled.max / idle.max, ratioNote: 'pool / idle, lower is better' },
      { name: `pdf: event-loop delay p99 while ${what} on the main thread (PDF_WORKERS=0, as before the pool)`, value: inline.p99, unit: 'ms', baselineName: 'idle event loop', baseline: idle.p99, ratio: inline.p99 / idle.p99, ratioNote: 'inline / idle, lower is better' },
      { name: `pdf: event-loop delay max while ${what} on the main thread`, value: inline.max, unit: 'ms', baselineName: 'idle event loop', baseline: idle.max, ratio: inline.max / idle.max, ratioNote: 'inline / idle, lower is better' },
      { name: `pdf: signed-commitment renders/s in the pool (${workers} workers, ${inFlight} in flight)`, value: pooledRate, unit: 'renders/s', baselineName: 'same renders on the main thread', baseline: inlineRate, ratio: pooledRate / inlineRate, ratioNote: 'pool / inline, higher is better' },
    ] satisfies BenchRow[];
  } finally {
    await pool.close();
  }
};

export default pdfBench;
