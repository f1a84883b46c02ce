// The files of a --dbpath directory: checksummed record framing (u32 length | u32 CRC-32 | BSON),
// reading records up to a torn tail, the directory lock (mongod.lock) and journal generations.
import fs from 'node:fs';
import path from 'node:path';
import { calculateObjectSize, deserialize, serialize, serializeWithBufferAndIndex, setInternalBufferSize } from 'bson';
import { crc32 } from 'node:zlib';
import { type Doc, normalize } from './values';

const LOCK = 'mongod.lock';
export const SNAPSHOT = 'snapshot.bson';
export const SNAPSHOT_TMP = 'snapshot.bson.tmp';
export const FORMAT_VERSION = 1;
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

/**
 * Frames `doc` into `out` at `off` without intermediate copies; returns the offset after the
 * record. `maxBytes` bounds the payload's size and `out` must have that much room after `off + 8`.
 */
export function frameInto(doc: Doc, maxBytes: number, out: Buffer, off: number): number {
  if (maxBytes + 1024 > internalBufferSize) {
    internalBufferSize = Math.ceil((maxBytes + 1024) * 1.25);
    setInternalBufferSize(internalBufferSize);
  }
  const last = serializeWithBufferAndIndex(doc, out, { index: off + 8, checkKeys: false, ignoreUndefined: true });
  const len = last + 1 - (off + 8);
  out.writeUInt32LE(len, off);
  out.writeUInt32LE(crc32(out.subarray(off + 8, off + 8 + len)), off + 4);
  return off + 8 + len;
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

export function acquireLock(dir: string, log: (m: string) => void): void {
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

export function releaseLock(dir: string): void {
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

export function fsyncDir(dir: string): void {
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

/** fsyncDir off the event loop (a directory fsync can wait on the file system's journal). */
export async function fsyncDirAsync(dir: string): Promise<void> {
  try {
    const fh = await fs.promises.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    /* not supported on this platform */
  }
}

export function journalName(gen: number): string {
  return `journal-${String(gen).padStart(8, '0')}.log`;
}

export function journalGens(dir: string): number[] {
  return fs
    .readdirSync(dir)
    .map((f) => /^journal-(\d+)\.log$/.exec(f))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}
