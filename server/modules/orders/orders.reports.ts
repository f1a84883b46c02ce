// Delivery KPIs per distributor over a chosen period, open and late orders per hospital, and the
// recall trace (which hospitals and orders received a drug's batch).
import { Types } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { ForbiddenError, ValidationError } from '../../platform/errors';
import { trusted } from '../../platform/mongo';
import { businessDay, parseBusinessDay } from '../../platform/time';
import { getDrug } from '../catalogue';
import { Organisation, type OrganisationDoc } from '../identity';
import { getSettings } from '../settings';
import { oid, scopeFilter } from './orders.core';
import { Order, Shipment, type OrderDoc, type ShipmentDoc } from './orders.model';
import type { PeriodQueryInput } from './orders.schemas';
import { TERMINAL_ORDER_STATES, deadlineHoursFrom, deliveryKpis, kpiBand } from './orders.state';
import { msg } from '../../platform/messages';

const DAY_MS = 86_400_000;

/** The chosen period as [start, end) instants; by default the last 30 business days including today. */
export function periodOf(q: { from?: string; to?: string }): { from: string; to: string; start: Date; end: Date } {
  const today = businessDay(now());
  const to = q.to ?? today;
  let end: Date;
  let start: Date;
  try {
    end = new Date(parseBusinessDay(to).getTime() + DAY_MS);
    start = q.from ? parseBusinessDay(q.from) : new Date(end.getTime() - 30 * DAY_MS);
  } catch (err) {
    throw new ValidationError({ code: 'INVALID_PERIOD', message: msg('errorCodes.INVALID_PERIOD_DAY') });
  }
  if (start.getTime() >= end.getTime()) throw new ValidationError({ code: 'INVALID_PERIOD', message: msg('errorCodes.INVALID_PERIOD') });
  if (end.getTime() - start.getTime() > 3 * 366 * DAY_MS) throw new ValidationError({ code: 'INVALID_PERIOD', message: msg('errorCodes.INVALID_PERIOD_2') });
  return { from: q.from ?? businessDay(start), to, start, end };
}

export interface KpiRow {
  distributorOrgId: string;
  distributorName: string;
  orders: number;
  responseRateBp: number | null;
  responseBand: string | null;
  onTimeDeliveryRateBp: number | null;
  onTimeDeliveryBand: string | null;
  completionRateBp: number | null;
  completionBand: string | null;
  counts: { responseDue: number; respondedOnTime: number; deliveryDue: number; deliveredOnTime: number; completionDue: number; completed: number };
}

/**
 * Order-response, on-time delivery and completion rates with their bands, per distributor, over
 * orders placed in the period. A distributor sees only its own row; hospitals and the operator see
 * every distributor (the rates are aggregates, never another hospital's orders).
 */
export async function distributorKpis(actor: Actor, q: PeriodQueryInput) {
  const period = periodOf(q);
  if (actor.orgType === 'bank') throw new ForbiddenError({ code: 'ORDERS_NOT_VISIBLE', message: msg('errorCodes.ORDERS_NOT_VISIBLE_2') });
  const filter: Record<string, unknown> = { placedAt: trusted({ $gte: period.start, $lt: period.end }) };
  if (actor.orgType === 'distributor') filter.distributorOrgId = oid(actor.orgId);
  else if (q.distributorOrgId) filter.distributorOrgId = oid(q.distributorOrgId);
  const rows = await Order.find(filter, { distributorOrgId: 1, distributorName: 1, status: 1, placedAt: 1, urgency: 1, respondedAt: 1, deliveredAt: 1, cancelledAt: 1 }).lean<OrderDoc[]>();
  const hours = deadlineHoursFrom((await getSettings()).orders);
  const at = now();
  const byDistributor = new Map<string, OrderDoc[]>();
  for (const o of rows) byDistributor.set(String(o.distributorOrgId), [...(byDistributor.get(String(o.distributorOrgId)) ?? []), o]);
  const data: KpiRow[] = [...byDistributor.entries()].map(([distributorOrgId, orders]) => {
    const k = deliveryKpis(
      orders.map((o) => ({ state: o.status, placedAt: o.placedAt, urgent: o.urgency === 'urgent', respondedAt: o.respondedAt, deliveredAt: o.deliveredAt, cancelledAt: o.cancelledAt })),
      at,
      hours,
    );
    return {
      distributorOrgId,
      distributorName: orders[0]!.distributorName,
      orders: orders.length,
      responseRateBp: k.responseRateBp,
      responseBand: kpiBand(k.responseRateBp),
      onTimeDeliveryRateBp: k.onTimeDeliveryRateBp,
      onTimeDeliveryBand: kpiBand(k.onTimeDeliveryRateBp),
      completionRateBp: k.completionRateBp,
      completionBand: kpiBand(k.completionRateBp),
      counts: k.counts,
    };
  });
  data.sort((a, b) => a.distributorName.localeCompare(b.distributorName, 'zh-CN'));
  return { from: period.from, to: period.to, data };
}

