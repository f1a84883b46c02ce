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
import { SNAPSHOT, SNAPSHOT_TMP, frame, readRecords, acquireLock, releaseLock, fsyncDir, fsyncDirAsync, journalName, journalGens } from './journal-files';
import { writeSnapshot, loadSnapshot } from './snapshots';
import type { Store } from './store';
import { replayRecord } from './store-recovery';
import type { Doc } from './values';

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
  stats(): { journalBytes: number; generation: number; recoveredRecords: number; tornTailBytes: number; compacting: boolean; compactions: number; lastCompaction: { startedAt: number; ms: number } | null };
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
      for (const r of records) replayRecord(store, r);
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
    /** the directory fsync that makes a new journal's name durable, while it runs (see kickSync) */
    let dirSyncing: Promise<void> | null = null;
    /** `background`: the directory is fsynced off the event loop (during compaction: with a large journal just written, a directory fsync can wait hundreds of ms on the file system's journal) */
    const openJournal = (g: number, background = false) => {
      const file = path.join(dir, journalName(g));
      fd = fs.openSync(file, 'a');
      journalBytes = fs.fstatSync(fd).size;
      if (!background) {
        fsyncDir(dir);
        return;
      }
      const p: Promise<void> = fsyncDirAsync(dir).finally(() => {
        if (dirSyncing === p) dirSyncing = null;
      });
      dirSyncing = p;
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
      if (dirSyncing) {
        // a write in the new journal is durable only once the journal's name is
        syncing = true;
        void dirSyncing.then(() => {
          syncing = false;
          kickSync();
        });
        return;
      }
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
    let compactions = 0;
    let lastCompaction: { startedAt: number; ms: number } | null = null;

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
        openJournal(newGen, true);
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
        // NOTE: off the event loop: replacing a 1 GiB snapshot or deleting a 1 GiB journal frees
        // its blocks inside the system call, 100-300 ms on ext4 with `discard`
        await fs.promises.rename(tmp, path.join(dir, SNAPSHOT));
        await fsyncDirAsync(dir);
        for (const g of journalGens(dir)) if (g < newGen) await fs.promises.unlink(path.join(dir, journalName(g)));
        compactions++;
        lastCompaction = { startedAt: t0, ms: Date.now() - t0 };
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
      stats: () => ({ journalBytes, generation: gen, recoveredRecords: recovered, tornTailBytes: torn, compacting: compacting !== null, compactions, lastCompaction }),
      async close() {
        if (closed) return;
        flushSync();
        await compacting?.catch(() => undefined);
        if (journalBytes > 1024 * 1024) await compact().catch(() => undefined);
        await dirSyncing;
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
