import { IsoDateTime, ObjectIdString, PositiveFen, z } from '../../platform/schemas';
import { REFUSAL_REASONS, SOURCE_KINDS, TRACKING_KINDS, URGENCIES } from './orders.model';
import { ORDER_STATES } from './orders.state';

const Quantity = z.number().int().min(1).max(1_000_000);
const Reason = z.string().trim().min(1).max(500);
const Text = (max: number) => z.string().trim().max(max);
/** A business day as printed on a pack (Asia/Shanghai), e.g. 2027-06-30. */
export const BusinessDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'validationIssues.date')
  .refine((s) => { const d = new Date(`${s}T00:00:00Z`); return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s; }, 'validationIssues.realDate');
/** A traceability code as typed, or a whole GS1 element string as a DataMatrix scanner sends it. */
const TraceCodeText = z.string().trim().max(120);

export const OrderLineInput = z
  .object({
    drugId: ObjectIdString,
    distributorOrgId: ObjectIdString,
    source: z.enum(SOURCE_KINDS).default('listing'),
    /** the listing or contract the pharmacist chose (a contract id is required for contract lines) */
    refId: z.string().trim().min(1).max(64).optional(),
    quantity: Quantity,
    /** the unit price the pharmacist saw; when given and the source's price differs, the order is refused */
    expectedUnitPriceFen: PositiveFen.optional(),
  })
  .strict();

export const PlaceOrdersBody = z
  .object({
    urgency: z.enum(URGENCIES).default('regular'),
    note: Text(500).optional(),
    lines: z.array(OrderLineInput).min(1).max(200),
  })
  .strict()
  .openapi('PlaceOrders');
export type PlaceOrdersInput = z.infer<typeof PlaceOrdersBody>;

export const ImportOrdersBody = z
  .object({
    urgency: z.enum(URGENCIES).default('regular'),
    note: Text(500).optional(),
    /** CSV with a header row: drug (NHSA code or drug id), distributor (name or id), quantity, and optionally source, refId, expectedUnitPriceFen */
    csv: z.string().min(1).max(200_000),
  })
  .strict()
  .openapi('ImportOrders');

