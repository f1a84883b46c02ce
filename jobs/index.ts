// Job adapters: one handler per declared job, each a thin call into a module service.
// The registry is checked at worker start-up (no job without a handler, none with two).
import { dispatchDomainEvent, dispatchDomainEventJob } from '../server/platform/events';
import { handle, type JobHandler } from '../server/platform/queues';
import { contractCheckJob, declarationReminderJob, finaliseTender, finaliseTenderJob, openTender, openTenderJob, runContractCheck, runDeclarationReminder } from '../server/modules/vbp';
import { closeRound, closeRoundJob, expireRound, expireRoundJob, openRound, openRoundJob } from '../server/modules/quotation';
import { expireSanction, expireSanctionJob } from '../server/modules/credit';
import { accrueAdvanceJob, accrueAdvanceThrough, dailyRun, dailyRunJob, settleInvoice, settleInvoiceJob } from '../server/modules/finance';
import { checkConfirmDeadline, checkDeliveryDeadline, checkNotDelivered, confirmDeadlineJob, deliveryDeadlineJob, notDeliveredJob, sweepDeadlinesJob, sweepOrderDeadlines } from '../server/modules/orders';

export const jobHandlers: JobHandler[] = [
  handle(dispatchDomainEventJob, ({ eventId }) => dispatchDomainEvent(eventId)),
  handle(openTenderJob, async ({ tenderId }) => openTender(tenderId)),
  handle(finaliseTenderJob, async ({ tenderId }) => finaliseTender(tenderId, null, true)),
  handle(contractCheckJob, (payload) => runContractCheck(payload)),
  handle(declarationReminderJob, ({ declarationId }) => runDeclarationReminder(declarationId)),
  handle(openRoundJob, ({ roundId }, job) => openRound(roundId, job)),
  handle(closeRoundJob, ({ roundId }, job) => closeRound(roundId, job)),
  handle(expireRoundJob, ({ roundId }, job) => expireRound(roundId, job)),
  handle(expireSanctionJob, ({ sanctionId }, job) => expireSanction(sanctionId, job.id)),
  handle(settleInvoiceJob, ({ invoiceId }) => settleInvoice(invoiceId)),
  handle(accrueAdvanceJob, ({ advanceId, day }) => accrueAdvanceThrough(advanceId, day)),
  handle(dailyRunJob, ({ day }) => dailyRun(day)),
  handle(confirmDeadlineJob, ({ orderId }) => checkConfirmDeadline(orderId)),
  handle(deliveryDeadlineJob, ({ orderId }) => checkDeliveryDeadline(orderId)),
  handle(notDeliveredJob, ({ orderId }) => checkNotDelivered(orderId)),
  handle(sweepDeadlinesJob, () => sweepOrderDeadlines()),
];
