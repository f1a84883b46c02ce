/** Bank-guaranteed payment financing: ledger, invoices, guarantee lines, settlement, advances, reports. */
import { defineModule } from '../../platform/module';
import { handle } from '../../platform/queues';
import { defineSweep } from '../../platform/sweeps';
import { accrueAdvanceThrough, dailyRun, sweepFinance } from './finance.advances';
import { seedDemoFinance } from './finance.demo';
import { settleDueInvoices } from './finance.invoices';
import { accrueAdvanceJob, dailyRunJob, settleInvoiceJob } from './finance.jobs';
import { now } from '../../platform/context';
import { financePages } from './finance.pages';
import { financeRoutes } from './finance.routes';
import { financeSubscribers } from './finance.subscribers';

export { createInvoiceFromAcceptance, settleInvoice, settleDueInvoices, payInvoice, invoiceNoOf, SETTLEMENT_BATCH } from './finance.invoices';
export { paymentSecurity, paymentSecurityFor, accountSummary, statement } from './finance.accounts';
export { hospitalPaymentRecords, monthlyArrears, type PaymentRecord, type MonthlyArrears } from './finance.reports';
export { checkLedger, financeFaults, type LedgerCheck } from './finance.ledger';
export { accrueAdvanceThrough, dailyRun, sweepFinance } from './finance.advances';
export { settleInvoiceJob, accrueAdvanceJob, dailyRunJob, jobIds as financeJobIds } from './finance.jobs';
export { Invoice, Advance, type InvoiceDoc, type AdvanceDoc } from './finance.model';
export type { InvoiceFromAcceptanceInput } from './finance.schemas';

/** A settlement job that ran a moment before the due instant (clock skew): failing makes BullMQ retry it shortly. */
export class SettlementNotDueError extends Error {
  constructor(invoiceId: string) {
    super(`invoice ${invoiceId} is not due yet`);
  }
}

// NOTE: BullMQ retries a failed job after 1, 2, 4, 8 s …; a job further ahead of the due instant than
// that completes, and the sweep queues the settlement again once the invoice is due.
const RETRY_WITHIN_MS = 20_000;

export const financeModule = defineModule({
  name: 'finance',
  api: financeRoutes,
  pages: financePages,
  jobs: [
    handle(settleInvoiceJob, async ({ invoiceId }) => {
      const outcome = await settleDueInvoices(invoiceId);
      if (outcome.state === 'not_due' && outcome.dueAt.getTime() - now().getTime() <= RETRY_WITHIN_MS) throw new SettlementNotDueError(invoiceId);
      return outcome;
    }),
    handle(accrueAdvanceJob, ({ advanceId, day }) => accrueAdvanceThrough(advanceId, day)),
    handle(dailyRunJob, ({ day }) => dailyRun(day)),
  ],
  subscribers: financeSubscribers,
  sweeps: [defineSweep('finance.due-work', 'schedule', () => sweepFinance())],
  demo: seedDemoFinance,
});
