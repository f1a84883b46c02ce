// Tenders: lines pooled from a closed declaration, each with a ceiling price; sealed bids (or live
// rank-only) until the closing time; the credit gate on every bid. A bid is written in a transaction
// that also bumps the tender, so a bid and the opening can never both commit against the same state:
// the database, not a timer, decides whether a bid arrived before the close.
import { Types, type ClientSession } from 'mongoose';
import { BidChanged, TenderCreated, vbpEventKeys } from '../../events/vbp';
import type { Actor } from '../../platform/auth';
import { now, platform } from '../../platform/context';
import { NotFoundError, RuleViolationError, ValidationError, problemsMessage } from '../../platform/errors';
import { dateTime, fen, msg, type Message } from '../../platform/messages';
import { trusted } from '../../platform/mongo';
import { beforeCursor, pageOf } from '../../platform/pagination';
import { withCommand } from '../../platform/unit-of-work';
import { formatDateTime, formatMoney } from '../../platform/view-helpers/formatters';
import { assertMayTrade } from '../credit';
import { formatNumber, oid, reserveNumbers, sameId } from './vbp.common';
import { demandsFor, isOpen, loadDeclaration } from './vbp.declarations';
import { Bid, FollowResponse, Tender, type BidDoc, type FollowResponseDoc, type StoredSelection, type TenderDoc, type TenderLine } from './vbp.model';
import type { BidInput, CreateTenderInput } from './vbp.schemas';
import { SelectionRulesSchema, getVbpSettings } from './vbp.settings';
import type { BidOutcome, SelectionReason, SelectionResult } from './vbp.selection';

export async function loadTender(id: string): Promise<TenderDoc> {
  const t = Types.ObjectId.isValid(id) ? await Tender.findById(id).lean<TenderDoc>() : null;
  if (!t) throw new NotFoundError({ code: 'TENDER_NOT_FOUND', message: msg('errorCodes.TENDER_NOT_FOUND_2') });
  return t;
}

export function findLine(t: TenderDoc, lineId: string): TenderLine {
  const line = t.lines.find((l) => sameId(l._id, lineId.toLowerCase()));
  if (!line) throw new NotFoundError({ code: 'LINE_NOT_FOUND', message: msg('errorCodes.LINE_NOT_FOUND_3') });
  return line;
}

