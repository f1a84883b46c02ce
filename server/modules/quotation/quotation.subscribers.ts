// What follows from the quotation module's facts: the round's jobs (open, close, listing expiry),
// publication after the close, the live board, and notifications. Idempotent: deterministic job ids,
// pushes carrying the round's sequence number, notifications deduplicated by the fact's key.
import { QuotesCommitted, QuoteWithdrawnAfterPublication, RoundCancelled, RoundClosed, RoundExpired, RoundOpened, RoundPublished, RoundScheduled } from '../../events/quotation';
import { SanctionOpened } from '../../events/credit';
import { platform } from '../../platform/context';
import { day, msg } from '../../platform/messages';
import { onEvent, onEventInTransaction } from '../../platform/relay';
import { notifyOrganisation, notifyRoles } from '../notifications';
import { publishCommit, publishTiming, roundRooms } from './quotation.board';
import { closeRoundJob, expireRoundJob, jobIds, openRoundJob } from './quotation.jobs';
import { withdrawListingsOf } from './quotation.listings';
import { Listing, Participant, Round, type ListingRecord, type RoundRecord } from './quotation.model';
import { publishRound } from './quotation.rounds';

async function pushTiming(roundId: string, event: 'round:timing' | 'round:extended' = 'round:timing'): Promise<RoundRecord | null> {
  const round = await Round.findById(roundId).lean<RoundRecord>();
  if (round) publishTiming(round, event);
  return round;
}

// NOTE: a round's visibility and lines never change once it takes quotes, so the pushes read them once.
const shapes = new Map<string, Pick<RoundRecord, '_id' | 'visibility' | 'lines'>>();
async function shapeOf(roundId: string): Promise<Pick<RoundRecord, '_id' | 'visibility' | 'lines'> | null> {
  const known = shapes.get(roundId);
  if (known) return known;
  const round = await Round.findById(roundId, { visibility: 1, lines: 1, status: 1 }).lean<RoundRecord>();
  if (round && round.status !== 'draft') {
    if (shapes.size > 500) shapes.clear();
    shapes.set(roundId, round);
  }
  return round;
}

