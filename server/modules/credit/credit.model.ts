import mongoose, { Schema, Types, type InferSchemaType } from 'mongoose';
import type { Message } from '../../platform/messages';

const SEVERITIES = ['shixin', 'serious', 'especially_serious'] as const;

/** A version of the commitment letter (违约惩戒承诺书): a Handlebars text in force from `effectiveAt`. */
const CommitmentVersionSchema = new Schema(
  {
    version: { type: Number, required: true },
    title: { type: String, required: true, trim: true },
    /** Handlebars source; rendered per signer into the exact text that is hashed and signed. */
    body: { type: String, required: true },
    effectiveAt: { type: Date, required: true },
    publishedAt: { type: Date, required: true },
    publishedBy: { type: Schema.Types.ObjectId },
    publishedByName: { type: String, required: true },
    note: { type: String, trim: true },
    /** A scheduled version can be withdrawn before it takes effect; it then never applies. */
    withdrawnAt: Date,
  },
  { versionKey: false, collection: 'credit_commitment_versions' },
);
CommitmentVersionSchema.index({ version: 1 }, { unique: true });
CommitmentVersionSchema.index({ effectiveAt: -1, version: -1 });

/** One organisation's signature of one version: who, when, from where, and the hash of the exact text. */
const CommitmentSignatureSchema = new Schema(
  {
    versionId: { type: Schema.Types.ObjectId, required: true },
    version: { type: Number, required: true },
    orgId: { type: Schema.Types.ObjectId, required: true },
    orgName: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    userName: { type: String, required: true },
    userEmail: { type: String, required: true },
    signedAt: { type: Date, required: true },
    ip: { type: String, required: true },
    userAgent: { type: String },
    text: { type: String, required: true },
    textSha256: { type: String, required: true },
  },
  { versionKey: false, collection: 'credit_commitment_signatures' },
);
CommitmentSignatureSchema.index({ orgId: 1, versionId: 1 }, { unique: true });
CommitmentSignatureSchema.index({ versionId: 1, signedAt: -1 });

/** The operator-managed breach catalogue (code, description, severity, points). */
const BreachTypeSchema = new Schema(
  {
    code: { type: String, required: true },
    zh: { type: String, required: true, trim: true },
    en: { type: String, required: true, trim: true },
    severity: { type: String, enum: SEVERITIES, required: true },
    points: { type: Number, required: true, min: 0 },
    automatic: { type: Boolean, required: true },
    basis: { type: String, trim: true },
    active: { type: Boolean, required: true, default: true },
    updatedAt: { type: Date, required: true },
    updatedByName: { type: String },
  },
  { versionKey: false, collection: 'credit_breach_types' },
);
BreachTypeSchema.index({ code: 1 }, { unique: true });

const EvidenceSchema = new Schema(
  {
    fileId: { type: Schema.Types.ObjectId, required: true },
    name: { type: String, required: true },
    contentType: { type: String, required: true },
    size: { type: Number, required: true },
    sha256: { type: String, required: true },
  },
  { _id: false },
);

/**
 * A recorded breach of one distributor. Every status except 'voided' counts against the score.
 * NOTE: whatever records or voids a breach, approves a repair or awards a bonus also updates the
 * distributor's standing record in the same transaction (credit.standing-record.ts).
 */
const BreachSchema = new Schema(
  {
    orgId: { type: Schema.Types.ObjectId, required: true },
    orgName: { type: String, required: true },
    code: { type: String, required: true },
    zh: { type: String, required: true },
    en: { type: String, required: true },
    severity: { type: String, enum: SEVERITIES, required: true },
    /** Level 1 / 2 / 3 of a 特别严重失信 breach (suspension 1 / 3 / 5 years). */
    level: { type: Number, enum: [1, 2, 3] },
    points: { type: Number, required: true, min: 0 },
    occurredAt: { type: Date, required: true },
    recordedAt: { type: Date, required: true },
    source: { type: String, enum: ['automatic', 'manual'], required: true },
    /** The domain event key (automatic) or a generated key (manual): one breach per fact. */
    sourceKey: { type: String, required: true },
    sourceType: { type: String },
    description: { type: String, required: true },
    reference: { type: Schema.Types.Mixed },
    evidence: { type: [EvidenceSchema], default: [] },
    recordedBy: { type: Schema.Types.ObjectId },
    recordedByName: { type: String },
    status: { type: String, enum: ['active', 'appealed', 'upheld', 'voided'], required: true, default: 'active' },
    appealDeadline: { type: Date, required: true },
    voidedAt: Date,
    voidReason: String,
  },
  { versionKey: false, collection: 'credit_breaches' },
);
BreachSchema.index({ sourceKey: 1 }, { unique: true });
BreachSchema.index({ orgId: 1, occurredAt: -1 });
// NOTE: the breach tables (newest recorded first): the operator's, one distributor's, by status.
BreachSchema.index({ recordedAt: -1, _id: -1 });
BreachSchema.index({ orgId: 1, recordedAt: -1, _id: -1 });
BreachSchema.index({ status: 1, recordedAt: -1, _id: -1 });
// NOTE: the dashboard counts breaches by month of occurrence.
BreachSchema.index({ occurredAt: 1 });

