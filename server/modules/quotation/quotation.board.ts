// The live board: what each viewer may see of a round, and the per-viewer pushes after each change.
// Distributors see their own quote and rank (plus the anonymous best price in `best` mode, nothing of
// others in `sealed` mode) and competitors only as aliases; the operator sees every quote by alias.
import { Types, type ClientSession } from 'mongoose';
import type { z } from 'zod';
import type { QuotesCommitted } from '../../events/quotation';
import type { Actor } from '../../platform/auth';
import { now, platform } from '../../platform/context';
import { NotFoundError } from '../../platform/errors';
import { trusted } from '../../platform/mongo';
import { rooms } from '../../platform/realtime';
import { reductionBasisPoints } from '../../platform/money';
import { Listing, Participant, Quote, QuoteEvent, Round, type ListingRecord, type QuoteEventRecord, type QuoteRecord, type RoundLineRecord, type RoundRecord } from './quotation.model';
import { commitPushes } from './quotation.deltas';
import { rankQuotes } from './quotation.rules';
import { msg } from '../../platform/messages';

export const roundRooms = {
  all: (roundId: string) => rooms.entity('round', roundId),
  operator: (roundId: string) => `round:${roundId}:operator`,
  distributors: (roundId: string) => `round:${roundId}:distributors`,
  org: (roundId: string, orgId: string) => `round:${roundId}:org:${orgId}`,
};

/** An active quote as the ranking needs it. */
export interface RankedQuote {
  quoteId: string;
  distributorOrgId: string;
  alias: string;
  priceFen: number;
  receivedAt: Date;
  seq: number;
  rank: number;
}

export function rank(quotes: Pick<QuoteRecord, '_id' | 'distributorOrgId' | 'alias' | 'priceFen' | 'receivedAt' | 'seq'>[]): RankedQuote[] {
  return rankQuotes(
    quotes.map((q) => ({ quoteId: String(q._id), distributorId: String(q.distributorOrgId), distributorOrgId: String(q.distributorOrgId), alias: q.alias, priceFen: q.priceFen, receivedAt: q.receivedAt, seq: q.seq })),
  ).map(({ distributorId: _d, ...r }) => r);
}

/** The ranked active quotes of one line (inside a transaction when a session is given). */
export async function rankedLine(roundId: Types.ObjectId, lineId: Types.ObjectId, session?: ClientSession): Promise<RankedQuote[]> {
  const rows = await Quote.find({ roundId, lineId, status: 'active' }, { distributorOrgId: 1, alias: 1, priceFen: 1, receivedAt: 1, seq: 1 }, { session }).lean<QuoteRecord[]>();
  return rank(rows);
}

async function readRankedRound(roundId: Types.ObjectId): Promise<ReadonlyMap<string, readonly RankedQuote[]>> {
  const rows = await Quote.find({ roundId, status: 'active' }, { lineId: 1, distributorOrgId: 1, alias: 1, priceFen: 1, receivedAt: 1, seq: 1 }).lean<QuoteRecord[]>();
  const byLine = new Map<string, QuoteRecord[]>();
  for (const r of rows) {
    const line = byLine.get(String(r.lineId));
    if (line) line.push(r);
    else byLine.set(String(r.lineId), [r]);
  }
  return new Map([...byLine].map(([lineId, qs]) => [lineId, rank(qs)]));
}

/**
 * The ranked active quotes of a round as of its sequence number. Every change of a round's active
 * quotes moves its sequence in the same transaction, so one ranking serves every viewer who joins at
 * that sequence (and status): joins that arrive together — a reconnect storm, the opening minute,
 * a page of watchers — share one read of the round's quotes instead of one read each. Each process
 * keeps the latest ranking of a few rounds until a few seconds after its last use (a large round's
 * ranking is megabytes); a newer sequence of a round replaces its older one.
 */
