// Snapshots of the whole store: written from a pinned MVCC state in short slices between which the
// engine keeps serving, and loaded at start-up (a damaged snapshot stops the start).
import fs from 'node:fs';
import type { UUID } from 'bson';
import { calculateObjectSize } from 'bson';
import { FORMAT_VERSION, frame, readRecords } from './journal-files';
import type { Store } from './store';
import { loadDocs } from './store-recovery';
import type { Collection } from './store-types';
import type { Doc } from './values';

const yieldTurn = () => new Promise<void>((r) => setImmediate(r));

/** Slice of work between two yields to the event loop: keeps every client's wait well under 50 ms. */
const SLICE_MS = 5;
/** Snapshot records stay small so that serialising one never holds the loop for long. */
const RECORD_BYTES = 256 * 1024;

/**
 * Writes the committed state as of `pin.snapshot` to `file`, a slice at a time: the store keeps
 * serving (and changing) between slices; pre-images of documents changed meanwhile are read from
 * the store's history, which the pin keeps. Collections and index specs are taken at the start.
 */
export async function writeSnapshot(store: Store, file: string, gen: number, snapshot: number): Promise<void> {
  const fh = await fs.promises.open(file, 'w');
  try {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      if (!pending.length) return;
      const buf = Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      await fh.write(buf);
    };
    const put = async (rec: Doc) => {
      const b = frame(rec);
      pending.push(b);
      pendingBytes += b.length;
      if (pendingBytes > 4 * 1024 * 1024) await flush();
    };
    await put({ t: 'h', version: FORMAT_VERSION, gen, createdAt: new Date() });
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
      await put(meta);
      let chunk: Doc[] = [];
      let bytes = 0;
      const seen = new Set<string>();
      const emit = async (doc: Doc) => {
        const sz = calculateObjectSize(doc);
        if (chunk.length && bytes + sz > RECORD_BYTES) {
          await put({ t: 'd', db, coll: name, docs: chunk });
          chunk = [];
          bytes = 0;
          await maybeYield();
        }
        chunk.push(doc);
        bytes += sz;
        count++;
      };
      // the live map may change between slices; Map iteration stays valid under mutation, and
      // each key is read at the pinned snapshot (null: inserted after it)
      let n = 0;
      for (const key of c.docs.keys()) {
        if (seen.has(key)) continue;
        seen.add(key);
        const doc = store.versionAtPin(c, key, snapshot);
        if (doc) await emit(doc);
        if ((++n & 255) === 0) await maybeYield();
      }
      // documents deleted after the snapshot are only in the history now
      for (const key of [...c.history.keys()]) {
        if (seen.has(key)) continue;
        seen.add(key);
        const doc = store.versionAtPin(c, key, snapshot);
        if (doc) await emit(doc);
      }
      if (chunk.length) await put({ t: 'd', db, coll: name, docs: chunk });
    }
    await put({ t: 'e', count });
    await flush();
    await fh.sync();
  } finally {
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
