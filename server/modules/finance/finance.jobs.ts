// The finance module's jobs, their deterministic ids and when they run. Jobs are enqueued by
// subscribers (after the commit of the fact that calls for them) and by the module's sweep, never
// from inside a unit of work.
import { platform, now } from '../../platform/context';
import { defineJob } from '../../platform/queues';
import { z } from '../../platform/schemas';
import { addDays, businessDay, parseBusinessDay, startOfBusinessDay } from '../../platform/time';

const Id = z.string().regex(/^[a-f0-9]{24}$/);
const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

/** Due-date settlement of one invoice; job id `invoice-settle:<invoiceId>`, run at the due date. */
export const settleInvoiceJob = defineJob('finance.settle-invoice', z.object({ invoiceId: Id }).strict());

/** Interest accrual of one advance through one day; job id `accrue:<advanceId>:<YYYY-MM-DD>`. */
export const accrueAdvanceJob = defineJob('finance.accrue-advance', z.object({ advanceId: Id, day: Day }).strict());

/** The daily finance run for a day (accruals, overdue advances, due settlements); id `finance-daily:<day>`. */
export const dailyRunJob = defineJob('finance.daily', z.object({ day: Day }).strict());

/** The deterministic ids of the module's jobs (enqueueing twice keeps one job). */
export const jobIds = {
  settle: (invoiceId: string) => `invoice-settle:${invoiceId}`,
  accrue: (advanceId: string, day: string) => `accrue:${advanceId}:${day}`,
  daily: (day: string) => `finance-daily:${day}`,
};

// NOTE: the daily run starts a few minutes after Shanghai midnight so the day it accrues is complete.
const DAILY_RUN_OFFSET_MS = 5 * 60 * 1000;

/** When the daily run for `day` (the day after the one it closes) starts. */
export function dailyRunAt(day: string): Date {
  return new Date(startOfBusinessDay(new Date(`${day}T12:00:00+08:00`)).getTime() + DAILY_RUN_OFFSET_MS);
}

/** 'YYYY-MM-DD' + n days. */
export function shiftDay(day: string, n: number): string {
  return businessDay(addDays(parseBusinessDay(day), n));
}

/** Makes sure tomorrow's daily run is scheduled (deduplicated by its job id). */
export async function ensureDailyRun(): Promise<void> {
  const tomorrow = businessDay(addDays(now(), 1));
  await platform().queues.enqueue(dailyRunJob, { day: tomorrow }, { jobId: jobIds.daily(tomorrow), runAt: dailyRunAt(tomorrow) });
}

/** Schedules the accruals of many advances (each for its `day`, just after that day ends) in one round trip. */
export async function scheduleAccruals(list: readonly { advanceId: string; day: string }[]): Promise<void> {
  await platform().queues.enqueueMany(
    accrueAdvanceJob,
    list.map(({ advanceId, day }) => ({ payload: { advanceId, day }, opts: { jobId: jobIds.accrue(advanceId, day), runAt: dailyRunAt(shiftDay(day, 1)) } })),
  );
}
