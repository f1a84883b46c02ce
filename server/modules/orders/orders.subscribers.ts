// What follows from the orders module's facts: the deadline jobs, live pushes to both parties and the
// order's watchers, and notifications. All idempotent (deterministic job ids, deduplicated
// notifications, pushes carrying the order's sequence number), so a redelivered fact does no harm.
import { OrderAccepted, OrderDeadlineMissed, OrderPlaced, OrderStatusChanged, OrderTracked } from '../../events/orders';
import type { DomainEvent } from '../../platform/events';
import { dateTime, day, fen, msg, type Message } from '../../platform/messages';
import { onEvent } from '../../platform/relay';
import type { Role } from '../../platform/schemas';
import { notifyOrganisation } from '../notifications';
import { oid } from './orders.core';
import { scheduleConfirmDeadline, scheduleDeliveryDeadlines } from './orders.deadlines';
import { publishOrder, publishPlaced, publishTracking } from './orders.live';
import { Order, Shipment, type OrderDoc, type ShipmentDoc } from './orders.model';
import type { OrderUpdatedPayload } from '../../platform/realtime.events';

async function pushOrder(orderId: string, change: OrderUpdatedPayload['change']): Promise<void> {
  const o = await Order.findById(oid(orderId)).lean<OrderDoc>();
  if (o) publishOrder(o, change);
}

function tell(e: DomainEvent, orgId: string, roles: Role[], kind: string, title: Message, body: Message, link: string): Promise<number> {
  return notifyOrganisation(orgId, { kind, title, body, link, dedupeKey: `${e.key}:${roles.join(',')}` }, roles);
}

const statusNotice: Partial<Record<string, { to: 'hospital' | 'distributor'; kind: string; title: string; body: string }>> = {
  confirmed: { to: 'hospital', kind: 'order.confirmed', title: 'orders.notice.confirmed.title', body: 'orders.notice.confirmed.body' },
  partially_confirmed: { to: 'hospital', kind: 'order.confirmed', title: 'orders.notice.partiallyConfirmed.title', body: 'orders.notice.confirmed.body' },
  rejected: { to: 'hospital', kind: 'order.rejected', title: 'orders.notice.rejected.title', body: 'orders.notice.rejected.body' },
  cancelled: { to: 'distributor', kind: 'order.cancelled', title: 'orders.notice.cancelled.title', body: 'orders.notice.cancelled.body' },
  shipped: { to: 'hospital', kind: 'order.shipped', title: 'orders.notice.shipped.title', body: 'orders.notice.shipped.body' },
  delivered: { to: 'hospital', kind: 'order.delivered', title: 'orders.notice.delivered.title', body: 'orders.notice.delivered.body' },
};

export const orderSubscribers = [
  onEvent(OrderPlaced, 'orders.schedule-confirm-deadline', (e) => scheduleConfirmDeadline({ orderId: e.payload.orderId, confirmBy: new Date(e.payload.confirmBy) })),
  onEvent(OrderStatusChanged, 'orders.schedule-delivery-deadlines', async (e) => {
    if (e.payload.to !== 'confirmed' && e.payload.to !== 'partially_confirmed') return;
    const o = await Order.findById(oid(e.payload.orderId), { deliverBy: 1, notDeliveredBy: 1 }).lean<Pick<OrderDoc, '_id' | 'deliverBy' | 'notDeliveredBy'>>();
    if (o) await scheduleDeliveryDeadlines(o);
  }),

  onEvent(OrderPlaced, 'orders.push-placed', (e) => {
    const placedAt = e.payload.placedAt;
    // NOTE: the push carries sequence 1, so a watcher who has seen a later state ignores a late redelivery.
    return placedAt ? publishPlaced({ ...e.payload, placedAt }) : pushOrder(e.payload.orderId, 'placed');
  }),
  onEvent(OrderStatusChanged, 'orders.push-status', (e) => pushOrder(e.payload.orderId, 'status')),
  onEvent(OrderDeadlineMissed, 'orders.push-deadline-missed', (e) => pushOrder(e.payload.orderId, 'deadline_missed')),
  onEvent(OrderTracked, 'orders.push-tracking', async (e) => {
    const [o, s] = await Promise.all([Order.findById(oid(e.payload.orderId)).lean<OrderDoc>(), Shipment.findById(oid(e.payload.shipmentId)).lean<ShipmentDoc>()]);
    const entry = s?.tracking[e.payload.seq - 1];
    if (o && s && entry) publishTracking(o, { ...s, tracking: s.tracking.slice(0, e.payload.seq) }, entry);
  }),

  onEvent(OrderPlaced, 'orders.notify-placed', async (e) => {
    const p = e.payload;
    await tell(
      e,
      p.distributorOrgId,
      ['distributor'],
      'order.placed',
      msg(p.urgency === 'urgent' ? 'orders.notice.placed.titleUrgent' : 'orders.notice.placed.title', { orderNo: p.orderNo }),
      msg('orders.notice.placed.body', { hospital: p.hospitalName, lines: p.lineCount, total: fen(p.totalFen), confirmBy: dateTime(new Date(p.confirmBy)) }),
      `/orders/${p.orderId}`,
    );
  }),
  onEvent(OrderStatusChanged, 'orders.notify-status', async (e) => {
    const p = e.payload;
    const notice = statusNotice[p.to];
    if (!notice) return;
    const params = {
      orderNo: p.orderNo,
      hospital: p.hospitalName,
      distributor: p.distributorName,
      reason: p.reason ?? '',
      carrier: p.carrier ?? '',
      trackingNo: p.trackingNo ?? '',
      ...(p.deliverBy ? { deliverBy: dateTime(new Date(p.deliverBy)) } : {}),
    };
    const org = notice.to === 'hospital' ? p.hospitalOrgId : p.distributorOrgId;
    await tell(e, org, notice.to === 'hospital' ? ['pharmacist'] : ['distributor'], notice.kind, msg(notice.title, params), msg(notice.body, params), `/orders/${p.orderId}`);
  }),
  onEvent(OrderAccepted, 'orders.notify-accepted', async (e) => {
    const p = e.payload;
    const params = { orderNo: p.orderNo, accepted: p.acceptedQty, refused: p.refusedQty, amount: fen(p.amountFen), ...(p.invoiceDueAt ? { due: day(new Date(p.invoiceDueAt)) } : {}) };
    await tell(e, p.distributorOrgId, ['distributor'], 'order.accepted', msg('orders.notice.accepted.title', params), msg(p.invoiceDueAt ? 'orders.notice.accepted.bodyWithDue' : 'orders.notice.accepted.body', params), `/orders/${p.orderId}`);
  }),
  onEvent(OrderDeadlineMissed, 'orders.notify-deadline-missed', async (e) => {
    const p = e.payload;
    const title = msg('orders.notice.missed.title', { orderNo: p.orderNo, what: { msg: `orders.missed.${p.kind}` } });
    const body = msg('orders.notice.missed.body', { deadline: dateTime(new Date(p.deadline)), hospital: p.hospitalName, distributor: p.distributorName });
    await tell(e, p.distributorOrgId, ['distributor'], `order.${p.kind}_missed`, title, body, `/orders/${p.orderId}`);
    await tell(e, p.hospitalOrgId, ['pharmacist'], `order.${p.kind}_missed`, title, body, `/orders/${p.orderId}`);
  }),
];
