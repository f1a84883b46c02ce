import mongoose, { Types } from 'mongoose';
import { now } from '../../platform/context';
import { trusted } from '../../platform/mongo';
import { BASIS_POINTS, mulDiv, sumFen } from '../../platform/money';
import { addDays, addMonths, businessDay, endOfBusinessDay, parseBusinessDay } from '../../platform/time';
import { getOrganisation, Organisation } from '../identity';
import { debtOf, debtsOfBank, noDebt } from './finance.advances';
import { accounts, readAccounts, shownBalance } from './finance.ledger';
import { effectiveLineStatus } from './finance.lines';
import { GuaranteeLine, Invoice, JournalEntry, LedgerAccount, type AccountType, type GuaranteeLineDoc, type EntryKind, type LedgerAccountDoc, type InvoiceDoc, type InvoiceStatus, type JournalEntryDoc } from './finance.model';

type InvoiceForReport = Pick<InvoiceDoc, '_id' | 'hospitalOrgId' | 'amountFen' | 'paidFen' | 'dueAt' | 'acceptedAt' | 'status' | 'paidOnTime' | 'payments'>;
const REPORT_FIELDS = { hospitalOrgId: 1, amountFen: 1, paidFen: 1, dueAt: 1, acceptedAt: 1, status: 1, paidOnTime: 1, payments: 1 };

/** What was still unpaid of an invoice at instant `at` (payments after `at` not counted). */
export function unpaidAt(invoice: Pick<InvoiceDoc, 'amountFen' | 'payments'>, at: Date): number {
  return invoice.amountFen - sumFen(invoice.payments.filter((p) => p.at.getTime() <= at.getTime()).map((p) => p.amountFen));
}

function ratioBp(part: number, whole: number): number {
  return whole > 0 ? mulDiv(part, BASIS_POINTS, whole, 'half_even') : 0;
}

export interface PaymentRecord {
  hospitalOrgId: string;
  invoicesDue: number;
  paidOnTime: number;
  /** paidOnTime / invoicesDue as a fraction 0…1 (4 decimals); 1 when nothing was due. */
  onTimeRate: number;
  onTimeRateBp: number;
  dueFen: number;
  arrearsFen: number;
  arrearsRatioBp: number;
}

/**
 * Per hospital, the invoices that fell due in [from, to]: how many, how many were paid on time (by the
 * hospital before the due date, or in full by the due-date settlement), and what was still unpaid at
 * `to` (arrears) as a share of what fell due. For the credit module's hospital payment record.
 */
export async function hospitalPaymentRecords(range: { from: Date; to: Date }, hospitalOrgIds?: string[]): Promise<PaymentRecord[]> {
  const filter: Record<string, unknown> = { dueAt: trusted({ $gte: range.from, $lte: range.to }) };
  if (hospitalOrgIds) filter.hospitalOrgId = trusted({ $in: hospitalOrgIds.map((h) => new Types.ObjectId(h)) });
  const rows = await Invoice.find(filter, REPORT_FIELDS).lean<InvoiceForReport[]>();
  const asOf = range.to.getTime() < now().getTime() ? range.to : now();
  const byHospital = new Map<string, InvoiceForReport[]>();
  for (const r of rows) byHospital.set(String(r.hospitalOrgId), [...(byHospital.get(String(r.hospitalOrgId)) ?? []), r]);
  return [...byHospital.entries()].map(([hospitalOrgId, invoices]) => {
    const paidOnTime = invoices.filter((i) => i.paidOnTime === true).length;
    const dueFen = sumFen(invoices.map((i) => i.amountFen));
    const arrearsFen = sumFen(invoices.filter((i) => i.dueAt.getTime() < asOf.getTime()).map((i) => unpaidAt(i, asOf)));
    const onTimeRateBp = ratioBp(paidOnTime, invoices.length);
    return {
      hospitalOrgId,
      invoicesDue: invoices.length,
      paidOnTime,
      onTimeRate: onTimeRateBp / BASIS_POINTS,
      onTimeRateBp,
      dueFen,
      arrearsFen,
      arrearsRatioBp: ratioBp(arrearsFen, dueFen),
    };
  });
}