/** Per hospital: open orders now, and orders of the period that were (or still are) late. */
export async function hospitalOrderStats(actor: Actor, q: PeriodQueryInput) {
  const period = periodOf(q);
  if (actor.orgType !== 'hospital' && actor.role !== 'operator') throw new ForbiddenError({ code: 'ORDERS_NOT_VISIBLE', message: msg('errorCodes.ORDERS_NOT_VISIBLE_3') });
  const scope: Record<string, unknown> = actor.orgType === 'hospital' ? { hospitalOrgId: oid(actor.orgId) } : q.hospitalOrgId ? { hospitalOrgId: oid(q.hospitalOrgId) } : {};
  const at = now();
  const open = await Order.find({ ...scope, status: trusted({ $nin: TERMINAL_ORDER_STATES }) }, { hospitalOrgId: 1, hospitalName: 1 }).lean<OrderDoc[]>();
  const inPeriod = await Order.find({ ...scope, placedAt: trusted({ $gte: period.start, $lt: period.end }) }, { hospitalOrgId: 1, hospitalName: 1, deliverBy: 1, deliveredAt: 1, status: 1, missed: 1 }).lean<OrderDoc[]>();
  const rows = new Map<string, { hospitalOrgId: string; hospitalName: string; openOrders: number; ordersInPeriod: number; lateDeliveries: number }>();
  const row = (o: OrderDoc) => {
    const key = String(o.hospitalOrgId);
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { hospitalOrgId: key, hospitalName: o.hospitalName, openOrders: 0, ordersInPeriod: 0, lateDeliveries: 0 }));
    return r;
  };
  for (const o of open) row(o).openOrders += 1;
  for (const o of inPeriod) {
    const r = row(o);
    r.ordersInPeriod += 1;
    const late = o.deliverBy && (o.deliveredAt ? o.deliveredAt > o.deliverBy : o.status !== 'cancelled' && at > o.deliverBy);
    if (late || o.missed?.delivery) r.lateDeliveries += 1;
  }
  return { from: period.from, to: period.to, data: [...rows.values()].sort((a, b) => a.hospitalName.localeCompare(b.hospitalName, 'zh-CN')) };
}

export interface RecallRow {
  hospitalOrgId: string;
  hospitalName: string;
  orderId: string;
  orderNo: string;
  status: string;
  distributorName: string;
  expiryDate: string;
  shippedQty: number;
  acceptedQty: number;
  shippedAt: string;
  acceptedAt?: string;
}

/**
 * Recall trace: every order (and so every hospital) a drug's batch was shipped to, with what was
 * accepted. Hospitals see their own, distributors their own shipments, the operator everything.
 */
export async function recallTrace(actor: Actor, drugId: string, batchNo: string) {
  const drug = await getDrug(drugId);
  const scope = scopeFilter(actor);
  const shipments = await Shipment.find({ ...scope, 'lines.drugId': new Types.ObjectId(drugId), 'lines.batchNo': batchNo }).sort({ shippedAt: 1 }).lean<ShipmentDoc[]>();
  const orders = new Map(
    (await Order.find({ _id: trusted({ $in: shipments.map((s) => s.orderId) }) }, { hospitalName: 1, distributorName: 1, status: 1, acceptedAt: 1, lines: 1 }).lean<OrderDoc[]>()).map((o) => [String(o._id), o]),
  );
  const data: RecallRow[] = [];
  for (const s of shipments) {
    const o = orders.get(String(s.orderId));
    if (!o) continue;
    for (const l of s.lines.filter((x) => String(x.drugId) === drugId && x.batchNo === batchNo)) {
      data.push({
        hospitalOrgId: String(s.hospitalOrgId),
        hospitalName: o.hospitalName,
        orderId: String(o._id),
        orderNo: s.orderNo,
        status: o.status,
        distributorName: o.distributorName,
        expiryDate: l.expiryDate,
        shippedQty: l.quantity,
        acceptedQty: o.lines.find((x) => x.lineNo === l.lineNo)?.acceptedQty ?? 0,
        shippedAt: s.shippedAt.toISOString(),
        acceptedAt: o.acceptedAt?.toISOString(),
      });
    }
  }
  const hospitals = new Set(data.map((r) => r.hospitalOrgId)).size;
  return { drug: drug ? { id: drugId, name: drug.genericNameZh, specification: drug.specification, manufacturer: drug.manufacturer } : null, batchNo, hospitals, data };
}

/** Distributors with at least one order (for the operator's KPI filter). */
export async function distributorsWithOrders(): Promise<{ id: string; name: string }[]> {
  const ids = (await Order.distinct('distributorOrgId')) as Types.ObjectId[];
  const orgs = await Organisation.find({ _id: trusted({ $in: ids }) }, { name: 1 }).sort({ name: 1 }).lean<OrganisationDoc[]>();
  return orgs.map((o) => ({ id: String(o._id), name: o.name }));
}
