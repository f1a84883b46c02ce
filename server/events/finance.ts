// Facts of the finance module.
import { z } from 'zod';
import { defineEvent } from '../platform/events';
import { Fen, Id, Instant } from './common';

/** An accepted delivery's invoice was created and posted to the ledger; it falls due at `dueAt`. */
export const InvoiceCreated = defineEvent(
  'finance.invoice_created',
  z.object({ invoiceId: Id, invoiceNo: z.string(), orderId: Id, orderNo: z.string(), hospitalOrgId: Id, distributorOrgId: Id, amountFen: Fen, dueAt: Instant }).strict(),
);