/** Operator: a tender on a closed declaration, one line per drug with its ceiling price; answers the tender as the operator sees it. */
export async function createTender(actor: Actor, input: CreateTenderInput, lang: 'zh' | 'en' = 'zh'): Promise<TenderView> {
  const at = now();
  const settings = await getVbpSettings();
  const declaration = await loadDeclaration(input.declarationId);
  if (isOpen(declaration, at)) {
    throw new RuleViolationError({ code: 'DECLARATION_STILL_OPEN', message: msg('errorCodes.DECLARATION_STILL_OPEN', { deadline: dateTime(declaration.deadline) }) });
  }
  const details: { path: string; code: string; message: Message }[] = [];
  const closesAt = new Date(input.closesAt);
  if (closesAt.getTime() <= at.getTime()) details.push({ path: 'closesAt', code: 'CLOSES_IN_PAST', message: msg('errorCodes.CLOSES_IN_PAST') });
  const seen = new Set<string>();
  const lines: TenderLine[] = [];
  for (const [i, l] of input.lines.entries()) {
    const drugId = l.drugId.toLowerCase();
    const drug = declaration.drugs.find((d) => sameId(d.drugId, drugId));
    if (seen.has(drugId)) {
      details.push({ path: `lines.${i}.drugId`, code: 'DUPLICATE_DRUG', message: msg('errorCodes.DUPLICATE_DRUG_2') });
      continue;
    }
    seen.add(drugId);
    if (!drug) {
      details.push({ path: `lines.${i}.drugId`, code: 'DRUG_NOT_IN_DECLARATION', message: msg('errorCodes.DRUG_NOT_IN_DECLARATION_2') });
      continue;
    }
    const demands = await demandsFor(declaration._id, drug.drugId);
    const pooledQty = demands.reduce((s, e) => s + e.quantity, 0);
    if (pooledQty === 0) {
      details.push({ path: `lines.${i}.drugId`, code: 'NO_DEMAND', message: msg('errorCodes.NO_DEMAND', { genericNameZh: drug.genericNameZh }) });
      continue;
    }
    lines.push({
      _id: new Types.ObjectId(),
      drugId: drug.drugId,
      genericNameZh: drug.genericNameZh,
      genericNameEn: drug.genericNameEn,
      specification: drug.specification,
      packUnit: drug.packUnit,
      formClass: drug.formClass,
      ceilingFen: l.ceilingFen,
      pooledQty,
      demands: demands.map((e) => ({ hospitalOrgId: e.hospitalOrgId, hospitalName: e.hospitalName, quantity: e.quantity, preferredDistributorOrgId: e.preferredDistributorOrgId ?? null })),
      selection: null,
    });
  }
  const rules = SelectionRulesSchema.safeParse({ ...settings.tender.selection, ...input.rules });
  if (!rules.success) for (const issue of rules.error.issues) details.push({ path: `rules.${issue.path.join('.')}`, code: 'INVALID_RULES', message: msg('errorCodes.INVALID_RULES', { path: issue.path.join('.') }) });
  if (details.length || !rules.success) {
    const ruleCodes = new Set(['NO_DEMAND', 'DRUG_NOT_IN_DECLARATION']);
    const Err = details.every((d) => ruleCodes.has(d.code)) ? RuleViolationError : ValidationError;
    throw new Err({ code: details[0]?.code ?? 'INVALID_RULES', message: problemsMessage(details.map((d) => d.message)), details });
  }
  const selectionRules = rules.data;
  return withCommand(actor, async (uow) => {
    const { day, first } = await reserveNumbers('T', at, 1, uow.session);
    const t: TenderDoc = {
      _id: new Types.ObjectId(),
      tenderNo: formatNumber('VBP-T', day, first, 3),
      title: input.title,
      declarationId: declaration._id,
      status: 'bidding',
      visibility: input.visibility ?? settings.tender.visibility,
      closesAt,
      rules: selectionRules,
      useFewBiddersRule: input.useFewBiddersRule ?? settings.tender.useFewBiddersRule,
      followWindowSec: input.followWindowSec ?? settings.tender.followWindowSec,
      backupPrice: input.backupPrice ?? settings.tender.backupPrice,
      checkpointShareBp: input.checkpointShareBp ?? settings.completion.checkpointShareBp,
      bidSeq: 0,
      lines,
      createdAt: at,
      createdById: oid(actor.id),
      createdByName: actor.name,
    };
    await Tender.create([t], { session: uow.session });
    const id = String(t._id);
    uow.audit({
      action: 'vbp.tender.create',
      targetType: 'vbp_tender',
      targetId: id,
      summary: msg('vbp.audit.tenderCreated', { tenderNo: t.tenderNo, title: t.title, lines: t.lines.length, closesAt: dateTime(t.closesAt) }),
    });
    uow.emit(TenderCreated, { tenderId: id, tenderNo: t.tenderNo, title: t.title, lineCount: t.lines.length, closesAt: t.closesAt.toISOString() }, { key: vbpEventKeys.tenderCreated(id) });
    return tenderView(actor, t, lang);
  });
}

export async function listTenders(q: { cursor?: string; limit: number }) {
  const rows = await Tender.find(beforeCursor('createdAt', q.cursor)).sort({ createdAt: -1, _id: -1 }).limit(q.limit + 1).lean<TenderDoc[]>();
  const page = pageOf(rows, q.limit, (r) => r.createdAt);
  return { rows: page.rows, nextCursor: page.nextCursor };
}

function closedError(t: TenderDoc): RuleViolationError {
  return new RuleViolationError({ code: 'TENDER_CLOSED', message: msg('errorCodes.TENDER_CLOSED', { closesAt: dateTime(t.closesAt) }) });
}