/** A distributor's appeal against one breach; the operator upholds or voids it with reasons. */
const AppealSchema = new Schema(
  {
    breachId: { type: Schema.Types.ObjectId, required: true },
    orgId: { type: Schema.Types.ObjectId, required: true },
    orgName: { type: String, required: true },
    statement: { type: String, required: true },
    files: { type: [EvidenceSchema], default: [] },
    submittedAt: { type: Date, required: true },
    submittedBy: { type: Schema.Types.ObjectId, required: true },
    submittedByName: { type: String, required: true },
    status: { type: String, enum: ['pending', 'upheld', 'voided'], required: true, default: 'pending' },
    decidedAt: Date,
    decidedBy: Schema.Types.ObjectId,
    decidedByName: String,
    decisionReason: String,
  },
  { versionKey: false, collection: 'credit_appeals' },
);
AppealSchema.index({ breachId: 1 }, { unique: true });
AppealSchema.index({ status: 1, submittedAt: 1 });
AppealSchema.index({ orgId: 1, submittedAt: -1 });

/** 信用修复: rectification report and apology; approved after the quiet period, it restores points. */
const RepairSchema = new Schema(
  {
    orgId: { type: Schema.Types.ObjectId, required: true },
    orgName: { type: String, required: true },
    report: { type: String, required: true },
    apology: { type: String, required: true },
    files: { type: [EvidenceSchema], default: [] },
    submittedAt: { type: Date, required: true },
    submittedBy: { type: Schema.Types.ObjectId, required: true },
    submittedByName: { type: String, required: true },
    /** Last breach at submission and the day the quiet period ends (re-checked at approval). */
    lastBreachAt: Date,
    eligibleFrom: Date,
    status: { type: String, enum: ['pending', 'approved', 'rejected'], required: true, default: 'pending' },
    decidedAt: Date,
    decidedBy: Schema.Types.ObjectId,
    decidedByName: String,
    decisionReason: String,
    pointsRestored: { type: Number, min: 0 },
  },
  { versionKey: false, collection: 'credit_repairs' },
);
RepairSchema.index({ orgId: 1, submittedAt: -1 });
RepairSchema.index({ status: 1, submittedAt: 1 });
// NOTE: one open repair request per distributor at a time.
RepairSchema.index({ orgId: 1 }, { unique: true, partialFilterExpression: { status: 'pending' }, name: 'one_pending_repair' });

/** Bonus points (守信激励) awarded by the operator; they count in the window up to the cap. */
const BonusSchema = new Schema(
  {
    orgId: { type: Schema.Types.ObjectId, required: true },
    points: { type: Number, required: true, min: 1 },
    reason: { type: String, required: true },
    at: { type: Date, required: true },
    byName: { type: String, required: true },
  },
  { versionKey: false, collection: 'credit_bonuses' },
);
BonusSchema.index({ orgId: 1, at: -1 });

/** One item of a distributor's history that can count: a non-voided breach, an approved repair, a bonus. */
const StandingEntrySchema = new Schema(
  {
    /** The breach, repair or bonus. */
    sourceId: { type: Schema.Types.ObjectId, required: true },
    kind: { type: String, enum: ['breach', 'repair', 'bonus'], required: true },
    /** When it counts from: a breach's occurredAt, a repair's decidedAt, a bonus's at. */
    at: { type: Date, required: true },
    /** Points deducted (breach), restored (repair) or awarded (bonus). */
    points: { type: Number, required: true, min: 0 },
    severity: { type: String, enum: SEVERITIES },
    level: { type: Number, enum: [1, 2, 3] },
  },
  { _id: false },
);

