// A PDF worker thread (piscina): renders one document per task with the pure document layouts only
// (no database, no Express), the fonts read once when the worker starts.
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { Piscina } from 'piscina';
import './modules/documents';
import { preloadFonts } from './platform/pdf';
import { documentKind, renderInline } from './platform/pdf-documents';
import type { PdfWorkerPriority } from './platform/config';
import type { PdfTask, PdfWorkerData } from './platform/pdf-pool';

// NOTE: renders are background work: on a machine with as many busy render threads as cores, the
// event loop (requests, sockets) must still get a core the moment it wakes. A low nice value is not
// enough for that: the kernel's scheduler (EEVDF) lets a running thread finish its slice before a
// waking one of higher weight runs, which cost the event loop about 3 ms at p99 while PDFs rendered.
// A thread under SCHED_IDLE is preempted at once by any normal thread that wakes (but gets almost no
// CPU while the cores are saturated, hence PDF_WORKER_PRIORITY=low). Linux sets the policy of one
// thread by its thread id (util-linux `chrt`; lowering it needs no privilege); where that fails the
// worker takes the lowest nice value, and elsewhere it keeps the process priority.
function yieldToTheEventLoop(priority: PdfWorkerPriority): void {
  let threadId: number;
  try {
    threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(threadId)) return;
  } catch {
    return; // not Linux
  }
  if (priority === 'idle') {
    try {
      execFileSync('chrt', ['--idle', '-p', '0', String(threadId)], { stdio: 'ignore', timeout: 5_000 });
      return;
    } catch {
      // no chrt: fall back to the nice value
    }
  }
  try {
    setPriority(threadId, constants.priority.PRIORITY_LOW);
  } catch {
    // not allowed: keep the default priority
  }
}

yieldToTheEventLoop((Piscina.workerData as PdfWorkerData | undefined)?.priority ?? 'idle');
preloadFonts();

export default async function renderTask({ kind, data, lang }: PdfTask): Promise<Uint8Array> {
  const buffer = await renderInline(documentKind(kind), data, lang);
  // NOTE: a PDF is always larger than Buffer's shared pool slabs, so it owns its ArrayBuffer and can be moved, not copied.
  const owned = buffer.byteOffset === 0 && buffer.byteLength === buffer.buffer.byteLength ? buffer : Buffer.from(buffer);
  return Piscina.move(new Uint8Array(owned.buffer, owned.byteOffset, owned.byteLength)) as unknown as Uint8Array;
}
