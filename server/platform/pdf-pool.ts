// Renders PDF documents in a pool of worker threads (piscina), so a long document never blocks the
// event loop that serves every request and socket. The pool starts on the first render and is
// closed with the process role; with no workers (PDF_WORKERS=0) documents render inline.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { PdfWorkerPriority } from './config';
import type { Lang } from './i18n';
import { renderInline, type PdfDocumentKind } from './pdf-documents';

/** What a PDF worker is asked to do (server/pdf-worker.ts). */
export interface PdfTask {
  kind: string;
  data: unknown;
  lang: Lang;
}

/** What a PDF worker is told when it starts (piscina's workerData). */
export interface PdfWorkerData {
  priority: PdfWorkerPriority;
}

export interface PdfRenderer {
  /** Worker threads; 0 renders on the calling thread. */
  readonly workers: number;
  render<D>(kind: PdfDocumentKind<D>, data: D, lang: Lang): Promise<Buffer>;
  close(): Promise<void>;
}

/** The default pool size: one worker per core, at most two. */
export function defaultPdfWorkers(): number {
  return Math.min(2, availableParallelism());
}

const WORKER_FILE = new URL('../pdf-worker.ts', import.meta.url);

// NOTE: the worker entry is TypeScript. Under tsx (npm start, mocha's `--import tsx`) the hooks are in
// process.execArgv, which worker threads inherit; otherwise the worker registers tsx itself.
function workerExecArgv(): string[] {
  const inherited = process.execArgv;
  return inherited.some((arg) => arg.includes('tsx')) ? [...inherited] : [...inherited, '--import', import.meta.resolve('tsx')];
}

/** A renderer with its own pool of `workers` threads (started on its first render). */
export function createPdfRenderer(options: { workers: number; priority?: PdfWorkerPriority }): PdfRenderer {
  const workers = options.workers;
  const workerData: PdfWorkerData = { priority: options.priority ?? 'idle' };
  let pool: Piscina<PdfTask, Uint8Array> | undefined;
  return {
    workers,
    async render(kind, data, lang) {
      if (workers === 0) return renderInline(kind, data, lang);
      pool ??= new Piscina<PdfTask, Uint8Array>({
        filename: WORKER_FILE.href,
        minThreads: workers,
        maxThreads: workers,
        execArgv: workerExecArgv(),
        workerData,
      });
      const bytes = await pool.run({ kind: kind.name, data, lang });
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    async close() {
      const closing = pool;
      pool = undefined;
      await closing?.destroy();
    },
  };
}

let poolSize = defaultPdfWorkers();
let poolPriority: PdfWorkerPriority = 'idle';
let shared: PdfRenderer | undefined;

/** Sets the app's pool (PDF_WORKERS, PDF_WORKER_PRIORITY); a pool already running is closed and restarts with them. */
export async function configurePdfRendering(workers: number, priority: PdfWorkerPriority = 'idle'): Promise<void> {
  const changed = workers !== poolSize || priority !== poolPriority;
  poolSize = workers;
  poolPriority = priority;
  if (shared && changed) await closePdfRendering();
}

/** Renders a document of `kind` from its plain data, in the app's PDF worker pool. */
export function renderDocument<D>(kind: PdfDocumentKind<D>, data: D, lang: Lang = 'zh'): Promise<Buffer> {
  shared ??= createPdfRenderer({ workers: poolSize, priority: poolPriority });
  return shared.render(kind, data, lang);
}

/** Stops the app's PDF workers (the next render starts them again). */
export async function closePdfRendering(): Promise<void> {
  const closing = shared;
  shared = undefined;
  await closing?.close();
}
