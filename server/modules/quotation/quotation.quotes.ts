// Quotes: the round's rules (price ≤ reference, each revision lower by the minimum decrement, ties by
// receipt time, anti-sniping extensions) applied in one transaction on the round, so the database (not a
// timer) decides whether a quote arrived before the close. Every refusal says why, stores no quote,
// and is kept in the round's audit trail.
import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import { QuotesCommitted } from '../../events/quotation';
import type { Actor } from '../../platform/auth';
import { now, platform } from '../../platform/context';
import { AppError, ConflictError, ForbiddenError, NotFoundError, refusalToError, RuleViolationError } from '../../platform/errors';
import { trusted } from '../../platform/mongo';
import { consumeReserved } from '../../platform/rate-limit';
import { markStored } from '../../platform/idempotency';
import { currentContext, runWithContext, type PendingIdempotency } from '../../platform/request-context';
import { assertMayTrade, assertMayTradeCached } from '../credit';
import { outsideUnitOfWork, withCommand, type StagedReply, type UnitOfWork } from '../../platform/unit-of-work';
import type { Write } from '../../platform/writes';
import { canView, rank, type RankedQuote } from './quotation.board';
import { movedRuns } from './quotation.deltas';
import { bookFor, dropBook, type RoundBook } from './quotation.book';
import { withRoundLock } from './quotation.lock';
import { atRoundOwner, servedAtRoundOwner } from './quotation.owner';
import { Participant, Quote, QuoteEvent, Round, type QuoteEventRecord, type QuoteRecord, type RoundLineRecord, type RoundRecord } from './quotation.model';
import { anonymousAliasCode, antiSnipingDecision, checkQuote, staleRetryDelayMs } from './quotation.rules';
import { dateTime, msg, type Message } from '../../platform/messages';

export interface QuoteInput {
  roundId: string;
  lineId: string;
  priceFen: number;
  clientKey?: string;
}

export interface QuoteResult {
  quoteId: string;
  roundId: string;
  lineId: string;
  priceFen: number;
  receivedAt: string;
  seq: number;
  /** The distributor's rank on the line; null in sealed mode. */
  rank: number | null;
  /** The best price on the line, in `best` mode only. */
  bestPriceFen?: number | null;
  alias: string;
  closesAt: string;
  extended: boolean;
  replayed: boolean;
}

function aliasSecret(): string {
  return createHash('sha256').update(`quotation-alias:${platform().config.jwtSecret}`).digest('hex');
}

/** A distributor's alias code in a round (first attempt; the service retries on collisions). */
export function aliasFor(roundId: string, distributorOrgId: string, attempt = 0): string {
  return anonymousAliasCode(roundId, distributorOrgId, aliasSecret(), attempt);
}

type WindowRefusal = 'ROUND_NOT_OPEN' | 'ROUND_CLOSED' | 'ROUND_CANCELLED';

/** Whether the round accepts quote changes at `at`, by its stored times and status (not by any timer). */
export function windowRefusal(round: RoundRecord, at: Date): { code: WindowRefusal; message: Message } | null {
  if (round.status === 'cancelled') return { code: 'ROUND_CANCELLED', message: msg('errorCodes.ROUND_CANCELLED') };
  if (round.status === 'draft') return { code: 'ROUND_NOT_OPEN', message: msg('errorCodes.ROUND_NOT_OPEN') };
  if (round.status === 'closed' || round.status === 'published' || round.status === 'expired' || at.getTime() >= round.closesAt.getTime()) {
    return { code: 'ROUND_CLOSED', message: msg('errorCodes.ROUND_CLOSED', { value: dateTime(round.closesAt) }) };
  }
  if (at.getTime() < round.opensAt.getTime()) return { code: 'ROUND_NOT_OPEN', message: msg('errorCodes.ROUND_NOT_OPEN_2', { value: dateTime(round.opensAt) }) };
  return null;
}

// NOTE: a scheduled round's lines never change, so each process remembers them for the cheap checks
// made before the transaction (which reads the round itself anyway).
const roundLineIds = new Map<string, Set<string>>();

