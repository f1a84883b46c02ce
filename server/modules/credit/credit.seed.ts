import { addDemoSeedStep } from '../demo';
import { ensureBreachCatalogue } from './credit.breaches';
import { ensureDefaultCommitment } from './credit.commitment';

// NOTE: registered when the module loads, so `npm start` in demo mode (and any fresh database that
// runs the demo seed) has a commitment letter in force that distributors can sign.
addDemoSeedStep('commitment', async (logger) => {
  await ensureDefaultCommitment();
  await ensureBreachCatalogue();
  logger.info('default commitment letter and breach catalogue ready');
});
