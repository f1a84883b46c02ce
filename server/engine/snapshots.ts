// Snapshots of the whole store: written from a pinned MVCC state in short slices between which the
// engine keeps serving, and loaded at start-up (a damaged snapshot stops the start).
import fs from 'node:fs';
import type { UUID } from 'bson';
import { calculateObjectSize } from 'bson';
import { FORMAT_VERSION, frameInto, readRecords } from './journal-files';
import type { Store } from './store';
import { loadDocs } from './store-recovery';
import type { Collection } from './store-types';
import type { Doc } from './values';

const yieldTurn = () => new Promise<void>((r) => setImmediate(r));

/** Slice of work between two yields to the event loop: keeps every client's wait well under 50 ms. */
const SLICE_MS = 5;
/** Snapshot records stay small so that serialising one never holds the loop for long. */
const RECORD_BYTES = 256 * 1024;

/** Output buffers: a full one is written by the thread pool while the other fills. */
const OUT_BYTES = 8 * 1024 * 1024;

/**
 * Writes the committed state as of `snapshot` (a pinned clock) to `file`, a slice at a time: the
 * store keeps serving (and changing) between slices; pre-images of documents changed meanwhile
 * are read from the store's history, which the pin keeps. Collections and index specs are taken
 * at the start. Records are serialised straight into two alternating output buffers (no
 * per-record copies, little garbage: a collection of a million documents must not set off long
 * garbage collections while clients wait).
 *
 * A document changed while the snapshot is written can appear twice (once from the live map, once
 * from the history), always as the same pinned version; the loader keeps the first.
 */
export async function writeSnapshot(store: Store, file: string, gen: number, snapshot: number): Promise<void> {
  const fh = await fs.promises.open(file, 'w');
  let writing: Promise<unknown> = Promise.resolve();
  try {
    let spare = Buffer.allocUnsafe(OUT_BYTES);
    let out = Buffer.allocUnsafe(OUT_BYTES);
    let used = 0;
    const flush = async () => {
      if (used === 0) return;
      await writing;
      const full = out.subarray(0, used);
      writing = fh.write(full);
      [out, spare] = [spare, out];
      used = 0;
    };
    /** `maxBytes`: an upper bound of the record's BSON size */
    const put = async (rec: Doc, maxBytes: number) => {
      const need = maxBytes + 8;
      if (need > out.length) {
        // a record bigger than the buffers (a document near 16 MiB): framed on its own
        await flush();
        const own = Buffer.allocUnsafe(need);
        const end = frameInto(rec, maxBytes, own, 0);
        await writing;
        writing = fh.write(own.subarray(0, end));
        return;
      }
      if (used + need > out.length) await flush();
      used = frameInto(rec, maxBytes, out, used);
    };
    const META_BYTES = 64 * 1024;
    await put({ t: 'h', version: FORMAT_VERSION, gen, createdAt: new Date() }, 1024);
    const catalog: { db: string; name: string; c: Collection; meta: Doc }[] = [];
    for (const [db, colls] of store.dbs) {
      for (const [name, c] of colls) {
        catalog.push({ db, name, c, meta: { t: 'c', db, coll: name, options: c.options, uuid: c.uuid, indexes: c.indexes.filter((i) => !i.isId).map((i) => i.spec as unknown as Doc) } });
      }
    }
    let count = 0;
    let sliceStart = performance.now();
    const maybeYield = async () => {
      if (performance.now() - sliceStart < SLICE_MS) return;
      await yieldTurn();
      sliceStart = performance.now();
    };
    for (const { db, name, c, meta } of catalog) {
      await put(meta, Math.max(META_BYTES, calculateObjectSize(meta)));
      let chunk: Doc[] = [];
      let bytes = 0;
      const putChunk = async () => {
        // the record's envelope: names, and per array element a type byte, its index as a key and a NUL
        await put({ t: 'd', db, coll: name, docs: chunk }, bytes + chunk.length * 16 + 1024);
        chunk = [];
        bytes = 0;
      };
      /** Adds a document to the record being built; false when that record is full (put it first). */
      const add = (doc: Doc): boolean => {
        const sz = calculateObjectSize(doc);
        if (chunk.length && bytes + sz > RECORD_BYTES) return false;
        chunk.push(doc);
        bytes += sz;
        count++;
        return true;
      };
      // The live map may change between slices; Map iteration stays valid under mutation. A key
      // without history is unchanged since the pin; one with history is read at the snapshot
      // (null: inserted after it).
      // NOTE: nothing awaits per document: a promise per document is garbage enough for dozens of
      // young-generation collections, each 10-30 ms with a 2 GB heap.
      let n = 0;
      for (const [key, v] of c.docs) {
        const doc = c.history.size > 0 && c.history.has(key) ? store.versionAtPin(c, key, snapshot) : v.doc;
        if (doc && !add(doc)) {
          await putChunk();
          add(doc);
          await maybeYield();
        }
        if ((++n & 255) === 0) await maybeYield();
      }
      // documents deleted after the snapshot are only in the history now (every key live at this
      // point was visited above: Map iteration reaches keys added during it)
      for (const key of [...c.history.keys()].filter((k) => !c.docs.has(k))) {
        const doc = store.versionAtPin(c, key, snapshot);
        if (doc && !add(doc)) {
          await putChunk();
          add(doc);
        }
        if ((++n & 255) === 0) await maybeYield();
      }
      if (chunk.length) await putChunk();
    }
    await put({ t: 'e', count }, 1024);
    await flush();
    await writing;
    await fh.sync();
  } finally {
    await writing.catch(() => undefined);
    await fh.close();
  }
}

export function loadSnapshot(store: Store, file: string): number {
  const buf = fs.readFileSync(file);
  const { records, validBytes } = readRecords(buf);
  const head = records[0];
  const end = records[records.length - 1];
  if (!head || head.t !== 'h' || !end || end.t !== 'e' || validBytes !== buf.length) {
    throw new Error(`snapshot ${file} is damaged (refusing to start rather than lose data; restore it or move it away)`);
  }
  if (head.version !== FORMAT_VERSION) throw new Error(`snapshot ${file} has unsupported format version ${String(head.version)}`);
  for (const r of records) {
    if (r.t === 'c') {
      const c = store.createCollection(r.db as string, r.coll as string, (r.options as Doc) ?? {}, r.uuid as UUID, false);
      for (const spec of (r.indexes as Doc[]) ?? []) store.createIndex(c, spec, false);
    } else if (r.t === 'd') {
      const c = store.ensureCollNoJournal(r.db as string, r.coll as string);
      loadDocs(c, r.docs as Doc[]);
    }
  }
  return Number(head.gen);
}
