// Business time. Instants are stored as UTC Dates; business days, due dates and deadlines are
// Asia/Shanghai calendar days. Pure: "now" is always a parameter.

export const BUSINESS_TIME_ZONE = 'Asia/Shanghai';

// NOTE: mainland China has kept UTC+8 without daylight saving since 1991, so a fixed offset gives
// the same calendar as the IANA zone for every date this platform handles (a unit test checks it
// against Intl), and a calendar day in Shanghai is always exactly 24 hours long.
const SHANGHAI_OFFSET_MS = 8 * 60 * 60 * 1000;
export const HOUR_MS = 60 * 60 * 1000;
export const DAY_MS = 24 * HOUR_MS;

/** The Asia/Shanghai calendar day of an instant, as 'YYYY-MM-DD'. */
export function businessDay(at: Date): string {
  return new Date(shanghaiWallClockMs(at)).toISOString().slice(0, 10);
}

/** Number of the Asia/Shanghai calendar day of an instant, counted from 1970-01-01 (day 0). */
export function businessDayIndex(at: Date): number {
  return Math.floor(shanghaiWallClockMs(at) / DAY_MS);
}

/** The first instant (00:00:00.000 Asia/Shanghai) of the calendar day containing `at`. */
export function startOfBusinessDay(at: Date): Date {
  return new Date(businessDayIndex(at) * DAY_MS - SHANGHAI_OFFSET_MS);
}

/** The last instant (23:59:59.999 Asia/Shanghai) of the calendar day containing `at`. */
export function endOfBusinessDay(at: Date): Date {
  return new Date(startOfBusinessDay(at).getTime() + DAY_MS - 1);
}

/** The first instant of an Asia/Shanghai calendar day given as 'YYYY-MM-DD'; throws on bad input. */
export function parseBusinessDay(day: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) throw new RangeError(`Business day must be YYYY-MM-DD, got "${day}".`);
  const [year, month, date] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const utcMidnight = Date.UTC(year, month - 1, date);
  if (new Date(utcMidnight).getUTCDate() !== date || new Date(utcMidnight).getUTCMonth() !== month - 1) {
    throw new RangeError(`"${day}" is not a calendar date.`);
  }
  return new Date(utcMidnight - SHANGHAI_OFFSET_MS);
}

/** Whole Asia/Shanghai calendar days from the day of `from` to the day of `to` (negative if earlier). */
export function calendarDaysBetween(from: Date, to: Date): number {
  return businessDayIndex(to) - businessDayIndex(from);
}

/** `at` plus a whole number of days; equal to calendar days in Asia/Shanghai (no DST). */
export function addDays(at: Date, days: number): Date {
  assertInteger(days, 'days');
  return new Date(validTime(at) + days * DAY_MS);
}

/** `at` plus a whole number of hours. */
export function addHours(at: Date, hours: number): Date {
  assertInteger(hours, 'hours');
  return new Date(validTime(at) + hours * HOUR_MS);
}

/** `at` plus a whole number of seconds. */
export function addSeconds(at: Date, seconds: number): Date {
  assertInteger(seconds, 'seconds');
  return new Date(validTime(at) + seconds * 1000);
}

/**
 * `at` plus whole calendar months on the Asia/Shanghai wall clock, keeping the time of day; a day
 * that does not exist in the target month is clamped to its last day (08-31 + 6 months → 02-28/29).
 */
export function addMonths(at: Date, months: number): Date {
  assertInteger(months, 'months');
  const wall = new Date(shanghaiWallClockMs(at));
  const targetMonthIndex = wall.getUTCMonth() + months;
  const year = wall.getUTCFullYear() + Math.floor(targetMonthIndex / 12);
  const month = ((targetMonthIndex % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(wall.getUTCDate(), lastDay);
  const shifted = Date.UTC(
    year,
    month,
    day,
    wall.getUTCHours(),
    wall.getUTCMinutes(),
    wall.getUTCSeconds(),
    wall.getUTCMilliseconds(),
  );
  return new Date(shifted - SHANGHAI_OFFSET_MS);
}

/** `at` plus whole calendar years (via addMonths, so 02-29 + 1 year → 02-28). */
export function addYears(at: Date, years: number): Date {
  assertInteger(years, 'years');
  return addMonths(at, years * 12);
}

/**
 * Payment due instant for a term counted in calendar days from acceptance: the last millisecond of
 * the Asia/Shanghai day `termDays` after the acceptance day. Accepted 03-01 any time, 30 days → due
 * 03-31 23:59:59.999 +08:00; paying at or before it is on time.
 */
export function dueDate(acceptedAt: Date, termDays: number): Date {
  if (!Number.isInteger(termDays) || termDays < 0) {
    throw new RangeError(`termDays must be a non-negative integer, got ${termDays}.`);
  }
  return endOfBusinessDay(addDays(acceptedAt, termDays));
}

/**
 * The Asia/Shanghai wall-clock time of an instant, as a Date whose UTC fields read that wall clock
 * (what a spreadsheet cell, which has no time zone, must hold to show Shanghai time).
 */
export function shanghaiWallClock(at: Date): Date {
  return new Date(shanghaiWallClockMs(at));
}

function shanghaiWallClockMs(at: Date): number {
  return validTime(at) + SHANGHAI_OFFSET_MS;
}

function validTime(at: Date): number {
  const ms = at instanceof Date ? at.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw new RangeError('Expected a valid Date.');
  return ms;
}

function assertInteger(n: number, name: string): void {
  if (!Number.isInteger(n)) throw new RangeError(`${name} must be an integer, got ${n}.`);
}
