// Durable storage for `--dbpath`: an append-only journal of committed changes plus periodic
// snapshots, with a lock so only one process opens a directory.
//
// Files in the directory
//   mongod.lock          pid of the owning process (a stale lock from a dead pid is taken over)
//   snapshot.bson        full state as of the start of journal generation G (written to a temp file,
//                        fsynced and renamed, so it is either complete or absent)
//   journal-<G>.log      records committed after that snapshot
// Record framing (snapshot and journal alike): u32 length | u32 CRC-32 of the payload | BSON payload.
// A journal record is one committed change set: a statement's document write, a whole
// transaction, or a catalog change (create/drop collection or database, create/drop index).
//
// Recovery loads the snapshot, then replays the journal; the first record that is short or fails
// its checksum marks a torn tail (a write interrupted by a crash): the file is truncated there.
// A write is acknowledged only after its record has been handed to the OS (write(2)), so killing
// the process (even with SIGKILL) loses no acknowledged write; fsync policy decides how much an OS
// crash or power loss can lose: 'always' fsyncs before acknowledging (group commit), 'batch'
// fsyncs every 100 ms, 'never' leaves it to the OS.
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { calculateObjectSize, deserialize, serialize, setInternalBufferSize } from 'bson';
import type { UUID } from 'bson';
import type { Collection, Store } from './store';
import { type Doc, normalize } from './values';

export type FsyncPolicy = 'always' | 'batch' | 'never';

export interface PersistenceOptions {
  fsync: FsyncPolicy;
  log: (msg: string) => void;
  /** compact (snapshot + new journal) when the journal grows past this many bytes */
  compactBytes?: number;
}

export interface Persistence {
  durable(force?: boolean): Promise<void>;
  /** snapshot + new journal generation; resolves when the snapshot is on disk (the store keeps serving meanwhile) */
  compact(): Promise<void>;
  close(): Promise<void>;
  stats(): { journalBytes: number; generation: number; recoveredRecords: number; tornTailBytes: number };
}

const LOCK = 'mongod.lock';
const SNAPSHOT = 'snapshot.bson';
const SNAPSHOT_TMP = 'snapshot.bson.tmp';
const FORMAT_VERSION = 1;
const DESER = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: false } as const;
const openInThisProcess = new Set<string>();
let internalBufferSize = 17 * 1024 * 1024;

function ser(doc: Doc): Buffer {
  try {
    return Buffer.from(serialize(doc, { checkKeys: false, ignoreUndefined: true }));
  } catch (e) {
    const size = calculateObjectSize(doc, { ignoreUndefined: true });
    if (size + 1024 <= internalBufferSize) throw e;
    internalBufferSize = Math.ceil((size + 1024) * 1.25);
    setInternalBufferSize(internalBufferSize);
    return Buffer.from(serialize(doc, { checkKeys: false, ignoreUndefined: true }));
  }
}

export function frame(doc: Doc): Buffer {
  const payload = ser(doc);
  const head = Buffer.alloc(8);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt32LE(crc32(payload), 4);
  return Buffer.concat([head, payload]);
}

