import mongoose, { Schema, Types } from 'mongoose';
import { ORDER_STATES, type OrderState } from './orders.state';

export const SOURCE_KINDS = ['listing', 'catalogue', 'contract'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];
export const URGENCIES = ['urgent', 'regular'] as const;
export type Urgency = (typeof URGENCIES)[number];
export const TRACKING_KINDS = ['picked', 'departed', 'location', 'delivered'] as const;
export type TrackingKind = (typeof TRACKING_KINDS)[number];
/** Why goods are refused at acceptance; `quality` is the one that counts as a quality breach. */
export const REFUSAL_REASONS = ['quality', 'damaged', 'expired', 'wrong_item', 'batch_mismatch', 'short_dated', 'other'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];
export const TRACE_CODE_STATUSES = ['shipped', 'received', 'refused'] as const;

export interface OrderLine {
  lineNo: number;
  drugId: Types.ObjectId;
  drugName: string;
  drugNameEn: string;
  dosageForm: string;
  specification: string;
  packUnit: string;
  manufacturer: string;
  tracePrefix: string;
  source: { kind: SourceKind; refId?: string };
  quantity: number;
  unitPriceFen: number;
  amountFen: number;
  confirmedQty: number;
  backorderedQty: number;
  shortfallReason?: string;
  shippedQty: number;
  acceptedQty: number;
  refusedQty: number;
}

export interface OrderEvent {
  at: Date;
  from?: OrderState;
  to: OrderState;
  actorId?: Types.ObjectId;
  actorName: string;
  actorRole: string;
  reason?: string;
}

export interface OrderDoc {
  _id: Types.ObjectId;
  orderNo: string;
  hospitalOrgId: Types.ObjectId;
  hospitalName: string;
  deliveryAddress: string;
  distributorOrgId: Types.ObjectId;
  distributorName: string;
  placedById: Types.ObjectId;
  placedByName: string;
  urgency: Urgency;
  status: OrderState;
  lines: OrderLine[];
  totalFen: number;
  note?: string;
  backorderOf?: Types.ObjectId;
  placedAt: Date;
  confirmBy: Date;
  respondedAt?: Date;
  deliverBy?: Date;
  notDeliveredBy?: Date;
  shippedAt?: Date;
  deliveredAt?: Date;
  acceptedAt?: Date;
  cancelledAt?: Date;
  reason?: string;
  missed?: { confirmation?: Date; delivery?: Date; notDelivered?: Date };
  invoiceId?: string;
  invoiceDueAt?: Date;
  events: OrderEvent[];
}

const OrderLineSchema = new Schema<OrderLine>(
  {
    lineNo: { type: Number, required: true },
    drugId: { type: Schema.Types.ObjectId, required: true },
    drugName: { type: String, required: true },
    drugNameEn: { type: String, required: true },
    dosageForm: { type: String, required: true },
    specification: { type: String, required: true },
    packUnit: { type: String, required: true },
    manufacturer: { type: String, required: true },
    tracePrefix: { type: String, required: true },
    source: {
      kind: { type: String, enum: SOURCE_KINDS, required: true },
      refId: { type: String },
    },
    quantity: { type: Number, required: true },
    unitPriceFen: { type: Number, required: true },
    amountFen: { type: Number, required: true },
    confirmedQty: { type: Number, required: true, default: 0 },
    backorderedQty: { type: Number, required: true, default: 0 },
    shortfallReason: { type: String },
    shippedQty: { type: Number, required: true, default: 0 },
    acceptedQty: { type: Number, required: true, default: 0 },
    refusedQty: { type: Number, required: true, default: 0 },
  },
  { _id: false },
);

const OrderEventSchema = new Schema<OrderEvent>(
  {
    at: { type: Date, required: true },
    from: { type: String, enum: ORDER_STATES },
    to: { type: String, enum: ORDER_STATES, required: true },
    actorId: { type: Schema.Types.ObjectId },
    actorName: { type: String, required: true },
    actorRole: { type: String, required: true },
    reason: { type: String },
  },
  { _id: false },
);

