/** Volume-based procurement: demand declarations, tenders with sealed bids, selection, contracts, completion, supply failure, OCDS. */
import { defineModule } from '../../platform/module';
import { handle } from '../../platform/queues';
import { defineSweep } from '../../platform/sweeps';
import { runFinaliseTenderJob, runOpenTenderJob, sweepTenders } from './vbp.award';
import { runContractCheck, sweepContractChecks } from './vbp.completion';
import { runDeclarationReminder, sweepDeclarationReminders } from './vbp.declarations';
import { seedDemoVbp } from './vbp.demo';
import { contractCheckJob, declarationReminderJob, finaliseTenderJob, openTenderJob } from './vbp.jobs';
import { vbpOrderSubscribers } from './vbp.orders';
import { vbpPages } from './vbp.pages';
import { vbpRoutes } from './vbp.routes';
import { vbpSubscribers } from './vbp.subscribers';

export { getVbpSettings, updateVbpSettings, type VbpSettingsValue } from './vbp.settings';
export { contractCheckJob, declarationReminderJob, finaliseTenderJob, openTenderJob, jobIds as vbpJobIds } from './vbp.jobs';
export { openTender, finaliseTender, sweepTenders } from './vbp.award';
export { runContractCheck, sweepContractChecks } from './vbp.completion';
export { sweepDeclarationReminders } from './vbp.declarations';
export { resolveContractPrice, activeContractsOf, supplyFailureKey } from './vbp.contracts';
export { Contract as VbpContract, Tender as VbpTender, type ContractDoc as VbpContractDoc } from './vbp.model';

export const vbpModule = defineModule({
  name: 'vbp',
  api: vbpRoutes,
  pages: vbpPages,
  jobs: [
    handle(openTenderJob, ({ tenderId }) => runOpenTenderJob(tenderId)),
    handle(finaliseTenderJob, ({ tenderId }) => runFinaliseTenderJob(tenderId)),
    handle(contractCheckJob, (payload) => runContractCheck(payload)),
    handle(declarationReminderJob, ({ declarationId }) => runDeclarationReminder(declarationId)),
  ],
  subscribers: [...vbpOrderSubscribers, ...vbpSubscribers],
  sweeps: [
    defineSweep('vbp.tenders', 'schedule', () => sweepTenders()),
    defineSweep('vbp.contract-checks', 'schedule', () => sweepContractChecks()),
    defineSweep('vbp.declaration-reminders', 'schedule', () => sweepDeclarationReminders()),
  ],
  demo: seedDemoVbp,
});
