import { z } from 'zod';
import { defineJob } from '../../platform/queues';

const Id = z.string().regex(/^[a-f0-9]{24}$/);

/** Marks a sanction expired at its end (the gate reads endsAt, so this only records and notifies). */
export const expireSanctionJob = defineJob('credit.sanction.expire', z.object({ sanctionId: Id }).strict());

/** Deterministic job id of a sanction's expiry (BullMQ custom ids may not contain ':'). */
export const expireSanctionJobId = (sanctionId: string) => `credit-sanction-expire-${sanctionId}`;