const rankings = new Map<string, { seq: number; status: RoundRecord['status']; ranked: Promise<ReadonlyMap<string, readonly RankedQuote[]>>; usedAt: number }>();
const MAX_RANKED_ROUNDS = 16;
const RANKING_HELD_MS = 5_000;

export function rankedRound(round: Pick<RoundRecord, '_id' | 'seq' | 'status'>): Promise<ReadonlyMap<string, readonly RankedQuote[]>> {
  const roundId = String(round._id);
  const held = rankings.get(roundId);
  if (held?.seq === round.seq && held.status === round.status) {
    held.usedAt = performance.now();
    return held.ranked;
  }
  const ranked = readRankedRound(round._id);
  // NOTE: a failed read is not remembered; a ranking of an older sequence never replaces a newer one.
  const forget = () => {
    if (rankings.get(roundId)?.ranked === ranked) rankings.delete(roundId);
  };
  const forgetWhenIdle = () => {
    const entry = rankings.get(roundId);
    if (entry?.ranked !== ranked) return;
    const idle = performance.now() - entry.usedAt;
    if (idle >= RANKING_HELD_MS) rankings.delete(roundId);
    else setTimeout(forgetWhenIdle, RANKING_HELD_MS - idle).unref();
  };
  ranked.then(() => setTimeout(forgetWhenIdle, RANKING_HELD_MS).unref(), forget);
  if (!held || held.seq <= round.seq) {
    rankings.delete(roundId);
    if (rankings.size >= MAX_RANKED_ROUNDS) rankings.delete(rankings.keys().next().value!);
    rankings.set(roundId, { seq: round.seq, status: round.status, ranked, usedAt: performance.now() });
  }
  return ranked;
}

export interface RoundTiming {
  roundId: string;
  status: RoundRecord['status'];
  opensAt: string;
  closesAt: string;
  scheduledClosesAt: string;
  extensions: number;
  maxExtensions: number;
  windowSec: number;
  extendSec: number;
  serverNow: string;
}

export function timingOf(round: RoundRecord): RoundTiming {
  return {
    roundId: String(round._id),
    status: round.status,
    opensAt: round.opensAt.toISOString(),
    closesAt: round.closesAt.toISOString(),
    scheduledClosesAt: round.scheduledClosesAt.toISOString(),
    extensions: round.extensions,
    maxExtensions: round.antiSniping.maxExtensions,
    windowSec: round.antiSniping.windowSec,
    extendSec: round.antiSniping.extendSec,
    serverNow: now().toISOString(),
  };
}

/** Whether the actor may see the round at all (drafts are the operator's; banks see no rounds). */
export function canView(actor: Actor, round: Pick<RoundRecord, 'status'>): boolean {
  if (actor.role === 'operator') return true;
  if (actor.role === 'bank_officer') return false;
  return round.status !== 'draft';
}

export async function loadVisibleRound(actor: Actor, roundId: string): Promise<RoundRecord> {
  const round = Types.ObjectId.isValid(roundId) ? await Round.findById(roundId).lean<RoundRecord>() : null;
  if (!round || !canView(actor, round)) throw new NotFoundError({ code: 'ROUND_NOT_FOUND', message: msg('errorCodes.ROUND_NOT_FOUND') });
  return round;
}

const FINAL_STATUSES = new Set(['closed', 'published', 'expired']);

function lineHead(line: RoundLineRecord) {
  return { lineId: String(line._id), no: line.no, drugId: String(line.drugId), drug: line.drug, referenceFen: line.referenceFen, minDecrementFen: line.minDecrementFen };
}

export interface OwnQuoteView {
  quoteId: string;
  priceFen: number;
  receivedAt: string;
  status: 'active' | 'withdrawn';
  /** Null when the round's visibility hides ranks (sealed, before close). */
  rank: number | null;
}

