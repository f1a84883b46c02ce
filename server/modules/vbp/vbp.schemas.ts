import { IsoDateTime, ObjectIdString, PageQuery, PositiveFen, z } from '../../platform/schemas';
import { VISIBILITIES, BACKUP_PRICES } from './vbp.model';
import { SelectionRulesPatch } from './vbp.settings';

const text = (max: number) => z.string().trim().min(1).max(max);
/** An annual quantity in the drug's pack unit: whole, non-negative, bounded. */
export const Quantity = z.number().int().min(0).max(1_000_000_000);

export const CreateDeclarationBody = z
  .object({
    title: text(120),
    drugIds: z.array(ObjectIdString).min(1).max(500),
    deadline: IsoDateTime,
    minShareOfLastYearBp: z.number().int().min(0).max(10_000).optional(),
    remindBeforeDeadlineSec: z.number().int().min(0).max(30 * 86_400).optional(),
    lastYearFrom: IsoDateTime.optional(),
    lastYearTo: IsoDateTime.optional(),
  })
  .strict()
  .openapi('CreateVbpDeclaration');
export type CreateDeclarationInput = z.infer<typeof CreateDeclarationBody>;

export const EntryInput = z
  .object({
    drugId: ObjectIdString,
    quantity: Quantity,
    /** Only when the platform has no purchase history for this drug and hospital. */
    lastYearQty: Quantity.nullable().optional(),
    reason: z.string().trim().max(500).optional(),
    /** A winner the hospital declares by brand (按品牌报量): it is allocated to that winner if it wins. */
    preferredDistributorOrgId: ObjectIdString.nullable().optional(),
  })
  .strict();
export type EntryInputValue = z.infer<typeof EntryInput>;

export const SubmitEntriesBody = z
  .object({ entries: z.array(EntryInput).min(1).max(500) })
  .strict()
  .openapi('SubmitVbpDeclarationEntries');
export type SubmitEntriesInput = z.infer<typeof SubmitEntriesBody>;

export const ImportQuery = z.object({ dryRun: z.enum(['true', 'false']).default('false') }).strict();

export const DeclarationListQuery = PageQuery.extend({}).strict();

export const CreateTenderLine = z
  .object({ drugId: ObjectIdString, ceilingFen: PositiveFen })
  .strict();

export const CreateTenderBody = z
  .object({
    title: text(120),
    declarationId: ObjectIdString,
    closesAt: IsoDateTime,
    lines: z.array(CreateTenderLine).min(1).max(500),
    visibility: z.enum(VISIBILITIES).optional(),
    followWindowSec: z.number().int().min(1).max(30 * 86_400).optional(),
    backupPrice: z.enum(BACKUP_PRICES).optional(),
    useFewBiddersRule: z.boolean().optional(),
    checkpointShareBp: z.number().int().min(0).max(10_000).optional(),
    rules: SelectionRulesPatch.optional(),
  })
  .strict()
  .openapi('CreateVbpTender');
export type CreateTenderInput = z.infer<typeof CreateTenderBody>;

export const BidBody = z.object({ lineId: ObjectIdString, priceFen: PositiveFen }).strict().openapi('VbpBid');
export type BidInput = z.infer<typeof BidBody>;

export const FollowBody = z.object({ accept: z.boolean() }).strict().openapi('VbpFollowResponse');

export const TenderLineParams = z.object({ id: ObjectIdString, lineId: ObjectIdString }).strict();
export const BidParams = z.object({ id: ObjectIdString, bidId: ObjectIdString }).strict();

export const SupplyFailureBody = z.object({ reason: text(500) }).strict().openapi('VbpSupplyFailure');

export const ContractListQuery = PageQuery.extend({
  tenderId: ObjectIdString.optional(),
  drugId: ObjectIdString.optional(),
  hospitalOrgId: ObjectIdString.optional(),
  distributorOrgId: ObjectIdString.optional(),
  status: z.enum(['active', 'supply_failed']).optional(),
}).strict();
export type ContractListQueryInput = z.infer<typeof ContractListQuery>;

export const CompletionQuery = z
  .object({ tenderId: ObjectIdString.optional(), by: z.enum(['contract', 'hospital', 'drug', 'winner']).default('contract') })
  .strict();
export type CompletionQueryInput = z.infer<typeof CompletionQuery>;

const Json = z.record(z.string(), z.unknown());
export const AnyObject = Json;
export const ListOf = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), nextCursor: z.string().nullable() });
