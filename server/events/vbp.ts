// Facts of the vbp module: what its commands commit, for its own subscribers (notifications, pushes,
// scheduled jobs) and for other modules (credit reacts to `vbp.supply_failure`). Each fact has a
// deterministic key (the functions below), so committing it twice stores and handles it once.
import { z } from 'zod';
import { defineEvent } from '../platform/events';
import { Fen, Id, Instant } from './common';

const CheckKind = z.enum(['pace', 'checkpoint']);

/** The keys of the vbp facts: one fact per declaration, tender, contract, check … */
export const vbpEventKeys = {
  declarationOpened: (declarationId: string) => `vbp-declaration-opened:${declarationId}`,
  /** A declaration's reminders of one business day (a hospital is reminded once a day). */
  declarationReminderDay: (declarationId: string, day: string) => `vbp-declaration-reminder:${declarationId}:${day}`,
  /** One reminder per declaration, business day and set of hospitals still missing. */
  declarationReminder: (declarationId: string, day: string, hospitalsHash: string) => `vbp-declaration-reminder:${declarationId}:${day}:${hospitalsHash}`,
  tenderCreated: (tenderId: string) => `vbp-tender-created:${tenderId}`,
  /** A bid change is numbered by the tender's bid sequence after it. */
  bidChanged: (tenderId: string, bidSeq: number) => `vbp-bid-changed:${tenderId}:${bidSeq}`,
  tenderOpened: (tenderId: string) => `vbp-tender-opened:${tenderId}`,
  tenderAwarded: (tenderId: string) => `vbp-tender-awarded:${tenderId}`,
  contractCreated: (contractId: string) => `vbp-contract-created:${contractId}`,
  contractChecked: (contractId: string, kind: z.infer<typeof CheckKind>, index: number) => `vbp-contract-checked:${contractId}:${kind}:${index}`,
  completionAlert: (contractId: string, kind: z.infer<typeof CheckKind>, index: number) => `vbp-alert:${contractId}:${kind}:${index}`,
  supplyFailure: (contractId: string) => `vbp-supply-failure:${contractId}`,
  backupPromoted: (failedContractId: string) => `vbp-backup-promoted:${failedContractId}`,
};

/** The operator opened a demand declaration; pharmacists are told, the reminder is scheduled. */
export const DeclarationOpened = defineEvent(
  'vbp.declaration_opened',
  z.object({ declarationId: Id, title: z.string(), deadline: Instant, drugCount: z.number().int(), remindAt: Instant.nullable() }).strict(),
);

/** Hospitals that have not declared every drug are reminded (by the operator or the scheduled reminder). */
export const DeclarationReminderSent = defineEvent(
  'vbp.declaration_reminder',
  z
    .object({
      declarationId: Id,
      title: z.string(),
      deadline: Instant,
      drugCount: z.number().int(),
      /** Asia/Shanghai business day (YYYY-MM-DD): a hospital is reminded once a day. */
      day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
      hospitalOrgIds: z.array(Id),
    })
    .strict(),
);

/** The operator opened a tender; distributors are told, the opening is scheduled at `closesAt`. */
export const TenderCreated = defineEvent(
  'vbp.tender_created',
  z.object({ tenderId: Id, tenderNo: z.string(), title: z.string(), lineCount: z.number().int(), closesAt: Instant }).strict(),
);

/** A bid on a line was placed, revised or withdrawn (before the opening). */
export const BidChanged = defineEvent(
  'vbp.bid_changed',
  z.object({ tenderId: Id, lineId: Id, distributorOrgId: Id, change: z.enum(['placed', 'revised', 'withdrawn']), bidSeq: z.number().int() }).strict(),
);

/** The sealed bids were opened and the preliminary selection stored. */
export const TenderOpened = defineEvent(
  'vbp.tender_opened',
  z
    .object({
      tenderId: Id,
      tenderNo: z.string(),
      title: z.string(),
      openedAt: Instant,
      acceptanceDeadline: Instant,
      /** Every bidder, with the lines where it may accept the follow price. */
      bidders: z.array(z.object({ distributorOrgId: Id, followOffers: z.array(z.object({ lineId: Id, drugName: z.string(), followPriceFen: Fen }).strict()) }).strict()),
    })
    .strict(),
);

/** The final selection was made and the contracts created. */
export const TenderAwarded = defineEvent(
  'vbp.tender_awarded',
  z.object({ tenderId: Id, tenderNo: z.string(), title: z.string(), awardedAt: Instant, bidderOrgIds: z.array(Id), contractCount: z.number().int() }).strict(),
);

/** A contract was created (by an award or a backup promotion) with its first completion checks due. */
export const ContractCreated = defineEvent(
  'vbp.contract_created',
  z
    .object({
      contractId: Id,
      contractNo: z.string(),
      tenderId: Id,
      hospitalOrgId: Id,
      distributorOrgId: Id,
      basis: z.enum(['preferred', 'rank_rotation', 'backup_promotion']),
      firstChecks: z.array(z.object({ kind: CheckKind, index: z.number().int(), dueAt: Instant }).strict()),
    })
    .strict(),
);

/** One completion check of a contract ran; `next` is the following check of its kind, if any. */
export const ContractChecked = defineEvent(
  'vbp.contract_checked',
  z.object({ contractId: Id, kind: CheckKind, index: z.number().int(), dueAt: Instant, next: z.object({ index: z.number().int(), dueAt: Instant }).strict().nullable() }).strict(),
);

/** A completion check found the contract behind its pro-rata pace or under the checkpoint share. */
export const CompletionAlertRaised = defineEvent(
  'vbp.completion_alert',
  z
    .object({
      contractId: Id,
      contractNo: z.string(),
      hospitalOrgId: Id,
      distributorOrgId: Id,
      drugName: z.string(),
      packUnit: z.string(),
      kind: z.enum(['behind_pace', 'under_checkpoint']),
      checkKind: CheckKind,
      index: z.number().int(),
      checkAt: Instant,
      purchasedQty: z.number().int(),
      proRataTargetQty: z.number().int(),
      targetQty: z.number().int(),
      agreedQty: z.number().int(),
      ratioBp: z.number().int().nullable(),
      checkpointShareBp: z.number().int(),
    })
    .strict(),
);

/** The operator declared that a VBP winner failed to supply a contract (a credit breach). */
export const SupplyFailureDeclared = defineEvent(
  'vbp.supply_failure',
  z
    .object({
      contractId: Id,
      contractNo: z.string(),
      tenderId: Id,
      distributorOrgId: Id,
      hospitalOrgId: Id,
      drugId: Id,
      drugName: z.string(),
      remainingQty: z.number().int(),
      at: Instant,
      reason: z.string(),
      hospitalName: z.string().optional(),
      packUnit: z.string().optional(),
    })
    .strict(),
);

/** The next bidder in rank order took the remaining volume of a failed contract in a new contract. */
export const BackupPromoted = defineEvent(
  'vbp.backup_promoted',
  z
    .object({
      failedContractId: Id,
      failedContractNo: z.string(),
      previousDistributorName: z.string(),
      contractId: Id,
      contractNo: z.string(),
      tenderId: Id,
      hospitalOrgId: Id,
      hospitalName: z.string(),
      distributorOrgId: Id,
      distributorName: z.string(),
      drugName: z.string(),
      packUnit: z.string(),
      agreedQty: z.number().int(),
      priceFen: Fen,
      rank: z.number().int(),
    })
    .strict(),
);
