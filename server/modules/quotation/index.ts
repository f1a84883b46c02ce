/** Shortage-drug quotation rounds with live bidding, publication (挂网), listings, audit trail and open data. */
import { defineModule } from '../../platform/module';
import { handle } from '../../platform/queues';
import { bookEvictions } from './quotation.book';
import { seedDemoRounds } from './quotation.demo';
import { openRoundJob, closeRoundJob, expireRoundJob } from './quotation.jobs';
import { quotationPages } from './quotation.pages';
import { quotationRoutes } from './quotation.routes';
import { closeRound, expireRound, openRound, sweepRounds } from './quotation.rounds';
import { quotationCreditSubscribers, quotationSubscribers } from './quotation.subscribers';
import { defineSweep } from '../../platform/sweeps';
import { quotationSocket } from './quotation.socket';
import { quoteForwarding } from './quotation.quotes';

export { Round, Quote, QuoteEvent, Listing, Participant, type RoundRecord, type QuoteRecord, type ListingRecord } from './quotation.model';
export { findListingEntry, listingsForDrug, withdrawListingsOf, browseListings } from './quotation.listings';
export { createRound, scheduleRound, cancelRound, openRound, closeRound, expireRound, computeReport, sweepRounds } from './quotation.rounds';
export { submitQuote, withdrawQuote } from './quotation.quotes';
export { jobIds } from './quotation.jobs';

export const quotationModule = defineModule({
  name: 'quotation',
  api: quotationRoutes,
  pages: quotationPages,
  socket: quotationSocket,
  jobs: [
    handle(openRoundJob, ({ roundId }, job) => openRound(roundId, job)),
    handle(closeRoundJob, ({ roundId }, job) => closeRound(roundId, job)),
    handle(expireRoundJob, ({ roundId }, job) => expireRound(roundId, job)),
  ],
  forwarded: quoteForwarding,
  subscribers: [...quotationSubscribers, ...quotationCreditSubscribers, ...bookEvictions],
  sweeps: [defineSweep('quotation.rounds', 'schedule', () => sweepRounds())],
  demo: seedDemoRounds,
});
