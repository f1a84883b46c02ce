// The operator dashboard: savings against reference prices, payment timeliness, supply and credit
// over a period, read with indexed aggregations on the other modules' collections (through their
// public models). Nothing here writes.
import { Types, type PipelineStage } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { ForbiddenError, ValidationError } from '../../platform/errors';
import { msg } from '../../platform/messages';
import { divRoundHalfEven } from '../../platform/money';
import { trusted } from '../../platform/mongo';
import { DAY_MS, businessDay, parseBusinessDay } from '../../platform/time';
import { Drug } from '../catalogue';
import { Breach, creditBadges } from '../credit';
import { Advance, Invoice } from '../finance';
import { Organisation } from '../identity';
import { Order } from '../orders';
import { Listing } from '../quotation';
import { VbpContract, VbpTender } from '../vbp';
import { median, monthsOf, percentile, principalAt, savingsTotals, shareBp, startOfNextMonth, type SavingsTotals } from './dashboard.rules';
import type { DashboardData, DashboardQueryInput } from './dashboard.schemas';

const SHANGHAI_OFFSET_MS = 8 * 3_600_000;
const MAX_PERIOD_DAYS = 3 * 366;
const PRICE_HISTORY_DRUGS = 100;
export const GRADES = ['A', 'B', 'C', 'D'] as const;

/** The period as business days and [start, end) instants; by default the last 12 months including this one. */
export function dashboardPeriod(q: { from?: string; to?: string }): { from: string; to: string; start: Date; end: Date } {
  const today = businessDay(now());
  const to = q.to ?? today;
  let start: Date;
  let end: Date;
  let from: string;
  try {
    end = new Date(parseBusinessDay(to).getTime() + DAY_MS);
    if (q.from) from = q.from;
    else {
      const [y, m] = [Number(to.slice(0, 4)), Number(to.slice(5, 7))];
      const back = y * 12 + (m - 1) - 11;
      from = `${Math.floor(back / 12)}-${String((back % 12) + 1).padStart(2, '0')}-01`;
    }
    start = parseBusinessDay(from);
  } catch {
    throw new ValidationError({ code: 'INVALID_PERIOD', message: msg('errorCodes.INVALID_PERIOD_DAY') });
  }
  if (start.getTime() >= end.getTime()) throw new ValidationError({ code: 'INVALID_PERIOD', message: msg('errorCodes.INVALID_PERIOD') });
  if (end.getTime() - start.getTime() > MAX_PERIOD_DAYS * DAY_MS) throw new ValidationError({ code: 'INVALID_PERIOD', message: msg('errorCodes.INVALID_PERIOD_2') });
  return { from, to, start, end };
}

/** The Asia/Shanghai month 'YYYY-MM' of a date field, as an aggregation expression. */
function monthOf(field: string) {
  return { $dateToString: { format: '%Y-%m', date: { $add: [field, SHANGHAI_OFFSET_MS] } } };
}

/** The Asia/Shanghai calendar-day number of a date field, as an aggregation expression. */
function dayNumberOf(field: string) {
  return { $floor: { $divide: [{ $subtract: [{ $add: [field, SHANGHAI_OFFSET_MS] }, new Date(0)] }, DAY_MS] } };
}

const oid = (id: string) => new Types.ObjectId(id);

interface Scope {
  start: Date;
  end: Date;
  at: Date;
  /** Hospitals of the chosen level (undefined: every hospital). */
  hospitalIds?: Types.ObjectId[];
  drugId?: Types.ObjectId;
  distributorId?: Types.ObjectId;
}

/** Filter on the parties and the drug of a document with hospitalOrgId / distributorOrgId / lines.drugId. */
function partyFilter(s: Scope, fields: { hospital?: string; distributor?: string; drug?: string }): Record<string, unknown> {
  const f: Record<string, unknown> = {};
  if (s.hospitalIds && fields.hospital) f[fields.hospital] = trusted({ $in: s.hospitalIds });
  if (s.distributorId && fields.distributor) f[fields.distributor] = s.distributorId;
  if (s.drugId && fields.drug) f[fields.drug] = s.drugId;
  return f;
}

