import mongoose, { Schema, Types } from 'mongoose';
import type { Message } from '../../platform/messages';

// Ledger, invoices, guarantee lines, advances and repayments. The chart of accounts and the sign
// convention are documented in finance.ledger.ts.

export const ACCOUNT_TYPES = [
  'supervised',
  'bank_clearing',
  'working_capital',
  'advance_principal',
  'interest_receivable',
  'interest_income',
  'invoice_receivable',
  'distributor_payable',
] as const;
export type AccountType = (typeof ACCOUNT_TYPES)[number];

export interface LedgerAccountDoc {
  _id: Types.ObjectId;
  key: string;
  type: AccountType;
  ownerOrgId?: Types.ObjectId;
  bankOrgId?: Types.ObjectId;
  currency: 'CNY';
  normalSide: 'debit' | 'credit';
  /** Debits minus credits of every posting to this account, maintained in the posting transaction. */
  balanceFen: number;
  createdAt: Date;
}

const LedgerAccountSchema = new Schema<LedgerAccountDoc>(
  {
    key: { type: String, required: true },
    type: { type: String, enum: ACCOUNT_TYPES, required: true },
    ownerOrgId: { type: Schema.Types.ObjectId },
    bankOrgId: { type: Schema.Types.ObjectId },
    currency: { type: String, enum: ['CNY'], required: true, default: 'CNY' },
    normalSide: { type: String, enum: ['debit', 'credit'], required: true },
    balanceFen: { type: Number, required: true, default: 0 },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'finance_accounts' },
);
LedgerAccountSchema.index({ key: 1 }, { unique: true });
LedgerAccountSchema.index({ ownerOrgId: 1, type: 1 });
LedgerAccountSchema.index({ bankOrgId: 1, type: 1 });

export const ENTRY_KINDS = ['invoice', 'prepayment', 'deposit', 'settlement', 'invoice_payment', 'interest', 'repayment'] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

export interface PostingDoc {
  accountId: Types.ObjectId;
  accountKey: string;
  /** Positive = debit, negative = credit. */
  amountFen: number;
}

export interface JournalEntryDoc {
  _id: Types.ObjectId;
  idempotencyKey: string;
  kind: EntryKind;
  postedAt: Date;
  memo: string;
  postings: PostingDoc[];
  hospitalOrgId?: Types.ObjectId;
  bankOrgId?: Types.ObjectId;
  distributorOrgId?: Types.ObjectId;
  invoiceId?: Types.ObjectId;
  advanceId?: Types.ObjectId;
  reference?: string;
  actorId?: Types.ObjectId;
}

const PostingSchema = new Schema<PostingDoc>(
  {
    accountId: { type: Schema.Types.ObjectId, required: true },
    accountKey: { type: String, required: true },
    amountFen: { type: Number, required: true },
  },
  { _id: false },
);

const JournalEntrySchema = new Schema<JournalEntryDoc>(
  {
    idempotencyKey: { type: String, required: true },
    kind: { type: String, enum: ENTRY_KINDS, required: true },
    postedAt: { type: Date, required: true },
    memo: { type: String, required: true },
    postings: { type: [PostingSchema], required: true },
    hospitalOrgId: { type: Schema.Types.ObjectId },
    bankOrgId: { type: Schema.Types.ObjectId },
    distributorOrgId: { type: Schema.Types.ObjectId },
    invoiceId: { type: Schema.Types.ObjectId },
    advanceId: { type: Schema.Types.ObjectId },
    reference: { type: String },
    actorId: { type: Schema.Types.ObjectId },
  },
  { versionKey: false, collection: 'finance_entries' },
);
JournalEntrySchema.index({ idempotencyKey: 1 }, { unique: true });
JournalEntrySchema.index({ hospitalOrgId: 1, postedAt: 1 });
JournalEntrySchema.index({ bankOrgId: 1, postedAt: 1 });
JournalEntrySchema.index({ invoiceId: 1 });

