// A BSON writer for the plain values that make up most stored documents (strings, numbers,
// booleans, null, dates, ObjectIds, Longs, Doubles, sub-documents and arrays), writing straight
// into a caller's buffer with no garbage: `bson`'s own serialiser allocates a few hundred bytes of
// bookkeeping per document (a Set, frames, key arrays, a copy through its internal buffer), which
// for a million documents is a young-generation collection every few thousand. The bytes are
// those `bson` writes (checkKeys false, ignoreUndefined true); any other value returns UNSUPPORTED
// and the caller uses `bson`.

/** the value has a type this writer leaves to `bson` */
export const UNSUPPORTED = -2;
/** the document does not fit before `limit` */
export const NO_ROOM = -1;

const TWO_32 = 4294967296;

interface BsonValue {
  _bsontype?: string;
  toBSON?: unknown;
}

/** Writes `key` as a cstring at `p`; returns the offset after it, or a negative code. */
function writeKey(out: Buffer, p: number, key: string, limit: number): number {
  const n = key.length;
  if (p + n + 1 > limit) return NO_ROOM;
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c === 0) return UNSUPPORTED; // bson refuses it; let it say so
    if (c > 127) {
      const len = Buffer.byteLength(key, 'utf8');
      if (p + len + 1 > limit) return NO_ROOM;
      out.write(key, p, len, 'utf8');
      out[p + len] = 0;
      return p + len + 1;
    }
    out[p + i] = c;
  }
  out[p + n] = 0;
  return p + n + 1;
}

function writeValue(out: Buffer, typeAt: number, p: number, v: unknown, limit: number): number {
  switch (typeof v) {
    case 'string': {
      let len = v.length;
      if (p + 4 + len * 3 + 1 > limit) {
        len = Buffer.byteLength(v, 'utf8');
        if (p + 4 + len + 1 > limit) return NO_ROOM;
      }
      out[typeAt] = 0x02;
      const written = out.write(v, p + 4, 'utf8');
      out.writeInt32LE(written + 1, p);
      out[p + 4 + written] = 0;
      return p + 4 + written + 1;
    }
    case 'number':
      if (!Object.is(v, -0) && Number.isSafeInteger(v) && v <= 0x7fffffff && v >= -0x80000000) {
        if (p + 4 > limit) return NO_ROOM;
        out[typeAt] = 0x10;
        out.writeInt32LE(v, p);
        return p + 4;
      }
      if (p + 8 > limit) return NO_ROOM;
      out[typeAt] = 0x01;
      out.writeDoubleLE(v, p);
      return p + 8;
    case 'boolean':
      if (p + 1 > limit) return NO_ROOM;
      out[typeAt] = 0x08;
      out[p] = v ? 1 : 0;
      return p + 1;
    case 'object': {
      if (v === null) {
        out[typeAt] = 0x0a;
        return p;
      }
      if (Array.isArray(v)) {
        out[typeAt] = 0x04;
        return writeArray(out, p, v, limit);
      }
      if (v instanceof Date) {
        if (p + 8 > limit) return NO_ROOM;
        out[typeAt] = 0x09;
        const ms = v.getTime();
        if (Number.isNaN(ms)) {
          out.writeInt32LE(0, p);
          out.writeInt32LE(0, p + 4);
        } else {
          const hi = Math.floor(ms / TWO_32);
          out.writeUInt32LE(ms - hi * TWO_32, p);
          out.writeInt32LE(hi, p + 4);
        }
        return p + 8;
      }
      const t = (v as BsonValue)._bsontype;
      if (t === 'ObjectId') {
        if (p + 12 > limit) return NO_ROOM;
        out[typeAt] = 0x07;
        return p + (v as { serializeInto(b: Uint8Array, i: number): number }).serializeInto(out, p);
      }
      if (t === 'Long') {
        if (p + 8 > limit) return NO_ROOM;
        out[typeAt] = 0x12;
        const l = v as { getLowBits(): number; getHighBits(): number };
        out.writeInt32LE(l.getLowBits(), p);
        out.writeInt32LE(l.getHighBits(), p + 4);
        return p + 8;
      }
      if (t === 'Double') {
        if (p + 8 > limit) return NO_ROOM;
        out[typeAt] = 0x01;
        out.writeDoubleLE((v as { value: number }).value, p);
        return p + 8;
      }
      if (t !== undefined || typeof (v as BsonValue).toBSON === 'function' || v instanceof RegExp || v instanceof Map || ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return UNSUPPORTED;
      if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) return UNSUPPORTED;
      out[typeAt] = 0x03;
      return writeDoc(out, p, v as Record<string, unknown>, limit);
    }
    default:
      return UNSUPPORTED; // undefined is handled by the callers; bigint, function, symbol: bson's
  }
}

function writeArray(out: Buffer, at: number, arr: unknown[], limit: number): number {
  let p = at + 4;
  for (let i = 0; i < arr.length; i++) {
    if (p + 12 > limit) return NO_ROOM;
    const typeAt = p++;
    // the index as a decimal key
    let digits = 1;
    for (let x = i; x >= 10; x = Math.floor(x / 10)) digits++;
    for (let d = digits - 1, x = i; d >= 0; d--, x = Math.floor(x / 10)) out[p + d] = 48 + (x % 10);
    p += digits;
    out[p++] = 0;
    const x = arr[i];
    if (x === undefined) {
      out[typeAt] = 0x0a; // bson writes null for undefined array elements
      continue;
    }
    p = writeValue(out, typeAt, p, x, limit);
    if (p < 0) return p;
  }
  return closeDocument(out, at, p, limit);
}

/** Ends a document or array begun at `at` whose elements end at `p`: the terminator and the length. */
function closeDocument(out: Buffer, at: number, p: number, limit: number): number {
  if (p + 1 > limit) return NO_ROOM;
  out[p] = 0;
  out.writeInt32LE(p + 1 - at, at);
  return p + 1;
}

/** Writes `doc` as a BSON document at `at`; returns the offset after it, NO_ROOM or UNSUPPORTED. */
export function writeDoc(out: Buffer, at: number, doc: Record<string, unknown>, limit: number): number {
  let p = at + 4;
  if (p > limit) return NO_ROOM;
  for (const key in doc) {
    if (!Object.prototype.hasOwnProperty.call(doc, key)) continue;
    const x = doc[key];
    if (x === undefined) continue;
    if (p + 1 > limit) return NO_ROOM;
    const typeAt = p++;
    p = writeKey(out, p, key, limit);
    if (p < 0) return p;
    p = writeValue(out, typeAt, p, x, limit);
    if (p < 0) return p;
  }
  return closeDocument(out, at, p, limit);
}
