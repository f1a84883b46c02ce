// A round's live book, held in memory by the process that takes its quotes: the round's sequence,
// close and extensions, each line's active quotes, each distributor's latest own quote and alias, and
// the client keys already used. Quotes are decided against the book with no database read; the batch
// that persists them checks the round's sequence in its transaction (compare-and-set), so a book that
// another process or a withdrawal made stale is noticed, dropped and read again — never trusted.
import { Types } from 'mongoose';
import { RoundCancelled, RoundClosed, RoundExpired, RoundPublished } from '../../events/quotation';
import { evict, onEviction } from '../../platform/evictions';
import { onCommitted } from '../../platform/relay';
import { rank, type RankedQuote } from './quotation.board';
import { compareQuotes } from './quotation.rules';
import { Participant, Quote, Round, type QuoteRecord, type RoundLineRecord, type RoundRecord } from './quotation.model';

const TOPIC = 'quotation.book';
const MAX_BOOKS = 200;

/** A quote as the book keeps it (active, or the withdrawn latest own quote of a distributor). */
export type BookQuote = Pick<QuoteRecord, '_id' | 'lineId' | 'distributorOrgId' | 'alias' | 'priceFen' | 'receivedAt' | 'seq' | 'status'>;

export class RoundBook {
  private readonly lines: Map<string, RoundLineRecord>;
  /** Each line's active quotes by distributor. */
  private readonly active = new Map<string, Map<string, BookQuote>>();
  /** Each line's ranking, kept up to date by `accept` (a ranking array is never changed once handed out). */
  private readonly ranking = new Map<string, RankedQuote[]>();
  private readonly latest = new Map<string, BookQuote>();
  private readonly aliasOf = new Map<string, string>();
  private readonly aliasTaken = new Set<string>();
  private readonly keys = new Set<string>();

  constructor(
    public round: RoundRecord,
    quotes: readonly (BookQuote & { clientKey?: string })[],
    participants: readonly { distributorOrgId: Types.ObjectId; alias: string }[],
  ) {
    this.lines = new Map(round.lines.map((l) => [String(l._id), l]));
    for (const p of participants) this.addAlias(String(p.distributorOrgId), p.alias);
    for (const q of [...quotes].sort((a, b) => a.seq - b.seq)) {
      if (q.clientKey) this.keys.add(`${String(q.distributorOrgId)}:${q.clientKey}`);
      if (q.status === 'superseded') continue;
      const lineId = String(q.lineId);
      const orgId = String(q.distributorOrgId);
      if (q.status === 'active') this.activeOn(lineId).set(orgId, q);
      this.latest.set(`${lineId}:${orgId}`, q);
    }
  }

  get roundId(): string {
    return String(this.round._id);
  }

  line(lineId: string): RoundLineRecord | undefined {
    return this.lines.get(lineId);
  }

  /** The line's active quotes ranked (the same array until the line changes; callers must not change it). */
  ranked(lineId: string): RankedQuote[] {
    let ranked = this.ranking.get(lineId);
    if (!ranked) {
      ranked = rank([...(this.active.get(lineId)?.values() ?? [])]);
      this.ranking.set(lineId, ranked);
    }
    return ranked;
  }

  /** The distributor's latest quote on the line (active or withdrawn), if any. */
  own(lineId: string, orgId: string): BookQuote | undefined {
    return this.latest.get(`${lineId}:${orgId}`);
  }

  alias(orgId: string): string | undefined {
    return this.aliasOf.get(orgId);
  }

  aliasInUse(alias: string): boolean {
    return this.aliasTaken.has(alias);
  }

  addAlias(orgId: string, alias: string): void {
    this.aliasOf.set(orgId, alias);
    this.aliasTaken.add(alias);
  }

  private activeOn(lineId: string): Map<string, BookQuote> {
    let quotes = this.active.get(lineId);
    if (!quotes) {
      quotes = new Map();
      this.active.set(lineId, quotes);
    }
    return quotes;
  }

