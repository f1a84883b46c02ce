// Renders PDF documents in a pool of render processes (workerpool), so a long document never blocks
// the event loop that serves every request and socket. The pool starts with the first render and is
// closed with the process role; with no workers (PDF_WORKERS=0) documents render inline.
//
// NOTE: processes rather than worker threads: the render is background work, and on a machine with
// as many busy renders as cores the event loop must still get a core the moment it wakes. A thread
// can put itself under SCHED_IDLE, but a worker thread's garbage collection also runs on V8's helper
// threads, which the whole process shares and which stay at normal priority; a render process puts
// every one of its threads under SCHED_IDLE (preempted at once by any normal thread that wakes). With
// PDF_WORKER_PRIORITY=low, or where chrt is missing, it takes nice 19 instead (it keeps a share of a
// saturated CPU; a waking event loop may wait out the rest of its time slice).
//
// NOTE: priority alone was not enough on a virtual machine (measured on this project's 2-vCPU
// Firecracker VM, bench/pdf.bench.ts: 3.0–3.6× the idle event-loop delay at p99, against ≤ 1.24× for
// busy loops with no PDF). A render allocates and frees a lot of memory; memory a process hands back to
// the kernel is handed on to the host (free-page reporting), and touching it again stops the whole
// virtual CPU in the hypervisor, where no guest priority can preempt it: an event loop whose wake-up is
// due on that CPU waits. So a render process keeps the memory it has (glibc's trim and mmap thresholds
// raised, KEEP_MEMORY) and, where there are two CPUs or more, keeps off the first one
// (PDF_RENDER_CPUS=spare), which stays to the event loops.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import workerpool from 'workerpool';
import type { PdfRenderCpus, PdfWorkerPriority } from './config';
import type { Lang } from './i18n';
import { renderInline, type PdfDocumentKind } from './pdf-documents';

/** What a render process is asked to do (server/pdf-process.ts). */
export interface PdfTask {
  kind: string;
  data: unknown;
  lang: Lang;
}

export interface PdfRenderer {
  /** Render processes; 0 renders on the calling thread. */
  readonly workers: number;
  render<D>(kind: PdfDocumentKind<D>, data: D, lang: Lang): Promise<Buffer>;
  close(): Promise<void>;
}

/** The default pool size: one render process per core, at most two. */
export function defaultPdfWorkers(): number {
  return Math.min(2, availableParallelism());
}

/** glibc malloc settings for a render process: buffers come from the heap, and the heap is not given back. */
const KEEP_MEMORY: Record<string, string> = {
  MALLOC_MMAP_THRESHOLD_: String(128 * 2 ** 20),
  MALLOC_TRIM_THRESHOLD_: String(2 ** 30),
  MALLOC_TOP_PAD_: String(64 * 2 ** 20),
};

const WORKER_FILE = fileURLToPath(new URL('../pdf-process.ts', import.meta.url));

// NOTE: the render process's entry is TypeScript. Under tsx (npm start, mocha's `--import tsx`) the
// hooks are in process.execArgv; otherwise the process registers tsx itself.
function nodeArgs(): string[] {
  const inherited = process.execArgv.filter((arg) => !arg.startsWith('--inspect') && !arg.startsWith('--cpu-prof'));
  return inherited.some((arg) => arg.includes('tsx')) ? inherited : [...inherited, '--import', import.meta.resolve('tsx')];
}

/** A renderer with its own pool of `workers` render processes (started on its first render). */
export function createPdfRenderer(options: { workers: number; priority?: PdfWorkerPriority; cpus?: PdfRenderCpus }): PdfRenderer {
  const workers = options.workers;
  let pool: workerpool.Pool | undefined;
  return {
    workers,
    async render(kind, data, lang) {
      if (workers === 0) return renderInline(kind, data, lang);
      if (!pool) {
        pool = workerpool.pool(WORKER_FILE, {
          workerType: 'process',
          minWorkers: workers,
          maxWorkers: workers,
          // NOTE: 'advanced' serialisation carries the document's bytes as bytes, not as JSON numbers.
          forkArgs: [`--priority=${options.priority ?? 'idle'}`, `--cpus=${options.cpus ?? 'spare'}`],
          forkOpts: { execArgv: nodeArgs(), serialization: 'advanced', env: { ...process.env, ...KEEP_MEMORY } },
          workerTerminateTimeout: 2_000,
        });
      }
      const task: PdfTask = { kind: kind.name, data, lang };
      const bytes = (await pool.exec('render', [task])) as Uint8Array;
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    async close() {
      const closing = pool;
      pool = undefined;
      await closing?.terminate();
    },
  };
}

let poolSize = defaultPdfWorkers();
let poolPriority: PdfWorkerPriority = 'idle';
let poolCpus: PdfRenderCpus = 'spare';
let shared: PdfRenderer | undefined;

/** Sets the app's pool (PDF_WORKERS, PDF_WORKER_PRIORITY, PDF_RENDER_CPUS); a pool already running is closed and restarts with them. */
export async function configurePdfRendering(workers: number, priority: PdfWorkerPriority = 'idle', cpus: PdfRenderCpus = 'spare'): Promise<void> {
  const changed = workers !== poolSize || priority !== poolPriority || cpus !== poolCpus;
  poolSize = workers;
  poolPriority = priority;
  poolCpus = cpus;
  if (shared && changed) await closePdfRendering();
}

/** Renders a document of `kind` from its plain data, in the app's PDF render processes. */
export function renderDocument<D>(kind: PdfDocumentKind<D>, data: D, lang: Lang = 'zh'): Promise<Buffer> {
  shared ??= createPdfRenderer({ workers: poolSize, priority: poolPriority, cpus: poolCpus });
  return shared.render(kind, data, lang);
}

/** Stops the app's render processes (the next render starts them again). */
export async function closePdfRendering(): Promise<void> {
  const closing = shared;
  shared = undefined;
  await closing?.close();
}