/** Refuses an unknown or invisible round (404) or line (404) before any other work. */
async function roundLines(actor: Actor, roundId: string, lineId: string): Promise<void> {
  let lines = roundLineIds.get(roundId);
  if (!lines) {
    const round = Types.ObjectId.isValid(roundId) ? await Round.findById(roundId, { status: 1, lines: 1 }).lean<RoundRecord>() : null;
    if (!round || !canView(actor, round)) throw new NotFoundError({ code: 'ROUND_NOT_FOUND', message: msg('errorCodes.ROUND_NOT_FOUND') });
    lines = new Set(round.lines.map((l) => String(l._id)));
    if (round.status !== 'draft') {
      if (roundLineIds.size > 1000) roundLineIds.clear();
      roundLineIds.set(roundId, lines);
    }
  }
  if (!lines.has(lineId)) throw new NotFoundError({ code: 'LINE_NOT_FOUND', message: msg('errorCodes.LINE_NOT_FOUND_2') });
}

function findLine(round: RoundRecord, lineId: string): RoundLineRecord {
  const line = round.lines.find((l) => String(l._id) === lineId);
  if (!line) throw new NotFoundError({ code: 'LINE_NOT_FOUND', message: msg('errorCodes.LINE_NOT_FOUND_2') });
  return line;
}

async function recordRefusal(actor: Actor, input: { roundId: string; lineId?: string; priceFen?: number }, err: AppError, channel: string): Promise<void> {
  if (!Types.ObjectId.isValid(input.roundId)) return;
  const round = await Round.findById(input.roundId, { lines: 1 }).lean<Pick<RoundRecord, 'lines'>>();
  if (!round) return;
  const line = input.lineId ? round.lines.find((l) => String(l._id) === input.lineId) : undefined;
  const participant = await Participant.findOne({ roundId: new Types.ObjectId(input.roundId), distributorOrgId: new Types.ObjectId(actor.orgId) }, { alias: 1 }).lean<{ alias: string }>();
  await QuoteEvent.create({
    roundId: new Types.ObjectId(input.roundId),
    at: now(),
    type: 'refused',
    lineId: line?._id,
    lineNo: line?.no,
    distributorOrgId: new Types.ObjectId(actor.orgId),
    distributorName: actor.orgName,
    alias: participant?.alias,
    userId: new Types.ObjectId(actor.id),
    priceFen: input.priceFen,
    code: err.code,
    message: err.message,
    channel,
  });
}

function isRecordableRefusal(err: unknown): err is AppError {
  return err instanceof AppError && (err.status === 422 || err.status === 403 || (err.status === 404 && err.code === 'LINE_NOT_FOUND'));
}

async function replayByClientKey(actor: Actor, input: QuoteInput): Promise<QuoteResult | null> {
  if (!input.clientKey) return null;
  const earlier = await Quote.findOne({ roundId: new Types.ObjectId(input.roundId), distributorOrgId: new Types.ObjectId(actor.orgId), clientKey: input.clientKey }).lean<QuoteRecord>();
  if (!earlier) return null;
  if (String(earlier.lineId) !== input.lineId || earlier.priceFen !== input.priceFen) {
    throw new RuleViolationError({ code: 'CLIENT_KEY_REUSED', message: msg('errorCodes.CLIENT_KEY_REUSED') });
  }
  const round = await Round.findById(earlier.roundId).lean<RoundRecord>();
  const line = await Quote.find({ roundId: earlier.roundId, lineId: earlier.lineId, status: 'active' }).lean<QuoteRecord[]>();
  const ranked = rank(line);
  return resultOf(round!, earlier, ranked, false, true);
}

function resultOf(round: RoundRecord, quote: QuoteRecord, ranked: RankedQuote[], extended: boolean, replayed: boolean): QuoteResult {
  const sealed = round.visibility === 'sealed';
  return {
    quoteId: String(quote._id),
    roundId: String(round._id),
    lineId: String(quote.lineId),
    priceFen: quote.priceFen,
    receivedAt: quote.receivedAt.toISOString(),
    seq: quote.seq,
    rank: sealed ? null : (ranked.find((q) => q.quoteId === String(quote._id))?.rank ?? null),
    ...(round.visibility === 'best' ? { bestPriceFen: ranked[0]?.priceFen ?? null } : {}),
    alias: quote.alias,
    closesAt: round.closesAt.toISOString(),
    extended,
    replayed,
  };
}