export interface OwnBidView {
  id: string;
  lineId: string;
  priceFen: number;
  submittedAt: string;
  revisions: number;
  /** Live rank among the line's bids (rank-only tenders, before opening); null when sealed. */
  rank: number | null;
  bidders: number | null;
}

/** Ranks bids by price, then earlier receipt, then id (the selection engine's order). */
export function rankBids<T extends Pick<BidDoc, '_id' | 'priceFen' | 'submittedAt'>>(bids: T[]): T[] {
  return [...bids].sort((a, b) => a.priceFen - b.priceFen || a.submittedAt.getTime() - b.submittedAt.getTime() || (String(a._id) < String(b._id) ? -1 : 1));
}

/** Distributor: places or revises its sealed bid on a line until the opening. */
export async function placeBid(actor: Actor, tenderId: string, input: BidInput): Promise<OwnBidView> {
  await assertMayTrade(actor.orgId, 'bid');
  const t = await loadTender(tenderId);
  const line = findLine(t, input.lineId);
  const at = now();
  if (t.status !== 'bidding' || at.getTime() >= t.closesAt.getTime()) throw closedError(t);
  if (input.priceFen > line.ceilingFen) {
    throw new RuleViolationError({
      code: 'ABOVE_CEILING',
      message: msg('errorCodes.ABOVE_CEILING', { priceFen: fen(input.priceFen), ceilingFen: fen(line.ceilingFen) }),
      details: [{ path: 'priceFen', code: 'ABOVE_CEILING', message: msg('errorCodes.AT_MOST_CEILING', { ceiling: fen(line.ceilingFen) }), ceilingFen: line.ceilingFen }],
    });
  }
  const key = { tenderId: t._id, lineId: line._id, distributorOrgId: oid(actor.orgId) };
  const visibility = t.visibility;
  return withCommand(actor, async (uow) => {
    const bidSeq = await bumpBidSeq(t, at, uow.session);
    const existing = await Bid.findOne(key, null, { session: uow.session }).lean<BidDoc>();
    let bid: BidDoc;
    if (existing && existing.priceFen === input.priceFen) bid = existing;
    else {
      const saved = await Bid.findOneAndUpdate(
        key,
        {
          $set: { priceFen: input.priceFen, submittedAt: at, distributorName: actor.orgName, submittedById: oid(actor.id) },
          $setOnInsert: { firstSubmittedAt: at },
          $inc: { revisions: 1 },
        },
        { upsert: true, returnDocument: 'after', session: uow.session },
      ).lean<BidDoc>();
      if (!saved) throw new Error('bid upsert returned nothing');
      bid = saved;
      const change = existing ? 'revised' : 'placed';
      const id = String(t._id);
      uow.emit(BidChanged, { tenderId: id, lineId: String(line._id), distributorOrgId: String(key.distributorOrgId), change, bidSeq }, { key: vbpEventKeys.bidChanged(id, bidSeq) });
    }
    uow.audit({
      action: 'vbp.bid.submit',
      targetType: 'vbp_tender',
      targetId: tenderId,
      summary: msg(bid.revisions > 1 ? 'vbp.audit.bidRevised' : 'vbp.audit.bidPlaced', { tenderNo: t.tenderNo, drug: line.genericNameZh }),
    });
    if (visibility !== 'rank') return ownBidView(bid, null, null);
    const ranks = await lineRanks(t._id, line._id, uow.session);
    const mine = ranks.find((r) => sameId(r.distributorOrgId, actor.orgId));
    return ownBidView(bid, mine?.rank ?? null, ranks.length);
  });
}

/** Bumps the tender's bid sequence in the unit of work; a tender no longer taking bids refuses. */
async function bumpBidSeq(t: TenderDoc, at: Date, session: ClientSession): Promise<number> {
  const bumped = await Tender.findOneAndUpdate({ _id: t._id, status: 'bidding', closesAt: trusted({ $gt: at }) }, { $inc: { bidSeq: 1 } }, { returnDocument: 'after', session, projection: { bidSeq: 1 } }).lean<Pick<TenderDoc, 'bidSeq'>>();
  if (!bumped) throw closedError(t);
  return bumped.bidSeq;
}

