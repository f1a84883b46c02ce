import { expect } from 'chai';
import {
  addDays,
  addHours,
  addMonths,
  addSeconds,
  addYears,
  businessDay,
  calendarDaysBetween,
  dueDate,
  endOfBusinessDay,
  parseBusinessDay,
  startOfBusinessDay,
} from '../../server/platform/time';

const at = (iso: string) => new Date(iso);

describe('business time (Asia/Shanghai)', () => {
  describe('businessDay', () => {
    const cases: [string, string][] = [
      ['2025-03-01T00:00:00+08:00', '2025-03-01'],
      ['2025-02-28T16:00:00Z', '2025-03-01'], // Shanghai midnight
      ['2025-02-28T15:59:59.999Z', '2025-02-28'], // one ms before Shanghai midnight
      ['2024-12-31T20:00:00Z', '2025-01-01'], // year boundary
      ['2024-02-29T12:00:00+08:00', '2024-02-29'],
      ['1970-01-01T00:00:00Z', '1970-01-01'],
    ];
    for (const [iso, day] of cases) {
      it(`puts ${iso} on ${day}`, () => {
        expect(businessDay(at(iso))).to.equal(day);
      });
    }

    it('agrees with the IANA Asia/Shanghai zone every 7 hours across two years', () => {
      const iana = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' });
      for (let t = Date.UTC(2024, 0, 1); t < Date.UTC(2026, 0, 1); t += 7 * 3600_000 + 13_000) {
        expect(businessDay(new Date(t))).to.equal(iana.format(new Date(t)));
      }
    });

    it('refuses an invalid Date', () => {
      expect(() => businessDay(new Date('nope'))).to.throw(RangeError, /valid Date/);
    });
  });

  describe('day boundaries', () => {
    it('starts and ends a business day at Shanghai midnight', () => {
      const noon = at('2025-03-01T12:00:00+08:00');
      expect(startOfBusinessDay(noon).toISOString()).to.equal('2025-02-28T16:00:00.000Z');
      expect(endOfBusinessDay(noon).toISOString()).to.equal('2025-03-01T15:59:59.999Z');
    });

    it('parses YYYY-MM-DD as the start of that Shanghai day and rejects impossible dates', () => {
      expect(parseBusinessDay('2025-03-01').toISOString()).to.equal('2025-02-28T16:00:00.000Z');
      expect(() => parseBusinessDay('2025-02-30')).to.throw(RangeError, /not a calendar date/);
      expect(() => parseBusinessDay('2025-3-1')).to.throw(RangeError, /YYYY-MM-DD/);
    });

    const between: [string, string, number][] = [
      ['2025-03-01T23:59:00+08:00', '2025-03-02T00:01:00+08:00', 1], // 2 minutes, one boundary
      ['2025-03-01T00:00:00+08:00', '2025-03-01T23:59:59+08:00', 0],
      ['2025-03-01T10:00:00+08:00', '2025-03-31T09:00:00+08:00', 30],
      ['2025-03-02T10:00:00+08:00', '2025-03-01T10:00:00+08:00', -1],
      ['2024-02-28T10:00:00+08:00', '2024-03-01T10:00:00+08:00', 2], // leap year
    ];
    for (const [from, to, days] of between) {
      it(`counts ${days} calendar days from ${from} to ${to}`, () => {
        expect(calendarDaysBetween(at(from), at(to))).to.equal(days);
      });
    }
  });

  describe('adding time', () => {
    it('adds exact hours, seconds and days', () => {
      const t = at('2025-03-01T10:00:00Z');
      expect(addHours(t, 24).toISOString()).to.equal('2025-03-02T10:00:00.000Z');
      expect(addHours(t, -1).toISOString()).to.equal('2025-03-01T09:00:00.000Z');
      expect(addSeconds(t, 120).toISOString()).to.equal('2025-03-01T10:02:00.000Z');
      expect(addDays(t, 30).toISOString()).to.equal('2025-03-31T10:00:00.000Z');
      expect(() => addDays(t, 1.5)).to.throw(RangeError, /integer/);
    });

    const months: [string, number, string][] = [
      ['2025-08-31T10:00:00+08:00', 6, '2026-02-28T10:00:00+08:00'], // clamp to month end
      ['2023-08-31T10:00:00+08:00', 6, '2024-02-29T10:00:00+08:00'], // leap February
      ['2025-01-15T00:30:00+08:00', 1, '2025-02-15T00:30:00+08:00'], // UTC is still the 14th
      ['2025-03-31T23:00:00+08:00', -1, '2025-02-28T23:00:00+08:00'],
      ['2025-01-10T12:00:00+08:00', -12, '2024-01-10T12:00:00+08:00'],
      ['2025-11-30T12:00:00+08:00', 3, '2026-02-28T12:00:00+08:00'],
    ];
    for (const [from, n, to] of months) {
      it(`adds ${n} months to ${from} giving ${to}`, () => {
        expect(addMonths(at(from), n).getTime()).to.equal(at(to).getTime());
      });
    }

    it('adds years through months, so 29 February becomes 28 February', () => {
      expect(addYears(at('2024-02-29T09:00:00+08:00'), 1).getTime()).to.equal(at('2025-02-28T09:00:00+08:00').getTime());
      expect(addYears(at('2024-02-29T09:00:00+08:00'), 4).getTime()).to.equal(at('2028-02-29T09:00:00+08:00').getTime());
    });
  });

  describe('dueDate', () => {
    const cases: [string, number, string][] = [
      ['2025-03-01T14:00:00+08:00', 30, '2025-03-31T23:59:59.999+08:00'],
      ['2025-03-01T00:00:00+08:00', 30, '2025-03-31T23:59:59.999+08:00'],
      ['2025-03-01T23:59:59+08:00', 30, '2025-03-31T23:59:59.999+08:00'],
      ['2025-02-28T16:30:00Z', 30, '2025-03-31T23:59:59.999+08:00'], // 00:30 on 03-01 in Shanghai
      ['2025-03-01T10:00:00+08:00', 0, '2025-03-01T23:59:59.999+08:00'],
      ['2024-12-15T10:00:00+08:00', 30, '2025-01-14T23:59:59.999+08:00'],
    ];
    for (const [accepted, term, due] of cases) {
      it(`an acceptance at ${accepted} with a ${term}-day term is due by ${due}`, () => {
        expect(dueDate(at(accepted), term).getTime()).to.equal(at(due).getTime());
      });
    }

    it('refuses a negative or fractional term', () => {
      expect(() => dueDate(at('2025-03-01T00:00:00Z'), -1)).to.throw(RangeError);
      expect(() => dueDate(at('2025-03-01T00:00:00Z'), 1.5)).to.throw(RangeError);
    });
  });
});
