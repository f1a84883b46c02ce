// Conversions of stored values: normalisation after deserialising, cloning, to and from mingo's
// plain JS values, and the mongod-style text of a value used in error messages.
import { type DBRef, Decimal128, Double, Long, ObjectId } from 'bson';
import { bytesOf } from './compare';
import { makeDouble } from './numbers';
import { type Doc, bsonTypeName, setField, isPlainObject } from './value-types';

/** Converts a freshly deserialised (promoteValues:false) value to storage form. Creates new containers. */
export function normalize(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const out = new Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = normalize(v[i]);
    return out;
  }
  const t = bsonTypeName(v);
  if (t !== undefined) {
    if (t === 'Int32') return (v as { value: number }).value;
    if (t === 'Double') return makeDouble((v as Double).value);
    // mongod stores a DBRef as the ordinary sub-document {$ref, $id, $db?, …}: keep it one, so
    // paths like 'ref.$id' and whole-DBRef equality work like on any embedded document
    if (t === 'DBRef') {
      const r = v as DBRef;
      const out: Doc = { $ref: r.collection, $id: normalize(r.oid) };
      if (r.db) out.$db = r.db;
      for (const k of Object.keys(r.fields ?? {})) setField(out, k, normalize(r.fields[k]));
      return out;
    }
    return v;
  }
  if (v instanceof Date || v instanceof RegExp || v instanceof Uint8Array) return v;
  const out: Doc = {};
  for (const k of Object.keys(v)) {
    const x = (v as Doc)[k];
    setField(out, k, x !== null && typeof x === 'object' ? normalize(x) : x);
  }
  return out;
}

/** Deep copy of containers (objects, arrays); immutable leaves are shared. Dates are copied. */
export function clone<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(clone) as T;
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if (!isPlainObject(v)) return v;
  const out: Doc = {};
  for (const k of Object.keys(v)) {
    const x = (v as Doc)[k];
    setField(out, k, x !== null && typeof x === 'object' ? clone(x) : x);
  }
  return out as T;
}

/** Converts a stored value to what mingo's operators understand (double wrappers → numbers). */
export function toMingo(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(toMingo);
  const t = bsonTypeName(v);
  if (t !== undefined) {
    if (t === 'Double' || t === 'Int32') return (v as Double).value;
    return v;
  }
  if (!isPlainObject(v)) return v;
  const out: Doc = {};
  for (const k of Object.keys(v)) setField(out, k, toMingo((v as Doc)[k]));
  return out;
}

/** Converts mingo output back to storage form. */
export function fromMingo(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(fromMingo);
  if (!isPlainObject(v)) return v;
  const out: Doc = {};
  for (const k of Object.keys(v)) {
    const x = (v as Doc)[k];
    if (x === undefined) continue;
    setField(out, k, fromMingo(x));
  }
  return out;
}

/** Renders a value the way mongod prints it in error messages (`{ email: "a@b" }`). */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return '[ ' + v.map(formatValue).join(', ') + ' ]';
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (v instanceof RegExp) return String(v);
  switch (bsonTypeName(v)) {
    case 'ObjectId':
      return `ObjectId('${(v as ObjectId).toHexString()}')`;
    case 'Double':
      return String((v as Double).value);
    case 'Long':
      return (v as Long).toString();
    case 'Decimal128':
      return `Decimal128('${(v as Decimal128).toString()}')`;
    case 'Binary':
      return `BinData(${(v as { sub_type?: number }).sub_type ?? 0}, ${Buffer.from(bytesOf(v)).toString('hex')})`;
  }
  if (isPlainObject(v)) {
    const keys = Object.keys(v);
    if (keys.length === 0) return '{}';
    return '{ ' + keys.map((k) => `${k}: ${formatValue(v[k])}`).join(', ') + ' }';
  }
  return String(v);
}