function ownBidView(b: BidDoc, rank: number | null, bidders: number | null): OwnBidView {
  return { id: String(b._id), lineId: String(b.lineId), priceFen: b.priceFen, submittedAt: b.submittedAt.toISOString(), revisions: b.revisions, rank, bidders };
}

/** Distributor: withdraws its bid on a line before the opening. */
export async function withdrawBid(actor: Actor, tenderId: string, bidId: string): Promise<void> {
  const t = await loadTender(tenderId);
  const at = now();
  const bid = await Bid.findOne({ _id: oid(bidId), tenderId: t._id, distributorOrgId: oid(actor.orgId) }).lean<BidDoc>();
  if (!bid) throw new NotFoundError({ code: 'BID_NOT_FOUND', message: msg('errorCodes.BID_NOT_FOUND') });
  if (t.status !== 'bidding' || at.getTime() >= t.closesAt.getTime()) throw closedError(t);
  const line = t.lines.find((l) => sameId(l._id, bid.lineId));
  await withCommand(actor, async (uow) => {
    const bidSeq = await bumpBidSeq(t, at, uow.session);
    await Bid.deleteOne({ _id: bid._id }, { session: uow.session });
    uow.audit({ action: 'vbp.bid.withdraw', targetType: 'vbp_tender', targetId: tenderId, summary: msg('vbp.audit.bidWithdrawn', { tenderNo: t.tenderNo, drug: line?.genericNameZh ?? '' }) });
    const id = String(t._id);
    uow.emit(BidChanged, { tenderId: id, lineId: String(bid.lineId), distributorOrgId: String(bid.distributorOrgId), change: 'withdrawn', bidSeq }, { key: vbpEventKeys.bidChanged(id, bidSeq) });
  });
}

/** The bidders of a line in rank order (price, then receipt, then id). */
async function lineRanks(tenderId: Types.ObjectId, lineId: Types.ObjectId, session?: ClientSession): Promise<{ distributorOrgId: Types.ObjectId; rank: number }[]> {
  const bids = rankBids(await Bid.find({ tenderId, lineId }, { distributorOrgId: 1, priceFen: 1, submittedAt: 1 }, { session }).lean<BidDoc[]>());
  return bids.map((b, i) => ({ distributorOrgId: b.distributorOrgId, rank: i + 1 }));
}

/**
 * After a bid change (a subscriber): the operator gets the line's bid count (never prices); in a
 * rank-only tender still taking bids, each bidder on the line gets its own rank. Read from the
 * database at the time, so a repeated push only repeats the current state.
 */
export async function pushBidUpdates(tenderId: string, lineId: string): Promise<void> {
  const t = await Tender.findById(oid(tenderId), { visibility: 1, status: 1 }).lean<Pick<TenderDoc, '_id' | 'visibility' | 'status'>>();
  if (!t) return;
  const ranks = await lineRanks(t._id, oid(lineId));
  const { broadcaster } = platform();
  broadcaster.toRole('operator', 'vbp:bid_count', { tenderId, lineId, bids: ranks.length });
  if (t.visibility === 'rank' && t.status === 'bidding') {
    for (const r of ranks) broadcaster.toOrg(String(r.distributorOrgId), 'vbp:rank', { tenderId, lineId, rank: r.rank, bidders: ranks.length });
  }
}

/** Bid counts per line (what the operator may know before the opening). */
export async function bidCounts(tenderId: Types.ObjectId): Promise<Map<string, number>> {
  const rows = await Bid.aggregate<{ _id: Types.ObjectId; n: number }>([{ $match: { tenderId } }, { $group: { _id: '$lineId', n: { $sum: 1 } } }]);
  return new Map(rows.map((r) => [String(r._id), r.n]));
}

export interface LineStats {
  validBidderCount: number;
  shortlistSize: number;
  lowestPriceFen: number | null;
  anchorFen: number | null;
  spreadLimitFen: number | null;
  floorFen: number | null;
  usedFewBiddersRule: boolean;
  highestDirectWinningPriceFen: number | null;
  followPriceFen: number | null;
  winnerCount: number;
}