/** The pipelines of the dashboard, by collection (also run by the bench directly on the collections). */
export function dashboardPipelines(s: Scope) {
  const orderParties = partyFilter(s, { hospital: 'hospitalOrgId', distributor: 'distributorOrgId', drug: 'lines.drugId' });
  const invoiceParties = partyFilter(s, { hospital: 'hospitalOrgId', distributor: 'distributorOrgId', drug: 'lines.drugId' });
  return {
    /** Accepted quantities and amounts of listing and contract lines, per source, for orders accepted in the period. */
    purchases: [
      { $match: { acceptedAt: { $gte: s.start, $lt: s.end }, ...orderParties } },
      { $project: { _id: 0, lines: 1 } },
      { $unwind: '$lines' },
      { $match: { 'lines.source.kind': { $in: ['listing', 'contract'] }, 'lines.acceptedQty': { $gt: 0 }, ...(s.drugId ? { 'lines.drugId': s.drugId } : {}) } },
      {
        $group: {
          _id: { kind: '$lines.source.kind', refId: '$lines.source.refId' },
          quantity: { $sum: '$lines.acceptedQty' },
          paidTotalFen: { $sum: { $multiply: ['$lines.acceptedQty', '$lines.unitPriceFen'] } },
        },
      },
    ] as PipelineStage[],
    /** Orders placed in the period with a delivery deadline: due (delivered, or the deadline passed) and delivered on time, per month. */
    deliveries: [
      { $match: { placedAt: { $gte: s.start, $lt: s.end }, ...orderParties } },
      { $match: { deliverBy: { $exists: true } } },
      {
        $group: {
          _id: monthOf('$placedAt'),
          due: { $sum: { $cond: [{ $or: [{ $gt: ['$deliveredAt', null] }, { $lt: ['$deliverBy', s.at] }] }, 1, 0] } },
          onTime: { $sum: { $cond: [{ $and: [{ $gt: ['$deliveredAt', null] }, { $lte: ['$deliveredAt', '$deliverBy'] }] }, 1, 0] } },
        },
      },
    ] as PipelineStage[],
    /** Invoices paid in the period: calendar days from acceptance to payment, per month of payment. */
    paid: [
      { $match: { paidAt: { $gte: s.start, $lt: s.end }, ...invoiceParties } },
      { $project: { _id: 0, month: monthOf('$paidAt'), days: { $subtract: [dayNumberOf('$paidAt'), dayNumberOf('$acceptedAt')] } } },
      { $group: { _id: '$month', days: { $push: '$days' } } },
    ] as PipelineStage[],
    /** Invoices due in the period (up to now): how many, how many paid on their due date, per month of the due date. */
    due: [
      { $match: { dueAt: { $gte: s.start, $lt: s.end < s.at ? s.end : s.at }, ...invoiceParties } },
      { $group: { _id: monthOf('$dueAt'), due: { $sum: 1 }, onTime: { $sum: { $cond: [{ $eq: ['$paidOnTime', true] }, 1, 0] } } } },
    ] as PipelineStage[],
  };
}

/** The operator's dashboard for a period and filters. Operators only. */
export async function dashboard(actor: Actor, q: DashboardQueryInput): Promise<DashboardData> {
  if (actor.role !== 'operator') throw new ForbiddenError({ code: 'DASHBOARD_OPERATOR_ONLY', message: msg('errorCodes.DASHBOARD_OPERATOR_ONLY') });
  const period = dashboardPeriod(q);
  const scope: Scope = {
    start: period.start,
    end: period.end,
    at: now(),
    ...(q.drugId ? { drugId: oid(q.drugId) } : {}),
    ...(q.distributorId ? { distributorId: oid(q.distributorId) } : {}),
  };
  if (q.hospitalLevel) {
    const hospitals = await Organisation.find({ type: 'hospital', hospitalLevel: q.hospitalLevel }, { _id: 1 }).lean<{ _id: Types.ObjectId }[]>();
    scope.hospitalIds = hospitals.map((h) => h._id);
  }
  const months = monthsOf(period.from, period.to);
  const pipelines = dashboardPipelines(scope);
  const [savings, payments, supply, credit] = await Promise.all([savingsOf(scope, pipelines.purchases), paymentsOf(scope, months, pipelines), supplyOf(scope, months, pipelines.deliveries), creditOf(scope, months)]);
  return {
    from: period.from,
    to: period.to,
    filters: { ...(q.hospitalLevel ? { hospitalLevel: q.hospitalLevel } : {}), ...(q.drugId ? { drugId: q.drugId } : {}), ...(q.distributorId ? { distributorId: q.distributorId } : {}) },
    savings,
    payments,
    supply,
    credit,
  };
}

