/** Distributor credit: commitment letters, the trading gate, breaches, scores, sanctions, appeals and repair. */
import { defineModule } from '../../platform/module';
import { handle } from '../../platform/queues';
import { ensureBreachCatalogue } from './credit.breaches';
import { ensureDefaultCommitment } from './credit.commitment';
import { creditSubscribers } from './credit.events';
import { expireSanctionJob } from './credit.jobs';
import { creditPages } from './credit.pages';
import { creditRoutes } from './credit.routes';
import { expireSanction } from './credit.sanctions';

export { assertMayTrade, ensureDefaultCommitment, defaultCommitmentBody, versionInForce, type TradingAction } from './credit.commitment';
export { creditBadges, type CreditBadge } from './credit.standing';

export const creditModule = defineModule({
  name: 'credit',
  api: creditRoutes,
  pages: creditPages,
  jobs: [handle(expireSanctionJob, ({ sanctionId }, job) => expireSanction(sanctionId, job.id))],
  subscribers: creditSubscribers,
  // NOTE: a commitment letter in force and the breach catalogue, so demo distributors can sign and trade.
  demo: async (logger) => {
    await ensureDefaultCommitment();
    await ensureBreachCatalogue();
    logger.info('default commitment letter and breach catalogue ready');
  },
});