  keyUsed(orgId: string, clientKey: string): boolean {
    return this.keys.has(`${orgId}:${clientKey}`);
  }

  /** Records an accepted quote: it replaces the distributor's previous quote on its line. */
  accept(quote: BookQuote, clientKey?: string): void {
    const lineId = String(quote.lineId);
    const orgId = String(quote.distributorOrgId);
    this.activeOn(lineId).set(orgId, quote);
    const ranked = this.ranking.get(lineId);
    if (ranked) this.ranking.set(lineId, reranked(ranked, orgId, quote));
    this.latest.set(`${lineId}:${orgId}`, quote);
    if (clientKey) this.keys.add(`${orgId}:${clientKey}`);
  }
}

/**
 * A line's ranking after `orgId`'s quote became `quote`: its previous entry removed, the new one
 * inserted in order (binary search under the rules' comparison), and new rank objects only for the
 * entries whose rank changed. Equal to ranking the line's quotes afresh.
 */
function reranked(ranked: readonly RankedQuote[], orgId: string, quote: BookQuote): RankedQuote[] {
  const entry = { quoteId: String(quote._id), distributorOrgId: orgId, alias: quote.alias, priceFen: quote.priceFen, receivedAt: quote.receivedAt, seq: quote.seq };
  const key = { ...entry, distributorId: orgId };
  const rest = ranked.filter((q) => q.distributorOrgId !== orgId);
  let lo = 0;
  let hi = rest.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareQuotes({ ...rest[mid]!, distributorId: rest[mid]!.distributorOrgId }, key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  rest.splice(lo, 0, { ...entry, rank: lo + 1 });
  return rest.map((q, i) => (q.rank === i + 1 ? q : { ...q, rank: i + 1 }));
}

const books = new Map<string, RoundBook>();
const loading = new Map<string, Promise<RoundBook | null>>();

onEviction(TOPIC, (key) => {
  if (key === '*') books.clear();
  else books.delete(key);
});

async function load(roundId: string): Promise<RoundBook | null> {
  if (!Types.ObjectId.isValid(roundId)) return null;
  const id = new Types.ObjectId(roundId);
  const [round, quotes, participants] = await Promise.all([
    Round.findById(id).lean<RoundRecord>(),
    Quote.find({ roundId: id }, { lineId: 1, distributorOrgId: 1, alias: 1, priceFen: 1, receivedAt: 1, seq: 1, status: 1, clientKey: 1 }).lean<(BookQuote & { clientKey?: string })[]>(),
    Participant.find({ roundId: id }, { distributorOrgId: 1, alias: 1 }).lean<{ distributorOrgId: Types.ObjectId; alias: string }[]>(),
  ]);
  if (!round) return null;
  return new RoundBook(round, quotes, participants);
}

/** The round's book, read from the database once and then kept (drafts are never kept: their lines change). */
export async function bookFor(roundId: string): Promise<RoundBook | null> {
  const known = books.get(roundId);
  if (known) return known;
  let pending = loading.get(roundId);
  if (!pending) {
    pending = load(roundId).finally(() => loading.delete(roundId));
    loading.set(roundId, pending);
  }
  const book = await pending;
  if (book && book.round.status !== 'draft') {
    if (books.size >= MAX_BOOKS) books.delete(books.keys().next().value!);
    books.set(roundId, book);
  }
  return book;
}

/** Forgets the book here only (a failed batch left it half-applied, or a withdrawal changed it). */
export function dropBook(roundId: string): void {
  books.delete(roundId);
}

/** A round that stopped taking quotes frees its book everywhere. */
export const bookEvictions = [RoundCancelled, RoundClosed, RoundPublished, RoundExpired].map((spec) =>
  onCommitted(spec, `quotation.book.forget-on-${spec.name.split('.')[1]}`, (e) => evict(TOPIC, (e.payload as { roundId: string }).roundId)),
);