type PurchaseRow = { _id: { kind: 'listing' | 'contract'; refId?: string }; quantity: number; paidTotalFen: number };

async function savingsOf(s: Scope, pipeline: PipelineStage[]): Promise<DashboardData['savings']> {
  const rows = await Order.aggregate<PurchaseRow>(pipeline);
  const validIds = (kind: string) => rows.filter((r) => r._id.kind === kind && r._id.refId && Types.ObjectId.isValid(r._id.refId)).map((r) => oid(r._id.refId!));
  const [listings, contracts] = await Promise.all([
    Listing.find({ _id: trusted({ $in: validIds('listing') }) }, { roundId: 1, roundNo: 1, roundTitle: 1, drugId: 1, 'drug.genericNameZh': 1, referenceFen: 1 }).lean<
      { _id: Types.ObjectId; roundId: Types.ObjectId; roundNo: string; roundTitle: string; drugId: Types.ObjectId; drug: { genericNameZh: string }; referenceFen: number }[]
    >(),
    VbpContract.find({ _id: trusted({ $in: validIds('contract') }) }, { contractNo: 1, tenderId: 1, tenderNo: 1, lineId: 1, genericNameZh: 1, hospitalName: 1, distributorName: 1, priceFen: 1 }).lean<
      { _id: Types.ObjectId; contractNo: string; tenderId: Types.ObjectId; tenderNo: string; lineId: Types.ObjectId; genericNameZh: string; hospitalName: string; distributorName: string; priceFen: number }[]
    >(),
  ]);
  const tenders = await VbpTender.find({ _id: trusted({ $in: [...new Set(contracts.map((c) => String(c.tenderId)))].map(oid) }) }, { tenderNo: 1, title: 1, 'lines._id': 1, 'lines.ceilingFen': 1 }).lean<
    { _id: Types.ObjectId; tenderNo: string; title: string; lines: { _id: Types.ObjectId; ceilingFen: number }[] }[]
  >();
  const listingById = new Map(listings.map((l) => [String(l._id), l]));
  const contractById = new Map(contracts.map((c) => [String(c._id), c]));
  const tenderById = new Map(tenders.map((t) => [String(t._id), t]));

  type Bought = { quantity: number; referenceTotalFen: number; paidTotalFen: number };
  const rounds = new Map<string, { roundId: string; roundNo: string; title: string; rows: Bought[]; lines: Map<string, { drugId: string; drugName: string; referenceFen: number; rows: Bought[] }> }>();
  const tenderRows = new Map<string, { tenderId: string; tenderNo: string; title: string; rows: Bought[] }>();
  const contractRows: (SavingsTotals & { contractId: string; contractNo: string; tenderNo: string; drugName: string; hospitalName: string; distributorName: string; ceilingFen: number; priceFen: number })[] = [];
  const all: Bought[] = [];
  for (const r of rows) {
    if (r._id.kind === 'listing') {
      const l = listingById.get(String(r._id.refId));
      if (!l) continue;
      const bought = { quantity: r.quantity, referenceTotalFen: r.quantity * l.referenceFen, paidTotalFen: r.paidTotalFen };
      all.push(bought);
      const key = String(l.roundId);
      let round = rounds.get(key);
      if (!round) rounds.set(key, (round = { roundId: key, roundNo: l.roundNo, title: l.roundTitle, rows: [], lines: new Map() }));
      round.rows.push(bought);
      const lineKey = `${l.drugId}:${l.referenceFen}`;
      let line = round.lines.get(lineKey);
      if (!line) round.lines.set(lineKey, (line = { drugId: String(l.drugId), drugName: l.drug.genericNameZh, referenceFen: l.referenceFen, rows: [] }));
      line.rows.push(bought);
    } else {
      const c = contractById.get(String(r._id.refId));
      const tender = c && tenderById.get(String(c.tenderId));
      const ceilingFen = tender?.lines.find((x) => String(x._id) === String(c!.lineId))?.ceilingFen;
      if (!c || !tender || ceilingFen === undefined) continue;
      const bought = { quantity: r.quantity, referenceTotalFen: r.quantity * ceilingFen, paidTotalFen: r.paidTotalFen };
      all.push(bought);
      let t = tenderRows.get(String(tender._id));
      if (!t) tenderRows.set(String(tender._id), (t = { tenderId: String(tender._id), tenderNo: tender.tenderNo, title: tender.title, rows: [] }));
      t.rows.push(bought);
      contractRows.push({ ...savingsTotals([bought]), contractId: String(c._id), contractNo: c.contractNo, tenderNo: c.tenderNo, drugName: c.genericNameZh, hospitalName: c.hospitalName, distributorName: c.distributorName, ceilingFen, priceFen: c.priceFen });
    }
  }
  const byNo = <T extends { roundNo?: string; tenderNo?: string; contractNo?: string }>(a: T, b: T) => String(a.roundNo ?? a.tenderNo ?? a.contractNo).localeCompare(String(b.roundNo ?? b.tenderNo ?? b.contractNo));
  return {
    total: savingsTotals(all),
    rounds: [...rounds.values()]
      .map((r) => ({
        ...savingsTotals(r.rows),
        roundId: r.roundId,
        roundNo: r.roundNo,
        title: r.title,
        lines: [...r.lines.values()].map((l) => {
          const t = savingsTotals(l.rows);
          // NOTE: the price paid per unit is the quantity-weighted mean of the listings bought, rounded half to even.
          return { ...t, drugId: l.drugId, drugName: l.drugName, referenceFen: l.referenceFen, unitPriceFen: t.quantity ? divRoundHalfEven(t.paidTotalFen, t.quantity) : 0 };
        }).sort((a, b) => b.savedFen - a.savedFen),
      }))
      .sort(byNo),
    tenders: [...tenderRows.values()].map((t) => ({ ...savingsTotals(t.rows), tenderId: t.tenderId, tenderNo: t.tenderNo, title: t.title })).sort(byNo),
    contracts: contractRows.sort(byNo),
    priceHistory: await priceHistoryOf(s),
  };
}

