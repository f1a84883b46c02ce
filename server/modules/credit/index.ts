/** Distributor credit: commitment letters, the trading gate, breaches, scores, sanctions, appeals and repair. */
export { assertMayTrade, ensureDefaultCommitment, defaultCommitmentBody, versionInForce, type TradingAction } from './credit.commitment';
export { creditBadges, type CreditBadge } from './credit.standing';
export { creditRoutes } from './credit.routes';
export { subscribeCreditEvents } from './credit.events';
export { expireSanction } from './credit.sanctions';
export { expireSanctionJob } from './credit.jobs';
import './credit.seed';
export { creditPages } from './credit.pages';
