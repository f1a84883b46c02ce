// Snapshots of the whole store: written from a pinned MVCC state in short slices between which the
// engine keeps serving, and loaded at start-up (a damaged snapshot stops the start).
import fs from 'node:fs';
import type { UUID } from 'bson';
import { calculateObjectSize, serializeWithBufferAndIndex } from 'bson';
import { crc32 } from 'node:zlib';
import { NO_ROOM, UNSUPPORTED, writeDoc } from './bson-write';
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
/** A record is begun only with this much room after its envelope (else the buffer is flushed first). */
const MIN_ROOM = 64 * 1024;

const BSON_STRING = 0x02;
const BSON_DOCUMENT = 0x03;
const BSON_ARRAY = 0x04;

/**
 * A snapshot document record, `{ t: 'd', db, coll, docs: [ … ] }` framed as every record
 * (u32 length | u32 CRC-32 | BSON), written by hand around documents serialised one at a time
 * straight into the output buffer: the bytes are the ones `bson` writes for that object, without
 * building it (no array of documents, no size calculation per document, no index-key strings).
 */
export class DocRecord {
  /** offset of the record's frame in the buffer while open */
  start = -1;
  open = false;
  private arrayAt = 0;
  private n = 0;
  private readonly head: Buffer;

  constructor(db: string, coll: string) {
    const parts: Buffer[] = [];
    const str = (key: string, value: string) => {
      const v = Buffer.from(value, 'utf8');
      const len = Buffer.alloc(4);
      len.writeInt32LE(v.length + 1, 0);
      parts.push(Buffer.from([BSON_STRING]), Buffer.from(`${key}\0`, 'utf8'), len, v, Buffer.from([0]));
    };
    str('t', 'd');
    str('db', db);
    str('coll', coll);
    parts.push(Buffer.from([BSON_ARRAY]), Buffer.from('docs\0', 'utf8'));
    this.head = Buffer.concat(parts);
  }

  /** bytes a record needs besides its documents (frame, envelope, terminators) */
  get envelope(): number {
    return 8 + 4 + this.head.length + 4 + 2;
  }

  /** Starts the record at `off` (the caller made room for the envelope); returns the offset to write documents at. */
  begin(out: Buffer, off: number): number {
    this.start = off;
    this.open = true;
    this.n = 0;
    let p = off + 8 + 4; // frame, then the payload's length (written by finish)
    p += this.head.copy(out, p);
    this.arrayAt = p;
    return p + 4;
  }

  /** Serialises `doc` as the next array element at `off`; returns the offset after it, or -1 when it does not fit (nothing is kept). */
  add(out: Buffer, off: number, doc: Doc): number {
    const room = out.length - 2; // the array's and the record's terminators
    let p = off;
    if (p + 16 > room) return -1;
    out[p++] = BSON_DOCUMENT;
    // the element's key: its index in decimal, NUL-terminated
    let i = this.n;
    let digits = 1;
    for (let x = i; x >= 10; x = Math.floor(x / 10)) digits++;
    for (let d = digits - 1; d >= 0; d--) {
      out[p + d] = 48 + (i % 10);
      i = Math.floor(i / 10);
    }
    p += digits;
    out[p++] = 0;
    let end = writeDoc(out, p, doc, room);
    if (end === NO_ROOM) return -1;
    if (end === UNSUPPORTED) {
      // a type the plain writer leaves to bson (Decimal128, Binary, regular expressions, …)
      try {
        end = serializeWithBufferAndIndex(doc, out, { index: p, checkKeys: false, ignoreUndefined: true }) + 1;
      } catch {
        return -1; // longer than the room left (or than bson's own buffer): the caller starts afresh
      }
      if (end > room) return -1;
    }
    this.n++;
    return end;
  }

  /** Closes the record (or drops it when it holds no document); returns the offset after it. */
  finish(out: Buffer, off: number): number {
    this.open = false;
    if (this.n === 0) return this.start;
    let p = off;
    out[p++] = 0; // end of the array
    out.writeInt32LE(p - this.arrayAt, this.arrayAt);
    out[p++] = 0; // end of the record's document
    const payload = this.start + 8;
    out.writeInt32LE(p - payload, payload);
    out.writeUInt32LE(p - payload, this.start);
    out.writeUInt32LE(crc32(out.subarray(payload, p)), this.start + 4);
    return p;
  }
}

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
      // Documents go straight from the store into `out`, inside a hand-framed record (see
      // DocRecord): no size calculation and no array per record, so the loop makes almost no
      // garbage of its own. A document that does not fit closes the record; one bigger than the
      // buffers goes through `put`.
      const rec = new DocRecord(db, name);
      /** The common case, synchronous (no promise per document): false when the caller must take `visitSlow`. */
      const visit = (doc: Doc): boolean => {
        if (!rec.open) {
          if (out.length - used < rec.envelope + MIN_ROOM) return false;
          used = rec.begin(out, used);
        }
        const end = rec.add(out, used, doc);
        if (end < 0) return false;
        used = end;
        count++;
        if (used - rec.start >= RECORD_BYTES) used = rec.finish(out, used);
        return true;
      };
      /** A document that did not fit: close the record, flush, retry; bigger than a buffer: a record of its own. */
      const visitSlow = async (doc: Doc) => {
        if (rec.open) used = rec.finish(out, used);
        await flush();
        if (visit(doc)) return;
        if (rec.open) used = rec.finish(out, used);
        await put({ t: 'd', db, coll: name, docs: [doc] }, calculateObjectSize(doc) + 1024);
        count++;
      };
      // The live map may change between slices; Map iteration stays valid under mutation. A key
      // without history is unchanged since the pin; one with history is read at the snapshot
      // (null: inserted after it).
      // NOTE: nothing awaits per document unless a record is full: a promise per document is
      // garbage enough for dozens of young-generation collections, each 10-30 ms with a 2 GB heap.
      let n = 0;
      for (const [key, v] of c.docs) {
        const doc = c.history.size > 0 && c.history.has(key) ? store.versionAtPin(c, key, snapshot) : v.doc;
        if (doc && !visit(doc)) await visitSlow(doc);
        // every 64 documents, and after each full record (a few large documents)
        if ((++n & 63) === 0 || !rec.open) await maybeYield();
      }
      // documents deleted after the snapshot are only in the history now (every key live at this
      // point was visited above: Map iteration reaches keys added during it)
      for (const key of [...c.history.keys()].filter((k) => !c.docs.has(k))) {
        const doc = store.versionAtPin(c, key, snapshot);
        if (doc && !visit(doc)) await visitSlow(doc);
        if ((++n & 63) === 0 || !rec.open) await maybeYield();
      }
      if (rec.open) used = rec.finish(out, used);
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
