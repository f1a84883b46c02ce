// Quotes: the round's rules (price ≤ reference, each revision lower by the minimum decrement, ties by
// receipt time, anti-sniping extensions) applied in one transaction on the round, so the database (not a
// timer) decides whether a quote arrived before the close. Every refusal says why, stores no quote,
// and is kept in the round's audit trail.
import { createHash } from 'node:crypto';
import { Types, type ClientSession } from 'mongoose';
import { QuotesCommitted } from '../../events/quotation';
import type { Actor } from '../../platform/auth';
import { now, platform } from '../../platform/context';
import { AppError, ConflictError, ForbiddenError, NotFoundError, refusalToError, RuleViolationError } from '../../platform/errors';
import { trusted } from '../../platform/mongo';
import { consumeRateLimit } from '../../platform/rate-limit';
import { markStored, storeReplyIn } from '../../platform/idempotency';
import { currentContext, runWithContext, type PendingIdempotency } from '../../platform/request-context';
import { assertMayTrade } from '../credit';
import { outsideUnitOfWork, withCommand, type UnitOfWork } from '../../platform/unit-of-work';
import { canView, rank, type RankedQuote } from './quotation.board';
import { withRoundLock } from './quotation.lock';
import { Participant, Quote, QuoteEvent, Round, type QuoteEventRecord, type QuoteRecord, type RoundLineRecord, type RoundRecord } from './quotation.model';
import { anonymousAliasCode, antiSnipingDecision, checkQuote } from './quotation.rules';
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

// NOTE: an alias never changes once committed, so each process remembers the committed ones it reads.
const knownAliases = new Map<string, string>();

/**
 * The distributor's alias in the round, created on its first quote (retrying on the rare collision).
 * `batch` holds the aliases created by the current transaction (not yet committed, never cached).
 */
async function ensureParticipant(round: RoundRecord, orgId: Types.ObjectId, orgName: string, session: ClientSession, batch: Map<string, string>): Promise<string> {
  const cacheKey = `${String(round._id)}:${String(orgId)}`;
  const known = knownAliases.get(cacheKey) ?? batch.get(String(orgId));
  if (known) return known;
  const existing = await Participant.findOne({ roundId: round._id, distributorOrgId: orgId }, { alias: 1 }, { session }).lean<{ alias: string }>();
  if (existing) {
    if (knownAliases.size > 50_000) knownAliases.clear();
    knownAliases.set(cacheKey, existing.alias);
    return existing.alias;
  }
  const taken = new Set(batch.values());
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const alias = anonymousAliasCode(String(round._id), String(orgId), aliasSecret(), attempt);
    if (taken.has(alias) || (await Participant.exists({ roundId: round._id, alias }).session(session))) continue;
    await Participant.create([{ roundId: round._id, distributorOrgId: orgId, distributorName: orgName, alias, joinedAt: now() }], { session });
    batch.set(String(orgId), alias);
    return alias;
  }
  throw new ConflictError({ code: 'ALIAS_EXHAUSTED', message: msg('errorCodes.ALIAS_EXHAUSTED') });
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
 * when anti-sniping applies. Then pushes the change.
 */
export async function submitQuote(actor: Actor, input: QuoteInput, channel: 'http' | 'socket'): Promise<QuoteResult> {
  if (actor.role !== 'distributor') throw new ForbiddenError({ code: 'ROLE_REQUIRED', message: msg('errorCodes.ROLE_REQUIRED') });
  await consumeRateLimit('quote', actor.orgId, platform().config.quoteRateLimit, 60);
  try {
    await roundLines(actor, input.roundId, input.lineId);
    try {
      await assertMayTrade(actor.orgId, 'quote');
    } catch (gate) {
      // NOTE: the gate is asked as for a first quote (the common case); a refusal of a revision is worded as such.
      const orgId = new Types.ObjectId(actor.orgId);
      if (await Quote.exists({ roundId: new Types.ObjectId(input.roundId), lineId: new Types.ObjectId(input.lineId), distributorOrgId: orgId, status: trusted({ $in: ['active', 'withdrawn'] }) })) {
        await assertMayTrade(actor.orgId, 'revise_quote');
      }
      throw gate;
    }
    const idempotency = currentContext()?.idempotency;
    const outcome = await enqueueQuote({ actor, input, channel, receivedAt: now(), idempotency });
    if (outcome.kind === 'replay') return (await replayByClientKey(actor, input))!;
    if (outcome.kind === 'refused') throw outcome.error;
    if (idempotency && outcome.storedReply !== undefined) markStored(idempotency, outcome.storedReply);
    // NOTE: the live board, the moved close job and the extension push follow from the committed
    // change (subscribers of `quotation.quotes_committed`).
    return resultOf(outcome.round, outcome.quote, outcome.after, Boolean(outcome.extendedTo), false);
  } catch (err) {
    if (isRecordableRefusal(err)) await recordRefusal(actor, input, err, channel).catch(() => undefined);
    if ((err as { code?: number }).code === 11000 && input.clientKey) {
      const again = await replayByClientKey(actor, input);
      if (again) return again;
    }
    throw err;
  }
}

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
  /** Stamped when the quote joins its round's queue, after the checks that need no lock. */
  receivedAt: Date;
  /** The HTTP request's Idempotency-Key, completed in the batch's transaction with the quote. */
  idempotency?: PendingIdempotency;
  resolve: (outcome: ItemOutcome) => void;
  reject: (err: unknown) => void;
}