/**
 * A distributor quotes (or revises its quote) on a round line. Checks, in order: role, rate limit,
 * round and line, the credit gate, then in one transaction on the round: a clientKey already used
 * (answered with the first result), the open window, price ≤ reference, own previous minus the
 * minimum decrement; stamps the server receipt time and the next sequence number; extends the close
 * when anti-sniping applies. Then pushes the change. The transaction is the round owner's
 * (quotation.owner.ts): a quote that reached another process is forwarded to it after the checks.
 */
export async function submitQuote(actor: Actor, input: QuoteInput, channel: 'http' | 'socket'): Promise<QuoteResult> {
  // NOTE: the receipt time is stamped before anything else, so a quote's place against the close and
  // against other quotes is decided by when it reached the server, not by how long it queued.
  const receivedAt = now();
  if (actor.role !== 'distributor') throw new ForbiddenError({ code: 'ROLE_REQUIRED', message: msg('errorCodes.ROLE_REQUIRED') });
  await consumeReserved('quote', actor.orgId, platform().config.quoteRateLimit, 60);
  try {
    await roundLines(actor, input.roundId, input.lineId);
    try {
      await assertMayTradeCached(actor.orgId, 'quote');
    } catch (gate) {
      // NOTE: the gate is asked as for a first quote (the common case); a refusal of a revision is worded as such.
      const orgId = new Types.ObjectId(actor.orgId);
      if (await Quote.exists({ roundId: new Types.ObjectId(input.roundId), lineId: new Types.ObjectId(input.lineId), distributorOrgId: orgId, status: trusted({ $in: ['active', 'withdrawn'] }) })) {
        await assertMayTrade(actor.orgId, 'revise_quote');
      }
      throw gate;
    }
    const idempotency = currentContext()?.idempotency;
    const item: ForwardedQuote = { actor, input, channel, receivedAt: receivedAt.toISOString(), ...(idempotency ? { idempotency: pendingOnTheWire(idempotency) } : {}) };
    const decided = await atRoundOwner(input.roundId, FORWARDED_QUOTE, item, () => decideQuote({ actor, input, channel, receivedAt, idempotency }), msg('errorCodes.ROUND_BUSY'));
    if (decided.kind === 'replay') return (await replayByClientKey(actor, input))!;
    if (idempotency && decided.storedReply !== undefined) markStored(idempotency, decided.storedReply);
    // NOTE: the live board, the moved close job and the extension push follow from the committed
    // change (subscribers of `quotation.quotes_committed`).
    return decided.result;
  } catch (err) {
    if (isRecordableRefusal(err)) await recordRefusal(actor, input, err, channel).catch(() => undefined);
    if ((err as { code?: number }).code === 11000 && input.clientKey) {
      const again = await replayByClientKey(actor, input);
      if (again) return again;
    }
    throw err;
  }
}

/** A quote as the round's owner decided it: accepted (with the reply stored for its Idempotency-Key), or a replay. */
type Decided = { kind: 'accepted'; result: QuoteResult; storedReply?: unknown } | { kind: 'replay' };

/** Decides a quote in this process (the round's owner): queued for the round's next batch; a refusal is thrown. */
async function decideQuote(item: Omit<PendingQuote, 'resolve' | 'reject'>): Promise<Decided> {
  const outcome = await enqueueQuote(item);
  if (outcome.kind === 'replay') return { kind: 'replay' };
  if (outcome.kind === 'refused') throw outcome.error;
  return { kind: 'accepted', result: resultOf(outcome.round, outcome.quote, outcome.after, Boolean(outcome.extendedTo), false), ...(outcome.storedReply !== undefined ? { storedReply: outcome.storedReply } : {}) };
}

const FORWARDED_QUOTE = 'quotation.quote';
const FORWARDED_WITHDRAWAL = 'quotation.withdraw';

/** A quote as it travels to the round's owner (JSON): checked where it arrived, stamped with its receipt time. */
interface ForwardedQuote {
  actor: Actor;
  input: QuoteInput;
  channel: 'http' | 'socket';
  receivedAt: string;
  idempotency?: PendingIdempotency;
}

