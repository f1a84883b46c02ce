// Quotes: the rules of DESIGN §3.2 applied in one transaction on the round, so the database (not a
// timer) decides whether a quote arrived before the close. Every refusal says why, stores no quote,
// and is kept in the round's audit trail.
import { createHash } from 'node:crypto';
import mongoose, { Types, type ClientSession } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { now, platform } from '../../platform/context';
import { AppError, ConflictError, ForbiddenError, NotFoundError, refusalToError, RuleViolationError } from '../../platform/errors';
import { trusted } from '../../platform/mongo';
import { consumeRateLimit } from '../../platform/rate-limit';
import { assertMayTrade } from '../credit';
import { canView, publishLineChange, publishTiming, rank, type RankedQuote } from './quotation.board';
import { closeRoundJob, jobIds } from './quotation.jobs';
import { withRoundLock } from './quotation.lock';
import { Participant, Quote, QuoteEvent, Round, type QuoteEventRecord, type QuoteRecord, type RoundLineRecord, type RoundRecord } from './quotation.model';
import { anonymousAliasCode, antiSnipingDecision, checkQuote } from './quotation.rules';

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

/** The distributor's alias in the round, created on its first quote (retrying on the rare collision). */
async function ensureParticipant(round: RoundRecord, orgId: Types.ObjectId, orgName: string, session: ClientSession): Promise<string> {
  const existing = await Participant.findOne({ roundId: round._id, distributorOrgId: orgId }, { alias: 1 }, { session }).lean<{ alias: string }>();
  if (existing) return existing.alias;
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const alias = anonymousAliasCode(String(round._id), String(orgId), aliasSecret(), attempt);
    if (await Participant.exists({ roundId: round._id, alias }).session(session)) continue;
    await Participant.create([{ roundId: round._id, distributorOrgId: orgId, distributorName: orgName, alias, joinedAt: now() }], { session });
    return alias;
  }
  throw new ConflictError({ code: 'ALIAS_EXHAUSTED', message: 'Could not assign an anonymous alias; try again.' });
}

type WindowRefusal = 'ROUND_NOT_OPEN' | 'ROUND_CLOSED' | 'ROUND_CANCELLED';

/** Whether the round accepts quote changes at `at`, by its stored times and status (not by any timer). */
export function windowRefusal(round: RoundRecord, at: Date): { code: WindowRefusal; message: string } | null {
  if (round.status === 'cancelled') return { code: 'ROUND_CANCELLED', message: 'This round was cancelled.' };
  if (round.status === 'draft') return { code: 'ROUND_NOT_OPEN', message: 'This round has not been scheduled.' };
  if (round.status === 'closed' || round.status === 'published' || round.status === 'expired' || at.getTime() >= round.closesAt.getTime()) {
    return { code: 'ROUND_CLOSED', message: `Quoting closed at ${round.closesAt.toISOString()}.` };
  }
  if (at.getTime() < round.opensAt.getTime()) return { code: 'ROUND_NOT_OPEN', message: `Quoting opens at ${round.opensAt.toISOString()}.` };
  return null;
}

