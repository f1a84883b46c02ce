import mongoose, { Schema, Types } from 'mongoose';
import type { RoundReport } from './quotation.rules';

export const ROUND_STATUSES = ['draft', 'scheduled', 'open', 'closed', 'published', 'expired', 'cancelled'] as const;
export type RoundStatus = (typeof ROUND_STATUSES)[number];
export const VISIBILITY_MODES = ['rank', 'best', 'sealed'] as const;
export type Visibility = (typeof VISIBILITY_MODES)[number];
export const QUOTE_STATUSES = ['active', 'superseded', 'withdrawn'] as const;
export type QuoteStatus = (typeof QUOTE_STATUSES)[number];
export const QUOTE_EVENT_TYPES = ['scheduled', 'opened', 'submitted', 'revised', 'withdrawn', 'refused', 'extended', 'closed', 'published', 'cancelled', 'expired', 'listing_withdrawn'] as const;
export type QuoteEventType = (typeof QUOTE_EVENT_TYPES)[number];
export const LISTING_STATUSES = ['listed', 'withdrawn', 'expired'] as const;
export type ListingStatus = (typeof LISTING_STATUSES)[number];

export interface DrugSnapshot {
  genericNameZh: string;
  genericNameEn: string;
  dosageForm: string;
  specification: string;
  packUnit: string;
  manufacturer: string;
  nhsaCode: string;
  standardCode: string;
}

export interface RoundLineRecord {
  _id: Types.ObjectId;
  no: number;
  drugId: Types.ObjectId;
  drug: DrugSnapshot;
  referenceFen: number;
  minDecrementFen: number;
}

export interface RoundRecord {
  _id: Types.ObjectId;
  no: string;
  title: string;
  description?: string;
  status: RoundStatus;
  lines: RoundLineRecord[];
  opensAt: Date;
  closesAt: Date;
  /** The close as scheduled, before any anti-sniping extension. */
  scheduledClosesAt: Date;
  visibility: Visibility;
  minDecrementBp: number;
  antiSniping: { windowSec: number; extendSec: number; maxExtensions: number };
  extensions: number;
  listingValidityDays: number;
  clearlyBelowBp: number;
  /** Last quote-event sequence number of the round (monotonic; every accepted change bumps it). */
  seq: number;
  createdBy: Types.ObjectId;
  createdAt: Date;
  updatedAt: Date;
  scheduledAt?: Date;
  openedAt?: Date;
  closedAt?: Date;
  publishedAt?: Date;
  listingExpiresAt?: Date;
  expiredAt?: Date;
  cancelledAt?: Date;
  cancelReason?: string;
  report?: RoundReport;
}

const DrugSnapshotSchema = new Schema<DrugSnapshot>(
  {
    genericNameZh: { type: String, required: true },
    genericNameEn: { type: String, required: true },
    dosageForm: { type: String, required: true },
    specification: { type: String, required: true },
    packUnit: { type: String, required: true },
    manufacturer: { type: String, required: true },
    nhsaCode: { type: String, required: true },
    standardCode: { type: String, required: true },
  },
  { _id: false },
);

const RoundLineSchema = new Schema<RoundLineRecord>({
  no: { type: Number, required: true },
  drugId: { type: Schema.Types.ObjectId, required: true },
  drug: { type: DrugSnapshotSchema, required: true },
  referenceFen: { type: Number, required: true },
  minDecrementFen: { type: Number, required: true },
});

const RoundSchema = new Schema<RoundRecord>(
  {
    no: { type: String, required: true },
    title: { type: String, required: true, trim: true },
    description: { type: String, trim: true },
    status: { type: String, enum: ROUND_STATUSES, required: true },
    lines: { type: [RoundLineSchema], required: true },
    opensAt: { type: Date, required: true },
    closesAt: { type: Date, required: true },
    scheduledClosesAt: { type: Date, required: true },
    visibility: { type: String, enum: VISIBILITY_MODES, required: true },
    minDecrementBp: { type: Number, required: true },
    antiSniping: {
      windowSec: { type: Number, required: true },
      extendSec: { type: Number, required: true },
      maxExtensions: { type: Number, required: true },
    },
    extensions: { type: Number, required: true, default: 0 },
    listingValidityDays: { type: Number, required: true },
    clearlyBelowBp: { type: Number, required: true },
    seq: { type: Number, required: true, default: 0 },
    createdBy: { type: Schema.Types.ObjectId, required: true },
    scheduledAt: Date,
    openedAt: Date,
    closedAt: Date,
    publishedAt: Date,
    listingExpiresAt: Date,
    expiredAt: Date,
    cancelledAt: Date,
    cancelReason: String,
    report: { type: Schema.Types.Mixed },
  },
  { timestamps: true, collection: 'quotation_rounds' },
);
RoundSchema.index({ no: 1 }, { unique: true });
RoundSchema.index({ status: 1, opensAt: -1 });
RoundSchema.index({ createdAt: -1, _id: -1 });

