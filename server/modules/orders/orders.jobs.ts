import { z } from 'zod';
import { defineJob } from '../../platform/queues';

const Payload = z.object({ orderId: z.string().regex(/^[a-f0-9]{24}$/) }).strict();

/** The distributor's confirmation deadline: records `orders.confirmation_late` once when missed. */
export const confirmDeadlineJob = defineJob('orders.confirm-deadline', Payload);
/** The delivery deadline (urgent / regular): records `orders.delivery_late` once when missed. */
export const deliveryDeadlineJob = defineJob('orders.delivery-deadline', Payload);
/** Confirmed but never delivered: records `orders.not_delivered` once. */
export const notDeliveredJob = defineJob('orders.not-delivered', Payload);

/** Deterministic job ids: one scheduled check per order and deadline, never duplicated. */
export const jobIds = {
  confirm: (orderId: string) => `order-confirm-deadline:${orderId}`,
  delivery: (orderId: string) => `order-delivery-deadline:${orderId}`,
  notDelivered: (orderId: string) => `order-not-delivered:${orderId}`,
};
