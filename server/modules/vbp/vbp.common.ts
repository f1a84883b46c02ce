import { Types, type ClientSession } from 'mongoose';
import { platform } from '../../platform/context';
import { handleError } from '../../platform/error-handler';
import { businessDay } from '../../platform/time';
import { VbpCounter } from './vbp.model';

export const oid = (id: string | Types.ObjectId): Types.ObjectId => (id instanceof Types.ObjectId ? id : new Types.ObjectId(id));

export const sameId = (a: unknown, b: unknown): boolean => a !== undefined && a !== null && b !== undefined && b !== null && String(a) === String(b);

/** Reserves `count` consecutive numbers of a daily sequence and returns the first one. */
export async function reserveNumbers(prefix: string, at: Date, count: number, session?: ClientSession): Promise<{ day: string; first: number }> {
  const day = businessDay(at).replaceAll('-', '');
  const counter = await VbpCounter.findOneAndUpdate(
    { _id: `${prefix}${day}` },
    { $inc: { seq: count } },
    { upsert: true, returnDocument: 'after', session },
  ).lean<{ seq: number }>();
  return { day, first: counter!.seq - count + 1 };
}

/** `VBP-T20260523-001` style numbers. */
export function formatNumber(prefix: string, day: string, seq: number, width: number): string {
  return `${prefix}${day}-${String(seq).padStart(width, '0')}`;
}

/** Whether an error is MongoDB's duplicate-key error. */
export function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number })?.code === 11000;
}

/**
 * A sweep's work item by item: one that fails is logged and left to the next sweep, the others still
 * run. Returns how many items `fn` reported as done.
 */
export async function eachDue(sweep: string, ids: string[], fn: (id: string) => Promise<boolean>): Promise<number> {
  let done = 0;
  for (const id of ids) {
    try {
      if (await fn(id)) done += 1;
    } catch (err) {
      handleError(err, platform().logger, { sweep, id });
    }
  }
  return done;
}
