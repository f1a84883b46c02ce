/** Distributor credit: commitment letters, the trading gate, breaches, scores, sanctions, appeals and repair. */
import { defineModule } from '../../platform/module';
import { handle } from '../../platform/queues';
import { defineSweep } from '../../platform/sweeps';
import { ensureBreachCatalogue } from './credit.breaches';
import { ensureDefaultCommitment } from './credit.commitment';
import { automaticBreachSubscribers } from './credit.events';
import { tradingGateEvictions } from './credit.gate';
import { expireSanctionJob } from './credit.jobs';
import { creditPages } from './credit.pages';
import { creditRoutes } from './credit.routes';
import { expireSanction, sweepSanctionExpiries } from './credit.sanctions';
import { backfillStandingRecords } from './credit.standing-record';
import { creditFollowUps, standingRecordRebuilds } from './credit.subscribers';

export { assertMayTrade, ensureDefaultCommitment, defaultCommitmentBody, versionInForce, type TradingAction } from './credit.commitment';
export { assertMayTradeCached } from './credit.gate';
export { creditBadges, type CreditBadge } from './credit.standing';
export { rebuildStandingRecords } from './credit.standing-record';
export { sweepSanctionExpiries } from './credit.sanctions';
export { Breach } from './credit.model';

export const creditModule = defineModule({
  name: 'credit',
  api: creditRoutes,
  pages: creditPages,
  jobs: [handle(expireSanctionJob, ({ sanctionId }, job) => expireSanction(sanctionId, job.id))],
  subscribers: [...automaticBreachSubscribers, ...creditFollowUps, ...tradingGateEvictions, ...standingRecordRebuilds],
  // NOTE: a sanction whose expiry job Redis lost still ends (idempotent: each is expired once).
  sweeps: [defineSweep('credit.sanctions', 'schedule', () => sweepSanctionExpiries())],
  migrate: (logger) => backfillStandingRecords(logger),
  // NOTE: a commitment letter in force and the breach catalogue, so demo distributors can sign and trade.
  demo: async (logger) => {
    await ensureDefaultCommitment();
    await ensureBreachCatalogue();
    logger.info('default commitment letter and breach catalogue ready');
  },
});
