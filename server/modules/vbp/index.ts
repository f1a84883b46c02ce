/** Volume-based procurement: demand declarations, tenders with sealed bids, selection, contracts, completion, supply failure, OCDS. */
import { defineModule } from '../../platform/module';
import { handle } from '../../platform/queues';
import { finaliseTender, openTender } from './vbp.award';
import { runContractCheck } from './vbp.completion';
import { runDeclarationReminder } from './vbp.declarations';
import { seedDemoVbp } from './vbp.demo';
import { contractCheckJob, declarationReminderJob, finaliseTenderJob, openTenderJob } from './vbp.jobs';
import { vbpSubscribers } from './vbp.orders';
import { vbpPages } from './vbp.pages';
import { vbpRoutes } from './vbp.routes';

export { getVbpSettings, updateVbpSettings, type VbpSettingsValue } from './vbp.settings';
export { contractCheckJob, declarationReminderJob, finaliseTenderJob, openTenderJob, jobIds as vbpJobIds } from './vbp.jobs';
export { openTender, finaliseTender } from './vbp.award';
export { runContractCheck, recordContractPurchase } from './vbp.completion';
export { resolveContractPrice, activeContractsOf, supplyFailureKey } from './vbp.contracts';
export { Contract as VbpContract, Tender as VbpTender, type ContractDoc as VbpContractDoc } from './vbp.model';

export const vbpModule = defineModule({
  name: 'vbp',
  api: vbpRoutes,
  pages: vbpPages,
  jobs: [
    handle(openTenderJob, async ({ tenderId }) => openTender(tenderId)),
    handle(finaliseTenderJob, async ({ tenderId }) => finaliseTender(tenderId, null, true)),
    handle(contractCheckJob, (payload) => runContractCheck(payload)),
    handle(declarationReminderJob, ({ declarationId }) => runDeclarationReminder(declarationId)),
  ],
  subscribers: vbpSubscribers,
  demo: seedDemoVbp,
});
