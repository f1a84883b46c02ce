/** Bank-guaranteed payment financing: ledger, invoices, guarantee lines, settlement, advances, reports. */
import { InvoiceCreated } from '../../events/finance';
import { defineModule } from '../../platform/module';
import { handle } from '../../platform/queues';
import { onEvent } from '../../platform/relay';
import { accrueAdvanceThrough, dailyRun } from './finance.advances';
import { seedDemoFinance } from './finance.demo';
import { scheduleSettlement, settleInvoice } from './finance.invoices';
import { accrueAdvanceJob, dailyRunJob, settleInvoiceJob } from './finance.jobs';
import { financePages } from './finance.pages';
import { financeRoutes } from './finance.routes';

export { createInvoiceFromAcceptance, settleInvoice, payInvoice } from './finance.invoices';
export { paymentSecurity, paymentSecurityFor, accountSummary, statement } from './finance.accounts';
export { hospitalPaymentRecords, monthlyArrears, type PaymentRecord, type MonthlyArrears } from './finance.reports';
export { checkLedger, financeFaults, type LedgerCheck } from './finance.ledger';
export { accrueAdvanceThrough, dailyRun } from './finance.advances';
export { settleInvoiceJob } from './finance.jobs';
export type { InvoiceFromAcceptanceInput } from './finance.schemas';

export const financeModule = defineModule({
  name: 'finance',
  api: financeRoutes,
  pages: financePages,
  jobs: [
    handle(settleInvoiceJob, ({ invoiceId }) => settleInvoice(invoiceId)),
    handle(accrueAdvanceJob, ({ advanceId, day }) => accrueAdvanceThrough(advanceId, day)),
    handle(dailyRunJob, ({ day }) => dailyRun(day)),
  ],
  subscribers: [onEvent(InvoiceCreated, 'finance.schedule-settlement', (e) => scheduleSettlement(e.payload.invoiceId, new Date(e.payload.dueAt)))],
  demo: seedDemoFinance,
});