/** Each drug listed in the period: its best published price and reference in every round up to the period's end. */
async function priceHistoryOf(s: Scope): Promise<DashboardData['savings']['priceHistory']> {
  const listedFilter = { publishedAt: trusted({ $gte: s.start, $lt: s.end }), ...(s.drugId ? { drugId: s.drugId } : {}), ...(s.distributorId ? { distributorOrgId: s.distributorId } : {}) };
  const drugIds = ((await Listing.distinct('drugId', listedFilter)) as Types.ObjectId[]).slice(0, PRICE_HISTORY_DRUGS);
  if (drugIds.length === 0) return [];
  const rows = await Listing.aggregate<{ _id: { drugId: Types.ObjectId; roundId: Types.ObjectId }; roundNo: string; drugName: string; publishedAt: Date; referenceFen: number; bestFen: number }>([
    { $match: { drugId: { $in: drugIds }, publishedAt: { $lt: s.end }, ...(s.distributorId ? { distributorOrgId: s.distributorId } : {}) } },
    { $group: { _id: { drugId: '$drugId', roundId: '$roundId' }, roundNo: { $first: '$roundNo' }, drugName: { $first: '$drug.genericNameZh' }, publishedAt: { $min: '$publishedAt' }, referenceFen: { $max: '$referenceFen' }, bestFen: { $min: '$unitPriceFen' } } },
  ]);
  const byDrug = new Map<string, DashboardData['savings']['priceHistory'][number]>();
  for (const r of rows) {
    const key = String(r._id.drugId);
    let d = byDrug.get(key);
    if (!d) byDrug.set(key, (d = { drugId: key, drugName: r.drugName, points: [] }));
    d.points.push({ roundId: String(r._id.roundId), roundNo: r.roundNo, publishedAt: r.publishedAt.toISOString(), referenceFen: r.referenceFen, bestFen: r.bestFen });
  }
  for (const d of byDrug.values()) d.points.sort((a, b) => a.publishedAt.localeCompare(b.publishedAt) || a.roundNo.localeCompare(b.roundNo));
  return [...byDrug.values()].sort((a, b) => a.drugName.localeCompare(b.drugName, 'zh-CN'));
}