/** Reads framed records; stops at the first incomplete or corrupt one. */
export function readRecords(buf: Buffer): { records: Doc[]; validBytes: number } {
  const records: Doc[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const len = buf.readUInt32LE(off);
    const crc = buf.readUInt32LE(off + 4);
    if (len < 5 || off + 8 + len > buf.length) break;
    const payload = buf.subarray(off + 8, off + 8 + len);
    if (crc32(payload) !== crc) break;
    if (payload.readInt32LE(0) !== len) break;
    let doc: Doc;
    try {
      doc = normalize(deserialize(payload, DESER)) as Doc;
    } catch {
      break;
    }
    records.push(doc);
    off += 8 + len;
  }
  return { records, validBytes: off };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function acquireLock(dir: string, log: (m: string) => void): void {
  const lockPath = path.join(dir, LOCK);
  const real = fs.realpathSync(dir);
  if (openInThisProcess.has(real)) throw new Error(`dbpath ${dir} is already open in this process`);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(lockPath, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      openInThisProcess.add(real);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number.parseInt(fs.readFileSync(lockPath, 'utf8').trim(), 10);
    if (Number.isFinite(owner) && owner > 0 && owner !== process.pid && pidAlive(owner)) {
      throw new Error(`dbpath ${dir} is locked by running process ${owner} (${lockPath}); stop it or use another --dbpath`);
    }
    log(`removing stale lock ${lockPath} (pid ${Number.isFinite(owner) ? owner : '?'} is not running)`);
    try {
      fs.unlinkSync(lockPath);
    } catch {
      /* raced with another process; retry */
    }
  }
  throw new Error(`could not lock dbpath ${dir}`);
}

function releaseLock(dir: string): void {
  const lockPath = path.join(dir, LOCK);
  try {
    const owner = Number.parseInt(fs.readFileSync(lockPath, 'utf8').trim(), 10);
    if (owner === process.pid) fs.unlinkSync(lockPath);
  } catch {
    /* already gone */
  }
  try {
    openInThisProcess.delete(fs.realpathSync(dir));
  } catch {
    /* directory removed */
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* not supported on this platform */
  }
}

function journalName(gen: number): string {
  return `journal-${String(gen).padStart(8, '0')}.log`;
}

function journalGens(dir: string): number[] {
  return fs
    .readdirSync(dir)
    .map((f) => /^journal-(\d+)\.log$/.exec(f))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

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
async function writeSnapshot(store: Store, file: string, gen: number, snapshot: number): Promise<void> {
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

function loadSnapshot(store: Store, file: string): number {
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
      store.loadDocs(c, r.docs as Doc[]);
    }
  }
  return Number(head.gen);
}

export async function openPersistence(store: Store, dir: string, opts: PersistenceOptions): Promise<Persistence> {
  const log = opts.log;
  const compactBytes = opts.compactBytes ?? 64 * 1024 * 1024;
  fs.mkdirSync(dir, { recursive: true });
  acquireLock(dir, log);
  let fd = -1;
  try {
    // ---------------------------------------------------------------- recovery
    let gen = 0;
    const snapPath = path.join(dir, SNAPSHOT);
    if (fs.existsSync(path.join(dir, SNAPSHOT_TMP))) fs.unlinkSync(path.join(dir, SNAPSHOT_TMP));
    if (fs.existsSync(snapPath)) gen = loadSnapshot(store, snapPath);
    let recovered = 0;
    let torn = 0;
    let lastGen = gen;
    for (const g of journalGens(dir)) {
      const file = path.join(dir, journalName(g));
      if (g < gen) {
        fs.unlinkSync(file);
        continue;
      }
      const buf = fs.readFileSync(file);
      const { records, validBytes } = readRecords(buf);
      for (const r of records) store.replay(r);
      recovered += records.length;
      if (validBytes < buf.length) {
        torn += buf.length - validBytes;
        log(`journal ${file}: ignoring a torn tail of ${buf.length - validBytes} bytes after ${records.length} records`);
        fs.truncateSync(file, validBytes);
      }
      lastGen = g;
    }
    if (recovered) log(`recovered ${recovered} journal records from ${dir}`);

    // ---------------------------------------------------------------- journal writer
    let journalBytes = 0;
    const openJournal = (g: number) => {
      const file = path.join(dir, journalName(g));
      fd = fs.openSync(file, 'a');
      journalBytes = fs.fstatSync(fd).size;
      fsyncDir(dir);
    };
    gen = Math.max(gen, lastGen);
    openJournal(gen);

    let pending: Buffer[] = [];
    let written = 0; // bytes handed to the OS since open
    let synced = 0;
    let syncing = false;
    let waiters: { upTo: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
    let flushScheduled = false;
    let compactScheduled = false;
    let closed = false;

    const flushSync = () => {
      if (pending.length === 0) return;
      const buf = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
      pending = [];
      let off = 0;
      while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
      written += buf.length;
      journalBytes += buf.length;
      if (journalBytes > compactBytes && !compactScheduled && !compacting) {
        compactScheduled = true;
        setImmediate(() => {
          compactScheduled = false;
          if (!closed) void compact().catch(() => undefined);
        });
      }
    };

    const kickSync = () => {
      if (syncing || closed) return;
      const upTo = written;
      if (upTo <= synced) {
        const ready = waiters;
        waiters = [];
        ready.forEach((w) => w.resolve());
        return;
      }
      syncing = true;
      const myGen = gen;
      fs.fdatasync(fd, (e) => {
        syncing = false;
        if (myGen !== gen) {
          // the journal was rotated meanwhile (compaction fsynced it); counters restarted
          if (waiters.length) kickSync();
          return;
        }
        if (e) {
          const failed = waiters;
          waiters = [];
          failed.forEach((w) => w.reject(e));
          return;
        }
        synced = Math.max(synced, upTo);
        const ready = waiters.filter((w) => w.upTo <= synced);
        waiters = waiters.filter((w) => w.upTo > synced);
        ready.forEach((w) => w.resolve());
        if (waiters.length) kickSync();
      });
    };

    store.journal = {
      append(rec: Doc) {
        pending.push(frame(rec));
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(() => {
            flushScheduled = false;
            if (!closed) flushSync();
          });
        }
      },
    };

    const batchTimer =
      opts.fsync === 'batch'
        ? setInterval(() => {
            if (written > synced) kickSync();
          }, 100)
        : null;
    batchTimer?.unref();

    let compacting: Promise<void> | null = null;

    /**
     * Starts journal generation G+1 now and writes the snapshot of the state at this instant
     * (generation G+1's starting point) in slices. Until the snapshot is renamed into place a
     * crash recovers from the previous snapshot plus journals ≤ G and G+1, so nothing is lost.
     */
    const compact = (): Promise<void> => {
      if (compacting) return compacting;
      const run = async () => {
        flushSync();
        const newGen = gen + 1;
        const t0 = Date.now();
        const pin = store.pin();
        const oldFd = fd;
        const oldWaiters = waiters;
        waiters = [];
        openJournal(newGen);
        gen = newGen;
        written = 0;
        synced = 0;
        // the old generation is synced off the event loop; its waiters (fsync=always) are answered then
        await new Promise<void>((resolve) => fs.fdatasync(oldFd, () => resolve()));
        fs.close(oldFd, () => undefined);
        oldWaiters.forEach((w) => w.resolve());
        log(`compaction started: snapshot generation ${newGen}`);
        const tmp = path.join(dir, SNAPSHOT_TMP);
        try {
          await writeSnapshot(store, tmp, newGen, pin.snapshot);
        } finally {
          pin.release();
        }
        fs.renameSync(tmp, path.join(dir, SNAPSHOT));
        fsyncDir(dir);
        for (const g of journalGens(dir)) if (g < newGen) fs.unlinkSync(path.join(dir, journalName(g)));
        log(`compacted ${dir}: snapshot generation ${newGen} written in ${Date.now() - t0} ms`);
      };
      compacting = run().finally(() => {
        compacting = null;
      });
      compacting.catch((e) => log(`compaction failed: ${(e as Error).stack ?? String(e)}`));
      return compacting;
    };

    // start from a compact state when the journal carried a lot
    if (journalBytes > Math.min(compactBytes, 1024 * 1024)) void compact().catch(() => undefined);

    return {
      durable(force = false) {
        flushSync();
        if ((opts.fsync !== 'always' && !force) || written <= synced) return Promise.resolve();
        return new Promise<void>((resolve, reject) => {
          waiters.push({ upTo: written, resolve, reject });
          kickSync();
        });
      },
      compact,
      stats: () => ({ journalBytes, generation: gen, recoveredRecords: recovered, tornTailBytes: torn }),
      async close() {
        if (closed) return;
        flushSync();
        await compacting?.catch(() => undefined);
        if (journalBytes > 1024 * 1024) await compact().catch(() => undefined);
        closed = true;
        if (batchTimer) clearInterval(batchTimer);
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        const ready = waiters;
        waiters = [];
        ready.forEach((w) => w.resolve());
        store.journal = null;
        releaseLock(dir);
      },
    };
  } catch (e) {
    if (fd >= 0) fs.closeSync(fd);
    store.journal = null;
    releaseLock(dir);
    throw e;
  }
}
