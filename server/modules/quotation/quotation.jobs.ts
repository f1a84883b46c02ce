import { defineJob } from '../../platform/queues';
import { CloseRoundJob, ExpireRoundJob, OpenRoundJob } from './quotation.schemas';

/** Opens a scheduled round at its opening time (job id `round-open:<roundId>`). */
export const openRoundJob = defineJob('quotation.round.open', OpenRoundJob);
/** Closes and publishes a round at its close; moved (never duplicated) by anti-sniping extensions (`round-close:<roundId>`). */
export const closeRoundJob = defineJob('quotation.round.close', CloseRoundJob);
/** Expires a round's listing at the end of its validity (`round-expire:<roundId>`). */
export const expireRoundJob = defineJob('quotation.round.expire', ExpireRoundJob);

export const jobIds = {
  open: (roundId: string) => `round-open:${roundId}`,
  close: (roundId: string) => `round-close:${roundId}`,
  expire: (roundId: string) => `round-expire:${roundId}`,
};