// NOTE: the pending Idempotency-Key travels as its identity only (key, payload hash, status): the
// owner stores the reply in the batch's transaction and answers it, and the request's own process
// marks its pending key stored with that reply, exactly as when the batch runs there.
function pendingOnTheWire(p: PendingIdempotency): PendingIdempotency {
  return { scopeKey: p.scopeKey, requestHash: p.requestHash, status: p.status, stored: false };
}

/** What the owner of a round does for quote changes other processes forward to it. */
export const quoteForwarding = [
  servedAtRoundOwner<ForwardedQuote>(FORWARDED_QUOTE, (q) => decideQuote({ actor: q.actor, input: q.input, channel: q.channel, receivedAt: new Date(q.receivedAt), ...(q.idempotency ? { idempotency: q.idempotency } : {}) })),
  servedAtRoundOwner<{ actor: Actor; input: { roundId: string; lineId: string }; channel: 'http' | 'socket' }>(FORWARDED_WITHDRAWAL, (w) => withdrawHere(w.actor, w.input, w.channel)),
];

interface QuoteOutcome {
  round: RoundRecord;
  line: RoundLineRecord;
  quote: QuoteRecord;
  before: RankedQuote[];
  after: RankedQuote[];
  extendedTo?: Date;
  /** The HTTP reply stored with the quote for its Idempotency-Key, when it has one. */
  storedReply?: unknown;
}

type ItemOutcome = ({ kind: 'accepted' } & QuoteOutcome) | { kind: 'replay' } | { kind: 'refused'; error: AppError };

interface PendingQuote {
  actor: Actor;
  input: QuoteInput;
  channel: 'http' | 'socket';
  /** Stamped when the quote reached the server, before any check or queue. */
  receivedAt: Date;
  /** The HTTP request's Idempotency-Key, completed in the batch's transaction with the quote. */
  idempotency?: PendingIdempotency;
  resolve: (outcome: ItemOutcome) => void;
  reject: (err: unknown) => void;
}

const MAX_BATCH = 500;
const waiting = new Map<string, PendingQuote[]>();
const draining = new Set<string>();

/**
 * Queues a quote for its round. Quotes of one round are applied in arrival order, a batch at a time:
 * each batch is ONE transaction on the round (one read of the round and the lines concerned, the
 * quotes applied one after another in memory under every rule, then one write of each kind), so a
 * busy round costs one transaction per batch instead of one per quote. A refused quote does not
 * fail its batch.
 */
function enqueueQuote(item: Omit<PendingQuote, 'resolve' | 'reject'>): Promise<ItemOutcome> {
  return new Promise((resolve, reject) => {
    const roundId = item.input.roundId;
    const queue = waiting.get(roundId) ?? [];
    queue.push({ ...item, resolve, reject });
    waiting.set(roundId, queue);
    if (!draining.has(roundId)) void outsideUnitOfWork(() => drain(roundId));
  });
}

/** How many quotes wait for the round's next batch in this process (tests hold a batch together with it). */
export function queuedQuotes(roundId: string): number {
  return waiting.get(roundId)?.length ?? 0;
}

async function drain(roundId: string): Promise<void> {
  draining.add(roundId);
  try {
    for (;;) {
      const queue = waiting.get(roundId);
      if (!queue || queue.length === 0) break;
      let batch: PendingQuote[] = [];
      try {
        // NOTE: a batch holds quotes of many requests; it runs in its own context, so no request's
        // Idempotency-Key is completed by a transaction that is not that request's alone. It takes
        // the quotes waiting once it holds the round, so those that arrive meanwhile join it.
        const outcomes = await runWithContext({ requestId: `round-batch:${roundId}` }, () =>
          withRoundLock(roundId, () => {
            batch = queue.splice(0, MAX_BATCH);
            return quoteBatch(roundId, batch);
          }),
        );
        batch.forEach((item, i) => item.resolve(outcomes[i]!));
      } catch (err) {
        for (const item of batch) item.reject(err);
      }
    }
  } finally {
    draining.delete(roundId);
    if (waiting.get(roundId)?.length === 0) waiting.delete(roundId);
  }
}