const OrderSchema = new Schema<OrderDoc>(
  {
    orderNo: { type: String, required: true },
    hospitalOrgId: { type: Schema.Types.ObjectId, required: true },
    hospitalName: { type: String, required: true },
    deliveryAddress: { type: String, required: true },
    distributorOrgId: { type: Schema.Types.ObjectId, required: true },
    distributorName: { type: String, required: true },
    placedById: { type: Schema.Types.ObjectId, required: true },
    placedByName: { type: String, required: true },
    urgency: { type: String, enum: URGENCIES, required: true },
    status: { type: String, enum: ORDER_STATES, required: true },
    lines: { type: [OrderLineSchema], required: true },
    totalFen: { type: Number, required: true },
    note: { type: String },
    backorderOf: { type: Schema.Types.ObjectId },
    placedAt: { type: Date, required: true },
    confirmBy: { type: Date, required: true },
    respondedAt: Date,
    deliverBy: Date,
    notDeliveredBy: Date,
    shippedAt: Date,
    deliveredAt: Date,
    acceptedAt: Date,
    cancelledAt: Date,
    reason: { type: String },
    missed: {
      confirmation: Date,
      delivery: Date,
      notDelivered: Date,
    },
    invoiceId: { type: String },
    invoiceDueAt: Date,
    events: { type: [OrderEventSchema], required: true },
  },
  { versionKey: false, collection: 'orders' },
);
OrderSchema.index({ orderNo: 1 }, { unique: true });
// NOTE: the orders list (newest first, a page after a cursor) of a hospital, a distributor or the
// operator, with or without a status: each read walks one index from the cursor and stops at the page.
OrderSchema.index({ hospitalOrgId: 1, placedAt: -1, _id: -1 });
OrderSchema.index({ hospitalOrgId: 1, status: 1, placedAt: -1, _id: -1 });
OrderSchema.index({ distributorOrgId: 1, placedAt: -1, _id: -1 });
OrderSchema.index({ distributorOrgId: 1, status: 1, placedAt: -1, _id: -1 });
OrderSchema.index({ placedAt: -1, _id: -1 });
OrderSchema.index({ status: 1, placedAt: -1, _id: -1 });
// NOTE: the dashboard's purchases (savings) are the orders accepted in a period.
OrderSchema.index({ acceptedAt: 1 });

/** A daily sequence for human-readable order numbers (PO20260523-000042). */
const OrderCounterSchema = new Schema<{ _id: string; seq: number }>({ _id: { type: String, required: true }, seq: { type: Number, required: true } }, { versionKey: false, collection: 'order_counters' });

export interface ShipmentLine {
  lineNo: number;
  drugId: Types.ObjectId;
  drugName: string;
  quantity: number;
  batchNo: string;
  /** business day YYYY-MM-DD (Asia/Shanghai), as printed on the pack */
  expiryDate: string;
  codes: string[];
}

export interface TrackingEvent {
  at: Date;
  kind: TrackingKind;
  location?: string;
  note?: string;
  actorName: string;
}

export interface ShipmentDoc {
  _id: Types.ObjectId;
  shipmentNo: string;
  orderId: Types.ObjectId;
  orderNo: string;
  hospitalOrgId: Types.ObjectId;
  distributorOrgId: Types.ObjectId;
  carrier: string;
  trackingNo: string;
  eta?: Date;
  shippedAt: Date;
  shippedByName: string;
  lines: ShipmentLine[];
  tracking: TrackingEvent[];
}

const ShipmentLineSchema = new Schema<ShipmentLine>(
  {
    lineNo: { type: Number, required: true },
    drugId: { type: Schema.Types.ObjectId, required: true },
    drugName: { type: String, required: true },
    quantity: { type: Number, required: true },
    batchNo: { type: String, required: true },
    expiryDate: { type: String, required: true },
    codes: { type: [String], required: true },
  },
  { _id: false },
);

const TrackingEventSchema = new Schema<TrackingEvent>(
  {
    at: { type: Date, required: true },
    kind: { type: String, enum: TRACKING_KINDS, required: true },
    location: { type: String },
    note: { type: String },
    actorName: { type: String, required: true },
  },
  { _id: false },
);

const ShipmentSchema = new Schema<ShipmentDoc>(
  {
    shipmentNo: { type: String, required: true },
    orderId: { type: Schema.Types.ObjectId, required: true },
    orderNo: { type: String, required: true },
    hospitalOrgId: { type: Schema.Types.ObjectId, required: true },
    distributorOrgId: { type: Schema.Types.ObjectId, required: true },
    carrier: { type: String, required: true },
    trackingNo: { type: String, required: true },
    eta: Date,
    shippedAt: { type: Date, required: true },
    shippedByName: { type: String, required: true },
    lines: { type: [ShipmentLineSchema], required: true },
    tracking: { type: [TrackingEventSchema], required: true },
  },
  { versionKey: false, collection: 'shipments' },
);
// NOTE: one shipment per order; the unique index makes a double "ship" impossible even when racing.
ShipmentSchema.index({ orderId: 1 }, { unique: true });
// NOTE: a compound { 'lines.drugId', 'lines.batchNo' } index is legal in MongoDB (same array), but the
// embedded engine refuses it as "parallel arrays"; the batch number alone is selective enough.
ShipmentSchema.index({ 'lines.batchNo': 1 });

export interface TraceCodeDoc {
  _id: Types.ObjectId;
  code: string;
  drugId: Types.ObjectId;
  batchNo: string;
  expiryDate: string;
  orderId: Types.ObjectId;
  orderNo: string;
  shipmentId: Types.ObjectId;
  lineNo: number;
  hospitalOrgId: Types.ObjectId;
  distributorOrgId: Types.ObjectId;
  status: (typeof TRACE_CODE_STATUSES)[number];
  shippedAt: Date;
  receivedAt?: Date;
}

