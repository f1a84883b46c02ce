import { IsoDateTime, ObjectIdString, PageQuery, PositiveFen, z } from '../../platform/schemas';
import { ROUND_STATUSES, VISIBILITY_MODES } from './quotation.model';

export const VisibilitySchema = z.enum(VISIBILITY_MODES);

const AntiSniping = z
  .object({
    windowSec: z.number().int().min(1).max(86_400),
    extendSec: z.number().int().min(1).max(86_400),
    maxExtensions: z.number().int().min(0).max(100),
  })
  .partial()
  .strict();

const RoundLineInput = z
  .object({
    drugId: ObjectIdString,
    /** Overrides the catalogue's reference price in force at the opening. */
    referenceFen: PositiveFen.optional(),
  })
  .strict();

/** A new round (draft). Omitted settings come from the platform settings. */
export const CreateRoundBody = z
  .object({
    title: z.string().trim().min(1).max(120),
    description: z.string().trim().max(2000).optional(),
    lines: z.array(RoundLineInput).min(1).max(500),
    opensAt: IsoDateTime,
    closesAt: IsoDateTime,
    visibility: VisibilitySchema.default('rank'),
    minDecrementBp: z.number().int().min(0).max(5000).optional(),
    antiSniping: AntiSniping.optional(),
    listingValidityDays: z.number().int().min(1).max(3650).optional(),
  })
  .strict()
  .openapi('CreateRound');
export type CreateRoundInput = z.infer<typeof CreateRoundBody>;

export const UpdateRoundBody = CreateRoundBody.partial().strict().openapi('UpdateRound');
export type UpdateRoundInput = z.infer<typeof UpdateRoundBody>;

export const CancelRoundBody = z.object({ reason: z.string().trim().min(2).max(500) }).strict();

export const RoundListQuery = PageQuery.extend({ status: z.enum(ROUND_STATUSES).optional() }).strict();
export type RoundListQueryInput = z.infer<typeof RoundListQuery>;

const ClientKey = z.string().regex(/^[A-Za-z0-9_.:-]{8,100}$/, 'validationIssues.clientKey');

/** A quote over HTTP (the round is in the path). */
export const QuoteBody = z
  .object({ lineId: ObjectIdString, priceFen: z.number().int().min(1).max(1_000_000_000_000), clientKey: ClientKey.optional() })
  .strict()
  .openapi('QuoteInput');

/** `quote:submit` over the socket: a clientKey makes a retried emit safe. */
export const QuoteSubmitPayload = z
  .object({ roundId: ObjectIdString, lineId: ObjectIdString, priceFen: z.number().int().min(1).max(1_000_000_000_000), clientKey: ClientKey })
  .strict();
export type QuoteSubmitInput = z.infer<typeof QuoteSubmitPayload>;

export const QuoteWithdrawPayload = z.object({ roundId: ObjectIdString, lineId: ObjectIdString }).strict();
export const RoundWatchPayload = z.object({ roundId: ObjectIdString }).strict();

/** `round:watch`: the round, and the last sequence number the client saw (to replay what it missed). */
export const RoundFollowPayload = z.object({ roundId: ObjectIdString, sinceSeq: z.number().int().min(0).optional() }).strict();

export const RoundLineParams = z.object({ id: ObjectIdString, lineId: ObjectIdString }).strict();

export const ListingQuery = PageQuery.extend({
  // NOTE: a page of drugs ends at a drug's name, which the cursor carries (longer than a time cursor).
  cursor: z.string().regex(/^[A-Za-z0-9_-]{1,800}$/).optional(),
  drugId: ObjectIdString.optional(),
  roundId: ObjectIdString.optional(),
  q: z.string().trim().max(100).optional(),
}).strict();
export type ListingQueryInput = z.infer<typeof ListingQuery>;

export const WithdrawListingBody = z.object({ reason: z.string().trim().min(2).max(500) }).strict();

export const ReplayQuery = z.object({ lineId: ObjectIdString.optional() }).strict();

export const OpenRoundJob = z.object({ roundId: ObjectIdString }).strict();
export const CloseRoundJob = z.object({ roundId: ObjectIdString }).strict();
export const ExpireRoundJob = z.object({ roundId: ObjectIdString }).strict();

export { IsoDateTime };