/** A quote change as the live board needs it (the event's JSON): the quote, its rank, the line's best and count. */
function changeOf(kind: 'submitted' | 'revised' | 'withdrawn', lineId: string, orgId: string, own: Pick<QuoteRecord, '_id' | 'alias' | 'priceFen' | 'receivedAt' | 'status'>, before: RankedQuote[], after: RankedQuote[], seq: number) {
  const mine = after.find((q) => q.distributorOrgId === orgId);
  return {
    kind,
    lineId,
    seq,
    distributorOrgId: orgId,
    alias: own.alias,
    own: { quoteId: String(own._id), priceFen: own.priceFen, receivedAt: own.receivedAt.toISOString(), status: own.status === 'withdrawn' ? ('withdrawn' as const) : ('active' as const) },
    rank: own.status === 'withdrawn' ? null : (mine?.rank ?? null),
    quoteCount: after.length,
    bestPriceFen: after[0]?.priceFen ?? null,
    bestChanged: before[0]?.priceFen !== after[0]?.priceFen,
  };
}

/**
 * What each distributor was last told of its rank per line, so one commit of many quotes tells each
 * other distributor its final rank once, not every step in between.
 */
class RankNews {
  private readonly told = new Map<string, Map<string, number | null>>();

  /** Before a line's first change in the commit: the ranks everyone on it knows. */
  start(lineId: string, ranked: RankedQuote[]): void {
    if (!this.told.has(lineId)) this.told.set(lineId, new Map(ranked.map((q) => [q.distributorOrgId, q.rank])));
  }

  /** The quoting distributor was told its rank with its own quote. */
  tell(lineId: string, orgId: string, rank: number | null): void {
    this.told.get(lineId)?.set(orgId, rank);
  }

  /** Everyone whose final rank differs from what it was last told, as runs of consecutive ranks per line. */
  moved(finalOf: (lineId: string) => RankedQuote[]): ReturnType<typeof movedRuns> {
    return [...this.told].flatMap(([lineId, told]) =>
      movedRuns(lineId, finalOf(lineId).filter((q) => told.get(q.distributorOrgId) !== q.rank)),
    );
  }
}

function emitChanges(uow: UnitOfWork, round: Pick<RoundRecord, '_id'>, seq: number, closesAt: Date, extendedTo: Date | undefined, changes: ReturnType<typeof changeOf>[], moved: ReturnType<RankNews['moved']>): void {
  const roundId = String(round._id);
  uow.emit(QuotesCommitted, { roundId, seq, closesAt: closesAt.toISOString(), ...(extendedTo ? { extendedTo: extendedTo.toISOString() } : {}), changes, moved }, { key: `round-quotes:${roundId}:${seq}` });
}

/** A write conflict or a stale book: the batch is decided again on a freshly read book. */
function isRetryable(err: unknown): boolean {
  const e = err as { code?: unknown; hasErrorLabel?: (l: string) => boolean };
  return err instanceof StaleBook || e.code === 11000 || e.code === 112 || Boolean(e.hasErrorLabel?.('TransientTransactionError'));
}

class StaleBook extends Error {}

const STALE_RETRIES = 8;

/**
 * Decides a batch against the round's book and persists it; a stale book (another process quoted, a
 * quote was withdrawn, the round was cancelled or closed) is dropped and the batch decided again on
 * the database's state, up to STALE_RETRIES times, each after a short random wait (several web
 * processes taking quotes on one round meet here until one process owns each round, and retrying at
 * once they met again); a conflict after those answers ROUND_BUSY.
 */
async function quoteBatch(roundId: string, batch: PendingQuote[]): Promise<ItemOutcome[]> {
  for (let attempt = 0; ; attempt += 1) {
    const book = await bookFor(roundId);
    if (!book) throw new NotFoundError({ code: 'ROUND_NOT_FOUND', message: msg('errorCodes.ROUND_NOT_FOUND') });
    try {
      return await commitBatch(book, batch);
    } catch (err) {
      // NOTE: the batch's decisions were applied to the book before the commit; it cannot be trusted now.
      dropBook(roundId);
      if (attempt < STALE_RETRIES && isRetryable(err)) {
        await new Promise((resolve) => setTimeout(resolve, staleRetryDelayMs(attempt)));
        continue;
      }
      if (isRetryable(err)) throw new ConflictError({ code: 'ROUND_BUSY', message: msg('errorCodes.ROUND_BUSY') });
      throw err;
    }
  }
}

