// A PDF worker thread (piscina): renders one document per task with the pure document layouts only
// (no database, no Express), the fonts read once when the worker starts.
import { readlinkSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { Piscina } from 'piscina';
import './modules/documents';
import { preloadFonts } from './platform/pdf';
import { documentKind, renderInline } from './platform/pdf-documents';
import type { PdfTask } from './platform/pdf-pool';

// NOTE: renders are background work: on a machine with as many busy render threads as cores, the
// event loop (requests, sockets) must still get a core the moment it wakes. On Linux a thread has
// its own nice value, set through its thread id; elsewhere the worker keeps the process priority.
function yieldToTheEventLoop(): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(threadId)) setPriority(threadId, constants.priority.PRIORITY_BELOW_NORMAL);
  } catch {
    // not Linux, or not allowed: keep the default priority
  }
}

yieldToTheEventLoop();
preloadFonts();

export default async function renderTask({ kind, data, lang }: PdfTask): Promise<Uint8Array> {
  const buffer = await renderInline(documentKind(kind), data, lang);
  // NOTE: a PDF is always larger than Buffer's shared pool slabs, so it owns its ArrayBuffer and can be moved, not copied.
  const owned = buffer.byteOffset === 0 && buffer.byteLength === buffer.buffer.byteLength ? buffer : Buffer.from(buffer);
  return Piscina.move(new Uint8Array(owned.buffer, owned.byteOffset, owned.byteLength)) as unknown as Uint8Array;
}
