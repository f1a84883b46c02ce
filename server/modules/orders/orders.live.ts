// Live pushes of order and tracking changes: to the hospital's and the distributor's organisation
// rooms and to the order's own room (viewers who opened the order). Never to anyone else.
import { platform } from '../../platform/context';
import type { OrderTrackingPayload, OrderUpdatedPayload } from '../../platform/realtime.events';
import { rooms } from '../../platform/realtime';
import type { OrderDoc, ShipmentDoc, TrackingEvent } from './orders.model';

export const orderRoom = (orderId: string) => rooms.entity('order', orderId);

function fanOut(o: { _id: unknown; hospitalOrgId: unknown; distributorOrgId: unknown }, event: string, payload: unknown): void {
  // NOTE: one broadcast to the three rooms (one message between processes, not three).
  platform().broadcaster.toRoom([rooms.org(String(o.hospitalOrgId)), rooms.org(String(o.distributorOrgId)), orderRoom(String(o._id))], event, payload);
}

/** Persisted first by the caller; then every party of the order hears the new state. */
export function publishOrder(o: OrderDoc, change: OrderUpdatedPayload['change']): void {
  const payload: OrderUpdatedPayload = {
    orderId: String(o._id),
    orderNo: o.orderNo,
    status: o.status,
    change,
    hospitalOrgId: String(o.hospitalOrgId),
    distributorOrgId: String(o.distributorOrgId),
    seq: o.events.length,
    at: (o.events.at(-1)?.at ?? o.placedAt).toISOString(),
  };
  fanOut(o, 'order:updated', payload);
}

/** A new order as its `orders.placed` fact tells it (its first state, sequence 1): no read needed. */
export function publishPlaced(p: { orderId: string; orderNo: string; hospitalOrgId: string; distributorOrgId: string; placedAt: string }): void {
  const payload: OrderUpdatedPayload = {
    orderId: p.orderId,
    orderNo: p.orderNo,
    status: 'placed',
    change: 'placed',
    hospitalOrgId: p.hospitalOrgId,
    distributorOrgId: p.distributorOrgId,
    seq: 1,
    at: p.placedAt,
  };
  fanOut({ _id: p.orderId, hospitalOrgId: p.hospitalOrgId, distributorOrgId: p.distributorOrgId }, 'order:updated', payload);
}

/** A tracking event (picked, departed, location, delivered) of the order's shipment. */
export function publishTracking(o: OrderDoc, s: ShipmentDoc, e: TrackingEvent): void {
  const payload: OrderTrackingPayload = {
    orderId: String(o._id),
    orderNo: o.orderNo,
    shipmentId: String(s._id),
    status: o.status,
    kind: e.kind,
    location: e.location ?? undefined,
    note: e.note ?? undefined,
    eta: s.eta ? s.eta.toISOString() : undefined,
    at: e.at.toISOString(),
    seq: s.tracking.length,
  };
  fanOut(o, 'order:tracking', payload);
}