/**
 * One batch: every quote decided in arrival order against the book under every rule (no database
 * read), then ONE transaction writes them all — new aliases, superseded quotes, new quotes, the
 * round's sequence and close (compare-and-set on the sequence), the quote trail, the stored replies
 * of idempotent requests and the committed fact. A refused quote does not fail its batch.
 */
async function commitBatch(book: RoundBook, batch: PendingQuote[]): Promise<ItemOutcome[]> {
  const round = book.round;
  const startSeq = round.seq;
  let seq = round.seq;
  let closesAt = round.closesAt;
  let extensions = round.extensions;
  const participants: { roundId: Types.ObjectId; distributorOrgId: Types.ObjectId; distributorName: string; alias: string; joinedAt: Date }[] = [];
  const superseded: Types.ObjectId[] = [];
  const inserts: QuoteRecord[] = [];
  // NOTE: the book holds the batch's own new quotes as the very objects inserted, so a quote revised
  // twice in one batch is found by its id object, not by comparing ids with every insert.
  const insertAt = new Map<Types.ObjectId, number>();
  const events: Partial<QuoteEventRecord>[] = [];
  const outcomes: ItemOutcome[] = [];
  const changes: ReturnType<typeof changeOf>[] = [];
  const news = new RankNews();
  for (const { actor, input, channel, receivedAt } of batch) {
    const orgId = new Types.ObjectId(actor.orgId);
    if (input.clientKey && book.keyUsed(actor.orgId, input.clientKey)) {
      outcomes.push({ kind: 'replay' });
      continue;
    }
    const current = { ...round, seq, closesAt, extensions };
    const closed = windowRefusal(current, receivedAt);
    if (closed) {
      outcomes.push({ kind: 'refused', error: new RuleViolationError(closed) });
      continue;
    }
    const line = book.line(input.lineId);
    if (!line) {
      outcomes.push({ kind: 'refused', error: new NotFoundError({ code: 'LINE_NOT_FOUND', message: msg('errorCodes.LINE_NOT_FOUND_2') }) });
      continue;
    }
    const lineKey = String(line._id);
    const previous = book.own(lineKey, actor.orgId);
    const verdict = checkQuote({ priceFen: input.priceFen, referenceFen: line.referenceFen, previousPriceFen: previous?.priceFen ?? null, minDecrementFen: line.minDecrementFen });
    if (!verdict.ok) {
      outcomes.push({ kind: 'refused', error: refusalToError(verdict) });
      continue;
    }
    let alias = book.alias(actor.orgId);
    if (!alias) {
      alias = newAlias(book, actor.orgId);
      book.addAlias(actor.orgId, alias);
      participants.push({ roundId: round._id, distributorOrgId: orgId, distributorName: actor.orgName, alias, joinedAt: receivedAt });
    }
    seq += 1;
    const quote: QuoteRecord = {
      _id: new Types.ObjectId(),
      roundId: round._id,
      lineId: line._id,
      distributorOrgId: orgId,
      distributorName: actor.orgName,
      alias,
      userId: new Types.ObjectId(actor.id),
      priceFen: input.priceFen,
      receivedAt,
      seq,
      status: 'active',
      channel,
      ...(input.clientKey ? { clientKey: input.clientKey } : {}),
      ...(previous ? { previousQuoteId: previous._id, previousPriceFen: previous.priceFen } : {}),
    };
    if (previous?.status === 'active') {
      const fresh = insertAt.get(previous._id);
      if (fresh !== undefined) inserts[fresh] = { ...inserts[fresh]!, status: 'superseded' };
      else superseded.push(previous._id);
    }
    insertAt.set(quote._id, inserts.length);
    inserts.push(quote);
    const before = book.ranked(lineKey);
    news.start(lineKey, before);
    book.accept(quote, input.clientKey);
    const after = book.ranked(lineKey);
    const decision = antiSnipingDecision({
      receivedAt,
      closesAt,
      bestChanged: before[0]?.priceFen !== after[0]?.priceFen,
      windowSec: round.antiSniping.windowSec,
      extendSec: round.antiSniping.extendSec,
      extensionsSoFar: extensions,
      maxExtensions: round.antiSniping.maxExtensions,
    });
    events.push({
      roundId: round._id,
      at: receivedAt,
      type: previous ? 'revised' : 'submitted',
      seq,
      lineId: line._id,
      lineNo: line.no,
      distributorOrgId: orgId,
      distributorName: actor.orgName,
      alias,
      userId: new Types.ObjectId(actor.id),
      quoteId: quote._id,
      priceFen: input.priceFen,
      // NOTE: lean inserts store an undefined field as null; a first quote has no previous price at all.
      ...(previous ? { previousPriceFen: previous.priceFen } : {}),
      channel,
    });
    if (decision.extend) {
      closesAt = decision.newClosesAt;
      extensions = decision.extensionNumber;
      events.push({ roundId: round._id, at: receivedAt, type: 'extended', seq, lineId: line._id, lineNo: line.no, alias, quoteId: quote._id, closesAt, extensionNumber: extensions });
    }
    const change = changeOf(previous ? 'revised' : 'submitted', lineKey, actor.orgId, quote, before, after, seq);
    news.tell(lineKey, actor.orgId, change.rank);
    changes.push(change);
    outcomes.push({ kind: 'accepted', round: { ...round, seq, closesAt, extensions }, line, quote, before, after, ...(decision.extend ? { extendedTo: closesAt } : {}) });
  }
  if (inserts.length === 0) return outcomes;
  await withCommand(null, async (uow) => {
    // NOTE: the batch's whole transaction is ONE command and the commit (MongoDB 8's bulkWrite, in
    // order): the compare-and-set on the round's sequence (which opens the transaction), the
    // superseded quotes (before the new ones, for the unique index on a line's active quote per
    // distributor), the new quotes, the trail, new participants, the committed fact (the outbox) and
    // the stored replies of idempotent requests.
    const extendedTo = closesAt.getTime() !== round.closesAt.getTime() ? closesAt : undefined;
    emitChanges(uow, round, seq, closesAt, extendedTo, changes, news.moved((lineId) => book.ranked(lineId)));
    const writes: Write[] = [
      { op: 'update', model: Round, filter: { _id: round._id, seq: startSeq, status: { $in: ['scheduled', 'open'] } }, update: { $set: { seq, closesAt, extensions } } },
      ...(superseded.length ? [{ op: 'update' as const, model: Quote, filter: { _id: { $in: superseded }, status: 'active' }, update: { $set: { status: 'superseded' } }, multi: true }] : []),
      ...inserts.map((doc): Write => ({ op: 'insert', model: Quote, doc })),
      ...events.map((doc): Write => ({ op: 'insert', model: QuoteEvent, doc })),
      ...participants.map((doc): Write => ({ op: 'insert', model: Participant, doc })),
    ];
    const replies: StagedReply[] = [];
    for (const [i, o] of outcomes.entries()) {
      const pending = batch[i]!.idempotency;
      if (o.kind === 'accepted' && pending) replies.push({ pending, body: resultOf(o.round, o.quote, o.after, Boolean(o.extendedTo), false), stored: (reply) => (o.storedReply = reply) });
    }
    const [compareAndSet] = await uow.writeWith(writes, replies);
    if (compareAndSet!.matched !== 1) throw new StaleBook();
  }, { opensItself: true });
  book.round = { ...round, seq, closesAt, extensions };
  return outcomes;
}

