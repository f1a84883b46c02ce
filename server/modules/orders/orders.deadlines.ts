// Order deadlines as BullMQ delayed jobs with deterministic ids. A job reloads the order and decides
// from the database (not from the timer) whether the deadline was missed; the miss is a domain event
// stored once per key, so a job that runs twice, late, or after a restart records it only once.
import { now, platform } from '../../platform/context';
import { recordDomainEvent } from '../../platform/events';
import { trusted } from '../../platform/mongo';
import { notifyOrganisation } from '../notifications';
import { formatDateTime } from '../../platform/view-helpers/formatters';
import { oid } from './orders.core';
import { confirmDeadlineJob, deliveryDeadlineJob, jobIds, notDeliveredJob, sweepDeadlinesJob } from './orders.jobs';
import { publishOrder } from './orders.live';
import { Order, type OrderDoc } from './orders.model';
import { confirmVerdict, deliveryVerdict, type DeadlineVerdict } from './orders.state';

export type MissKind = 'confirmation' | 'delivery' | 'notDelivered';

const EVENT: Record<MissKind, { type: string; key: (orderId: string) => string; zh: string }> = {
  confirmation: { type: 'orders.confirmation_late', key: (id) => `order-confirmation-late:${id}`, zh: '未在时限内确认' },
  delivery: { type: 'orders.delivery_late', key: (id) => `order-delivery-late:${id}`, zh: '未在时限内送达' },
  notDelivered: { type: 'orders.not_delivered', key: (id) => `order-not-delivered:${id}`, zh: '确认后未配送' },
};

/** A deadline job that ran before its time (clock skew): failing makes BullMQ retry it shortly. */
export class DeadlineNotReachedError extends Error {
  constructor(orderId: string) {
    super(`deadline of order ${orderId} not reached yet`);
  }
}

async function safely(what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    // NOTE: the order is already stored; a lost schedule is caught by sweepOrderDeadlines, so the
    // request must not fail (a retry would place a second order).
    platform().logger.warn({ err: (err as Error).message, what }, 'orders: could not schedule a deadline');
  }
}

export async function scheduleConfirmDeadline(o: Pick<OrderDoc, '_id' | 'confirmBy'>): Promise<void> {
  const id = String(o._id);
  await safely(jobIds.confirm(id), () => platform().queues.enqueue(confirmDeadlineJob, { orderId: id }, { jobId: jobIds.confirm(id), runAt: o.confirmBy }));
}

export async function scheduleDeliveryDeadlines(o: Pick<OrderDoc, '_id' | 'deliverBy' | 'notDeliveredBy'>): Promise<void> {
  const id = String(o._id);
  if (o.deliverBy) await safely(jobIds.delivery(id), () => platform().queues.enqueue(deliveryDeadlineJob, { orderId: id }, { jobId: jobIds.delivery(id), runAt: o.deliverBy }));
  if (o.notDeliveredBy) await safely(jobIds.notDelivered(id), () => platform().queues.enqueue(notDeliveredJob, { orderId: id }, { jobId: jobIds.notDelivered(id), runAt: o.notDeliveredBy }));
}

function deadlineOf(o: OrderDoc, kind: MissKind): Date | undefined {
  return kind === 'confirmation' ? o.confirmBy : kind === 'delivery' ? o.deliverBy : o.notDeliveredBy;
}

/**
 * Records a missed deadline: the domain event (once per key, for the credit module), a flag on the
 * order for pages and KPIs, and — only the first time — notifications and a live update.
 */
export async function recordMiss(o: OrderDoc, kind: MissKind): Promise<boolean> {
  const deadline = deadlineOf(o, kind);
  if (!deadline) return false;
  const id = String(o._id);
  const e = EVENT[kind];
  const isNew = await recordDomainEvent(
    e.type,
    e.key(id),
    {
      orderId: id,
      orderNo: o.orderNo,
      distributorOrgId: String(o.distributorOrgId),
      hospitalOrgId: String(o.hospitalOrgId),
      at: deadline.toISOString(),
      deadline: deadline.toISOString(),
      urgency: o.urgency,
      detectedAt: now().toISOString(),
    },
    deadline,
  );
  const flagged = await Order.findOneAndUpdate({ _id: o._id, [`missed.${kind}`]: null }, { $set: { [`missed.${kind}`]: deadline } }, { returnDocument: 'after' }).lean<OrderDoc>();
  if (isNew) {
    const text = { kind: `order.${kind}_missed`, title: `订单 ${o.orderNo} ${e.zh}`, body: `时限 ${formatDateTime(deadline)}。${o.hospitalName} / ${o.distributorName}`, link: `/orders/${id}` };
    await notifyOrganisation(o.distributorOrgId, { ...text, dedupeKey: `${e.key(id)}:distributor` }, ['distributor']).catch(() => 0);
    await notifyOrganisation(o.hospitalOrgId, { ...text, dedupeKey: `${e.key(id)}:hospital` }, ['pharmacist']).catch(() => 0);
  }
  if (flagged) publishOrder(flagged, 'deadline_missed');
  return isNew;
}

async function check(orderId: string, kind: MissKind, verdict: (o: OrderDoc, at: Date) => DeadlineVerdict): Promise<DeadlineVerdict> {
  const o = await Order.findById(oid(orderId)).lean<OrderDoc>();
  if (!o) return 'moot';
  const v = verdict(o, now());
  if (v === 'missed') await recordMiss(o, kind);
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
 * Recovery after lost jobs (e.g. Redis data lost): finds open orders whose deadlines have passed
 * without a recorded miss and checks them now. Safe to run any time; a miss is still recorded once.
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

const SWEEP_EVERY_MS = 10 * 60 * 1000;

/** Worker start-up: the deadline recovery sweep runs every ten minutes (one scheduler, however many workers). */
export async function scheduleOrderSweeps(): Promise<void> {
  await platform().queues.every(sweepDeadlinesJob, {}, 'orders-deadline-sweep', SWEEP_EVERY_MS);
}
