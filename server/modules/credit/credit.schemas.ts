import { IsoDateTime, ObjectIdString, z } from '../../platform/schemas';

const text = (max: number) => z.string().trim().min(1).max(max);

export const PublishCommitmentBody = z
  .object({
    title: text(200),
    body: z.string().min(50).max(50_000),
    effectiveAt: IsoDateTime.optional(),
    note: z.string().trim().max(500).optional(),
  })
  .strict()
  .openapi('PublishCommitmentVersion');

export const CommitmentVersionView = z
  .object({
    id: z.string(),
    version: z.number(),
    title: z.string(),
    body: z.string(),
    effectiveAt: z.string(),
    publishedAt: z.string(),
    publishedByName: z.string(),
    note: z.string().optional(),
    withdrawnAt: z.string().optional(),
    state: z.enum(['in_force', 'scheduled', 'superseded', 'withdrawn']),
  })
  .openapi('CommitmentVersion');

export const CommitmentSignatureView = z
  .object({
    id: z.string(),
    versionId: z.string(),
    version: z.number(),
    orgId: z.string(),
    orgName: z.string(),
    userId: z.string(),
    userName: z.string(),
    userEmail: z.string(),
    signedAt: z.string(),
    ip: z.string(),
    textSha256: z.string(),
  })
  .openapi('CommitmentSignature');

export const CommitmentPreviewQuery = z.object({ versionId: ObjectIdString.optional() }).strict();

export const CommitmentPreview = z
  .object({ version: CommitmentVersionView, text: z.string(), textSha256: z.string(), signature: CommitmentSignatureView.nullable() })
  .openapi('CommitmentPreview');

export const SignCommitmentBody = z
  .object({
    versionId: ObjectIdString,
    textSha256: z.string().regex(/^[a-fA-F0-9]{64}$/, 'validationIssues.sha256'),
  })
  .strict()
  .openapi('SignCommitment');

export const SignatureListQuery = z.object({ orgId: ObjectIdString.optional(), versionId: ObjectIdString.optional() }).strict();

export const TradingActionSchema = z.enum(['quote', 'bid', 'revise_quote', 'be_chosen', 'confirm_order']);

export const GateStatus = z
  .object({
    orgId: z.string(),
    mayTrade: z.boolean(),
    refusal: z.object({ code: z.string(), message: z.string() }).nullable(),
    versionInForce: z.object({ id: z.string(), version: z.number(), effectiveAt: z.string() }).nullable(),
    signed: z.boolean(),
  })
  .openapi('CreditGateStatus');

const Severity = z.enum(['shixin', 'serious', 'especially_serious']);
const Code = z.string().regex(/^[A-Z][A-Z0-9_]{2,49}$/, 'validationIssues.upperSnakeCode');
const Points = z.number().int().min(0).max(100);
const FileIds = z.array(ObjectIdString).max(20).optional();

export const BreachTypeView = z
  .object({ id: z.string(), code: z.string(), zh: z.string(), en: z.string(), severity: Severity, points: z.number(), automatic: z.boolean(), basis: z.string().optional(), active: z.boolean(), updatedAt: z.string() })
  .openapi('BreachType');

export const CreateBreachTypeBody = z
  .object({ code: Code, zh: text(200), en: text(200), severity: Severity, points: Points, basis: z.string().trim().max(1000).optional() })
  .strict()
  .openapi('CreateBreachType');

export const UpdateBreachTypeBody = z
  .object({ zh: text(200).optional(), en: text(200).optional(), severity: Severity.optional(), points: Points.optional(), basis: z.string().trim().max(1000).optional(), active: z.boolean().optional() })
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'validationIssues.changeSomething')
  .openapi('UpdateBreachType');

export const CodeParams = z.object({ code: Code }).strict();

const EvidenceView = z.object({ fileId: z.string(), name: z.string(), contentType: z.string(), size: z.number(), sha256: z.string(), url: z.string() });

export const BreachView = z
  .object({
    id: z.string(),
    orgId: z.string(),
    orgName: z.string(),
    code: z.string(),
    zh: z.string(),
    en: z.string(),
    severity: Severity,
    level: z.number().optional(),
    points: z.number(),
    occurredAt: z.string(),
    recordedAt: z.string(),
    source: z.enum(['automatic', 'manual']),
    sourceType: z.string().optional(),
    description: z.string(),
    reference: z.record(z.string(), z.unknown()).optional(),
    evidence: z.array(EvidenceView),
    recordedByName: z.string().optional(),
    status: z.enum(['active', 'appealed', 'upheld', 'voided']),
    appealDeadline: z.string(),
    voidedAt: z.string().optional(),
    voidReason: z.string().optional(),
  })
  .openapi('Breach');

export const ManualBreachBody = z
  .object({
    orgId: ObjectIdString,
    code: Code,
    occurredAt: IsoDateTime.optional(),
    description: text(2000),
    severity: Severity.optional(),
    points: Points.optional(),
    level: z.union([z.literal(1), z.literal(2), z.literal(3)]).optional(),
    fileIds: z.array(ObjectIdString).min(1).max(20),
  })
  .strict()
  .openapi('ManualBreach');

const Status = z.enum(['active', 'appealed', 'upheld', 'voided']);
export const BreachListQuery = z.object({ orgId: ObjectIdString.optional(), status: Status.optional(), limit: z.coerce.number().int().min(1).max(500).default(200) }).strict();

export const FileView = z.object({ id: z.string(), name: z.string(), contentType: z.string(), size: z.number(), sha256: z.string(), purpose: z.string() }).openapi('CreditFile');

