import { z } from 'zod';
import { defineJob } from '../../platform/queues';
import { CHECK_KINDS } from './vbp.model';

const Id = z.string().regex(/^[a-f0-9]{24}$/);

/** Opens a tender's sealed bids at its closing time and runs the selection. */
export const openTenderJob = defineJob('vbp.tender.open', z.object({ tenderId: Id }).strict());
/** Ends the accept-the-follow-price window, runs the final selection and makes the contracts. */
export const finaliseTenderJob = defineJob('vbp.tender.finalise', z.object({ tenderId: Id }).strict());
/** One completion check of one contract (a pace check or a checkpoint). */
export const contractCheckJob = defineJob(
  'vbp.contract.check',
  z.object({ contractId: Id, kind: z.enum(CHECK_KINDS), index: z.number().int().min(1), dueAt: z.string().datetime() }).strict(),
);
/** Reminds hospitals that have not declared, some time before the declaration deadline. */
export const declarationReminderJob = defineJob('vbp.declaration.remind', z.object({ declarationId: Id }).strict());

export const jobIds = {
  open: (tenderId: string) => `vbp-tender-open:${tenderId}`,
  finalise: (tenderId: string) => `vbp-tender-finalise:${tenderId}`,
  check: (contractId: string, kind: string, index: number) => `vbp-check:${contractId}:${kind}:${index}`,
  remind: (declarationId: string) => `vbp-declaration-remind:${declarationId}`,
};