const TraceCodeSchema = new Schema<TraceCodeDoc>(
  {
    code: { type: String, required: true },
    drugId: { type: Schema.Types.ObjectId, required: true },
    batchNo: { type: String, required: true },
    expiryDate: { type: String, required: true },
    orderId: { type: Schema.Types.ObjectId, required: true },
    orderNo: { type: String, required: true },
    shipmentId: { type: Schema.Types.ObjectId, required: true },
    lineNo: { type: Number, required: true },
    hospitalOrgId: { type: Schema.Types.ObjectId, required: true },
    distributorOrgId: { type: Schema.Types.ObjectId, required: true },
    status: { type: String, enum: TRACE_CODE_STATUSES, required: true },
    shippedAt: { type: Date, required: true },
    receivedAt: Date,
  },
  { versionKey: false, collection: 'trace_codes' },
);
// NOTE: "one box, one sale" across the whole platform: a code can be shipped once, ever.
TraceCodeSchema.index({ code: 1 }, { unique: true });
TraceCodeSchema.index({ orderId: 1 });

export interface AcceptanceLine {
  lineNo: number;
  drugId: Types.ObjectId;
  shippedQty: number;
  acceptedQty: number;
  refusedQty: number;
  refusalReason?: RefusalReason;
  note?: string;
  batchNo: string;
  expiryDate: string;
  acceptedCodes: string[];
  unitPriceFen: number;
  amountFen: number;
}

export interface AcceptanceDoc {
  _id: Types.ObjectId;
  orderId: Types.ObjectId;
  orderNo: string;
  hospitalOrgId: Types.ObjectId;
  distributorOrgId: Types.ObjectId;
  acceptedAt: Date;
  acceptedById: Types.ObjectId;
  acceptedByName: string;
  outcome: 'accepted' | 'partially_accepted' | 'refused';
  lines: AcceptanceLine[];
  amountFen: number;
  note?: string;
  invoiceId?: string;
  invoiceDueAt?: Date;
}

const AcceptanceLineSchema = new Schema<AcceptanceLine>(
  {
    lineNo: { type: Number, required: true },
    drugId: { type: Schema.Types.ObjectId, required: true },
    shippedQty: { type: Number, required: true },
    acceptedQty: { type: Number, required: true },
    refusedQty: { type: Number, required: true },
    refusalReason: { type: String, enum: REFUSAL_REASONS },
    note: { type: String },
    batchNo: { type: String, required: true },
    expiryDate: { type: String, required: true },
    acceptedCodes: { type: [String], required: true },
    unitPriceFen: { type: Number, required: true },
    amountFen: { type: Number, required: true },
  },
  { _id: false },
);

const AcceptanceSchema = new Schema<AcceptanceDoc>(
  {
    orderId: { type: Schema.Types.ObjectId, required: true },
    orderNo: { type: String, required: true },
    hospitalOrgId: { type: Schema.Types.ObjectId, required: true },
    distributorOrgId: { type: Schema.Types.ObjectId, required: true },
    acceptedAt: { type: Date, required: true },
    acceptedById: { type: Schema.Types.ObjectId, required: true },
    acceptedByName: { type: String, required: true },
    outcome: { type: String, enum: ['accepted', 'partially_accepted', 'refused'], required: true },
    lines: { type: [AcceptanceLineSchema], required: true },
    amountFen: { type: Number, required: true },
    note: { type: String },
    invoiceId: { type: String },
    invoiceDueAt: Date,
  },
  { versionKey: false, collection: 'acceptances' },
);
// NOTE: acceptance is final: one per order, guaranteed by the index even under concurrent submits.
AcceptanceSchema.index({ orderId: 1 }, { unique: true });

export const Order = (mongoose.models.Order as mongoose.Model<OrderDoc>) ?? mongoose.model<OrderDoc>('Order', OrderSchema);
export const OrderCounter = (mongoose.models.OrderCounter as mongoose.Model<{ _id: string; seq: number }>) ?? mongoose.model('OrderCounter', OrderCounterSchema);
export const Shipment = (mongoose.models.Shipment as mongoose.Model<ShipmentDoc>) ?? mongoose.model<ShipmentDoc>('Shipment', ShipmentSchema);
export const TraceCode = (mongoose.models.TraceCode as mongoose.Model<TraceCodeDoc>) ?? mongoose.model<TraceCodeDoc>('TraceCode', TraceCodeSchema);
export const Acceptance = (mongoose.models.Acceptance as mongoose.Model<AcceptanceDoc>) ?? mongoose.model<AcceptanceDoc>('Acceptance', AcceptanceSchema);