export interface MonthlyArrears {
  month: string;
  hospitalOrgId: string;
  hospitalName: string;
  /** Hospital level 3 / 2 / 1; 0 when not rated. */
  level: number;
  /** Unpaid at the month's start of every invoice due by the month's end: what the hospital had to pay. */
  payableFen: number;
  /** Still unpaid at the month's end (or now) of invoices due by then. */
  arrearsFen: number;
  arrearsRatioBp: number;
  /** Rank within the hospital's level, 1 = most arrears (amount) / highest ratio. */
  rankByAmount: number;
  rankByRatio: number;
}

/** The month's first and last instants (Asia/Shanghai) of 'YYYY-MM'. */
export function monthBounds(month: string): { start: Date; end: Date } {
  const start = parseBusinessDay(`${month}-01`);
  return { start, end: new Date(addMonths(start, 1).getTime() - 1) };
}

/**
 * The monthly arrears ranking (Guangzhou GPO style): per hospital with anything payable in the month,
 * the arrears at month end (or now, for the month in progress), their ratio to what was payable, and
 * ranks within the hospital's level.
 */
export async function monthlyArrears(month: string, hospitalOrgIds?: string[]): Promise<MonthlyArrears[]> {
  const { start, end: monthEnd } = monthBounds(month);
  const end = monthEnd.getTime() < now().getTime() ? monthEnd : now();
  const beforeStart = new Date(start.getTime() - 1);
  const filter: Record<string, unknown> = {
    dueAt: trusted({ $lte: end }),
    $or: [{ status: trusted({ $in: ['open', 'overdue'] as InvoiceStatus[] }) }, { paidAt: trusted({ $gte: start }) }],
  };
  if (hospitalOrgIds) filter.hospitalOrgId = trusted({ $in: hospitalOrgIds.map((h) => new Types.ObjectId(h)) });
  const rows = await Invoice.find(filter, REPORT_FIELDS).lean<InvoiceForReport[]>();
  const totals = new Map<string, { payable: number; arrears: number }>();
  for (const inv of rows) {
    const key = String(inv.hospitalOrgId);
    const t = totals.get(key) ?? { payable: 0, arrears: 0 };
    t.payable += unpaidAt(inv, beforeStart);
    t.arrears += unpaidAt(inv, end);
    totals.set(key, t);
  }
  const ids = [...totals.entries()].filter(([, t]) => t.payable > 0).map(([id]) => id);
  const orgs = await Organisation.find({ _id: trusted({ $in: ids.map((id) => new Types.ObjectId(id)) }) }, { name: 1, hospitalLevel: 1 }).lean<{ _id: Types.ObjectId; name: string; hospitalLevel?: number }[]>();
  const orgById = new Map(orgs.map((o) => [String(o._id), o]));
  const result: MonthlyArrears[] = ids.map((id) => {
    const t = totals.get(id)!;
    const org = orgById.get(id);
    return {
      month,
      hospitalOrgId: id,
      hospitalName: org?.name ?? '',
      level: org?.hospitalLevel ?? 0,
      payableFen: t.payable,
      arrearsFen: t.arrears,
      arrearsRatioBp: ratioBp(t.arrears, t.payable),
      rankByAmount: 0,
      rankByRatio: 0,
    };
  });
  for (const level of new Set(result.map((r) => r.level))) {
    const same = result.filter((r) => r.level === level);
    [...same].sort((a, b) => b.arrearsFen - a.arrearsFen || a.hospitalName.localeCompare(b.hospitalName)).forEach((r, i) => (r.rankByAmount = i + 1));
    [...same].sort((a, b) => b.arrearsRatioBp - a.arrearsRatioBp || b.arrearsFen - a.arrearsFen).forEach((r, i) => (r.rankByRatio = i + 1));
  }
  return result.sort((a, b) => b.level - a.level || a.rankByAmount - b.rankByAmount);
}