/** The distributor's alias in the round: derived from the round and the distributor, unique in the round. */
function newAlias(book: RoundBook, orgId: string): string {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const alias = anonymousAliasCode(book.roundId, orgId, aliasSecret(), attempt);
    if (!book.aliasInUse(alias)) return alias;
  }
  throw new ConflictError({ code: 'ALIAS_EXHAUSTED', message: msg('errorCodes.ALIAS_EXHAUSTED') });
}

/** A distributor withdraws its active quote on a line before the close, in the round owner's process (after publication see withdrawListing). */
export async function withdrawQuote(actor: Actor, input: { roundId: string; lineId: string }, channel: 'http' | 'socket') {
  if (actor.role !== 'distributor') throw new ForbiddenError({ code: 'ROLE_REQUIRED', message: msg('errorCodes.ROLE_REQUIRED_2') });
  await consumeReserved('quote', actor.orgId, platform().config.quoteRateLimit, 60);
  try {
    return await atRoundOwner(input.roundId, FORWARDED_WITHDRAWAL, { actor, input, channel }, () => withdrawHere(actor, input, channel), msg('errorCodes.ROUND_BUSY_2'));
  } catch (err) {
    if (err instanceof AppError && err.status === 422) await recordRefusal(actor, input, err, channel).catch(() => undefined);
    throw err;
  }
}