/** The board as the actor may see it now (the `round:watch` reply and the page's first paint). */
export async function boardFor(actor: Actor, round: RoundRecord) {
  const roundId = String(round._id);
  const final = FINAL_STATUSES.has(round.status);
  const base = {
    round: {
      id: roundId,
      no: round.no,
      title: round.title,
      description: round.description ?? null,
      visibility: round.visibility,
      minDecrementBp: round.minDecrementBp,
      listingValidityDays: round.listingValidityDays,
      listingExpiresAt: round.listingExpiresAt?.toISOString() ?? null,
      publishedAt: round.publishedAt?.toISOString() ?? null,
      cancelReason: round.cancelReason ?? null,
      ...timingOf(round),
    },
    seq: round.seq,
    viewer: { role: actor.role, alias: null as string | null },
  };

  if (actor.role === 'operator') {
    const ranked = await rankedRound(round);
    const names = final ? await participantNames(round._id) : new Map<string, string>();
    return {
      ...base,
      lines: round.lines.map((line) => {
        const quotes = ranked.get(String(line._id)) ?? [];
        return {
          ...lineHead(line),
          quoteCount: quotes.length,
          bestPriceFen: quotes[0]?.priceFen ?? null,
          quotes: quotes.map((q) => ({ alias: q.alias, priceFen: q.priceFen, receivedAt: q.receivedAt.toISOString(), seq: q.seq, rank: q.rank, ...(final ? { distributorName: names.get(q.distributorOrgId) ?? null } : {}) })),
        };
      }),
    };
  }

  if (actor.role === 'distributor') {
    const orgId = new Types.ObjectId(actor.orgId);
    const [participant, ownRows, ranked] = await Promise.all([
      Participant.findOne({ roundId: round._id, distributorOrgId: orgId }, { alias: 1 }).lean<{ alias: string }>(),
      Quote.find({ roundId: round._id, distributorOrgId: orgId, status: trusted({ $in: ['active', 'withdrawn'] }) }).sort({ seq: -1 }).lean<QuoteRecord[]>(),
      round.visibility === 'sealed' && !final ? Promise.resolve(new Map<string, readonly RankedQuote[]>()) : rankedRound(round),
    ]);
    const latestOwn = new Map<string, QuoteRecord>();
    for (const q of ownRows) if (!latestOwn.has(String(q.lineId))) latestOwn.set(String(q.lineId), q);
    return {
      ...base,
      viewer: { role: actor.role, alias: participant?.alias ?? null },
      lines: round.lines.map((line) => {
        const quotes = ranked.get(String(line._id)) ?? [];
        const own = latestOwn.get(String(line._id));
        const ownRank = own && own.status === 'active' ? (quotes.find((q) => q.quoteId === String(own._id))?.rank ?? null) : null;
        return {
          ...lineHead(line),
          own: own ? ownView(own, ownRank) : null,
          nextMaxPriceFen: own ? own.priceFen - line.minDecrementFen : line.referenceFen,
          ...(round.visibility === 'best' || final ? { bestPriceFen: quotes[0]?.priceFen ?? null, quoteCount: quotes.length } : {}),
          ...(final ? { results: quotes.map((q) => ({ alias: q.alias, priceFen: q.priceFen, rank: q.rank, own: q.distributorOrgId === actor.orgId })) } : {}),
        };
      }),
    };
  }

  // Hospitals: the countdown while open; the published listing (with distributor names) afterwards.
  const listings = round.status === 'published' || round.status === 'expired' ? await Listing.find({ roundId: round._id }).sort({ lineId: 1, rank: 1 }).lean<ListingRecord[]>() : [];
  return {
    ...base,
    lines: round.lines.map((line) => ({
      ...lineHead(line),
      listing: listings
        .filter((l) => String(l.lineId) === String(line._id))
        .map((l) => ({ listingId: String(l._id), distributorOrgId: String(l.distributorOrgId), distributorName: l.distributorName, priceFen: l.unitPriceFen, reductionBp: l.reductionBp, rank: l.rank, status: l.status })),
    })),
  };
}

export type BoardState = Awaited<ReturnType<typeof boardFor>>;

