// Order deadlines as BullMQ delayed jobs with deterministic ids (scheduled by subscribers when an
// order is placed or confirmed). A job reloads the order and decides from the database (not from the
// timer) whether the deadline was missed; the miss is flagged on the order and committed as
// `orders.deadline_missed` in one transaction, once per order and deadline, so a job that runs
// twice, late, or after a restart records it only once. A sweep catches checks whose jobs were lost.
import { OrderDeadlineMissed } from '../../events/orders';
import { now, platform } from '../../platform/context';
import { dateTime, msg } from '../../platform/messages';
import { trusted } from '../../platform/mongo';
import { withCommand, type UnitOfWork } from '../../platform/unit-of-work';
import { oid } from './orders.core';
import { confirmDeadlineJob, deliveryDeadlineJob, jobIds, notDeliveredJob } from './orders.jobs';
import { Order, type OrderDoc } from './orders.model';
import { confirmVerdict, deliveryVerdict, type DeadlineVerdict } from './orders.state';

export type MissKind = 'confirmation' | 'delivery' | 'notDelivered';

/** The fact's key: one miss per order and deadline, whoever notices it first. */
export const missKey: Record<MissKind, (orderId: string) => string> = {
  confirmation: (id) => `order-confirmation-late:${id}`,
  delivery: (id) => `order-delivery-late:${id}`,
  notDelivered: (id) => `order-not-delivered:${id}`,
};

/** A deadline job that ran before its time (clock skew): failing makes BullMQ retry it shortly. */
export class DeadlineNotReachedError extends Error {
  constructor(orderId: string) {
    super(`deadline of order ${orderId} not reached yet`);
  }
}

export async function scheduleConfirmDeadline(o: { orderId: string; confirmBy: Date }): Promise<void> {
  await platform().queues.enqueue(confirmDeadlineJob, { orderId: o.orderId }, { jobId: jobIds.confirm(o.orderId), runAt: o.confirmBy });
}

export async function scheduleDeliveryDeadlines(o: Pick<OrderDoc, '_id' | 'deliverBy' | 'notDeliveredBy'>): Promise<void> {
  const id = String(o._id);
  if (o.deliverBy) await platform().queues.enqueue(deliveryDeadlineJob, { orderId: id }, { jobId: jobIds.delivery(id), runAt: o.deliverBy });
  if (o.notDeliveredBy) await platform().queues.enqueue(notDeliveredJob, { orderId: id }, { jobId: jobIds.notDelivered(id), runAt: o.notDeliveredBy });
}

function deadlineOf(o: OrderDoc, kind: MissKind): Date | undefined {
  return kind === 'confirmation' ? o.confirmBy : kind === 'delivery' ? o.deliverBy : o.notDeliveredBy;
}

/**
 * Flags a missed deadline on the order and stages its fact, in the caller's unit of work; a deadline
 * already flagged (by a job, a sweep or the late move itself) stages nothing. Returns whether it was new.
 */
export async function markMissed(uow: UnitOfWork, o: OrderDoc, kind: MissKind): Promise<boolean> {
  const deadline = deadlineOf(o, kind);
  if (!deadline) return false;
  const flagged = await Order.updateOne({ _id: o._id, [`missed.${kind}`]: null }, { $set: { [`missed.${kind}`]: deadline } }, { session: uow.session });
  if (flagged.modifiedCount === 0) return false;
  const id = String(o._id);
  uow.audit({ action: `order.deadline_missed.${kind}`, targetType: 'order', targetId: id, summary: msg('orders.audit.deadlineMissed', { orderNo: o.orderNo, what: { msg: `orders.missed.${kind}` }, deadline: dateTime(deadline) }) });
  uow.emit(
    OrderDeadlineMissed,
    {
      orderId: id,
      orderNo: o.orderNo,
      hospitalOrgId: String(o.hospitalOrgId),
      distributorOrgId: String(o.distributorOrgId),
      hospitalName: o.hospitalName,
      distributorName: o.distributorName,
      kind,
      deadline: deadline.toISOString(),
      urgency: o.urgency,
      detectedAt: uow.at.toISOString(),
    },
    { key: missKey[kind](id) },
  );
  return true;
}

async function check(orderId: string, kind: MissKind, verdict: (o: OrderDoc, at: Date) => DeadlineVerdict): Promise<DeadlineVerdict> {
  const o = await Order.findById(oid(orderId)).lean<OrderDoc>();
  if (!o) return 'moot';
  const v = verdict(o, now());
  if (v === 'missed') await withCommand(null, (uow) => markMissed(uow, o, kind));
  if (v === 'early') throw new DeadlineNotReachedError(orderId);
  return v;
}

/** Job handler: the confirmation deadline. */
export function checkConfirmDeadline(orderId: string): Promise<DeadlineVerdict> {
  return check(orderId, 'confirmation', (o, at) => confirmVerdict(o, at));
}

/** Job handler: the delivery deadline (urgent or regular, counted from confirmation). */
export function checkDeliveryDeadline(orderId: string): Promise<DeadlineVerdict> {
  return check(orderId, 'delivery', (o, at) => (o.deliverBy ? deliveryVerdict(o, o.deliverBy, at) : 'moot'));
}

/** Job handler: confirmed but not delivered within orders.notDeliveredAfterSec. */
export function checkNotDelivered(orderId: string): Promise<DeadlineVerdict> {
  return check(orderId, 'notDelivered', (o, at) => (o.notDeliveredBy ? deliveryVerdict(o, o.notDeliveredBy, at) : 'moot'));
}

/**
 * Sweep: finds open orders whose deadlines have passed without a recorded miss (their jobs were
 * lost, e.g. Redis restarted empty) and checks them now. A miss is still recorded once.
 */
export async function sweepOrderDeadlines(limit = 500): Promise<number> {
  const at = now();
  const moving = trusted({ $in: ['confirmed', 'partially_confirmed', 'shipped', 'in_transit'] });
  const filter: Record<string, unknown> = {
    $or: [
      { status: 'placed', confirmBy: trusted({ $lt: at }), 'missed.confirmation': null },
      { status: moving, deliverBy: trusted({ $lt: at }), 'missed.delivery': null },
      { status: moving, notDeliveredBy: trusted({ $lt: at }), 'missed.notDelivered': null },
    ],
  };
  const overdue = await Order.find(filter, { _id: 1 })
    .limit(limit)
    .lean<{ _id: unknown }[]>();
  for (const { _id } of overdue) {
    const id = String(_id);
    await checkConfirmDeadline(id).catch(() => 'early');
    await checkDeliveryDeadline(id).catch(() => 'early');
    await checkNotDelivered(id).catch(() => 'early');
  }
  return overdue.length;
}