/**
 * Read model of a distributor's standing (credit.standing-record.ts): every item of its history that
 * can count (non-voided breaches, approved repairs, bonuses) later than `completeAfter`, written in
 * the same transaction as each breach, void, repair and bonus, so a standing is computed from one
 * document instead of a year of history.
 */
const StandingRecordSchema = new Schema(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    entries: { type: [StandingEntrySchema], default: [] },
    /** Items at or before this instant may be missing (they were older than the window). */
    completeAfter: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'credit_standings' },
);
// NOTE: the window-change rebuild looks for records not complete far enough back.
StandingRecordSchema.index({ completeAfter: 1 });

/** A sanction in force from `startsAt` until `endsAt` (exclusive), unless lifted earlier. */
const SanctionSchema = new Schema(
  {
    orgId: { type: Schema.Types.ObjectId, required: true },
    orgName: { type: String, required: true },
    kind: { type: String, enum: ['risk_warning', 'suspension', 'listing_withdrawal'], required: true },
    reason: { type: String, enum: ['GRADE_C', 'GRADE_D', 'SERIOUS', 'ESPECIALLY_SERIOUS'], required: true },
    startsAt: { type: Date, required: true },
    endsAt: { type: Date, required: true },
    triggerBreachId: { type: Schema.Types.ObjectId },
    /** One sanction per kind and triggering fact: applying the same change twice is a no-op. */
    key: { type: String, required: true },
    /** Later facts that lengthened this sanction instead of opening a second one. */
    extensions: { type: [{ _id: false, at: Date, fromEndsAt: Date, toEndsAt: Date, cause: String }], default: [] },
    /** Set when the expiry job has run (the gate reads endsAt, so expiry is exact anyway). */
    expiredAt: Date,
    liftedAt: Date,
    /** Why it was lifted: a message (rendered in the reader's language); text on sanctions lifted before messages. */
    liftReason: { type: Schema.Types.Mixed },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'credit_sanctions' },
);
SanctionSchema.index({ orgId: 1, kind: 1, endsAt: -1 });
SanctionSchema.index({ endsAt: 1 });
SanctionSchema.index({ key: 1 }, { unique: true });

/** Score after each change (the trend chart). */
const ScoreSnapshotSchema = new Schema(
  {
    orgId: { type: Schema.Types.ObjectId, required: true },
    at: { type: Date, required: true },
    score: { type: Number, required: true },
    grade: { type: String, enum: ['A', 'B', 'C', 'D'], required: true },
    cause: { type: String, required: true },
  },
  { versionKey: false, collection: 'credit_score_snapshots' },
);
ScoreSnapshotSchema.index({ orgId: 1, at: 1 });
ScoreSnapshotSchema.index({ orgId: 1, cause: 1 }, { unique: true });

/** Uploaded evidence kept in the database as binary (size and type limited at upload). */
const CreditFileSchema = new Schema(
  {
    orgId: { type: Schema.Types.ObjectId, required: true },
    purpose: { type: String, enum: ['breach_evidence', 'appeal', 'repair'], required: true },
    name: { type: String, required: true },
    contentType: { type: String, required: true },
    size: { type: Number, required: true },
    sha256: { type: String, required: true },
    data: { type: Buffer, required: true },
    uploadedAt: { type: Date, required: true },
    uploadedBy: { type: Schema.Types.ObjectId, required: true },
    /** The distributor the file is evidence about (it may read the operator's evidence of its breach). */
    subjectOrgId: { type: Schema.Types.ObjectId },
  },
  { versionKey: false, collection: 'credit_files' },
);
CreditFileSchema.index({ orgId: 1, uploadedAt: -1 });

/** Operator-tuned credit rules not covered by the platform settings (grade bands, sanction periods). */
const CreditRulesSchema = new Schema(
  {
    _id: { type: String, required: true },
    value: { type: Schema.Types.Mixed, required: true },
    updatedAt: { type: Date, required: true },
    updatedByName: String,
  },
  { versionKey: false, collection: 'credit_rules' },
);