/**
 * Which advances the filters cover. An advance pays one invoice at its due-date settlement, so with a
 * distributor or a drug chosen the advances are those of the settled invoices that match (the
 * invoice's distributor, a line of the drug), found through the invoices' indexes.
 */
async function advanceFilter(s: Scope): Promise<Record<string, unknown>> {
  const hospitals = partyFilter(s, { hospital: 'hospitalOrgId' });
  if (!s.distributorId && !s.drugId) return hospitals;
  const invoiceIds = await Invoice.distinct('_id', {
    ...partyFilter(s, { hospital: 'hospitalOrgId', distributor: 'distributorOrgId', drug: 'lines.drugId' }),
    dueAt: trusted({ $lt: s.end }),
    'settlement.advanceFen': trusted({ $gt: 0 }),
  });
  return { ...hospitals, invoiceId: trusted({ $in: invoiceIds }) };
}

async function paymentsOf(s: Scope, months: string[], p: ReturnType<typeof dashboardPipelines>): Promise<DashboardData['payments']> {
  const advanceParties = await advanceFilter(s);
  const [paid, due, advanced, open] = await Promise.all([
    Invoice.aggregate<{ _id: string; days: number[] }>(p.paid),
    Invoice.aggregate<{ _id: string; due: number; onTime: number }>(p.due),
    Advance.aggregate<{ _id: string; fen: number; n: number }>([
      { $match: { advancedAt: { $gte: s.start, $lt: s.end }, ...advanceParties } },
      { $group: { _id: monthOf('$advancedAt'), fen: { $sum: '$principalFen' }, n: { $sum: 1 } } },
    ]),
    // NOTE: every advance made before the period's end and not repaid before its start, with only its principal history.
    Advance.find({ advancedAt: trusted({ $lt: s.end }), ...advanceParties, $or: [{ repaidAt: trusted({ $exists: false }) }, { repaidAt: trusted({ $gte: s.start }) }] }, { _id: 0, segments: 1 }).lean<{ segments: { at: Date; principalFen: number }[] }[]>(),
  ]);
  const paidBy = new Map(paid.map((r) => [r._id, r.days]));
  const dueBy = new Map(due.map((r) => [r._id, r]));
  const advancedBy = new Map(advanced.map((r) => [r._id, r]));
  return {
    months: months.map((month) => {
      const days = paidBy.get(month) ?? [];
      const d = dueBy.get(month);
      const a = advancedBy.get(month);
      const monthEnd = new Date(Math.min(startOfNextMonth(month).getTime(), s.end.getTime(), s.at.getTime()) - 1);
      return {
        month,
        paidInvoices: days.length,
        medianDays: median(days),
        p90Days: percentile(days, 90),
        invoicesDue: d?.due ?? 0,
        paidOnDueDate: d?.onTime ?? 0,
        paidOnDueDateBp: d ? shareBp(d.onTime, d.due) : null,
        advancedFen: a?.fen ?? 0,
        advances: a?.n ?? 0,
        outstandingFen: open.reduce((sum, adv) => sum + principalAt(adv.segments, monthEnd), 0),
      };
    }),
  };
}

