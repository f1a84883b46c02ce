// Constants and small helpers shared by the command families.
import { Double, Long } from 'bson';
import { err } from './errors';
import { type Doc, isNumeric, toNumber } from './values';

export const SERVER_VERSION = '8.0.0';
// NOTE: 25 is MongoDB 8.0, the first with the cross-collection `bulkWrite` command (cmd-write.ts).
export const MAX_WIRE_VERSION = 25;
export const MAX_BSON = 16 * 1024 * 1024;
export const MAX_MSG = 48_000_000;
export const MAX_BATCH = 100_000;
export const SESSION_TIMEOUT_MIN = 30;
export const CURSOR_TIMEOUT_MS = 10 * 60 * 1000;

export const OK = () => new Double(1);

export function intOpt(v: unknown, name: string, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (!isNumeric(v)) throw err('TypeMismatch', `Field '${name}' should be numeric`);
  return Math.trunc(toNumber(v));
}

export function collName(cmd: Doc, field: string): string {
  const v = cmd[field];
  if (typeof v !== 'string') {
    throw err('InvalidNamespace', `collection name has invalid type ${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v}`);
  }
  return v;
}

/** A random non-zero int64 cursor id. */
export function newCursorId(): Long {
  const id = Long.fromBigInt((BigInt(Math.floor(Math.random() * 2 ** 31)) << 31n) | BigInt(Math.floor(Math.random() * 2 ** 31)));
  return id.isZero() ? Long.ONE : id;
}