export const quotationSubscribers = [
  onEvent(RoundScheduled, 'quotation.schedule-open-and-close', async (e) => {
    const { queues } = platform();
    const { roundId } = e.payload;
    await queues.reschedule(openRoundJob, { roundId }, jobIds.open(roundId), new Date(e.payload.opensAt));
    await queues.reschedule(closeRoundJob, { roundId }, jobIds.close(roundId), new Date(e.payload.closesAt));
  }),

  onEvent(RoundOpened, 'quotation.push-opened', async (e) => {
    await pushTiming(e.payload.roundId);
    // NOTE: a live heads-up only: the round list shows open rounds to every distributor, and a stored
    // notification per distributor on every opening would cost more than it tells.
    const { roundId, no, title, closesAt, lineCount } = e.payload;
    platform().broadcaster.toRole('distributor', 'round:opened', { roundId, no, title, closesAt, lineCount });
  }),

  onEvent(RoundCancelled, 'quotation.push-cancelled', (e) => pushTiming(e.payload.roundId).then(() => undefined)),
  onEvent(RoundCancelled, 'quotation.notify-cancelled', async (e) => {
    const { roundId, no, title, reason } = e.payload;
    const participants = await Participant.find({ roundId }, { distributorOrgId: 1 }).lean<{ distributorOrgId: unknown }[]>();
    for (const p of participants) {
      await notifyOrganisation(String(p.distributorOrgId), {
        kind: 'round.cancelled',
        title: msg('quotation.notice.cancelled.title', { title }),
        body: msg('quotation.notice.cancelled.body', { no, reason }),
        link: `/rounds/${roundId}`,
        dedupeKey: e.key,
      });
    }
  }),

  // The close fixed the final quotes; publication (report, listing validity, the published fact) follows once.
  onEventInTransaction(RoundClosed, 'quotation.publish-after-close', async (e, uow) => {
    await publishRound(e.payload.roundId, uow);
  }),
  onEvent(RoundClosed, 'quotation.push-closed', async (e) => {
    await pushTiming(e.payload.roundId);
    platform().broadcaster.toRoom(roundRooms.all(e.payload.roundId), 'round:closed', { roundId: e.payload.roundId, status: 'closed', seq: e.payload.seq });
  }),

  onEvent(RoundPublished, 'quotation.schedule-listing-expiry', (e) =>
    platform().queues.enqueue(expireRoundJob, { roundId: e.payload.roundId }, { jobId: jobIds.expire(e.payload.roundId), runAt: new Date(e.payload.listingExpiresAt) }),
  ),
  onEvent(RoundPublished, 'quotation.push-published', async (e) => {
    const round = await pushTiming(e.payload.roundId);
    if (round) platform().broadcaster.toRoom(roundRooms.all(e.payload.roundId), 'round:published', { roundId: e.payload.roundId, status: 'published', seq: round.seq });
  }),
  onEvent(RoundPublished, 'quotation.notify-published', async (e) => {
    const p = e.payload;
    await notifyRoles(['pharmacist'], {
      kind: 'round.published',
      title: msg('quotation.notice.published.title', { title: p.title }),
      body: msg('quotation.notice.published.body', { no: p.no, lines: p.quotedLineCount, quotes: p.quoteCount, until: day(new Date(p.listingExpiresAt)) }),
      link: `/listings?roundId=${p.roundId}`,
      dedupeKey: e.key,
    });
    const participants = await Participant.find({ roundId: p.roundId }, { distributorOrgId: 1 }).lean<{ distributorOrgId: unknown }[]>();
    for (const part of participants) {
      const mine = await Listing.find({ roundId: p.roundId, distributorOrgId: part.distributorOrgId }, { rank: 1 }).lean<ListingRecord[]>();
      await notifyOrganisation(String(part.distributorOrgId), {
        kind: 'round.published',
        title: msg('quotation.notice.publishedOwn.title', { title: p.title }),
        body: mine.length ? msg('quotation.notice.publishedOwn.body', { listed: mine.length, best: mine.filter((m) => m.rank === 1).length }) : msg('quotation.notice.publishedOwn.none'),
        link: `/rounds/${p.roundId}`,
        dedupeKey: e.key,
      });
    }
  }),

  onEvent(RoundExpired, 'quotation.push-expired', (e) => pushTiming(e.payload.roundId).then(() => undefined)),

  // The close moved by an extension: the one close job moves with it (the job also re-checks the time).
  onEvent(QuotesCommitted, 'quotation.move-close-job', async (e) => {
    if (!e.payload.extendedTo) return;
    await platform().queues.reschedule(closeRoundJob, { roundId: e.payload.roundId }, jobIds.close(e.payload.roundId), new Date(e.payload.extendedTo));
  }),
  onEvent(QuotesCommitted, 'quotation.push-board', async (e) => {
    const round = await shapeOf(e.payload.roundId);
    if (!round) return;
    if (e.payload.extendedTo) await pushTiming(e.payload.roundId, 'round:extended');
    publishCommit(round, e.payload);
  }),

  onEvent(QuoteWithdrawnAfterPublication, 'quotation.push-listing-withdrawn', (e) => {
    const { roundId, lineId, listingId } = e.payload;
    platform().broadcaster.toRoom(roundRooms.all(roundId), 'listing:withdrawn', { roundId, lineId, listingId });
  }),
];

/** The quotation side of credit sanctions: 特别严重失信 withdraws every listing of the distributor, once. */
export const quotationCreditSubscribers = [
  onEventInTransaction(SanctionOpened, 'quotation.withdraw-listings-of-sanctioned', async (e, uow) => {
    if (e.payload.kind !== 'listing_withdrawal') return;
    await withdrawListingsOf(uow, e.payload.orgId, `credit sanction ${e.payload.sanctionId}: ${e.payload.reason}`);
  }),
];
