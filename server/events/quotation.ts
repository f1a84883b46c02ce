// Facts of the quotation module that other modules react to.
import { z } from 'zod';
import { defineEvent } from '../platform/events';
import { Id, Instant } from './common';

/** A distributor withdrew a quote after the round's listing was published (a credit breach). */
export const QuoteWithdrawnAfterPublication = defineEvent(
  'quotation.quote_withdrawn_after_publication',
  z.object({ roundId: Id, roundNo: z.string(), lineId: Id, quoteId: Id, listingId: Id, distributorOrgId: Id, drugId: Id, drugName: z.string(), at: Instant, reason: z.string() }).strict(),
);

/** The operator scheduled a round: it opens and closes at these times (jobs follow). */
export const RoundScheduled = defineEvent('quotation.round_scheduled', z.object({ roundId: Id, no: z.string(), opensAt: Instant, closesAt: Instant }).strict());

/** A round opened for quoting. */
export const RoundOpened = defineEvent('quotation.round_opened', z.object({ roundId: Id, no: z.string(), title: z.string(), closesAt: Instant, lineCount: z.number().int() }).strict());

/** The operator cancelled a round before its close. */
export const RoundCancelled = defineEvent('quotation.round_cancelled', z.object({ roundId: Id, no: z.string(), title: z.string(), reason: z.string() }).strict());

/** A round closed: its final quotes are fixed and its listing entries written (publication follows). */
export const RoundClosed = defineEvent('quotation.round_closed', z.object({ roundId: Id, no: z.string(), seq: z.number().int(), closedAt: Instant }).strict());

/** A round's listing (挂网) was published for hospitals to order from. */
export const RoundPublished = defineEvent(
  'quotation.round_published',
  z.object({ roundId: Id, no: z.string(), title: z.string(), listingExpiresAt: Instant, lineCount: z.number().int(), quotedLineCount: z.number().int(), quoteCount: z.number().int() }).strict(),
);

/** A published round's listing validity ended. */
export const RoundExpired = defineEvent('quotation.round_expired', z.object({ roundId: Id, no: z.string() }).strict());

/**
 * Distributors whose rank on a line moved because of others' quotes, as a run of consecutive final
 * ranks: `orgs` holds their organisation ids (24 hex digits each, no separator) in rank order from
 * `fromRank`. A quote placed high on a busy line moves everyone below it, so a run can name hundreds
 * of distributors: one string keeps the fact small to store and check (quotation.deltas.ts reads it).
 */
const MovedRun = z
  .object({
    lineId: Id,
    fromRank: z.number().int().positive(),
    orgs: z.string().regex(/^(?:[0-9a-f]{24})+$/),
  })
  .strict();

/**
 * Quote changes committed on a round (a batch of submissions, or one withdrawal before the close),
 * as deltas: per change the quote itself, its rank, the line's new best price and count; and once for
 * the whole commit, each distributor whose rank ended up other than it was last told (its final rank
 * only) — never the whole ranking, so the fact stays small however many distributors quote.
 */
export const QuotesCommitted = defineEvent(
  'quotation.quotes_committed',
  z
    .object({
      roundId: Id,
      seq: z.number().int(),
      closesAt: Instant,
      extendedTo: Instant.optional(),
      changes: z.array(
        z
          .object({
            kind: z.enum(['submitted', 'revised', 'withdrawn']),
            lineId: Id,
            seq: z.number().int(),
            distributorOrgId: Id,
            alias: z.string(),
            own: z.object({ quoteId: Id, priceFen: z.number().int(), receivedAt: Instant, status: z.enum(['active', 'withdrawn']) }).strict(),
            /** The quote's rank after the change (null when withdrawn). */
            rank: z.number().int().nullable(),
            quoteCount: z.number().int(),
            bestPriceFen: z.number().int().nullable(),
            bestChanged: z.boolean(),
          })
          .strict(),
      ),
      moved: z.array(MovedRun),
    })
    .strict(),
);