async function supplyOf(s: Scope, months: string[], deliveriesPipeline: PipelineStage[]): Promise<DashboardData['supply']> {
  const [deliveries, shortageDrugs, listedDrugIds, contracts] = await Promise.all([
    Order.aggregate<{ _id: string; due: number; onTime: number }>(deliveriesPipeline),
    Drug.find({ 'categories.shortage': true, active: true, ...(s.drugId ? { _id: s.drugId } : {}) }, { genericNameZh: 1 }).lean<{ _id: Types.ObjectId; genericNameZh: string }[]>(),
    Listing.distinct('drugId', { publishedAt: trusted({ $lt: s.end }), expiresAt: trusted({ $gt: s.start }), ...(s.distributorId ? { distributorOrgId: s.distributorId } : {}), ...(s.drugId ? { drugId: s.drugId } : {}) }) as Promise<Types.ObjectId[]>,
    VbpContract.aggregate<{ _id: { tenderId: Types.ObjectId; drugId: Types.ObjectId }; tenderNo: string; drugName: string; contracts: number; agreedQty: number; purchasedQty: number }>([
      { $match: { termStart: { $lt: s.end }, termEnd: { $gt: s.start }, ...partyFilter(s, { hospital: 'hospitalOrgId', distributor: 'distributorOrgId', drug: 'drugId' }) } },
      { $group: { _id: { tenderId: '$tenderId', drugId: '$drugId' }, tenderNo: { $first: '$tenderNo' }, drugName: { $first: '$genericNameZh' }, contracts: { $sum: 1 }, agreedQty: { $sum: '$agreedQty' }, purchasedQty: { $sum: '$purchasedQty' } } },
    ]),
  ]);
  const deliveriesBy = new Map(deliveries.map((r) => [r._id, r]));
  const listed = new Set(listedDrugIds.map(String));
  const uncovered = shortageDrugs.filter((d) => !listed.has(String(d._id)));
  return {
    months: months.map((month) => {
      const d = deliveriesBy.get(month);
      return { month, deliveriesDue: d?.due ?? 0, deliveredOnTime: d?.onTime ?? 0, onTimeBp: d ? shareBp(d.onTime, d.due) : null };
    }),
    shortage: {
      drugs: shortageDrugs.length,
      covered: shortageDrugs.length - uncovered.length,
      coveredBp: shareBp(shortageDrugs.length - uncovered.length, shortageDrugs.length),
      uncovered: uncovered.map((d) => ({ drugId: String(d._id), drugName: d.genericNameZh })).sort((a, b) => a.drugName.localeCompare(b.drugName, 'zh-CN')),
    },
    vbp: contracts
      .map((c) => ({ tenderId: String(c._id.tenderId), tenderNo: c.tenderNo, drugId: String(c._id.drugId), drugName: c.drugName, contracts: c.contracts, agreedQty: c.agreedQty, purchasedQty: c.purchasedQty, completionBp: shareBp(c.purchasedQty, c.agreedQty) }))
      .sort((a, b) => a.tenderNo.localeCompare(b.tenderNo) || a.drugName.localeCompare(b.drugName, 'zh-CN')),
  };
}

async function creditOf(s: Scope, months: string[]): Promise<DashboardData['credit']> {
  const distributors = await Organisation.find({ type: 'distributor', ...(s.distributorId ? { _id: s.distributorId } : {}) }, { _id: 1 }).lean<{ _id: Types.ObjectId }[]>();
  const [badges, breaches] = await Promise.all([
    creditBadges(distributors.map((d) => String(d._id))),
    Breach.aggregate<{ _id: { month: string; code: string }; zh: string; en: string; n: number }>([
      { $match: { occurredAt: { $gte: s.start, $lt: s.end }, ...(s.distributorId ? { orgId: s.distributorId } : {}) } },
      { $match: { status: { $ne: 'voided' } } },
      { $group: { _id: { month: monthOf('$occurredAt'), code: '$code' }, zh: { $first: '$zh' }, en: { $first: '$en' }, n: { $sum: 1 } } },
    ]),
  ]);
  const grades = new Map<string, number>(GRADES.map((g) => [g, 0]));
  for (const b of badges.values()) grades.set(b.grade, (grades.get(b.grade) ?? 0) + 1);
  const types = new Map<string, { code: string; zh: string; en: string; count: number }>();
  for (const b of breaches) {
    const t = types.get(b._id.code) ?? { code: b._id.code, zh: b.zh, en: b.en, count: 0 };
    t.count += b.n;
    types.set(b._id.code, t);
  }
  return {
    grades: [...grades.entries()].map(([grade, n]) => ({ grade, distributors: n })),
    breaches: months.map((month) => {
      const byType: Record<string, number> = {};
      for (const b of breaches) if (b._id.month === month) byType[b._id.code] = b.n;
      return { month, byType, total: Object.values(byType).reduce((a, b) => a + b, 0) };
    }),
    breachTypes: [...types.values()].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code)),
  };
}

