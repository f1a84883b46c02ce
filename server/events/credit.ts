// Facts of the credit module: the ones other modules react to (a breach, a change of standing, a
// sanction opened or ended) and the ones its own notifications follow from (appeals, repairs,
// bonuses, commitment versions). Each is committed with the change it states.
import { z } from 'zod';
import { defineEvent } from '../platform/events';
import { MessageSchema } from '../platform/messages';
import { Id, Instant } from './common';

export const CreditGrade = z.enum(['A', 'B', 'C', 'D']);
export const BreachSeverity = z.enum(['shixin', 'serious', 'especially_serious']);
export const SanctionKind = z.enum(['risk_warning', 'suspension', 'listing_withdrawal']);
export const SanctionReason = z.enum(['GRADE_C', 'GRADE_D', 'SERIOUS', 'ESPECIALLY_SERIOUS']);

/**
 * What changed a distributor's credit: `key` names the change (`breach:<id>`, `void:<id>`,
 * `repair:<id>`, `bonus:<id>`, `sanction-expired:<id>`), `label` says it in the reader's language.
 */
const Cause = { cause: z.string(), label: MessageSchema };

/** A breach was recorded against a distributor (automatic from another module's fact, or by the operator). */
export const BreachRecorded = defineEvent(
  'credit.breach_recorded',
  z
    .object({
      breachId: Id,
      orgId: Id,
      orgName: z.string(),
      /** The catalogue code (seeded codes or ones the operator added). */
      code: z.string(),
      /** The breach type's names at recording. */
      name: z.string(),
      nameEn: z.string(),
      severity: BreachSeverity,
      points: z.number().int(),
      description: z.string(),
      source: z.enum(['automatic', 'manual']),
      occurredAt: Instant,
      appealDeadline: Instant,
      /** The fact it was recorded from (an event key) or the manual request's key. */
      sourceKey: z.string(),
    })
    .strict(),
);

/**
 * A distributor's score, grade or sanctions changed (a breach, a void, a repair, a bonus, a sanction's
 * end). `previousGrade` is the grade of the last score snapshot (a sanction's end moves no grade).
 */
export const StandingChanged = defineEvent(
  'credit.standing_changed',
  z.object({ orgId: Id, score: z.number(), grade: CreditGrade, previousGrade: CreditGrade, riskWarning: z.boolean(), suspended: z.boolean(), ...Cause }).strict(),
);

/** A sanction was opened against a distributor; a listing withdrawal empties its published listings. */
export const SanctionOpened = defineEvent(
  'credit.sanction_opened',
  z.object({ sanctionId: Id, orgId: Id, orgName: z.string(), kind: SanctionKind, reason: SanctionReason, startsAt: Instant, endsAt: Instant, ...Cause }).strict(),
);

/** A later change lengthened a sanction in force (instead of opening a second one). */
export const SanctionExtended = defineEvent(
  'credit.sanction_extended',
  z.object({ sanctionId: Id, orgId: Id, orgName: z.string(), kind: SanctionKind, reason: SanctionReason, fromEndsAt: Instant, endsAt: Instant, ...Cause }).strict(),
);

/** A sanction ended: lifted (its reason no longer holds) or expired at its end. */
export const SanctionEnded = defineEvent(
  'credit.sanction_ended',
  z
    .object({ sanctionId: Id, orgId: Id, orgName: z.string(), kind: SanctionKind, how: z.enum(['lifted', 'expired']), at: Instant, endsAt: Instant, label: MessageSchema.optional() })
    .strict(),
);

/** A distributor appealed one of its breaches. */
export const AppealSubmitted = defineEvent(
  'credit.appeal_submitted',
  z.object({ appealId: Id, breachId: Id, orgId: Id, orgName: z.string(), name: z.string(), nameEn: z.string(), points: z.number().int() }).strict(),
);

/** The operator upheld or voided an appealed breach. */
export const AppealDecided = defineEvent(
  'credit.appeal_decided',
  z.object({ appealId: Id, breachId: Id, orgId: Id, decision: z.enum(['uphold', 'void']), reason: z.string(), name: z.string(), nameEn: z.string() }).strict(),
);

/** A distributor applied for credit repair. */
export const RepairSubmitted = defineEvent(
  'credit.repair_submitted',
  z.object({ repairId: Id, orgId: Id, orgName: z.string(), eligibleFrom: Instant.optional() }).strict(),
);

/** The operator approved (restoring points) or rejected a repair application. */
export const RepairDecided = defineEvent(
  'credit.repair_decided',
  z.object({ repairId: Id, orgId: Id, decision: z.enum(['approve', 'reject']), reason: z.string(), pointsRestored: z.number().int().optional() }).strict(),
);

/** The operator awarded bonus points (守信激励). */
export const BonusAwarded = defineEvent(
  'credit.bonus_awarded',
  z.object({ bonusId: Id, orgId: Id, orgName: z.string(), points: z.number().int(), reason: z.string() }).strict(),
);

/** The operator published a commitment letter version that distributors must sign by its effective date. */
export const CommitmentPublished = defineEvent(
  'credit.commitment_published',
  z.object({ versionId: Id, version: z.number().int(), title: z.string(), effectiveAt: Instant }).strict(),
);
