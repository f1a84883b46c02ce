import { IsoDateTime, ObjectIdString, z } from '../../platform/schemas';

const text = (max: number) => z.string().trim().min(1).max(max);

export const PublishCommitmentBody = z
  .object({
    title: text(200),
    body: z.string().min(50, 'the letter text is too short').max(50_000),
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
    textSha256: z.string().regex(/^[a-fA-F0-9]{64}$/, 'must be the SHA-256 (64 hex digits) of the text shown'),
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