const MAX_BATCH = 100;
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

async function drain(roundId: string): Promise<void> {
  draining.add(roundId);
  try {
    for (;;) {
      const queue = waiting.get(roundId);
      if (!queue || queue.length === 0) break;
      const batch = queue.splice(0, MAX_BATCH);
      try {
        // NOTE: a batch holds quotes of many requests; it runs in its own context, so no request's
        // Idempotency-Key is completed by a transaction that is not that request's alone.
        const outcomes = await runWithContext({ requestId: `round-batch:${roundId}` }, () => withRoundLock(roundId, () => quoteBatchTransaction(roundId, batch)));
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

/** A quote change as the live board needs it (the event's JSON). */
function changeOf(kind: 'submitted' | 'revised' | 'withdrawn', lineId: string, orgId: string, own: QuoteRecord, before: RankedQuote[], after: RankedQuote[], seq: number) {
  const ranked = (list: RankedQuote[]) => list.map((q) => ({ ...q, receivedAt: q.receivedAt.toISOString() }));
  return {
    kind,
    lineId,
    seq,
    distributorOrgId: orgId,
    own: { quoteId: String(own._id), priceFen: own.priceFen, receivedAt: own.receivedAt.toISOString(), status: own.status === 'withdrawn' ? ('withdrawn' as const) : ('active' as const) },
    before: ranked(before),
    after: ranked(after),
  };
}

function emitChanges(uow: UnitOfWork, round: Pick<RoundRecord, '_id'>, seq: number, closesAt: Date, extendedTo: Date | undefined, changes: ReturnType<typeof changeOf>[]): void {
  const roundId = String(round._id);
  uow.emit(QuotesCommitted, { roundId, seq, closesAt: closesAt.toISOString(), ...(extendedTo ? { extendedTo: extendedTo.toISOString() } : {}), changes }, { key: `round-quotes:${roundId}:${seq}` });
}

async function quoteBatchTransaction(roundId: string, batch: PendingQuote[]): Promise<ItemOutcome[]> {
  return withCommand(null, async (uow): Promise<ItemOutcome[]> => {
    const session = uow.session;
    const round = await Round.findById(roundId, null, { session }).lean<RoundRecord>();
    if (!round) throw new NotFoundError({ code: 'ROUND_NOT_FOUND', message: msg('errorCodes.ROUND_NOT_FOUND') });
    const lineIds = [...new Set(batch.map((b) => b.input.lineId))].map((id) => new Types.ObjectId(id));
    const orgIds = [...new Set(batch.map((b) => b.actor.orgId))].map((id) => new Types.ObjectId(id));
    const keys = batch.flatMap((b) => (b.input.clientKey ? [b.input.clientKey] : []));
    // One read for the lines' rankings, each quoting distributor's latest own quotes (even withdrawn)
    // and earlier quotes with the same clientKeys (retried emits that raced the first one).
    const related = await Quote.find(
      {
        roundId: round._id,
        $or: [
          { lineId: trusted({ $in: lineIds }), status: 'active' },
          { lineId: trusted({ $in: lineIds }), distributorOrgId: trusted({ $in: orgIds }), status: 'withdrawn' },
          ...(keys.length ? [{ distributorOrgId: trusted({ $in: orgIds }), clientKey: trusted({ $in: keys }) }] : []),
        ],
      },
      null,
      { session },
    ).lean<QuoteRecord[]>();
    const usedKeys = new Set(related.filter((q) => q.clientKey).map((q) => `${String(q.distributorOrgId)}:${q.clientKey}`));
    const active = new Map<string, QuoteRecord[]>();
    const latestOwn = new Map<string, QuoteRecord>();
    for (const q of related) {
      if (!lineIds.some((id) => id.equals(q.lineId))) continue;
      if (q.status === 'active') active.set(String(q.lineId), [...(active.get(String(q.lineId)) ?? []), q]);
      const own = `${String(q.lineId)}:${String(q.distributorOrgId)}`;
      if (q.status !== 'superseded' && (latestOwn.get(own)?.seq ?? -1) < q.seq) latestOwn.set(own, q);
    }

    let seq = round.seq;
    let closesAt = round.closesAt;
    let extensions = round.extensions;
    const newAliases = new Map<string, string>();
    const superseded: Types.ObjectId[] = [];
    const inserts: QuoteRecord[] = [];
    const events: Partial<QuoteEventRecord>[] = [];
    const outcomes: ItemOutcome[] = [];
    for (const { actor, input, channel, receivedAt } of batch) {
      const orgId = new Types.ObjectId(actor.orgId);
      if (input.clientKey && usedKeys.has(`${actor.orgId}:${input.clientKey}`)) {
        outcomes.push({ kind: 'replay' });
        continue;
      }
      const current = { ...round, seq, closesAt, extensions };
      const closed = windowRefusal(current, receivedAt);
      if (closed) {
        outcomes.push({ kind: 'refused', error: new RuleViolationError(closed) });
        continue;
      }
      const line = findLine(round, input.lineId);
      const lineKey = String(line._id);
      const lineQuotes = active.get(lineKey) ?? [];
      const previous = latestOwn.get(`${lineKey}:${actor.orgId}`);
      const verdict = checkQuote({ priceFen: input.priceFen, referenceFen: line.referenceFen, previousPriceFen: previous?.priceFen ?? null, minDecrementFen: line.minDecrementFen });
      if (!verdict.ok) {
        outcomes.push({ kind: 'refused', error: refusalToError(verdict) });
        continue;
      }
      const alias = await ensureParticipant(round, orgId, actor.orgName, session, newAliases);
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
        const fresh = inserts.findIndex((q) => q._id.equals(previous._id));
        if (fresh >= 0) inserts[fresh] = { ...inserts[fresh]!, status: 'superseded' };
        else superseded.push(previous._id);
      }
      inserts.push(quote);
      if (input.clientKey) usedKeys.add(`${actor.orgId}:${input.clientKey}`);
      const before = rank(lineQuotes);
      const nextLine = [...lineQuotes.filter((q) => !q._id.equals(previous?._id ?? new Types.ObjectId('000000000000000000000000'))), quote];
      active.set(lineKey, nextLine);
      latestOwn.set(`${lineKey}:${actor.orgId}`, quote);
      const after = rank(nextLine);
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
        previousPriceFen: previous?.priceFen,
        channel,
      });
      if (decision.extend) {
        closesAt = decision.newClosesAt;
        extensions = decision.extensionNumber;
        events.push({ roundId: round._id, at: receivedAt, type: 'extended', seq, lineId: line._id, lineNo: line.no, alias, quoteId: quote._id, closesAt, extensionNumber: extensions });
      }
      outcomes.push({ kind: 'accepted', round: { ...round, seq, closesAt, extensions }, line, quote, before, after, ...(decision.extend ? { extendedTo: closesAt } : {}) });
    }
    if (inserts.length === 0) return outcomes;
    if (superseded.length) await Quote.updateMany({ _id: trusted({ $in: superseded }), status: 'active' }, { $set: { status: 'superseded' } }, { session });
    await Quote.insertMany(inserts, { session });
    const res = await Round.updateOne({ _id: round._id, seq: round.seq }, { $set: { seq, closesAt, extensions } }, { session });
    if (res.modifiedCount !== 1) throw new ConflictError({ code: 'ROUND_BUSY', message: msg('errorCodes.ROUND_BUSY') });
    await QuoteEvent.insertMany(events, { session });
    for (const [i, o] of outcomes.entries()) {
      const pending = batch[i]!.idempotency;
      if (o.kind === 'accepted' && pending) o.storedReply = await storeReplyIn(session, pending, resultOf(o.round, o.quote, o.after, Boolean(o.extendedTo), false), uow.at);
    }
    const accepted = outcomes.flatMap((o) => (o.kind === 'accepted' ? [o] : []));
    const extendedTo = closesAt.getTime() !== round.closesAt.getTime() ? closesAt : undefined;
    emitChanges(
      uow,
      round,
      seq,
      closesAt,
      extendedTo,
      accepted.map((o) => changeOf(o.quote.previousQuoteId ? 'revised' : 'submitted', String(o.line._id), String(o.quote.distributorOrgId), o.quote, o.before, o.after, o.quote.seq)),
    );
    return outcomes;
  });
}

/** A distributor withdraws its active quote on a line before the close (after publication see withdrawListing). */
export async function withdrawQuote(actor: Actor, input: { roundId: string; lineId: string }, channel: 'http' | 'socket') {
  if (actor.role !== 'distributor') throw new ForbiddenError({ code: 'ROLE_REQUIRED', message: msg('errorCodes.ROLE_REQUIRED_2') });
  await consumeRateLimit('quote', actor.orgId, platform().config.quoteRateLimit, 60);
  try {
    const outcome = await withRoundLock(input.roundId, () =>
      withCommand(actor, async (uow) => {
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
        emitChanges(uow, round, seq, round.closesAt, undefined, [changeOf('withdrawn', String(line._id), actor.orgId, withdrawn, before, after, seq)]);
        return { round: { ...round, seq }, line, before, after, quote: withdrawn };
      }),
    );
    return { quoteId: String(outcome.quote._id), roundId: input.roundId, lineId: input.lineId, status: 'withdrawn' as const, withdrawnAt: outcome.quote.withdrawnAt!.toISOString(), seq: outcome.round.seq };
  } catch (err) {
    if (err instanceof AppError && err.status === 422) await recordRefusal(actor, input, err, channel).catch(() => undefined);
    throw err;
  }
}