function findLine(round: RoundRecord, lineId: string): RoundLineRecord {
  const line = round.lines.find((l) => String(l._id) === lineId);
  if (!line) throw new NotFoundError({ code: 'LINE_NOT_FOUND', message: 'This round has no such line.' });
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
    throw new RuleViolationError({ code: 'CLIENT_KEY_REUSED', message: 'This clientKey was already used for a different quote.' });
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
 * the clientKey replay, the credit gate, then in one transaction on the round: the open window,
 * price ≤ reference, own previous minus the minimum decrement; stamps the server receipt time and the
 * next sequence number; extends the close when anti-sniping applies. Then pushes the change.
 */
export async function submitQuote(actor: Actor, input: QuoteInput, channel: 'http' | 'socket'): Promise<QuoteResult> {
  if (actor.role !== 'distributor') throw new ForbiddenError({ code: 'ROLE_REQUIRED', message: 'Only distributors quote.' });
  await consumeRateLimit('quote', actor.orgId, platform().config.quoteRateLimit, 60);
  const replay = await replayByClientKey(actor, input);
  if (replay) return replay;
  try {
    const round0 = Types.ObjectId.isValid(input.roundId) ? await Round.findById(input.roundId, { status: 1, lines: 1 }).lean<RoundRecord>() : null;
    if (!round0 || !canView(actor, round0)) throw new NotFoundError({ code: 'ROUND_NOT_FOUND', message: 'No such quotation round.' });
    findLine(round0, input.lineId);
    const hasPrevious = await Quote.exists({ roundId: round0._id, lineId: new Types.ObjectId(input.lineId), distributorOrgId: new Types.ObjectId(actor.orgId), status: trusted({ $in: ['active', 'withdrawn'] }) });
    await assertMayTrade(actor.orgId, hasPrevious ? 'revise_quote' : 'quote');
    const outcome = await withRoundLock(input.roundId, () => quoteTransaction(actor, actor.orgName, input, channel));
    if ('replay' in outcome) return (await replayByClientKey(actor, input))!;
    if (outcome.extendedTo) {
      await platform().queues.reschedule(closeRoundJob, { roundId: input.roundId }, jobIds.close(input.roundId), outcome.extendedTo);
      publishTiming(outcome.round, 'round:extended');
    }
    publishLineChange({ round: outcome.round, line: outcome.line, before: outcome.before, after: outcome.after, orgId: actor.orgId, own: outcome.quote });
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
}

async function quoteTransaction(actor: Actor, orgName: string, input: QuoteInput, channel: 'http' | 'socket'): Promise<QuoteOutcome | { replay: true }> {
  const orgId = new Types.ObjectId(actor.orgId);
  return mongoose.connection.transaction(async (session): Promise<QuoteOutcome | { replay: true }> => {
    // NOTE: a retried emit that raced the first one finds it here, under the round lock.
    if (input.clientKey && (await Quote.exists({ roundId: new Types.ObjectId(input.roundId), distributorOrgId: orgId, clientKey: input.clientKey }).session(session))) return { replay: true };
    const receivedAt = now();
    const round = await Round.findById(input.roundId, null, { session }).lean<RoundRecord>();
    if (!round) throw new NotFoundError({ code: 'ROUND_NOT_FOUND', message: 'No such quotation round.' });
    const closed = windowRefusal(round, receivedAt);
    if (closed) throw new RuleViolationError(closed);
    const line = findLine(round, input.lineId);
    const lineQuotes = await Quote.find({ roundId: round._id, lineId: line._id, status: 'active' }, null, { session }).lean<QuoteRecord[]>();
    const previous = await Quote.findOne({ roundId: round._id, lineId: line._id, distributorOrgId: orgId, status: trusted({ $in: ['active', 'withdrawn'] }) }, null, { session })
      .sort({ seq: -1 })
      .lean<QuoteRecord>();
    const verdict = checkQuote({ priceFen: input.priceFen, referenceFen: line.referenceFen, previousPriceFen: previous?.priceFen ?? null, minDecrementFen: line.minDecrementFen });
    if (!verdict.ok) throw refusalToError(verdict);

    const alias = await ensureParticipant(round, orgId, orgName, session);
    const seq = round.seq + 1;
    if (previous?.status === 'active') await Quote.updateOne({ _id: previous._id }, { $set: { status: 'superseded' } }, { session });
    const quoteId = new Types.ObjectId();
    const quote: QuoteRecord = {
      _id: quoteId,
      roundId: round._id,
      lineId: line._id,
      distributorOrgId: orgId,
      distributorName: orgName,
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
    await Quote.create([quote], { session });

    const before = rank(lineQuotes);
    const after = rank([...lineQuotes.filter((q) => String(q._id) !== String(previous?._id)), quote]);
    const bestChanged = before[0]?.priceFen !== after[0]?.priceFen;
    const decision = antiSnipingDecision({
      receivedAt,
      closesAt: round.closesAt,
      bestChanged,
      windowSec: round.antiSniping.windowSec,
      extendSec: round.antiSniping.extendSec,
      extensionsSoFar: round.extensions,
      maxExtensions: round.antiSniping.maxExtensions,
    });
    const set: Record<string, unknown> = { seq };
    if (decision.extend) Object.assign(set, { closesAt: decision.newClosesAt, extensions: decision.extensionNumber });
    const res = await Round.updateOne({ _id: round._id, seq: round.seq }, { $set: set }, { session });
    if (res.modifiedCount !== 1) throw new ConflictError({ code: 'ROUND_BUSY', message: 'The round changed meanwhile; send the quote again.' });

    const events: Partial<QuoteEventRecord>[] = [
      {
        roundId: round._id,
        at: receivedAt,
        type: previous ? 'revised' : 'submitted',
        seq,
        lineId: line._id,
        lineNo: line.no,
        distributorOrgId: orgId,
        distributorName: orgName,
        alias,
        userId: new Types.ObjectId(actor.id),
        quoteId,
        priceFen: input.priceFen,
        previousPriceFen: previous?.priceFen,
        channel,
      },
    ];
    if (decision.extend) {
      events.push({ roundId: round._id, at: receivedAt, type: 'extended', seq, lineId: line._id, lineNo: line.no, alias, quoteId, closesAt: decision.newClosesAt, extensionNumber: decision.extensionNumber });
    }
    await QuoteEvent.insertMany(events, { session });
    const updated: RoundRecord = { ...round, ...(set as Partial<RoundRecord>) };
    return { round: updated, line, quote, before, after, ...(decision.extend ? { extendedTo: decision.newClosesAt } : {}) };
  });
}

/** A distributor withdraws its active quote on a line before the close (after publication see withdrawListing). */
export async function withdrawQuote(actor: Actor, input: { roundId: string; lineId: string }, channel: 'http' | 'socket') {
  if (actor.role !== 'distributor') throw new ForbiddenError({ code: 'ROLE_REQUIRED', message: 'Only distributors withdraw quotes.' });
  try {
    const outcome = await withRoundLock(input.roundId, () =>
      mongoose.connection.transaction(async (session) => {
        const at = now();
        const round = Types.ObjectId.isValid(input.roundId) ? await Round.findById(input.roundId, null, { session }).lean<RoundRecord>() : null;
        if (!round || !canView(actor, round)) throw new NotFoundError({ code: 'ROUND_NOT_FOUND', message: 'No such quotation round.' });
        const line = findLine(round, input.lineId);
        const closed = windowRefusal(round, at);
        if (closed) {
          throw new RuleViolationError({
            code: closed.code === 'ROUND_CLOSED' ? 'WITHDRAW_AFTER_CLOSE' : closed.code,
            message: closed.code === 'ROUND_CLOSED' ? 'Quotes can only be withdrawn before the close; a published listing is withdrawn from the listings page (a credit breach).' : closed.message,
          });
        }
        const orgId = new Types.ObjectId(actor.orgId);
        const lineQuotes = await Quote.find({ roundId: round._id, lineId: line._id, status: 'active' }, null, { session }).lean<QuoteRecord[]>();
        const mine = lineQuotes.find((q) => String(q.distributorOrgId) === actor.orgId);
        if (!mine) throw new NotFoundError({ code: 'NO_ACTIVE_QUOTE', message: 'You have no active quote on this line.' });
        const seq = round.seq + 1;
        await Quote.updateOne({ _id: mine._id }, { $set: { status: 'withdrawn', withdrawnAt: at } }, { session });
        const res = await Round.updateOne({ _id: round._id, seq: round.seq }, { $set: { seq } }, { session });
        if (res.modifiedCount !== 1) throw new ConflictError({ code: 'ROUND_BUSY', message: 'The round changed meanwhile; try again.' });
        await QuoteEvent.create(
          [{ roundId: round._id, at, type: 'withdrawn', seq, lineId: line._id, lineNo: line.no, distributorOrgId: orgId, distributorName: mine.distributorName, alias: mine.alias, userId: new Types.ObjectId(actor.id), quoteId: mine._id, priceFen: mine.priceFen, channel }],
          { session },
        );
        const withdrawn: QuoteRecord = { ...mine, status: 'withdrawn', withdrawnAt: at, seq: mine.seq };
        return { round: { ...round, seq }, line, before: rank(lineQuotes), after: rank(lineQuotes.filter((q) => q !== mine)), quote: withdrawn };
      }),
    );
    publishLineChange({ round: outcome.round, line: outcome.line, before: outcome.before, after: outcome.after, orgId: actor.orgId, own: outcome.quote });
    return { quoteId: String(outcome.quote._id), roundId: input.roundId, lineId: input.lineId, status: 'withdrawn' as const, withdrawnAt: outcome.quote.withdrawnAt!.toISOString(), seq: outcome.round.seq };
  } catch (err) {
    if (err instanceof AppError && err.status === 422) await recordRefusal(actor, input, err, channel).catch(() => undefined);
    throw err;
  }
}
