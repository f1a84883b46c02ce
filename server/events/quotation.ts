// Facts of the quotation module that other modules react to.
import { z } from 'zod';
import { defineEvent } from '../platform/events';
import { Id, Instant } from './common';

/** A distributor withdrew a quote after the round's listing was published (a credit breach). */
export const QuoteWithdrawnAfterPublication = defineEvent(
  'quotation.quote_withdrawn_after_publication',
  z.object({ roundId: Id, roundNo: z.string(), lineId: Id, quoteId: Id, listingId: Id, distributorOrgId: Id, drugId: Id, drugName: z.string(), at: Instant, reason: z.string() }).strict(),
);