/** What a bank officer reviews before deciding: monthly purchases, payment record, arrears, debt. */
export async function hospitalReview(hospitalOrgId: string, bankOrgId?: string) {
  const at = now();
  const firstMonth = businessDay(addMonths(at, -11)).slice(0, 7);
  const since = parseBusinessDay(`${firstMonth}-01`);
  const invoices = await Invoice.find({ hospitalOrgId: new Types.ObjectId(hospitalOrgId), acceptedAt: trusted({ $gte: since }) }, { amountFen: 1, acceptedAt: 1 }).lean<
    Pick<InvoiceDoc, 'amountFen' | 'acceptedAt'>[]
  >();
  const months: { month: string; invoices: number; amountFen: number }[] = [];
  for (let i = 0; i < 12; i += 1) months.push({ month: businessDay(addMonths(since, i)).slice(0, 7), invoices: 0, amountFen: 0 });
  for (const inv of invoices) {
    const m = months.find((x) => x.month === businessDay(inv.acceptedAt).slice(0, 7));
    if (m) {
      m.invoices += 1;
      m.amountFen += inv.amountFen;
    }
  }
  const [record] = await hospitalPaymentRecords({ from: since, to: at }, [hospitalOrgId]);
  const overdue = await Invoice.find({ hospitalOrgId: new Types.ObjectId(hospitalOrgId), status: 'overdue' }, { amountFen: 1, paidFen: 1 }).lean<Pick<InvoiceDoc, 'amountFen' | 'paidFen'>[]>();
  const arrearsHistory: { month: string; arrearsFen: number; arrearsRatioBp: number; payableFen: number }[] = [];
  for (let i = 5; i >= 0; i -= 1) {
    const month = businessDay(addMonths(at, -i)).slice(0, 7);
    const [row] = await monthlyArrears(month, [hospitalOrgId]);
    arrearsHistory.push({ month, arrearsFen: row?.arrearsFen ?? 0, arrearsRatioBp: row?.arrearsRatioBp ?? 0, payableFen: row?.payableFen ?? 0 });
  }
  const debt = bankOrgId ? await debtOf(hospitalOrgId, bankOrgId) : undefined;
  const hospital = await getOrganisation(hospitalOrgId);
  const purchasesFen = sumFen(months.map((m) => m.amountFen));
  return {
    hospitalOrgId,
    hospitalName: hospital?.name ?? '',
    hospitalLevel: hospital?.hospitalLevel ?? undefined,
    months,
    purchases12mFen: purchasesFen,
    averageMonthlyFen: Math.round(purchasesFen / 12),
    paymentRecord: record ?? { hospitalOrgId, invoicesDue: 0, paidOnTime: 0, onTimeRate: 1, onTimeRateBp: BASIS_POINTS, dueFen: 0, arrearsFen: 0, arrearsRatioBp: 0 },
    arrearsNowFen: sumFen(overdue.map((i) => i.amountFen - i.paidFen)),
    overdueInvoices: overdue.length,
    arrearsHistory,
    debt,
  };
}

/** A bank's book: per hospital line, utilisation, principal, interest, overdue; totals; a daily series. */
export async function bankSummary(bankOrgId: string, chartDays = 90) {
  const at = now();
  const bank = new Types.ObjectId(bankOrgId);
  // NOTE: every hospital of the book in one read per collection (a read per hospital grew with the book).
  const [lines, debts, capital, series] = await Promise.all([
    GuaranteeLine.find({ bankOrgId: bank }).sort({ appliedAt: -1, _id: -1 }).lean<GuaranteeLineDoc[]>(),
    debtsOfBank(bankOrgId),
    LedgerAccount.find({ bankOrgId: bank, type: 'working_capital' }, { ownerOrgId: 1, normalSide: 1, balanceFen: 1 }).lean<Pick<LedgerAccountDoc, 'ownerOrgId' | 'normalSide' | 'balanceFen'>[]>(),
    bankSeries(bankOrgId, chartDays),
  ]);
  // the newest line of each hospital that applied to the bank
  const lineOf = new Map<string, GuaranteeLineDoc>();
  for (const l of lines) if (!lineOf.has(String(l.hospitalOrgId))) lineOf.set(String(l.hospitalOrgId), l);
  const hospitals = [...lineOf.keys()];
  const [orgs, income] = await Promise.all([
    Organisation.find({ _id: trusted({ $in: hospitals.map((h) => new Types.ObjectId(h)) }) }, { name: 1, hospitalLevel: 1 }).lean<{ _id: Types.ObjectId; name: string; hospitalLevel?: number }[]>(),
    readAccounts([accounts.interestIncome(bankOrgId)]),
  ]);
  const orgOf = new Map(orgs.map((o) => [String(o._id), o]));
  const balanceOf = new Map(capital.map((a) => [String(a.ownerOrgId), shownBalance(a)]));
  const rows = hospitals.map((hospitalOrgId) => {
    const line = lineOf.get(hospitalOrgId)!;
    const status = effectiveLineStatus(line, at);
    const debt = debts.get(hospitalOrgId) ?? noDebt();
    const limitFen = status === 'active' || status === 'suspended' ? (line.limitFen ?? 0) : 0;
    const org = orgOf.get(hospitalOrgId);
    return {
      hospitalOrgId,
      hospitalName: org?.name ?? '',
      hospitalLevel: org?.hospitalLevel ?? undefined,
      lineId: String(line._id),
      lineStatus: status,
      limitFen,
      balanceFen: balanceOf.get(hospitalOrgId) ?? 0,
      ...debt,
      utilisationBp: ratioBp(debt.principalFen, limitFen),
    };
  });
  const interestIncomeFen = shownBalance(income.get(accounts.interestIncome(bankOrgId).key));
  const totalLimit = sumFen(rows.map((r) => r.limitFen));
  const totalPrincipal = sumFen(rows.map((r) => r.principalFen));
  return {
    bankOrgId,
    hospitals: rows.sort((a, b) => b.principalFen - a.principalFen || a.hospitalName.localeCompare(b.hospitalName)),
    totals: {
      limitFen: totalLimit,
      principalFen: totalPrincipal,
      interestFen: sumFen(rows.map((r) => r.interestFen)),
      overduePrincipalFen: sumFen(rows.map((r) => r.overduePrincipalFen)),
      balanceFen: sumFen(rows.map((r) => r.balanceFen)),
      utilisationBp: ratioBp(totalPrincipal, totalLimit),
      interestIncomeFen,
      pendingApplications: lines.filter((l) => l.status === 'pending').length,
    },
    series,
  };
}

