/** Shortage-drug quotation rounds with live bidding, publication (挂网), listings, audit trail and open data. */
import { addDemoSeedStep } from '../demo';
import { seedDemoRounds } from './quotation.demo';

export { Round, Quote, QuoteEvent, Listing, Participant, type RoundRecord, type QuoteRecord, type ListingRecord } from './quotation.model';
export { findListingEntry, listingsForDrug, withdrawListingsOf, browseListings } from './quotation.listings';
export { createRound, scheduleRound, cancelRound, openRound, closeRound, expireRound, computeReport } from './quotation.rounds';
export { submitQuote, withdrawQuote } from './quotation.quotes';
export { openRoundJob, closeRoundJob, expireRoundJob, jobIds } from './quotation.jobs';
export { quotationRoutes } from './quotation.routes';
export { quotationPages } from './quotation.pages';
export { quotationSocket } from './quotation.socket';

addDemoSeedStep('quotation', seedDemoRounds);