export const ConfirmBody = z
  .object({
    /** omit to confirm every line in full */
    lines: z
      .array(
        z
          .object({
            lineNo: z.number().int().min(1),
            confirmedQty: z.number().int().min(0).max(1_000_000),
            backorderQty: z.number().int().min(0).max(1_000_000).default(0),
            reason: Text(500).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(200)
      .optional(),
    note: Text(500).optional(),
  })
  .strict()
  .openapi('ConfirmOrder');
export type ConfirmInput = z.infer<typeof ConfirmBody>;

export const ReasonBody = z.object({ reason: Reason }).strict();

export const ShipBody = z
  .object({
    carrier: z.string().trim().min(1).max(100),
    trackingNo: z.string().trim().min(1).max(100),
    eta: IsoDateTime.optional(),
    lines: z
      .array(
        z
          .object({
            lineNo: z.number().int().min(1),
            quantity: Quantity,
            /** may be left out when every code is a GS1 scan carrying the batch (10) and expiry (17) */
            batchNo: z.string().trim().max(60).optional(),
            expiryDate: BusinessDate.optional(),
            codes: z.array(TraceCodeText).max(10_000),
          })
          .strict(),
      )
      .min(1)
      .max(200),
  })
  .strict()
  .openapi('ShipOrder');
export type ShipInput = z.infer<typeof ShipBody>;

export const TrackingBody = z
  .object({
    kind: z.enum(TRACKING_KINDS),
    location: Text(200).optional(),
    note: Text(500).optional(),
    eta: IsoDateTime.optional(),
  })
  .strict()
  .openapi('TrackingUpdate');
export type TrackingInput = z.infer<typeof TrackingBody>;

export const AcceptBody = z
  .object({
    lines: z
      .array(
        z
          .object({
            lineNo: z.number().int().min(1),
            acceptedQty: z.number().int().min(0).max(1_000_000),
            refusedQty: z.number().int().min(0).max(1_000_000).default(0),
            refusalReason: z.enum(REFUSAL_REASONS).optional(),
            note: Text(500).optional(),
            /** batch and expiry as read from the goods */
            batchNo: z.string().trim().min(1).max(60),
            expiryDate: BusinessDate,
            /** the traceability codes scanned on the accepted packs */
            codes: z.array(TraceCodeText).max(10_000).default([]),
          })
          .strict(),
      )
      .min(1)
      .max(200),
    note: Text(500).optional(),
  })
  .strict()
  .openapi('AcceptDelivery');
export type AcceptInput = z.infer<typeof AcceptBody>;

export const OrderListQuery = z
  .object({
    cursor: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(30),
    status: z.enum(ORDER_STATES).optional(),
    open: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  })
  .strict();
export type OrderListQueryInput = z.infer<typeof OrderListQuery>;

export const PeriodQuery = z
  .object({
    from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'validationIssues.date').optional(),
    to: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'validationIssues.date').optional(),
    distributorOrgId: ObjectIdString.optional(),
    hospitalOrgId: ObjectIdString.optional(),
  })
  .strict();
export type PeriodQueryInput = z.infer<typeof PeriodQuery>;

export const RecallQuery = z.object({ drugId: ObjectIdString, batchNo: z.string().trim().min(1).max(60) }).strict();

export const ListingsQuery = z.object({ drugId: ObjectIdString }).strict();

export const DistributorSearchQuery = z
  .object({ q: z.string().trim().max(100).optional(), limit: z.coerce.number().int().min(1).max(50).default(20) })
  .strict()
  .openapi('DistributorSearchQuery');
export type DistributorSearchInput = z.infer<typeof DistributorSearchQuery>;

export const DistributorChoiceView = z
  .object({
    id: z.string(),
    name: z.string(),
    label: z.string(),
    credit: z.object({ grade: z.enum(['A', 'B', 'C', 'D']), score: z.number(), riskWarning: z.boolean(), suspended: z.boolean() }).nullable(),
    trading: z.enum(['open', 'suspended']),
  })
  .openapi('DistributorChoice');
export type DistributorChoiceT = z.infer<typeof DistributorChoiceView>;

export const WatchPayload = z.object({ orderId: ObjectIdString }).strict();

const Line = z.object({
  lineNo: z.number(),
  drugId: z.string(),
  drugName: z.string(),
  drugNameEn: z.string(),
  dosageForm: z.string(),
  specification: z.string(),
  packUnit: z.string(),
  manufacturer: z.string(),
  /** the 7-digit product prefix every traceability code of this drug begins with */
  tracePrefix: z.string(),
  source: z.object({ kind: z.enum(SOURCE_KINDS), refId: z.string().optional() }),
  quantity: z.number(),
  unitPriceFen: z.number(),
  amountFen: z.number(),
  confirmedQty: z.number(),
  backorderedQty: z.number(),
  shortfallReason: z.string().optional(),
  shippedQty: z.number(),
  acceptedQty: z.number(),
  refusedQty: z.number(),
});

export const OrderView = z
  .object({
    id: z.string(),
    orderNo: z.string(),
    status: z.enum(ORDER_STATES),
    urgency: z.enum(URGENCIES),
    hospitalOrgId: z.string(),
    hospitalName: z.string(),
    deliveryAddress: z.string(),
    distributorOrgId: z.string(),
    distributorName: z.string(),
    placedByName: z.string(),
    totalFen: z.number(),
    note: z.string().optional(),
    backorderOf: z.string().optional(),
    placedAt: z.string(),
    confirmBy: z.string(),
    respondedAt: z.string().optional(),
    deliverBy: z.string().optional(),
    shippedAt: z.string().optional(),
    deliveredAt: z.string().optional(),
    acceptedAt: z.string().optional(),
    cancelledAt: z.string().optional(),
    reason: z.string().optional(),
    missed: z.object({ confirmation: z.string().optional(), delivery: z.string().optional(), notDelivered: z.string().optional() }),
    invoiceId: z.string().optional(),
    invoiceDueAt: z.string().optional(),
    lines: z.array(Line),
    events: z.array(z.object({ at: z.string(), from: z.string().optional(), to: z.string(), actorName: z.string(), actorRole: z.string(), reason: z.string().optional() })),
    allowedMoves: z.array(z.string()),
  })
  .openapi('Order');
export type OrderViewT = z.infer<typeof OrderView>;