export const INVOICE_STATUSES = ['open', 'paid', 'overdue'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

export interface InvoiceLineDoc {
  drugId: Types.ObjectId;
  drugName: string;
  quantity: number;
  unitPriceFen: number;
  amountFen: number;
}

export interface InvoicePaymentDoc {
  at: Date;
  amountFen: number;
  fromAccountFen: number;
  advancedFen: number;
  source: 'hospital' | 'settlement';
  entryId: Types.ObjectId;
}

export interface InvoiceDoc {
  _id: Types.ObjectId;
  invoiceNo: string;
  acceptanceKey: string;
  orderId: Types.ObjectId;
  orderNo: string;
  hospitalOrgId: Types.ObjectId;
  distributorOrgId: Types.ObjectId;
  lines: InvoiceLineDoc[];
  amountFen: number;
  paidFen: number;
  acceptedAt: Date;
  dueAt: Date;
  paymentTermDays: number;
  status: InvoiceStatus;
  paidAt?: Date;
  paidOnTime?: boolean;
  payments: InvoicePaymentDoc[];
  settledAt?: Date;
  settlement?: { outcome: string; fromAccountFen: number; advanceFen: number; unpaidFen: number; bankOrgId?: Types.ObjectId };
  overdueAt?: Date;
  createdAt: Date;
}

const InvoiceSchema = new Schema<InvoiceDoc>(
  {
    invoiceNo: { type: String, required: true },
    acceptanceKey: { type: String, required: true },
    orderId: { type: Schema.Types.ObjectId, required: true },
    orderNo: { type: String, required: true },
    hospitalOrgId: { type: Schema.Types.ObjectId, required: true },
    distributorOrgId: { type: Schema.Types.ObjectId, required: true },
    lines: {
      type: [
        new Schema<InvoiceLineDoc>(
          {
            drugId: { type: Schema.Types.ObjectId, required: true },
            drugName: { type: String, required: true },
            quantity: { type: Number, required: true },
            unitPriceFen: { type: Number, required: true },
            amountFen: { type: Number, required: true },
          },
          { _id: false },
        ),
      ],
      required: true,
    },
    amountFen: { type: Number, required: true },
    paidFen: { type: Number, required: true, default: 0 },
    acceptedAt: { type: Date, required: true },
    dueAt: { type: Date, required: true },
    paymentTermDays: { type: Number, required: true },
    status: { type: String, enum: INVOICE_STATUSES, required: true, default: 'open' },
    paidAt: Date,
    paidOnTime: Boolean,
    payments: {
      type: [
        new Schema<InvoicePaymentDoc>(
          {
            at: { type: Date, required: true },
            amountFen: { type: Number, required: true },
            fromAccountFen: { type: Number, required: true },
            advancedFen: { type: Number, required: true },
            source: { type: String, enum: ['hospital', 'settlement'], required: true },
            entryId: { type: Schema.Types.ObjectId, required: true },
          },
          { _id: false },
        ),
      ],
      default: [],
    },
    settledAt: Date,
    settlement: {
      type: new Schema(
        {
          outcome: { type: String, required: true },
          fromAccountFen: { type: Number, required: true },
          advanceFen: { type: Number, required: true },
          unpaidFen: { type: Number, required: true },
          bankOrgId: { type: Schema.Types.ObjectId },
        },
        { _id: false },
      ),
    },
    overdueAt: Date,
    createdAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'finance_invoices' },
);
InvoiceSchema.index({ acceptanceKey: 1 }, { unique: true });
InvoiceSchema.index({ invoiceNo: 1 }, { unique: true });
InvoiceSchema.index({ hospitalOrgId: 1, dueAt: 1 });
InvoiceSchema.index({ distributorOrgId: 1, dueAt: 1 });
InvoiceSchema.index({ status: 1, dueAt: 1 });
// NOTE: the dashboard's payment timeliness reads invoices by payment month and by due month.
InvoiceSchema.index({ paidAt: 1 });
InvoiceSchema.index({ dueAt: 1 });

export const LINE_STATUSES = ['pending', 'active', 'rejected', 'suspended'] as const;
export type LineStatus = (typeof LINE_STATUSES)[number];

export interface LineEventDoc {
  at: Date;
  action: 'applied' | 'approved' | 'rejected' | 'suspended' | 'reinstated' | 'changed';
  byUserId: Types.ObjectId;
  byName: string;
  /** What changed: a message (rendered per reader), or text stored by earlier versions. */
  summary: string | Message;
}

/** The terms of one version of the three-party agreement, frozen when the bank approved or changed them. */
export interface AgreementVersionDoc {
  version: number;
  at: Date;
  byName: string;
  limitFen: number;
  annualRateBp: number;
  maxTenorDays: number;
  expiresAt: Date;
}

export interface GuaranteeLineDoc {
  _id: Types.ObjectId;
  hospitalOrgId: Types.ObjectId;
  bankOrgId: Types.ObjectId;
  requestedAmountFen: number;
  requestedTermMonths: number;
  note?: string;
  status: LineStatus;
  appliedAt: Date;
  limitFen?: number;
  annualRateBp?: number;
  maxTenorDays?: number;
  expiresAt?: Date;
  decidedAt?: Date;
  rejectedReason?: string;
  suspendedReason?: string;
  agreementNo?: string;
  agreementVersion: number;
  agreementAt?: Date;
  agreements: AgreementVersionDoc[];
  history: LineEventDoc[];
}

const GuaranteeLineSchema = new Schema<GuaranteeLineDoc>(
  {
    hospitalOrgId: { type: Schema.Types.ObjectId, required: true },
    bankOrgId: { type: Schema.Types.ObjectId, required: true },
    requestedAmountFen: { type: Number, required: true },
    requestedTermMonths: { type: Number, required: true },
    note: String,
    status: { type: String, enum: LINE_STATUSES, required: true },
    appliedAt: { type: Date, required: true },
    limitFen: Number,
    annualRateBp: Number,
    maxTenorDays: Number,
    expiresAt: Date,
    decidedAt: Date,
    rejectedReason: String,
    suspendedReason: String,
    agreementNo: String,
    agreementVersion: { type: Number, required: true, default: 0 },
    agreementAt: Date,
    agreements: {
      type: [
        new Schema<AgreementVersionDoc>(
          {
            version: { type: Number, required: true },
            at: { type: Date, required: true },
            byName: { type: String, required: true },
            limitFen: { type: Number, required: true },
            annualRateBp: { type: Number, required: true },
            maxTenorDays: { type: Number, required: true },
            expiresAt: { type: Date, required: true },
          },
          { _id: false },
        ),
      ],
      default: [],
    },
    history: {
      type: [
        new Schema<LineEventDoc>(
          {
            at: { type: Date, required: true },
            action: { type: String, required: true },
            byUserId: { type: Schema.Types.ObjectId, required: true },
            byName: { type: String, required: true },
            summary: { type: Schema.Types.Mixed, required: true },
          },
          { _id: false },
        ),
      ],
      default: [],
    },
  },
  { versionKey: false, collection: 'finance_lines' },
);
GuaranteeLineSchema.index({ hospitalOrgId: 1, appliedAt: -1 });
GuaranteeLineSchema.index({ bankOrgId: 1, status: 1 });

export const ADVANCE_STATUSES = ['outstanding', 'overdue', 'repaid'] as const;
export type AdvanceStatus = (typeof ADVANCE_STATUSES)[number];

export interface AdvanceDoc {
  _id: Types.ObjectId;
  hospitalOrgId: Types.ObjectId;
  bankOrgId: Types.ObjectId;
  lineId: Types.ObjectId;
  invoiceId: Types.ObjectId;
  invoiceNo: string;
  principalFen: number;
  principalOutstandingFen: number;
  interestAccruedFen: number;
  interestPaidFen: number;
  annualRateBp: number;
  tenorDays: number;
  advancedAt: Date;
  dueAt: Date;
  status: AdvanceStatus;
  /** Principal after each change; interest of a day is on the principal in force at its end. */
  segments: { at: Date; principalFen: number }[];
  /** The last Asia/Shanghai day ('YYYY-MM-DD') whose interest is posted. */
  accruedThrough?: string;
  overdueAt?: Date;
  repaidAt?: Date;
}

const AdvanceSchema = new Schema<AdvanceDoc>(
  {
    hospitalOrgId: { type: Schema.Types.ObjectId, required: true },
    bankOrgId: { type: Schema.Types.ObjectId, required: true },
    lineId: { type: Schema.Types.ObjectId, required: true },
    invoiceId: { type: Schema.Types.ObjectId, required: true },
    invoiceNo: { type: String, required: true },
    principalFen: { type: Number, required: true },
    principalOutstandingFen: { type: Number, required: true },
    interestAccruedFen: { type: Number, required: true, default: 0 },
    interestPaidFen: { type: Number, required: true, default: 0 },
    annualRateBp: { type: Number, required: true },
    tenorDays: { type: Number, required: true },
    advancedAt: { type: Date, required: true },
    dueAt: { type: Date, required: true },
    status: { type: String, enum: ADVANCE_STATUSES, required: true },
    segments: {
      type: [new Schema({ at: { type: Date, required: true }, principalFen: { type: Number, required: true } }, { _id: false })],
      required: true,
    },
    accruedThrough: String,
    overdueAt: Date,
    repaidAt: Date,
  },
  { versionKey: false, collection: 'finance_advances' },
);
AdvanceSchema.index({ invoiceId: 1 }, { unique: true });
AdvanceSchema.index({ hospitalOrgId: 1, advancedAt: 1 });
AdvanceSchema.index({ bankOrgId: 1, status: 1 });
AdvanceSchema.index({ bankOrgId: 1, advancedAt: 1 });
AdvanceSchema.index({ status: 1 });
AdvanceSchema.index({ advancedAt: 1 });

export interface RepaymentDoc {
  _id: Types.ObjectId;
  hospitalOrgId: Types.ObjectId;
  bankOrgId: Types.ObjectId;
  amountFen: number;
  interestFen: number;
  principalFen: number;
  source: 'account' | 'transfer';
  reference?: string;
  allocations: { advanceId: Types.ObjectId; interestFen: number; principalFen: number }[];
  entryId: Types.ObjectId;
  at: Date;
  byUserId?: Types.ObjectId;
}

const RepaymentSchema = new Schema<RepaymentDoc>(
  {
    hospitalOrgId: { type: Schema.Types.ObjectId, required: true },
    bankOrgId: { type: Schema.Types.ObjectId, required: true },
    amountFen: { type: Number, required: true },
    interestFen: { type: Number, required: true },
    principalFen: { type: Number, required: true },
    source: { type: String, enum: ['account', 'transfer'], required: true },
    reference: String,
    allocations: {
      type: [
        new Schema(
          { advanceId: { type: Schema.Types.ObjectId, required: true }, interestFen: { type: Number, required: true }, principalFen: { type: Number, required: true } },
          { _id: false },
        ),
      ],
      required: true,
    },
    entryId: { type: Schema.Types.ObjectId, required: true },
    at: { type: Date, required: true },
    byUserId: Schema.Types.ObjectId,
  },
  { versionKey: false, collection: 'finance_repayments' },
);
RepaymentSchema.index({ entryId: 1 }, { unique: true });
RepaymentSchema.index({ hospitalOrgId: 1, at: 1 });
RepaymentSchema.index({ bankOrgId: 1, at: 1 });
RepaymentSchema.index({ at: 1 });

export const LedgerAccount = (mongoose.models.LedgerAccount as mongoose.Model<LedgerAccountDoc>) ?? mongoose.model<LedgerAccountDoc>('LedgerAccount', LedgerAccountSchema);
export const JournalEntry = (mongoose.models.JournalEntry as mongoose.Model<JournalEntryDoc>) ?? mongoose.model<JournalEntryDoc>('JournalEntry', JournalEntrySchema);
export const Invoice = (mongoose.models.Invoice as mongoose.Model<InvoiceDoc>) ?? mongoose.model<InvoiceDoc>('Invoice', InvoiceSchema);
export const GuaranteeLine = (mongoose.models.GuaranteeLine as mongoose.Model<GuaranteeLineDoc>) ?? mongoose.model<GuaranteeLineDoc>('GuaranteeLine', GuaranteeLineSchema);
export const Advance = (mongoose.models.Advance as mongoose.Model<AdvanceDoc>) ?? mongoose.model<AdvanceDoc>('Advance', AdvanceSchema);
export const Repayment = (mongoose.models.Repayment as mongoose.Model<RepaymentDoc>) ?? mongoose.model<RepaymentDoc>('Repayment', RepaymentSchema);
