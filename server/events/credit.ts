// Facts of the credit module that other modules react to.
import { z } from 'zod';
import { defineEvent } from '../platform/events';
import { Id, Instant } from './common';

const Grade = z.enum(['A', 'B', 'C', 'D']);
const SanctionKind = z.enum(['risk_warning', 'suspension', 'listing_withdrawal']);
const SanctionReason = z.enum(['GRADE_C', 'GRADE_D', 'SERIOUS', 'ESPECIALLY_SERIOUS']);

/** A breach was recorded against a distributor (automatic or by the operator). */
export const BreachRecorded = defineEvent(
  'credit.breach_recorded',
  z.object({ breachId: Id, orgId: Id, orgName: z.string(), code: z.string(), severity: z.string(), points: z.number().int(), occurredAt: Instant, appealDeadline: Instant, sourceKey: z.string() }).strict(),
);

/** A distributor's score, grade or sanctions changed (a breach, a void, a repair, a sanction's end). */
export const StandingChanged = defineEvent(
  'credit.standing_changed',
  z.object({ orgId: Id, score: z.number(), grade: Grade, previousGrade: Grade, riskWarning: z.boolean(), suspended: z.boolean(), cause: z.string() }).strict(),
);

/** A sanction was opened (or lengthened) against a distributor; listing withdrawal empties its listings. */
export const SanctionOpened = defineEvent(
  'credit.sanction_opened',
  z.object({ sanctionId: Id, orgId: Id, orgName: z.string(), kind: SanctionKind, reason: SanctionReason, startsAt: Instant, endsAt: Instant }).strict(),
);

/** A sanction ended: lifted (its reason no longer holds) or expired at its end. */
export const SanctionEnded = defineEvent(
  'credit.sanction_ended',
  z.object({ sanctionId: Id, orgId: Id, kind: SanctionKind, how: z.enum(['lifted', 'expired']), at: Instant }).strict(),
);