/** A distributor's anonymous alias in one round (stable within the round, unique per round). */
export interface ParticipantRecord {
  _id: Types.ObjectId;
  roundId: Types.ObjectId;
  distributorOrgId: Types.ObjectId;
  distributorName: string;
  alias: string;
  joinedAt: Date;
}
const ParticipantSchema = new Schema<ParticipantRecord>(
  {
    roundId: { type: Schema.Types.ObjectId, required: true },
    distributorOrgId: { type: Schema.Types.ObjectId, required: true },
    distributorName: { type: String, required: true },
    alias: { type: String, required: true },
    joinedAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'quotation_participants' },
);
ParticipantSchema.index({ roundId: 1, distributorOrgId: 1 }, { unique: true });
ParticipantSchema.index({ roundId: 1, alias: 1 }, { unique: true });

export interface QuoteRecord {
  _id: Types.ObjectId;
  roundId: Types.ObjectId;
  lineId: Types.ObjectId;
  distributorOrgId: Types.ObjectId;
  distributorName: string;
  alias: string;
  userId: Types.ObjectId;
  priceFen: number;
  /** Server receipt time (the business clock). */
  receivedAt: Date;
  seq: number;
  status: QuoteStatus;
  clientKey?: string;
  channel: 'http' | 'socket';
  previousQuoteId?: Types.ObjectId;
  previousPriceFen?: number;
  withdrawnAt?: Date;
}
const QuoteSchema = new Schema<QuoteRecord>(
  {
    roundId: { type: Schema.Types.ObjectId, required: true },
    lineId: { type: Schema.Types.ObjectId, required: true },
    distributorOrgId: { type: Schema.Types.ObjectId, required: true },
    distributorName: { type: String, required: true },
    alias: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    priceFen: { type: Number, required: true },
    receivedAt: { type: Date, required: true },
    seq: { type: Number, required: true },
    status: { type: String, enum: QUOTE_STATUSES, required: true },
    clientKey: { type: String },
    channel: { type: String, enum: ['http', 'socket'], required: true },
    previousQuoteId: { type: Schema.Types.ObjectId },
    previousPriceFen: { type: Number },
    withdrawnAt: Date,
  },
  { versionKey: false, collection: 'quotation_quotes' },
);
QuoteSchema.index({ roundId: 1, lineId: 1, status: 1, priceFen: 1, receivedAt: 1, seq: 1 });
QuoteSchema.index({ roundId: 1, distributorOrgId: 1, lineId: 1, seq: -1 });
QuoteSchema.index({ roundId: 1, seq: 1 });
QuoteSchema.index({ roundId: 1, lineId: 1, distributorOrgId: 1 }, { unique: true, partialFilterExpression: { status: 'active' } });
QuoteSchema.index({ roundId: 1, distributorOrgId: 1, clientKey: 1 }, { unique: true, partialFilterExpression: { clientKey: { $type: 'string' } } });

