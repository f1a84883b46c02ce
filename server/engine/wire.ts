// MongoDB wire protocol framing: OP_QUERY (handshake only), OP_REPLY, OP_MSG (sections kind 0
// and 1, checksum flag, moreToCome), and refusal of OP_COMPRESSED (compression is never offered).
import { deserialize, serialize } from 'bson';
import { ServerError } from './errors';
import { type Doc, formatValue, normalize } from './values';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

export const FLAG_CHECKSUM = 1 << 0;
export const FLAG_MORE_TO_COME = 1 << 1;
export const FLAG_EXHAUST_ALLOWED = 1 << 16;

export interface Request {
  requestId: number;
  opCode: number;
  flags: number;
  /** the command document (kind-0 body with kind-1 sequences merged in as arrays) */
  doc: Doc;
  /** OP_QUERY only: the namespace the query addressed */
  ns?: string;
}

/** mongod's BSONObjMaxUserSize and BSONObjMaxInternalSize (a command may carry 16 KiB of envelope). */
export const MAX_USER_BSON = 16 * 1024 * 1024;
export const MAX_INTERNAL_BSON = MAX_USER_BSON + 16 * 1024;

/** Commands that arrived in a message over 16 MiB: only these can hold an over-sized document. */
const largeCommands = new WeakSet<object>();
export function cameInLargeMessage(cmd: object): boolean {
  return largeCommands.has(cmd);
}

const DESER = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: false } as const;

function readDoc(buf: Buffer, offset: number): { doc: Doc; size: number } {
  const size = buf.readInt32LE(offset);
  if (size < 5 || offset + size > buf.length) throw new Error('invalid BSON document length');
  if (size > MAX_INTERNAL_BSON) {
    // mongod validates every section object against the internal limit and answers the command
    const first = Object.entries(deserialize(buf.subarray(offset, offset + size), DESER))[0];
    const shown = first ? `${first[0]}: ${formatValue(normalize(first[1]))}` : 'EOO';
    throw new ServerError(
      'BSONObjectTooLarge',
      `BSONObj size: ${size} (0x${size.toString(16).toUpperCase()}) is invalid. Size must be between 0 and ${MAX_INTERNAL_BSON}(16MB) First element: ${shown}`,
    );
  }
  const raw = deserialize(buf.subarray(offset, offset + size), DESER) as Doc;
  return { doc: normalize(raw) as Doc, size };
}

/** Parses one complete message (header included). */
export function parseMessage(msg: Buffer): Request {
  const requestId = msg.readInt32LE(4);
  const opCode = msg.readInt32LE(12);
  if (opCode === OP_MSG) {
    const flags = msg.readUInt32LE(16);
    let end = msg.length;
    if (flags & FLAG_CHECKSUM) end -= 4;
    let off = 20;
    let body: Doc | undefined;
    const seqs: [string, Doc[]][] = [];
    while (off < end) {
      const kind = msg.readUInt8(off);
      off += 1;
      if (kind === 0) {
        const { doc, size } = readDoc(msg, off);
        body = doc;
        off += size;
      } else if (kind === 1) {
        const size = msg.readInt32LE(off);
        const secEnd = off + size;
        let p = off + 4;
        const z = msg.indexOf(0, p);
        const id = msg.toString('utf8', p, z);
        p = z + 1;
        const docs: Doc[] = [];
        while (p < secEnd) {
          const r = readDoc(msg, p);
          docs.push(r.doc);
          p += r.size;
        }
        seqs.push([id, docs]);
        off = secEnd;
      } else {
        throw new Error(`unknown OP_MSG section kind ${kind}`);
      }
    }
    if (!body) throw new Error('OP_MSG without a body section');
    if (msg.length > MAX_USER_BSON) largeCommands.add(body);
    for (const [id, docs] of seqs) {
      const existing = body[id];
      body[id] = Array.isArray(existing) ? [...existing, ...docs] : docs;
    }
    return { requestId, opCode, flags, doc: body };
  }
  if (opCode === OP_QUERY) {
    const flags = msg.readUInt32LE(16);
    const z = msg.indexOf(0, 20);
    const ns = msg.toString('utf8', 20, z);
    let off = z + 1 + 8; // numberToSkip, numberToReturn
    const { doc } = readDoc(msg, off);
    off += 0;
    // legacy clients may wrap the command: {$query: {...}, $readPreference: ...}
    const cmd = (doc.$query && typeof doc.$query === 'object' ? (doc.$query as Doc) : doc) as Doc;
    return { requestId, opCode, flags, doc: cmd, ns };
  }
  return { requestId, opCode, flags: 0, doc: {} };
}

let nextId = 1;

const SER = { checkKeys: false, ignoreUndefined: true } as const;

/** An OP_MSG reply with one kind-0 section. */
export function opMsgReply(responseTo: number, doc: Doc, flags = 0): Buffer {
  const body = serialize(doc, SER);
  const header = Buffer.alloc(21);
  const len = 21 + body.length;
  header.writeInt32LE(len, 0);
  header.writeInt32LE(nextId++ & 0x7fffffff, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(OP_MSG, 12);
  header.writeUInt32LE(flags, 16);
  header.writeUInt8(0, 20);
  return Buffer.concat([header, body], len);
}

/** An OP_REPLY to a legacy OP_QUERY (handshake). */
export function opReply(responseTo: number, doc: Doc): Buffer {
  const body = serialize(doc, SER);
  const header = Buffer.alloc(36);
  const len = 36 + body.length;
  header.writeInt32LE(len, 0);
  header.writeInt32LE(nextId++ & 0x7fffffff, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(OP_REPLY, 12);
  header.writeInt32LE(8, 16); // responseFlags: AwaitCapable
  header.writeBigInt64LE(0n, 20); // cursorID
  header.writeInt32LE(0, 28); // startingFrom
  header.writeInt32LE(1, 32); // numberReturned
  return Buffer.concat([header, body], len);
}

/** Splits a byte stream into complete messages. */
export class Framer {
  private chunks: Buffer[] = [];
  private length = 0;

  constructor(private readonly maxMessageSize = 48_000_000 + 16 * 1024) {}

  push(data: Buffer): Buffer[] {
    this.chunks.push(data);
    this.length += data.length;
    const out: Buffer[] = [];
    for (;;) {
      if (this.length < 4) break;
      if (this.chunks[0]!.length < 4) this.chunks = [Buffer.concat(this.chunks, this.length)];
      const size = this.chunks[0]!.readInt32LE(0);
      if (size < 16 || size > this.maxMessageSize) throw new Error(`invalid message length ${size}`);
      // wait for the whole message before copying anything (large inserts arrive in many chunks)
      if (this.length < size) break;
      const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length);
      out.push(buf.subarray(0, size));
      const rest = buf.subarray(size);
      this.chunks = rest.length ? [rest] : [];
      this.length = rest.length;
    }
    return out;
  }
}