export const AppealBody = z.object({ statement: text(5000), fileIds: FileIds }).strict().openapi('Appeal');
export const AppealDecisionBody = z.object({ decision: z.enum(['uphold', 'void']), reason: text(2000) }).strict().openapi('AppealDecision');
export const AppealView = z
  .object({
    id: z.string(),
    breachId: z.string(),
    orgId: z.string(),
    orgName: z.string(),
    statement: z.string(),
    files: z.array(EvidenceView),
    submittedAt: z.string(),
    submittedByName: z.string(),
    status: z.enum(['pending', 'upheld', 'voided']),
    decidedAt: z.string().optional(),
    decidedByName: z.string().optional(),
    decisionReason: z.string().optional(),
    breach: z.object({ code: z.string(), zh: z.string(), points: z.number() }).optional(),
  })
  .openapi('AppealView');
export const AppealListQuery = z.object({ status: z.enum(['pending', 'upheld', 'voided']).optional(), orgId: ObjectIdString.optional() }).strict();

export const RepairBody = z.object({ report: text(10_000), apology: text(5000), fileIds: FileIds }).strict().openapi('Repair');
export const RepairDecisionBody = z
  .object({ decision: z.enum(['approve', 'reject']), reason: text(2000), pointsRestored: z.number().int().min(1).max(100).optional() })
  .strict()
  .refine((v) => v.decision === 'approve' || v.pointsRestored === undefined, { message: 'validationIssues.pointsOnlyWhenApproving', path: ['pointsRestored'] })
  .openapi('RepairDecision');
export const RepairView = z
  .object({
    id: z.string(),
    orgId: z.string(),
    orgName: z.string(),
    report: z.string(),
    apology: z.string(),
    files: z.array(EvidenceView),
    submittedAt: z.string(),
    submittedByName: z.string(),
    lastBreachAt: z.string().optional(),
    eligibleFrom: z.string().optional(),
    status: z.enum(['pending', 'approved', 'rejected']),
    decidedAt: z.string().optional(),
    decidedByName: z.string().optional(),
    decisionReason: z.string().optional(),
    pointsRestored: z.number().optional(),
  })
  .openapi('RepairView');
export const RepairListQuery = z.object({ status: z.enum(['pending', 'approved', 'rejected']).optional(), orgId: ObjectIdString.optional() }).strict();

export const BonusBody = z.object({ orgId: ObjectIdString, points: z.number().int().min(1).max(50), reason: text(1000) }).strict().openapi('CreditBonus');

export const SanctionView = z
  .object({
    id: z.string(),
    orgId: z.string(),
    orgName: z.string(),
    kind: z.enum(['risk_warning', 'suspension', 'listing_withdrawal']),
    reason: z.enum(['GRADE_C', 'GRADE_D', 'SERIOUS', 'ESPECIALLY_SERIOUS']),
    startsAt: z.string(),
    endsAt: z.string(),
    state: z.enum(['active', 'expired', 'lifted', 'scheduled']),
    liftedAt: z.string().optional(),
    liftReason: z.string().optional(),
  })
  .openapi('Sanction');

export const StandingView = z
  .object({
    orgId: z.string(),
    orgName: z.string(),
    score: z.number(),
    grade: z.enum(['A', 'B', 'C', 'D']),
    deductedPoints: z.number(),
    restoredPoints: z.number(),
    bonusPoints: z.number(),
    windowStart: z.string(),
    worstSeverity: Severity.nullable(),
    riskWarning: z.boolean(),
    suspended: z.boolean(),
    activeSanctions: z.array(SanctionView),
  })
  .openapi('CreditStanding');

export const CreditRulesPatch = z
  .object({
    gradeThresholds: z.object({ A: z.number().int().min(1).max(100), B: z.number().int().min(1).max(100), C: z.number().int().min(1).max(100) }).strict().optional(),
    riskWarningMonths: z.number().int().min(1).max(60).optional(),
    suspensionMonths: z.number().int().min(1).max(60).optional(),
    especiallySeriousYears: z.object({ 1: z.number().int().min(1).max(10), 2: z.number().int().min(1).max(10), 3: z.number().int().min(1).max(10) }).strict().optional(),
    uploads: z.object({ maxFileBytes: z.number().int().min(1024).max(20 * 1024 * 1024), maxFiles: z.number().int().min(1).max(20) }).strict().optional(),
  })
  .strict()
  .refine((v) => !v.gradeThresholds || (v.gradeThresholds.A > v.gradeThresholds.B && v.gradeThresholds.B > v.gradeThresholds.C), { message: 'validationIssues.thresholdsFall', path: ['gradeThresholds'] })
  .openapi('CreditRulesPatch');

export type CreditRulesPatchInput = z.output<typeof CreditRulesPatch>;
export type ManualBreachInput = z.output<typeof ManualBreachBody>;
export type CreateBreachTypeInput = z.output<typeof CreateBreachTypeBody>;
export type UpdateBreachTypeInput = z.output<typeof UpdateBreachTypeBody>;
export type BreachListQueryInput = z.output<typeof BreachListQuery>;
export type AppealInput = z.output<typeof AppealBody>;
export type AppealDecisionInput = z.output<typeof AppealDecisionBody>;
export type AppealListQueryInput = z.output<typeof AppealListQuery>;
export type RepairInput = z.output<typeof RepairBody>;
export type RepairDecisionInput = z.output<typeof RepairDecisionBody>;
export type RepairListQueryInput = z.output<typeof RepairListQuery>;
export type BonusInput = z.output<typeof BonusBody>;
export type PublishCommitmentInput = z.output<typeof PublishCommitmentBody>;
export type SignCommitmentInput = z.output<typeof SignCommitmentBody>;