const SERIES_KINDS: EntryKind[] = ['settlement', 'interest', 'repayment'];

/**
 * Outstanding principal and unpaid interest of a bank's advances at the end of each of the last
 * `days` days. The balances when the window opened are the accounts' balances now less what the
 * window's entries moved, so only the window is read, however long the bank's history.
 */
export async function bankSeries(bankOrgId: string, days: number): Promise<{ day: string; principalFen: number; interestFen: number }[]> {
  const at = now();
  const firstDay = businessDay(addDays(at, -(days - 1)));
  const windowStart = parseBusinessDay(firstDay);
  const bank = new Types.ObjectId(bankOrgId);
  const isPrincipal = (key: string) => key.startsWith('advance_principal:') && key.endsWith(`:${bankOrgId}`);
  const isInterest = (key: string) => key.startsWith('interest_receivable:') && key.endsWith(`:${bankOrgId}`);
  // NOTE: one snapshot for the balances and the entries, so an entry posted meanwhile is in both or
  // neither. Only the entries that move one of those accounts are read: most of a bank's
  // settlements are paid from working capital and touch neither.
  const { held, inWindow } = await mongoose.connection.transaction(async (session) => {
    const held = await LedgerAccount.find({ bankOrgId: bank, type: trusted({ $in: ['advance_principal', 'interest_receivable'] as AccountType[] }) }, { key: 1, balanceFen: 1 })
      .session(session)
      .lean<Pick<LedgerAccountDoc, 'key' | 'balanceFen'>[]>();
    const keys = held.map((a) => a.key);
    const inWindow = keys.length
      ? await JournalEntry.find({ bankOrgId: bank, kind: trusted({ $in: SERIES_KINDS }), postedAt: trusted({ $gte: windowStart }), 'postings.accountKey': trusted({ $in: keys }) }, { postings: 1, postedAt: 1 })
          .sort({ postedAt: 1, _id: 1 })
          .session(session)
          .lean<Pick<JournalEntryDoc, 'postings' | 'postedAt'>[]>()
      : [];
    return { held, inWindow };
  });
  let principal = 0;
  let interest = 0;
  const apply = (e: Pick<JournalEntryDoc, 'postings'>, sign: 1 | -1) => {
    for (const p of e.postings) {
      if (isPrincipal(p.accountKey)) principal += sign * p.amountFen;
      else if (isInterest(p.accountKey)) interest += sign * p.amountFen;
    }
  };
  for (const a of held) {
    if (isPrincipal(a.key)) principal += a.balanceFen;
    else if (isInterest(a.key)) interest += a.balanceFen;
  }
  for (const e of inWindow) apply(e, -1);
  const series: { day: string; principalFen: number; interestFen: number }[] = [];
  let i = 0;
  for (let d = 0; d < days; d += 1) {
    const dayEnd = endOfBusinessDay(addDays(windowStart, d));
    while (i < inWindow.length && inWindow[i]!.postedAt.getTime() <= dayEnd.getTime()) apply(inWindow[i++]!, 1);
    series.push({ day: businessDay(dayEnd), principalFen: principal, interestFen: interest });
  }
  return series;
}
