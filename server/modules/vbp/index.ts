/** Volume-based procurement: demand declarations, tenders with sealed bids, selection, contracts, completion, supply failure, OCDS. */
import { addDemoSeedStep } from '../demo';
import { seedDemoVbp } from './vbp.demo';

export { vbpRoutes } from './vbp.routes';
export { getVbpSettings, updateVbpSettings, type VbpSettingsValue } from './vbp.settings';
export { openTenderJob, finaliseTenderJob, contractCheckJob, declarationReminderJob, jobIds as vbpJobIds } from './vbp.jobs';
export { openTender, finaliseTender } from './vbp.award';
export { runContractCheck, recordContractPurchase } from './vbp.completion';
export { runDeclarationReminder } from './vbp.declarations';
export { resolveContractPrice, activeContractsOf, SUPPLY_FAILURE_EVENT, supplyFailureKey } from './vbp.contracts';
export { setPurchaseHistorySource, type PurchaseHistorySource } from './vbp.history';
export { Contract as VbpContract, Tender as VbpTender, type ContractDoc as VbpContractDoc } from './vbp.model';
export { vbpPages } from './vbp.pages';
export { vbpSubscribe } from './vbp.subscribe';

addDemoSeedStep('vbp', seedDemoVbp);
