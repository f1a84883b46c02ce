import { z } from 'zod';
import { defineJob } from '../../platform/queues';

const Id = z.string().regex(/^[a-f0-9]{24}$/);

/** Marks a sanction expired at its end (the gate reads endsAt, so this only records and notifies). */
export const expireSanctionJob = defineJob('credit.sanction.expire', z.object({ sanctionId: Id }).strict());

/**
 * Deterministic job id of a sanction's expiry at a given end (BullMQ custom ids may not contain ':').
 * The end is part of the id, so lengthening a sanction schedules a new job and the old one, running
 * at the old end, finds nothing to do.
 */
export const expireSanctionJobId = (sanctionId: string, endsAt: Date) => `credit-sanction-expire-${sanctionId}-${endsAt.getTime()}`;