/** The round's audit trail: every quote event with server time, append-only. */
export interface QuoteEventRecord {
  _id: Types.ObjectId;
  roundId: Types.ObjectId;
  at: Date;
  type: QuoteEventType;
  /** The round sequence the event produced (accepted changes only). */
  seq?: number;
  lineId?: Types.ObjectId;
  lineNo?: number;
  distributorOrgId?: Types.ObjectId;
  distributorName?: string;
  alias?: string;
  userId?: Types.ObjectId;
  quoteId?: Types.ObjectId;
  priceFen?: number;
  previousPriceFen?: number;
  code?: string;
  message?: string;
  closesAt?: Date;
  extensionNumber?: number;
  channel?: string;
}
const QuoteEventSchema = new Schema<QuoteEventRecord>(
  {
    roundId: { type: Schema.Types.ObjectId, required: true },
    at: { type: Date, required: true },
    type: { type: String, enum: QUOTE_EVENT_TYPES, required: true },
    seq: Number,
    lineId: Schema.Types.ObjectId,
    lineNo: Number,
    distributorOrgId: Schema.Types.ObjectId,
    distributorName: String,
    alias: String,
    userId: Schema.Types.ObjectId,
    quoteId: Schema.Types.ObjectId,
    priceFen: Number,
    previousPriceFen: Number,
    code: String,
    message: String,
    closesAt: Date,
    extensionNumber: Number,
    channel: String,
  },
  { versionKey: false, collection: 'quotation_events' },
);
QuoteEventSchema.index({ roundId: 1, at: 1, _id: 1 });
QuoteEventSchema.index({ roundId: 1, type: 1 });
QuoteEventSchema.index({ roundId: 1, seq: 1 });

/** One published listing entry (挂网): a distributor's final price for a round line. */
export interface ListingRecord {
  _id: Types.ObjectId;
  roundId: Types.ObjectId;
  roundNo: string;
  roundTitle: string;
  lineId: Types.ObjectId;
  drugId: Types.ObjectId;
  drug: DrugSnapshot;
  distributorOrgId: Types.ObjectId;
  distributorName: string;
  alias: string;
  quoteId: Types.ObjectId;
  unitPriceFen: number;
  referenceFen: number;
  reductionBp: number;
  rank: number;
  quotedAt: Date;
  publishedAt: Date;
  expiresAt: Date;
  status: ListingStatus;
  withdrawnAt?: Date;
  withdrawReason?: string;
}
const ListingSchema = new Schema<ListingRecord>(
  {
    roundId: { type: Schema.Types.ObjectId, required: true },
    roundNo: { type: String, required: true },
    roundTitle: { type: String, required: true },
    lineId: { type: Schema.Types.ObjectId, required: true },
    drugId: { type: Schema.Types.ObjectId, required: true },
    drug: { type: DrugSnapshotSchema, required: true },
    distributorOrgId: { type: Schema.Types.ObjectId, required: true },
    distributorName: { type: String, required: true },
    alias: { type: String, required: true },
    quoteId: { type: Schema.Types.ObjectId, required: true },
    unitPriceFen: { type: Number, required: true },
    referenceFen: { type: Number, required: true },
    reductionBp: { type: Number, required: true },
    rank: { type: Number, required: true },
    quotedAt: { type: Date, required: true },
    publishedAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    status: { type: String, enum: LISTING_STATUSES, required: true },
    withdrawnAt: Date,
    withdrawReason: String,
  },
  { versionKey: false, collection: 'quotation_listings' },
);
ListingSchema.index({ roundId: 1, lineId: 1, distributorOrgId: 1 }, { unique: true });
// NOTE: current listings (status 'listed', not yet expired; expired ones stay 'listed'), all or of one drug.
ListingSchema.index({ status: 1, expiresAt: 1 });
ListingSchema.index({ drugId: 1, status: 1, expiresAt: 1 });
ListingSchema.index({ distributorOrgId: 1, status: 1 });
// NOTE: the dashboard reads listings by publication (price history, shortage-drug coverage).
ListingSchema.index({ publishedAt: 1 });

const CounterSchema = new Schema({ _id: { type: String, required: true }, value: { type: Number, required: true } }, { versionKey: false, collection: 'quotation_counters' });

export const Round = mongoose.models.QuotationRound ?? mongoose.model<RoundRecord>('QuotationRound', RoundSchema);
export const Participant = mongoose.models.QuotationParticipant ?? mongoose.model<ParticipantRecord>('QuotationParticipant', ParticipantSchema);
export const Quote = mongoose.models.QuotationQuote ?? mongoose.model<QuoteRecord>('QuotationQuote', QuoteSchema);
export const QuoteEvent = mongoose.models.QuotationEvent ?? mongoose.model<QuoteEventRecord>('QuotationEvent', QuoteEventSchema);
export const Listing = mongoose.models.QuotationListing ?? mongoose.model<ListingRecord>('QuotationListing', ListingSchema);
export const Counter = mongoose.models.QuotationCounter ?? mongoose.model('QuotationCounter', CounterSchema);