export interface ExplainedBid {
  bidId: string;
  distributorOrgId: string;
  distributorName?: string;
  priceFen: number;
  rank: number | null;
  shortlisted: boolean;
  outcome: BidOutcome['outcome'];
  finalPriceFen: number | null;
  reasons: { code: string; text: string }[];
}

export function lineStats(s: SelectionResult): LineStats {
  return {
    validBidderCount: s.validBidderCount,
    shortlistSize: s.shortlistSize,
    lowestPriceFen: s.lowestPriceFen,
    anchorFen: s.anchor?.fen ?? null,
    spreadLimitFen: s.spreadLimitFen,
    floorFen: s.floorFen,
    usedFewBiddersRule: s.usedFewBiddersRule,
    highestDirectWinningPriceFen: s.highestDirectWinningPriceFen,
    followPriceFen: s.followPriceFen,
    winnerCount: s.winnerCount,
  };
}

export function explainBid(b: BidOutcome, lang: 'zh' | 'en', names?: Map<string, string>): ExplainedBid {
  return {
    bidId: b.bidId,
    distributorOrgId: b.distributorId,
    ...(names ? { distributorName: names.get(b.distributorId) ?? '' } : {}),
    priceFen: b.priceFen,
    rank: b.rank,
    shortlisted: b.shortlisted,
    outcome: b.outcome,
    finalPriceFen: b.finalPriceFen,
    reasons: b.reasons.map((r: SelectionReason) => ({ code: r.code, text: lang === 'en' ? r.en : r.zh })),
  };
}

export interface TenderLineView {
  id: string;
  drugId: string;
  genericNameZh: string;
  genericNameEn: string;
  specification: string;
  packUnit: string;
  formClass: string;
  ceilingFen: number;
  pooledQty: number;
  hospitals: number;
  /** Operator only, before and after opening. */
  bidCount?: number;
  /** The viewer's own bid (distributor). */
  myBid?: OwnBidView | null;
  stage?: StoredSelection['stage'];
  stats?: LineStats;
  /** Operator: every bid explained; distributor: its own bid explained. */
  bids?: ExplainedBid[];
  myOutcome?: ExplainedBid | null;
  /** Distributor: it may accept the follow price on this line (until the deadline). */
  mayAcceptFollowPrice?: boolean;
  myFollowResponse?: { accept: boolean; at: string } | null;
  shareBp?: number;
  termYears?: number;
  agreedTotalQty?: number;
  eligibleFollowers?: number;
  responses?: number;
}

export interface TenderView {
  id: string;
  tenderNo: string;
  title: string;
  declarationId: string;
  status: TenderDoc['status'];
  visibility: TenderDoc['visibility'];
  closesAt: string;
  openedAt: string | null;
  acceptanceDeadline: string | null;
  awardedAt: string | null;
  followWindowSec: number;
  backupPrice: TenderDoc['backupPrice'];
  useFewBiddersRule: boolean;
  checkpointShareBp: number;
  rules?: TenderDoc['rules'];
  createdAt: string;
  lines: TenderLineView[];
}

