import { Types } from 'mongoose';
import { ValidationError } from './errors';
import { trusted } from './mongo';
import { msg } from './messages';

/** Opaque cursor over (sortValue, _id) for stable pagination in descending order. */
export function encodeCursor(at: Date, id: Types.ObjectId | string): string {
  return Buffer.from(`${at.getTime()}:${String(id)}`).toString('base64url');
}

export function decodeCursor(cursor: string): { at: Date; id: Types.ObjectId } {
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^(\d{1,15}):([a-f0-9]{24})$/.exec(raw);
  if (!m) throw new ValidationError({ code: 'INVALID_CURSOR', message: msg('errorCodes.INVALID_CURSOR') });
  return { at: new Date(Number(m[1])), id: new Types.ObjectId(m[2]) };
}

/** Whether a cursor of encodeCursor decodes (a page reads a hand-edited link's cursor with this). */
export function isCursor(cursor: string): boolean {
  try {
    decodeCursor(cursor);
    return true;
  } catch {
    return false;
  }
}

/** Mongo filter for "older than the cursor" when sorting by { [field]: -1, _id: -1 }. */
export function beforeCursor(field: string, cursor?: string): Record<string, unknown> {
  if (!cursor) return {};
  const c = decodeCursor(cursor);
  return { $or: [{ [field]: trusted({ $lt: c.at }) }, { [field]: c.at, _id: trusted({ $lt: c.id }) }] };
}

/** Slices one extra row off a page query and returns the next cursor. */
export function pageOf<T extends { _id: Types.ObjectId }>(rows: T[], limit: number, at: (row: T) => Date): { rows: T[]; nextCursor: string | null } {
  if (rows.length <= limit) return { rows, nextCursor: null };
  const page = rows.slice(0, limit);
  const last = page[page.length - 1]!;
  return { rows: page, nextCursor: encodeCursor(at(last), last._id) };
}

/** Opaque cursor over (key, _id) for stable pagination in ascending order of a string key (a name). */
export function encodeKeyCursor(key: string, id: Types.ObjectId | string): string {
  return Buffer.from(`${String(id)}:${key}`).toString('base64url');
}

export function decodeKeyCursor(cursor: string): { key: string; id: Types.ObjectId } {
  const m = /^([a-f0-9]{24}):(.{0,400})$/su.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new ValidationError({ code: 'INVALID_CURSOR', message: msg('errorCodes.INVALID_CURSOR') });
  return { key: m[2]!, id: new Types.ObjectId(m[1]) };
}

/** Whether a cursor of encodeKeyCursor decodes (a page reads a hand-edited link's cursor with this). */
export function isKeyCursor(cursor: string): boolean {
  try {
    decodeKeyCursor(cursor);
    return true;
  } catch {
    return false;
  }
}

/** Mongo filter for "after the cursor" when sorting by { [field]: 1, _id: 1 }. */
export function afterKeyCursor(field: string, cursor?: string): Record<string, unknown> {
  if (!cursor) return {};
  const c = decodeKeyCursor(cursor);
  return { $or: [{ [field]: trusted({ $gt: c.key }) }, { [field]: c.key, _id: trusted({ $gt: c.id }) }] };
}

/** Slices one extra row off an ascending key-ordered page query and returns the next cursor. */
export function pageByKey<T extends { _id: Types.ObjectId }>(rows: T[], limit: number, key: (row: T) => string): { rows: T[]; nextCursor: string | null } {
  if (rows.length <= limit) return { rows, nextCursor: null };
  const page = rows.slice(0, limit);
  const last = page[page.length - 1]!;
  return { rows: page, nextCursor: encodeKeyCursor(key(last), last._id) };
}
