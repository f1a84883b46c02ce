// A PDF render process (workerpool): renders one document per task with the pure document layouts
// only (no database, no Express), the fonts read once when the process starts. Once loaded, it puts
// every one of its threads — the render and V8's own garbage-collection helpers alike — under
// SCHED_IDLE (or nice 19), and off the first CPU where there are several, so it yields to the app's
// event loop (see platform/pdf-pool.ts).
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import workerpool from 'workerpool';
import './modules/documents';
import { preloadFonts } from './platform/pdf';
import { documentKind, renderInline } from './platform/pdf-documents';
import type { PdfTask } from './platform/pdf-pool';
import type { PdfRenderCpus, PdfWorkerPriority } from './platform/config';
import { allowedCpus, formatCpuList, spareCpus } from './platform/cpus';

// NOTE: lowered only after loading, so a busy machine does not starve the start-up (compiling and
// reading fonts) the way it may starve a render. Threads started later inherit the policy.
function yieldToTheEventLoop(priority: PdfWorkerPriority): void {
  if (process.platform !== 'linux') return;
  if (priority === 'idle') {
    try {
      // util-linux: -a sets every thread of the process; lowering needs no privilege
      execFileSync('chrt', ['--idle', '--all-tasks', '--pid', '0', String(process.pid)], { stdio: 'ignore', timeout: 5_000 });
      return;
    } catch {
      // no chrt: fall back to the nice value
    }
  }
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      setPriority(Number(tid), constants.priority.PRIORITY_LOW);
    } catch {
      // not allowed: keep the default priority
    }
  }
}

// NOTE: the first CPU stays to the event loops: a render that faults memory back in from the host stops
// its virtual CPU, and an event loop due to wake on that CPU would wait (see platform/pdf-pool.ts).
function keepToSpareCpus(cpus: PdfRenderCpus): void {
  if (process.platform !== 'linux' || cpus === 'all') return;
  const spare = spareCpus(allowedCpus() ?? []);
  if (!spare) return;
  try {
    // util-linux: -a sets every thread of the process
    execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', formatCpuList(spare), String(process.pid)], { stdio: 'ignore', timeout: 5_000 });
  } catch {
    // no taskset, or not allowed: run on every CPU
  }
}

preloadFonts();
yieldToTheEventLoop(process.argv.includes('--priority=low') ? 'low' : 'idle');
keepToSpareCpus(process.argv.includes('--cpus=all') ? 'all' : 'spare');

async function render({ kind, data, lang }: PdfTask): Promise<Uint8Array> {
  const buffer = await renderInline(documentKind(kind), data, lang);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

workerpool.worker({ render });