/** The tender as the actor may see it: sealed prices stay with their bidder until the opening. */
export async function tenderView(actor: Actor, t: TenderDoc, lang: 'zh' | 'en' = 'zh'): Promise<TenderView> {
  const isOperator = actor.role === 'operator';
  const isDistributor = actor.orgType === 'distributor';
  const [counts, allBids, responses] = await Promise.all([
    isOperator ? bidCounts(t._id) : Promise.resolve(new Map<string, number>()),
    isOperator && t.status !== 'bidding'
      ? Bid.find({ tenderId: t._id }, { distributorOrgId: 1, distributorName: 1 }).lean<BidDoc[]>()
      : isDistributor
        ? Bid.find({ tenderId: t._id, distributorOrgId: oid(actor.orgId) }).lean<BidDoc[]>()
        : Promise.resolve([] as BidDoc[]),
    t.status === 'bidding' ? Promise.resolve([] as FollowResponseDoc[]) : FollowResponse.find({ tenderId: t._id }).lean<FollowResponseDoc[]>(),
  ]);
  const names = new Map(allBids.map((b) => [String(b.distributorOrgId), b.distributorName]));
  let liveRanks = new Map<string, { rank: number; bidders: number }>();
  if (isDistributor && t.visibility === 'rank' && t.status === 'bidding') {
    const every = await Bid.find({ tenderId: t._id }, { lineId: 1, distributorOrgId: 1, priceFen: 1, submittedAt: 1 }).lean<BidDoc[]>();
    for (const line of t.lines) {
      const ranked = rankBids(every.filter((b) => sameId(b.lineId, line._id)));
      const i = ranked.findIndex((b) => sameId(b.distributorOrgId, actor.orgId));
      if (i >= 0) liveRanks.set(String(line._id), { rank: i + 1, bidders: ranked.length });
    }
  }
  const acceptanceOpen = t.status === 'awaiting_acceptance' && !!t.acceptanceDeadline && now().getTime() < t.acceptanceDeadline.getTime();
  const lines = t.lines.map((line): TenderLineView => {
    const lineId = String(line._id);
    const view: TenderLineView = {
      id: lineId,
      drugId: String(line.drugId),
      genericNameZh: line.genericNameZh,
      genericNameEn: line.genericNameEn,
      specification: line.specification,
      packUnit: line.packUnit,
      formClass: line.formClass,
      ceilingFen: line.ceilingFen,
      pooledQty: line.pooledQty,
      hospitals: line.demands.length,
    };
    if (isOperator) view.bidCount = counts.get(lineId) ?? 0;
    if (isDistributor) {
      const mine = allBids.find((b) => sameId(b.lineId, line._id));
      const live = liveRanks.get(lineId);
      view.myBid = mine ? ownBidView(mine, live?.rank ?? null, live?.bidders ?? null) : null;
    }
    const s = line.selection;
    if (s) {
      view.stage = s.stage;
      view.stats = lineStats(s.result);
      view.shareBp = s.shareBp;
      view.termYears = s.termYears;
      view.agreedTotalQty = s.agreedTotalQty;
      const lineResponses = responses.filter((r) => sameId(r.lineId, line._id));
      if (isOperator) {
        view.bids = s.result.bids.map((b) => explainBid(b, lang, names));
        view.eligibleFollowers = s.eligibleFollowers.length;
        view.responses = lineResponses.length;
      }
      if (isDistributor) {
        const own = s.result.bids.find((b) => b.distributorId === actor.orgId);
        view.myOutcome = own ? explainBid(own, lang) : null;
        const eligible = s.stage === 'preliminary' && s.eligibleFollowers.includes(actor.orgId);
        const response = lineResponses.find((r) => sameId(r.distributorOrgId, actor.orgId));
        view.mayAcceptFollowPrice = eligible && acceptanceOpen && !response;
        view.myFollowResponse = response ? { accept: response.accept, at: response.at.toISOString() } : null;
      }
    }
    return view;
  });
  return {
    id: String(t._id),
    tenderNo: t.tenderNo,
    title: t.title,
    declarationId: String(t.declarationId),
    status: t.status,
    visibility: t.visibility,
    closesAt: t.closesAt.toISOString(),
    openedAt: t.openedAt ? t.openedAt.toISOString() : null,
    acceptanceDeadline: t.acceptanceDeadline ? t.acceptanceDeadline.toISOString() : null,
    awardedAt: t.awardedAt ? t.awardedAt.toISOString() : null,
    followWindowSec: t.followWindowSec,
    backupPrice: t.backupPrice,
    useFewBiddersRule: t.useFewBiddersRule,
    checkpointShareBp: t.checkpointShareBp,
    ...(isOperator || isDistributor ? { rules: t.rules } : {}),
    createdAt: t.createdAt.toISOString(),
    lines,
  };
}
