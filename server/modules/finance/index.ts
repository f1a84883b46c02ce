/** Bank-guaranteed payment financing: ledger, invoices, guarantee lines, settlement, advances, reports. */
import { addDemoSeedStep } from '../demo';
import { seedDemoFinance } from './finance.demo';

export { createInvoiceFromAcceptance, settleInvoice, payInvoice } from './finance.invoices';
export { paymentSecurity, paymentSecurityFor, accountSummary, statement } from './finance.accounts';
export { hospitalPaymentRecords, monthlyArrears, type PaymentRecord, type MonthlyArrears } from './finance.reports';
export { checkLedger, financeFaults, type LedgerCheck } from './finance.ledger';
export { accrueAdvanceThrough, dailyRun } from './finance.advances';
export { settleInvoiceJob, accrueAdvanceJob, dailyRunJob } from './finance.jobs';
export { financeRoutes } from './finance.routes';
export { financePages } from './finance.pages';
export type { InvoiceFromAcceptanceInput } from './finance.schemas';

addDemoSeedStep('finance', seedDemoFinance);
