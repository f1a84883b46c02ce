// Facts of the orders module.
import { z } from 'zod';
import { defineEvent } from '../platform/events';
import { Fen, Id, Instant } from './common';

const OrderRef = {
  orderId: Id,
  orderNo: z.string(),
  hospitalOrgId: Id,
  distributorOrgId: Id,
};

const OrderState = z.enum(['placed', 'confirmed', 'partially_confirmed', 'rejected', 'shipped', 'in_transit', 'delivered', 'accepted', 'partially_accepted', 'refused', 'cancelled']);

/** A pharmacist placed an order (or a backorder was placed for the rest of a partial confirmation). */
export const OrderPlaced = defineEvent(
  'orders.placed',
  z
    .object({
      ...OrderRef,
      hospitalName: z.string(),
      urgency: z.enum(['urgent', 'regular']),
      lineCount: z.number().int(),
      totalFen: Fen,
      // NOTE: optional only for facts stored before it was added; with it the push needs no read.
      placedAt: Instant.optional(),
      confirmBy: Instant,
      backorderOf: z.string().optional(),
    })
    .strict(),
);

/** An order moved (confirmed, rejected, cancelled, shipped, in transit, delivered, accepted …). */
export const OrderStatusChanged = defineEvent(
  'orders.status_changed',
  z
    .object({
      ...OrderRef,
      hospitalName: z.string(),
      distributorName: z.string(),
      from: OrderState,
      to: OrderState,
      at: Instant,
      reason: z.string().optional(),
      deliverBy: Instant.optional(),
      carrier: z.string().optional(),
      trackingNo: z.string().optional(),
    })
    .strict(),
);

/** A tracking event of the order's shipment (picked, departed, location, delivered). */
export const OrderTracked = defineEvent(
  'orders.tracked',
  z.object({ ...OrderRef, shipmentId: Id, kind: z.enum(['picked', 'departed', 'location', 'delivered']), at: Instant, seq: z.number().int() }).strict(),
);

/** The hospital accepted a delivery (in full, in part, or refused it); the invoice, if any, exists. */
export const OrderAccepted = defineEvent(
  'orders.accepted',
  z
    .object({
      ...OrderRef,
      at: Instant,
      outcome: z.enum(['accepted', 'partially_accepted', 'refused']),
      acceptedQty: z.number().int(),
      refusedQty: z.number().int(),
      amountFen: Fen,
      invoiceDueAt: Instant.optional(),
      lines: z.array(z.object({ lineNo: z.number().int(), drugId: Id, source: z.enum(['listing', 'catalogue', 'contract']), refId: z.string().nullable(), acceptedQty: z.number().int(), unitPriceFen: Fen }).strict()),
    })
    .strict(),
);

/** Packs refused at acceptance for a quality reason (a credit breach of the distributor). */
export const OrderQualityRefusal = defineEvent(
  'orders.quality_refusal',
  z
    .object({ ...OrderRef, at: Instant, acceptanceId: Id, lineNo: z.number().int(), drugId: Id, drugName: z.string(), batchNo: z.string(), refusedQuantity: z.number().int(), reason: z.string() })
    .strict(),
);

/** A deadline of the order passed unmet: confirmation, delivery, or confirmed-but-never-delivered. */
export const OrderDeadlineMissed = defineEvent(
  'orders.deadline_missed',
  z
    .object({ ...OrderRef, hospitalName: z.string(), distributorName: z.string(), kind: z.enum(['confirmation', 'delivery', 'notDelivered']), deadline: Instant, urgency: z.enum(['urgent', 'regular']), detectedAt: Instant })
    .strict(),
);

/** A distributor rejected an order for a drug it currently lists (undifferentiated delivery breached). */
export const OrderRefusedListedHospital = defineEvent(
  'orders.refused_listed_hospital',
  z.object({ ...OrderRef, at: Instant, reason: z.string(), drugIds: z.array(Id) }).strict(),
);