function ownView(q: QuoteRecord, rankValue: number | null): OwnQuoteView {
  return { quoteId: String(q._id), priceFen: q.priceFen, receivedAt: q.receivedAt.toISOString(), status: q.status === 'withdrawn' ? 'withdrawn' : 'active', rank: rankValue };
}

async function participantNames(roundId: Types.ObjectId): Promise<Map<string, string>> {
  const rows = await Participant.find({ roundId }, { distributorOrgId: 1, distributorName: 1 }).lean<{ distributorOrgId: Types.ObjectId; distributorName: string }[]>();
  return new Map(rows.map((r) => [String(r.distributorOrgId), r.distributorName]));
}

/** The rooms a viewer joins to follow a round live. */
export function roomsFor(actor: Actor, roundId: string): string[] {
  const list = [roundRooms.all(roundId)];
  if (actor.role === 'operator') list.push(roundRooms.operator(roundId));
  if (actor.role === 'distributor') list.push(roundRooms.distributors(roundId), roundRooms.org(roundId, actor.orgId));
  return list;
}

/**
 * Pushes one commit's quote changes: one `round:lines` delta per room (the operators', in `best` mode
 * the distributors', and each concerned distributor's own), however many quotes the commit holds.
 */
export function publishCommit(round: Pick<RoundRecord, '_id' | 'visibility' | 'lines'>, commit: Pick<z.output<typeof QuotesCommitted.schema>, 'seq' | 'changes' | 'moved'>): void {
  const roundId = String(round._id);
  const pushes = commitPushes(round, commit);
  const b = platform().broadcaster;
  if (pushes.operator.lines.length) b.toRoom(roundRooms.operator(roundId), 'round:lines', pushes.operator);
  if (pushes.distributors) b.toRoom(roundRooms.distributors(roundId), 'round:lines', pushes.distributors);
  for (const [orgId, push] of pushes.orgs) b.toRoom(roundRooms.org(roundId, orgId), 'round:lines', push);
}

const MAX_MISSED = 2000;

/**
 * The quote changes after `sinceSeq` that the viewer would have been pushed, from the round's trail
 * (a reconnecting client replays them; the board it gets with them is already current): the operator
 * every change by alias; a distributor its own; a hospital none while quoting runs.
 */
export async function missedChanges(actor: Actor, round: RoundRecord, sinceSeq: number) {
  if (sinceSeq >= round.seq || (actor.role !== 'operator' && actor.role !== 'distributor')) return { missed: [], missedTruncated: false };
  const filter: Record<string, unknown> = { roundId: round._id, seq: trusted({ $gt: sinceSeq }), type: trusted({ $in: ['submitted', 'revised', 'withdrawn'] }) };
  if (actor.role === 'distributor') filter.distributorOrgId = new Types.ObjectId(actor.orgId);
  const rows = await QuoteEvent.find(filter, { lineId: 1, seq: 1, type: 1, alias: 1, priceFen: 1, at: 1 }).sort({ seq: 1 }).limit(MAX_MISSED + 1).lean<QuoteEventRecord[]>();
  return {
    missed: rows.slice(0, MAX_MISSED).map((r) => ({ lineId: String(r.lineId), seq: r.seq!, type: r.type, alias: r.alias ?? null, priceFen: r.priceFen ?? null, at: r.at.toISOString() })),
    missedTruncated: rows.length > MAX_MISSED,
  };
}

/** Pushes the round's timing (status, close, extensions) to everyone watching it. */
export function publishTiming(round: RoundRecord, event: 'round:timing' | 'round:extended' = 'round:timing'): void {
  platform().broadcaster.toRoom(roundRooms.all(String(round._id)), event, { ...timingOf(round), seq: round.seq });
}

/** Reduction of a price against the reference, in basis points. */
export function reductionOf(priceFen: number, referenceFen: number): number {
  return reductionBasisPoints(priceFen, referenceFen);
}
