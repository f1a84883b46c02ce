// Hospital payment record: on-time payment rate and the monthly arrears ranking by
// hospital level (top 3 by amount and by ratio), from the finance module's invoices.
import { Types } from 'mongoose';
import { now } from '../../platform/context';
import { trusted } from '../../platform/mongo';
import { addMonths, businessDay, parseBusinessDay } from '../../platform/time';
import { hospitalPaymentRecords, monthlyArrears, type MonthlyArrears } from '../finance';
import { Organisation } from '../identity';

export const RANKING_TOP = 3;

/** The month before `at` as 'YYYY-MM' (the ranking is published for the last complete month). */
export function previousMonth(at: Date = now()): string {
  const thisMonthStart = parseBusinessDay(`${businessDay(at).slice(0, 7)}-01`);
  return businessDay(addMonths(thisMonthStart, -1)).slice(0, 7);
}

export interface PaymentRecordRow {
  hospitalOrgId: string;
  hospitalName: string;
  level: number;
  invoicesDue: number;
  paidOnTime: number;
  onTimeRateBp: number;
  arrearsFen: number;
  arrearsRatioBp: number;
}

/** On-time payment rate per hospital over the last `months` months, hospitals with anything due. */
export async function paymentRecord(months = 12, at: Date = now()): Promise<PaymentRecordRow[]> {
  const rows = await hospitalPaymentRecords({ from: addMonths(at, -months), to: at });
  const orgs = await Organisation.find({ _id: trusted({ $in: rows.map((r) => new Types.ObjectId(r.hospitalOrgId)) }) }, { name: 1, hospitalLevel: 1 }).lean<{ _id: Types.ObjectId; name: string; hospitalLevel?: number }[]>();
  const byId = new Map(orgs.map((o) => [String(o._id), o]));
  return rows
    .map((r) => ({
      hospitalOrgId: r.hospitalOrgId,
      hospitalName: byId.get(r.hospitalOrgId)?.name ?? '',
      level: byId.get(r.hospitalOrgId)?.hospitalLevel ?? 0,
      invoicesDue: r.invoicesDue,
      paidOnTime: r.paidOnTime,
      onTimeRateBp: r.onTimeRateBp,
      arrearsFen: r.arrearsFen,
      arrearsRatioBp: r.arrearsRatioBp,
    }))
    .sort((a, b) => a.onTimeRateBp - b.onTimeRateBp || b.arrearsFen - a.arrearsFen || a.hospitalName.localeCompare(b.hospitalName, 'zh'));
}

export interface LevelRanking {
  level: number;
  byAmount: MonthlyArrears[];
  byRatio: MonthlyArrears[];
}

/** The month's arrears ranking per hospital level (3, 2, 1, then unrated): top 3 by amount and by ratio, arrears only. */
export async function arrearsRanking(month: string): Promise<{ month: string; levels: LevelRanking[] }> {
  const rows = (await monthlyArrears(month)).filter((r) => r.arrearsFen > 0);
  const levels = [3, 2, 1, 0]
    .map((level) => {
      const same = rows.filter((r) => r.level === level);
      return {
        level,
        byAmount: [...same].sort((a, b) => a.rankByAmount - b.rankByAmount).slice(0, RANKING_TOP),
        byRatio: [...same].sort((a, b) => a.rankByRatio - b.rankByRatio).slice(0, RANKING_TOP),
      };
    })
    .filter((l) => l.byAmount.length > 0);
  return { month, levels };
}
