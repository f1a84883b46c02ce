// Facts of the finance module: every money movement (invoice, settlement, early payment, advance,
// interest, repayment, money into an account) and every decision on a guarantee line is committed as
// one of these, in the same transaction as its journal entry or state change.
import { z } from 'zod';
import { defineEvent } from '../platform/events';
import { Fen, Id, Instant } from './common';

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const InvoiceRef = { invoiceId: Id, invoiceNo: z.string(), orderId: Id, orderNo: z.string(), hospitalOrgId: Id, distributorOrgId: Id };

/** An accepted delivery's invoice was created and posted to the ledger; it falls due at `dueAt`. */
export const InvoiceCreated = defineEvent(
  'finance.invoice_created',
  z.object({ invoiceId: Id, invoiceNo: z.string(), orderId: Id, orderNo: z.string(), hospitalOrgId: Id, distributorOrgId: Id, amountFen: Fen, dueAt: Instant }).strict(),
);

/**
 * An invoice was settled at its due date (once): paid in full (from the working-capital account and/or
 * a bank advance) or overdue for `unpaidFen`. `paidAt` is the value date of the payment (the due instant).
 */
export const InvoiceSettled = defineEvent(
  'finance.invoice_settled',
  z
    .object({
      ...InvoiceRef,
      bankOrgId: Id.optional(),
      status: z.enum(['paid', 'overdue']),
      outcome: z.enum(['paid_from_account', 'paid_with_advance', 'partially_paid_overdue', 'overdue']),
      amountFen: Fen,
      paidFen: Fen,
      fromAccountFen: Fen,
      advancedFen: Fen,
      unpaidFen: Fen,
      dueAt: Instant,
      settledAt: Instant,
      paidAt: Instant.optional(),
    })
    .strict(),
);

/** A due-date settlement left part (or all) of an invoice unpaid: the invoice is overdue. */
export const InvoiceOverdue = defineEvent(
  'finance.invoice_overdue',
  z.object({ ...InvoiceRef, bankOrgId: Id.optional(), amountFen: Fen, unpaidFen: Fen, dueAt: Instant, at: Instant }).strict(),
);

/** The hospital paid an open or overdue invoice in full from its working-capital account. */
export const InvoicePaid = defineEvent(
  'finance.invoice_paid',
  z.object({ ...InvoiceRef, bankOrgId: Id, amountFen: Fen, paymentFen: Fen, paidAt: Instant, onTime: z.boolean() }).strict(),
);

/** The guarantee bank advanced the shortfall of an invoice at its due date (a loan to the hospital). */
export const AdvanceMade = defineEvent(
  'finance.advance_made',
  z
    .object({ advanceId: Id, invoiceId: Id, invoiceNo: z.string(), hospitalOrgId: Id, bankOrgId: Id, principalFen: Fen, annualRateBp: z.number().int(), tenorDays: z.number().int(), advancedAt: Instant, dueAt: Instant })
    .strict(),
);

/** An advance passed its tenor with principal still owed. */
export const AdvanceOverdue = defineEvent(
  'finance.advance_overdue',
  z.object({ advanceId: Id, invoiceId: Id, invoiceNo: z.string(), hospitalOrgId: Id, bankOrgId: Id, principalOutstandingFen: Fen, dueAt: Instant, at: Instant }).strict(),
);

/** One day's interest on an advance was posted (`interestFen` may be 0 when no principal was owed). */
export const InterestAccrued = defineEvent(
  'finance.interest_accrued',
  z.object({ advanceId: Id, hospitalOrgId: Id, bankOrgId: Id, day: Day, interestFen: Fen, interestAccruedFen: Fen }).strict(),
);

/** The hospital repaid its bank: interest first, then the oldest principal. */
export const RepaymentMade = defineEvent(
  'finance.repayment_made',
  z
    .object({
      repaymentId: Id,
      hospitalOrgId: Id,
      hospitalName: z.string(),
      bankOrgId: Id,
      amountFen: Fen,
      interestFen: Fen,
      principalFen: Fen,
      source: z.enum(['account', 'transfer']),
      at: Instant,
      advancesRepaid: z.array(Id),
    })
    .strict(),
);

const MoneyIn = z.object({ entryId: Id, hospitalOrgId: Id, bankOrgId: Id, amountFen: Fen, balanceFen: Fen, reference: z.string().optional(), at: Instant }).strict();

/** The operator recorded a medical-insurance prepayment into a hospital's working-capital account. */
export const PrepaymentRecorded = defineEvent('finance.prepayment_recorded', MoneyIn);

/** A hospital deposited its own money into its working-capital account. */
export const DepositMade = defineEvent('finance.deposit_made', MoneyIn);

const LineRef = { lineId: Id, hospitalOrgId: Id, hospitalName: z.string(), bankOrgId: Id, bankName: z.string() };

/** A hospital applied to a bank for a guarantee line. */
export const LineApplied = defineEvent('finance.line_applied', z.object({ ...LineRef, amountFen: Fen, termMonths: z.number().int(), at: Instant }).strict());

const Terms = z.object({ limitFen: Fen, annualRateBp: z.number().int(), maxTenorDays: z.number().int(), expiresAt: Instant }).strict();

/** The bank decided an application: approved (with its terms, agreement version 1) or rejected. */
export const LineDecided = defineEvent(
  'finance.line_decided',
  z.object({ ...LineRef, decision: z.enum(['approved', 'rejected']), at: Instant, terms: Terms.optional(), agreementNo: z.string().optional(), reason: z.string().optional() }).strict(),
);

/** The bank suspended, reinstated or changed an approved line (`version`: the line's history length). */
export const LineChanged = defineEvent(
  'finance.line_changed',
  z.object({ ...LineRef, action: z.enum(['suspended', 'reinstated', 'changed']), at: Instant, version: z.number().int(), terms: Terms.optional(), reason: z.string().optional() }).strict(),
);