/** The withdrawal itself, in the process that owns the round: after the batches queued before it. */
async function withdrawHere(actor: Actor, input: { roundId: string; lineId: string }, channel: 'http' | 'socket') {
  const outcome = await withRoundLock(input.roundId, async () => {
    const done = await withCommand(actor, async (uow) => {
      const session = uow.session;
      const at = uow.at;
      const round = Types.ObjectId.isValid(input.roundId) ? await Round.findById(input.roundId, null, { session }).lean<RoundRecord>() : null;
      if (!round || !canView(actor, round)) throw new NotFoundError({ code: 'ROUND_NOT_FOUND', message: msg('errorCodes.ROUND_NOT_FOUND') });
      const line = findLine(round, input.lineId);
      const closed = windowRefusal(round, at);
      if (closed) {
        throw new RuleViolationError({
          code: closed.code === 'ROUND_CLOSED' ? 'WITHDRAW_AFTER_CLOSE' : closed.code,
          message: closed.code === 'ROUND_CLOSED' ? msg('errorCodes.WITHDRAW_AFTER_CLOSE') : closed.message,
        });
      }
      const orgId = new Types.ObjectId(actor.orgId);
      const lineQuotes = await Quote.find({ roundId: round._id, lineId: line._id, status: 'active' }, null, { session }).lean<QuoteRecord[]>();
      const mine = lineQuotes.find((q) => String(q.distributorOrgId) === actor.orgId);
      if (!mine) throw new NotFoundError({ code: 'NO_ACTIVE_QUOTE', message: msg('errorCodes.NO_ACTIVE_QUOTE') });
      const seq = round.seq + 1;
      await Quote.updateOne({ _id: mine._id }, { $set: { status: 'withdrawn', withdrawnAt: at } }, { session });
      const res = await Round.updateOne({ _id: round._id, seq: round.seq }, { $set: { seq } }, { session });
      if (res.modifiedCount !== 1) throw new ConflictError({ code: 'ROUND_BUSY', message: msg('errorCodes.ROUND_BUSY_2') });
      await QuoteEvent.create(
        [{ roundId: round._id, at, type: 'withdrawn', seq, lineId: line._id, lineNo: line.no, distributorOrgId: orgId, distributorName: mine.distributorName, alias: mine.alias, userId: new Types.ObjectId(actor.id), quoteId: mine._id, priceFen: mine.priceFen, channel }],
        { session },
      );
      const withdrawn: QuoteRecord = { ...mine, status: 'withdrawn', withdrawnAt: at, seq: mine.seq };
      const before = rank(lineQuotes);
      const after = rank(lineQuotes.filter((q) => q !== mine));
      const news = new RankNews();
      news.start(String(line._id), before);
      news.tell(String(line._id), actor.orgId, null);
      emitChanges(uow, round, seq, round.closesAt, undefined, [changeOf('withdrawn', String(line._id), actor.orgId, withdrawn, before, after, seq)], news.moved(() => after));
      return { round: { ...round, seq }, line, before, after, quote: withdrawn };
    });
    // NOTE: the book of this process no longer matches the round; the next batch reads it afresh.
    dropBook(input.roundId);
    return done;
  });
  return { quoteId: String(outcome.quote._id), roundId: input.roundId, lineId: input.lineId, status: 'withdrawn' as const, withdrawnAt: outcome.quote.withdrawnAt!.toISOString(), seq: outcome.round.seq };
}
