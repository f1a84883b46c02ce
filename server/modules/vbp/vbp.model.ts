import mongoose, { Schema, Types } from 'mongoose';
import type { DosageFormClass, SelectionResult, SelectionRules } from './vbp.selection';

export const TENDER_STATUSES = ['bidding', 'awaiting_acceptance', 'awarded'] as const;
export type TenderStatus = (typeof TENDER_STATUSES)[number];
export const VISIBILITIES = ['sealed', 'rank'] as const;
export type Visibility = (typeof VISIBILITIES)[number];
export const BACKUP_PRICES = ['own_bid', 'contract_price'] as const;
export type BackupPrice = (typeof BACKUP_PRICES)[number];
export const CONTRACT_STATUSES = ['active', 'supply_failed'] as const;
export type ContractStatus = (typeof CONTRACT_STATUSES)[number];
export const CONTRACT_BASES = ['preferred', 'rank_rotation', 'backup_promotion'] as const;
export type ContractBasis = (typeof CONTRACT_BASES)[number];
export const CHECK_KINDS = ['pace', 'checkpoint'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

/** The VBP module's own platform-wide defaults (one document); tenders copy what they use. */
const VbpSettingsSchema = new Schema(
  {
    _id: { type: String, required: true },
    value: { type: Schema.Types.Mixed, required: true },
    updatedAt: { type: Date, required: true },
    updatedBy: { type: String },
  },
  { versionKey: false, collection: 'vbp_settings' },
);

export interface DeclarationDrug {
  drugId: Types.ObjectId;
  genericNameZh: string;
  genericNameEn: string;
  specification: string;
  packUnit: string;
  manufacturer: string;
  nhsaCode: string;
  formClass: DosageFormClass;
}

export interface DeclarationDoc {
  _id: Types.ObjectId;
  title: string;
  drugs: DeclarationDrug[];
  deadline: Date;
  /** A declaration below this share (bp) of last year's volume needs a reason. */
  minShareOfLastYearBp: number;
  /** The period whose platform purchases pre-fill the form. */
  lastYearFrom: Date;
  lastYearTo: Date;
  remindBeforeDeadlineSec: number;
  /** When the automatic reminder is due (null: none). */
  remindAt?: Date | null;
  /** When the automatic reminder ran (so a sweep does not run it again). */
  autoRemindedAt?: Date | null;
  createdAt: Date;
  createdById: Types.ObjectId;
  createdByName: string;
}

const DeclarationDrugSchema = new Schema<DeclarationDrug>(
  {
    drugId: { type: Schema.Types.ObjectId, required: true },
    genericNameZh: { type: String, required: true },
    genericNameEn: { type: String, required: true },
    specification: { type: String, required: true },
    packUnit: { type: String, required: true },
    manufacturer: { type: String, required: true },
    nhsaCode: { type: String, required: true },
    formClass: { type: String, required: true },
  },
  { _id: false },
);

const DeclarationSchema = new Schema<DeclarationDoc>(
  {
    title: { type: String, required: true },
    drugs: { type: [DeclarationDrugSchema], required: true },
    deadline: { type: Date, required: true },
    minShareOfLastYearBp: { type: Number, required: true },
    lastYearFrom: { type: Date, required: true },
    lastYearTo: { type: Date, required: true },
    remindBeforeDeadlineSec: { type: Number, required: true },
    remindAt: { type: Date, default: null },
    autoRemindedAt: { type: Date, default: null },
    createdAt: { type: Date, required: true },
    createdById: { type: Schema.Types.ObjectId, required: true },
    createdByName: { type: String, required: true },
  },
  { versionKey: false, collection: 'vbp_declarations' },
);
DeclarationSchema.index({ createdAt: -1, _id: -1 });
DeclarationSchema.index({ remindAt: 1 });

export interface DeclarationEntryDoc {
  _id: Types.ObjectId;
  declarationId: Types.ObjectId;
  hospitalOrgId: Types.ObjectId;
  hospitalName: string;
  drugId: Types.ObjectId;
  quantity: number;
  lastYearQty: number | null;
  lastYearSource: 'platform' | 'hospital' | null;
  reason?: string;
  preferredDistributorOrgId?: Types.ObjectId | null;
  source: 'form' | 'import' | 'api';
  submittedAt: Date;
  submittedById: Types.ObjectId;
  submittedByName: string;
}

const DeclarationEntrySchema = new Schema<DeclarationEntryDoc>(
  {
    declarationId: { type: Schema.Types.ObjectId, required: true },
    hospitalOrgId: { type: Schema.Types.ObjectId, required: true },
    hospitalName: { type: String, required: true },
    drugId: { type: Schema.Types.ObjectId, required: true },
    quantity: { type: Number, required: true },
    lastYearQty: { type: Number, default: null },
    lastYearSource: { type: String, default: null },
    reason: { type: String },
    preferredDistributorOrgId: { type: Schema.Types.ObjectId, default: null },
    source: { type: String, required: true },
    submittedAt: { type: Date, required: true },
    submittedById: { type: Schema.Types.ObjectId, required: true },
    submittedByName: { type: String, required: true },
  },
  { versionKey: false, collection: 'vbp_declaration_entries' },
);
DeclarationEntrySchema.index({ declarationId: 1, hospitalOrgId: 1, drugId: 1 }, { unique: true });
DeclarationEntrySchema.index({ declarationId: 1, drugId: 1 });

export interface HospitalDemandSnapshot {
  hospitalOrgId: Types.ObjectId;
  hospitalName: string;
  quantity: number;
  preferredDistributorOrgId: Types.ObjectId | null;
}

export interface StoredSelection {
  stage: 'preliminary' | 'final';
  at: Date;
  result: SelectionResult;
  /** Distributors that missed the price test and may accept the follow price (preliminary stage). */
  eligibleFollowers: string[];
  averageDropBpUsed: number | null;
  shareBp: number;
  termYears: number;
  agreedTotalQty: number;
}

export interface TenderLine {
  _id: Types.ObjectId;
  drugId: Types.ObjectId;
  genericNameZh: string;
  genericNameEn: string;
  specification: string;
  packUnit: string;
  formClass: DosageFormClass;
  ceilingFen: number;
  pooledQty: number;
  demands: HospitalDemandSnapshot[];
  selection?: StoredSelection | null;
}

export interface TenderDoc {
  _id: Types.ObjectId;
  tenderNo: string;
  title: string;
  declarationId: Types.ObjectId;
  status: TenderStatus;
  visibility: Visibility;
  closesAt: Date;
  openedAt?: Date;
  acceptanceDeadline?: Date;
  awardedAt?: Date;
  rules: SelectionRules;
  useFewBiddersRule: boolean;
  followWindowSec: number;
  backupPrice: BackupPrice;
  checkpointShareBp: number;
  /**
   * Bumped by every bid write and follow-price answer, so a bid and the opening (or an answer and the
   * finalisation) cannot both commit against a stale tender; numbers the `vbp.bid_changed` facts.
   */
  bidSeq: number;
  lines: TenderLine[];
  createdAt: Date;
  createdById: Types.ObjectId;
  createdByName: string;
}

const TenderLineSchema = new Schema<TenderLine>({
  drugId: { type: Schema.Types.ObjectId, required: true },
  genericNameZh: { type: String, required: true },
  genericNameEn: { type: String, required: true },
  specification: { type: String, required: true },
  packUnit: { type: String, required: true },
  formClass: { type: String, required: true },
  ceilingFen: { type: Number, required: true },
  pooledQty: { type: Number, required: true },
  demands: { type: Schema.Types.Mixed, required: true },
  selection: { type: Schema.Types.Mixed, default: null },
});

const TenderSchema = new Schema<TenderDoc>(
  {
    tenderNo: { type: String, required: true },
    title: { type: String, required: true },
    declarationId: { type: Schema.Types.ObjectId, required: true },
    status: { type: String, enum: TENDER_STATUSES, required: true },
    visibility: { type: String, enum: VISIBILITIES, required: true },
    closesAt: { type: Date, required: true },
    openedAt: Date,
    acceptanceDeadline: Date,
    awardedAt: Date,
    rules: { type: Schema.Types.Mixed, required: true },
    useFewBiddersRule: { type: Boolean, required: true },
    followWindowSec: { type: Number, required: true },
    backupPrice: { type: String, enum: BACKUP_PRICES, required: true },
    checkpointShareBp: { type: Number, required: true },
    bidSeq: { type: Number, required: true, default: 0 },
    lines: { type: [TenderLineSchema], required: true },
    createdAt: { type: Date, required: true },
    createdById: { type: Schema.Types.ObjectId, required: true },
    createdByName: { type: String, required: true },
  },
  { versionKey: false, collection: 'vbp_tenders' },
);
TenderSchema.index({ tenderNo: 1 }, { unique: true });
TenderSchema.index({ createdAt: -1, _id: -1 });
TenderSchema.index({ status: 1 });
TenderSchema.index({ status: 1, closesAt: 1 });
TenderSchema.index({ status: 1, acceptanceDeadline: 1 });

export interface BidDoc {
  _id: Types.ObjectId;
  tenderId: Types.ObjectId;
  lineId: Types.ObjectId;
  distributorOrgId: Types.ObjectId;
  distributorName: string;
  priceFen: number;
  /** Receipt time of the price in force (ties rank the earlier price first). */
  submittedAt: Date;
  firstSubmittedAt: Date;
  revisions: number;
  submittedById: Types.ObjectId;
}

const BidSchema = new Schema<BidDoc>(
  {
    tenderId: { type: Schema.Types.ObjectId, required: true },
    lineId: { type: Schema.Types.ObjectId, required: true },
    distributorOrgId: { type: Schema.Types.ObjectId, required: true },
    distributorName: { type: String, required: true },
    priceFen: { type: Number, required: true },
    submittedAt: { type: Date, required: true },
    firstSubmittedAt: { type: Date, required: true },
    revisions: { type: Number, required: true, default: 0 },
    submittedById: { type: Schema.Types.ObjectId, required: true },
  },
  { versionKey: false, collection: 'vbp_bids' },
);
BidSchema.index({ tenderId: 1, lineId: 1, distributorOrgId: 1 }, { unique: true });
BidSchema.index({ distributorOrgId: 1, tenderId: 1 });

export interface FollowResponseDoc {
  _id: Types.ObjectId;
  tenderId: Types.ObjectId;
  lineId: Types.ObjectId;
  distributorOrgId: Types.ObjectId;
  accept: boolean;
  at: Date;
  byId: Types.ObjectId;
  byName: string;
}

const FollowResponseSchema = new Schema<FollowResponseDoc>(
  {
    tenderId: { type: Schema.Types.ObjectId, required: true },
    lineId: { type: Schema.Types.ObjectId, required: true },
    distributorOrgId: { type: Schema.Types.ObjectId, required: true },
    accept: { type: Boolean, required: true },
    at: { type: Date, required: true },
    byId: { type: Schema.Types.ObjectId, required: true },
    byName: { type: String, required: true },
  },
  { versionKey: false, collection: 'vbp_follow_responses' },
);
FollowResponseSchema.index({ tenderId: 1, lineId: 1, distributorOrgId: 1 }, { unique: true });

export interface SupplyFailure {
  at: Date;
  reason: string;
  byId: Types.ObjectId;
  byName: string;
  remainingQty: number;
  promotedContractId?: Types.ObjectId | null;
  /** Why no backup could be promoted (none left, none may trade). */
  noBackup?: string | null;
}

/** The next completion check of one kind of a contract (the job that runs it has a deterministic id). */
export interface PendingCheck {
  index: number;
  dueAt: Date;
}

export interface ContractDoc {
  _id: Types.ObjectId;
  contractNo: string;
  /** Idempotency key: `award:<tenderId>:<lineId>:<hospitalId>` or `promotion:<failedContractId>`. */
  key: string;
  tenderId: Types.ObjectId;
  tenderNo: string;
  lineId: Types.ObjectId;
  drugId: Types.ObjectId;
  genericNameZh: string;
  genericNameEn: string;
  specification: string;
  packUnit: string;
  hospitalOrgId: Types.ObjectId;
  hospitalName: string;
  distributorOrgId: Types.ObjectId;
  distributorName: string;
  rank: number;
  priceFen: number;
  declaredQty: number;
  agreedQty: number;
  shareBp: number;
  basis: ContractBasis;
  termYears: number;
  termStart: Date;
  termEnd: Date;
  checkpointShareBp: number;
  status: ContractStatus;
  purchasedQty: number;
  replacesContractId?: Types.ObjectId | null;
  supplyFailure?: SupplyFailure | null;
  /** The next check of each chain (null once the chain reached the term end); a sweep runs overdue ones. */
  checks?: Record<CheckKind, PendingCheck | null>;
  createdAt: Date;
}

const ContractSchema = new Schema<ContractDoc>(
  {
    contractNo: { type: String, required: true },
    key: { type: String, required: true },
    tenderId: { type: Schema.Types.ObjectId, required: true },
    tenderNo: { type: String, required: true },
    lineId: { type: Schema.Types.ObjectId, required: true },
    drugId: { type: Schema.Types.ObjectId, required: true },
    genericNameZh: { type: String, required: true },
    genericNameEn: { type: String, required: true },
    specification: { type: String, required: true },
    packUnit: { type: String, required: true },
    hospitalOrgId: { type: Schema.Types.ObjectId, required: true },
    hospitalName: { type: String, required: true },
    distributorOrgId: { type: Schema.Types.ObjectId, required: true },
    distributorName: { type: String, required: true },
    rank: { type: Number, required: true },
    priceFen: { type: Number, required: true },
    declaredQty: { type: Number, required: true },
    agreedQty: { type: Number, required: true },
    shareBp: { type: Number, required: true },
    basis: { type: String, enum: CONTRACT_BASES, required: true },
    termYears: { type: Number, required: true },
    termStart: { type: Date, required: true },
    termEnd: { type: Date, required: true },
    checkpointShareBp: { type: Number, required: true },
    status: { type: String, enum: CONTRACT_STATUSES, required: true },
    purchasedQty: { type: Number, required: true, default: 0 },
    replacesContractId: { type: Schema.Types.ObjectId, default: null },
    supplyFailure: { type: Schema.Types.Mixed, default: null },
    checks: { type: Schema.Types.Mixed },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'vbp_contracts' },
);
ContractSchema.index({ key: 1 }, { unique: true });
ContractSchema.index({ contractNo: 1 }, { unique: true });
ContractSchema.index({ tenderId: 1, lineId: 1 });
ContractSchema.index({ hospitalOrgId: 1, createdAt: -1 });
ContractSchema.index({ distributorOrgId: 1, createdAt: -1 });
ContractSchema.index({ status: 1, 'checks.pace.dueAt': 1 });
ContractSchema.index({ status: 1, 'checks.checkpoint.dueAt': 1 });
// NOTE: the dashboard's VBP completion reads the contracts whose term overlaps a period.
ContractSchema.index({ termStart: 1 });

export interface ContractPurchaseDoc {
  _id: Types.ObjectId;
  contractId: Types.ObjectId;
  /** One purchase fact once: e.g. `order-line:<orderId>:<lineNo>`. */
  sourceKey: string;
  quantity: number;
  at: Date;
  orderId?: string;
  orderNo?: string;
}

const ContractPurchaseSchema = new Schema<ContractPurchaseDoc>(
  {
    contractId: { type: Schema.Types.ObjectId, required: true },
    sourceKey: { type: String, required: true },
    quantity: { type: Number, required: true },
    at: { type: Date, required: true },
    orderId: { type: String },
    orderNo: { type: String },
  },
  { versionKey: false, collection: 'vbp_contract_purchases' },
);
ContractPurchaseSchema.index({ sourceKey: 1 }, { unique: true });
ContractPurchaseSchema.index({ contractId: 1, at: 1 });

export interface AlertDoc {
  _id: Types.ObjectId;
  /** `<contractId>:<checkKind>:<index>`: one alert per contract per check, ever. */
  key: string;
  contractId: Types.ObjectId;
  hospitalOrgId: Types.ObjectId;
  distributorOrgId: Types.ObjectId;
  kind: 'behind_pace' | 'under_checkpoint';
  checkKind: CheckKind;
  checkIndex: number;
  checkAt: Date;
  purchasedQty: number;
  targetQty: number;
  agreedQty: number;
  ratioBp: number | null;
  createdAt: Date;
}

const AlertSchema = new Schema<AlertDoc>(
  {
    key: { type: String, required: true },
    contractId: { type: Schema.Types.ObjectId, required: true },
    hospitalOrgId: { type: Schema.Types.ObjectId, required: true },
    distributorOrgId: { type: Schema.Types.ObjectId, required: true },
    kind: { type: String, required: true },
    checkKind: { type: String, enum: CHECK_KINDS, required: true },
    checkIndex: { type: Number, required: true },
    checkAt: { type: Date, required: true },
    purchasedQty: { type: Number, required: true },
    targetQty: { type: Number, required: true },
    agreedQty: { type: Number, required: true },
    ratioBp: { type: Number, default: null },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'vbp_alerts' },
);
AlertSchema.index({ key: 1 }, { unique: true });
AlertSchema.index({ contractId: 1, createdAt: -1 });

/** A daily sequence for human-readable numbers (VBP-T20260523-001, VBP-C20260523-000042). */
const VbpCounterSchema = new Schema<{ _id: string; seq: number }>(
  { _id: { type: String, required: true }, seq: { type: Number, required: true } },
  { versionKey: false, collection: 'vbp_counters' },
);

export const VbpSettingsStore = mongoose.models.VbpSettingsStore ?? mongoose.model('VbpSettingsStore', VbpSettingsSchema);
export const Declaration = mongoose.models.VbpDeclaration ?? mongoose.model<DeclarationDoc>('VbpDeclaration', DeclarationSchema);
export const DeclarationEntry = mongoose.models.VbpDeclarationEntry ?? mongoose.model<DeclarationEntryDoc>('VbpDeclarationEntry', DeclarationEntrySchema);
export const Tender = mongoose.models.VbpTender ?? mongoose.model<TenderDoc>('VbpTender', TenderSchema);
export const Bid = mongoose.models.VbpBid ?? mongoose.model<BidDoc>('VbpBid', BidSchema);
export const FollowResponse = mongoose.models.VbpFollowResponse ?? mongoose.model<FollowResponseDoc>('VbpFollowResponse', FollowResponseSchema);
export const Contract = mongoose.models.VbpContract ?? mongoose.model<ContractDoc>('VbpContract', ContractSchema);
export const ContractPurchase = mongoose.models.VbpContractPurchase ?? mongoose.model<ContractPurchaseDoc>('VbpContractPurchase', ContractPurchaseSchema);
export const Alert = mongoose.models.VbpAlert ?? mongoose.model<AlertDoc>('VbpAlert', AlertSchema);
export const VbpCounter = mongoose.models.VbpCounter ?? mongoose.model('VbpCounter', VbpCounterSchema);