export type CommitmentVersionDoc = InferSchemaType<typeof CommitmentVersionSchema> & { _id: Types.ObjectId };
export type CommitmentSignatureDoc = InferSchemaType<typeof CommitmentSignatureSchema> & { _id: Types.ObjectId };
export type BreachTypeDoc = InferSchemaType<typeof BreachTypeSchema> & { _id: Types.ObjectId };
export type EvidenceDoc = InferSchemaType<typeof EvidenceSchema>;
export type BreachDoc = InferSchemaType<typeof BreachSchema> & { _id: Types.ObjectId };
export type AppealDoc = InferSchemaType<typeof AppealSchema> & { _id: Types.ObjectId };
export type RepairDoc = InferSchemaType<typeof RepairSchema> & { _id: Types.ObjectId };
export type BonusDoc = InferSchemaType<typeof BonusSchema> & { _id: Types.ObjectId };
export type StandingEntryDoc = InferSchemaType<typeof StandingEntrySchema>;
export type StandingRecordDoc = InferSchemaType<typeof StandingRecordSchema> & { _id: Types.ObjectId };
export type SanctionDoc = Omit<InferSchemaType<typeof SanctionSchema>, 'liftReason'> & { _id: Types.ObjectId; liftReason?: Message | string | null };
export type ScoreSnapshotDoc = InferSchemaType<typeof ScoreSnapshotSchema> & { _id: Types.ObjectId };
export type CreditFileDoc = InferSchemaType<typeof CreditFileSchema> & { _id: Types.ObjectId };

export const CommitmentVersion = (mongoose.models.CommitmentVersion as mongoose.Model<CommitmentVersionDoc> | undefined) ?? mongoose.model<CommitmentVersionDoc>('CommitmentVersion', CommitmentVersionSchema);
export const CommitmentSignature = (mongoose.models.CommitmentSignature as mongoose.Model<CommitmentSignatureDoc> | undefined) ?? mongoose.model<CommitmentSignatureDoc>('CommitmentSignature', CommitmentSignatureSchema);
export const BreachType = (mongoose.models.BreachType as mongoose.Model<BreachTypeDoc> | undefined) ?? mongoose.model<BreachTypeDoc>('BreachType', BreachTypeSchema);
export const Breach = (mongoose.models.Breach as mongoose.Model<BreachDoc> | undefined) ?? mongoose.model<BreachDoc>('Breach', BreachSchema);
export const Appeal = (mongoose.models.Appeal as mongoose.Model<AppealDoc> | undefined) ?? mongoose.model<AppealDoc>('Appeal', AppealSchema);
export const Repair = (mongoose.models.Repair as mongoose.Model<RepairDoc> | undefined) ?? mongoose.model<RepairDoc>('Repair', RepairSchema);
export const Bonus = (mongoose.models.Bonus as mongoose.Model<BonusDoc> | undefined) ?? mongoose.model<BonusDoc>('Bonus', BonusSchema);
export const StandingRecord = (mongoose.models.StandingRecord as mongoose.Model<StandingRecordDoc> | undefined) ?? mongoose.model<StandingRecordDoc>('StandingRecord', StandingRecordSchema);
export const Sanction = (mongoose.models.Sanction as mongoose.Model<SanctionDoc> | undefined) ?? mongoose.model<SanctionDoc>('Sanction', SanctionSchema);
export const ScoreSnapshot = (mongoose.models.ScoreSnapshot as mongoose.Model<ScoreSnapshotDoc> | undefined) ?? mongoose.model<ScoreSnapshotDoc>('ScoreSnapshot', ScoreSnapshotSchema);
export const CreditFile = (mongoose.models.CreditFile as mongoose.Model<CreditFileDoc> | undefined) ?? mongoose.model<CreditFileDoc>('CreditFile', CreditFileSchema);
export type CreditRulesRecord = { _id: string; value: Record<string, unknown>; updatedAt: Date; updatedByName?: string };
export const CreditRulesDoc = (mongoose.models.CreditRulesDoc as mongoose.Model<CreditRulesRecord> | undefined) ?? mongoose.model<CreditRulesRecord>('CreditRulesDoc', CreditRulesSchema);
