import { platform, now } from '../../platform/context';
import { defineJob } from '../../platform/queues';
import { z } from '../../platform/schemas';
import { addDays, businessDay, startOfBusinessDay } from '../../platform/time';

const Id = z.string().regex(/^[a-f0-9]{24}$/);
const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

/** Due-date settlement of one invoice; job id `invoice-settle:<invoiceId>`, run at the due date. */
export const settleInvoiceJob = defineJob('finance.settle-invoice', z.object({ invoiceId: Id }).strict());

/** Interest accrual of one advance through one day; job id `accrue:<advanceId>:<YYYY-MM-DD>`. */
export const accrueAdvanceJob = defineJob('finance.accrue-advance', z.object({ advanceId: Id, day: Day }).strict());

/** The daily finance run for a day (accruals, overdue advances, lost settlements); id `finance-daily:<day>`. */
export const dailyRunJob = defineJob('finance.daily', z.object({ day: Day }).strict());

// NOTE: the daily run starts a few minutes after Shanghai midnight so the day it accrues is complete.
const DAILY_RUN_OFFSET_MS = 5 * 60 * 1000;

/** When the daily run for `day` (the day after the one it closes) starts. */
export function dailyRunAt(day: string): Date {
  return new Date(startOfBusinessDay(new Date(`${day}T12:00:00+08:00`)).getTime() + DAILY_RUN_OFFSET_MS);
}

/** Makes sure tomorrow's daily run is scheduled (deduplicated by its job id). */
export async function ensureDailyRun(): Promise<void> {
  const tomorrow = businessDay(addDays(now(), 1));
  await platform().queues.enqueue(dailyRunJob, { day: tomorrow }, { jobId: `finance-daily:${tomorrow}`, runAt: dailyRunAt(tomorrow) });
}
