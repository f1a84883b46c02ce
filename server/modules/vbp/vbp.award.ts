// Opening, the accept-the-follow-price window, and finalisation. Opening runs the selection on the
// sealed bids (a preliminary result); shortlisted bidders that missed the price test may accept the
// follow price until the window closes (or everyone eligible has answered); finalisation reruns the
// selection with the acceptances, fixes the agreed volume and term, allocates the hospitals and makes
// the contracts, all in one transaction. Each step is a unit of work whose facts (`vbp.tender_opened`,
// `vbp.tender_awarded`, `vbp.contract_created`) commit with it; a step that already happened does
// nothing, so a job that runs twice, a sweep and the operator together still open and award once.
import { Types } from 'mongoose';
import { TenderAwarded, TenderOpened, vbpEventKeys } from '../../events/vbp';
import type { Actor } from '../../platform/auth';
import { now, platform } from '../../platform/context';
import { ConflictError, RuleViolationError } from '../../platform/errors';
import { dateTime, fen, msg } from '../../platform/messages';
import { BASIS_POINTS, divide, toSafeNumber } from '../../platform/money';
import { trusted } from '../../platform/mongo';
import { addSeconds, addYears } from '../../platform/time';
import { withCommand, type UnitOfWork } from '../../platform/unit-of-work';
import { formatDateTime } from '../../platform/view-helpers/formatters';
import { assertMayTrade } from '../credit';
import { eachDue, formatNumber, isDuplicateKey, oid, reserveNumbers, sameId } from './vbp.common';
import { contractCreated, initialChecks } from './vbp.completion';
import { finaliseTenderJob, jobIds, openTenderJob } from './vbp.jobs';
import { Bid, Contract, FollowResponse, Tender, type BidDoc, type ContractDoc, type FollowResponseDoc, type StoredSelection, type TenderDoc, type TenderLine } from './vbp.model';
import { agreedVolumeShare, allocateHospitals, contractTermYears, selectWinners, type SelectionResult } from './vbp.selection';
import { findLine, loadTender } from './vbp.tenders';
import { getVbpSettings } from './vbp.settings';

/** What an opening or finalisation did: `early` before its time, `already` when done before. */
export type Outcome = 'done' | 'already' | 'early' | 'missing';

/** Runs the selection of every line; lines with 1–2 bidders may use the other lines' average drop. */
export function runSelections(t: Pick<TenderDoc, 'lines' | 'rules' | 'useFewBiddersRule'>, bids: BidDoc[], accepts: Set<string>): { result: SelectionResult; averageDropBpUsed: number | null }[] {
  const bidsOf = (line: TenderLine) =>
    bids.filter((b) => sameId(b.lineId, line._id)).map((b) => ({ bidId: String(b._id), distributorId: String(b.distributorOrgId), priceFen: b.priceFen, submittedAt: b.submittedAt }));
  const run = (line: TenderLine, averageDrop?: number) =>
    selectWinners({ bids: bidsOf(line), ceilingFen: line.ceilingFen, formClass: line.formClass, acceptsHighestWinningPrice: accepts, otherVarietiesAverageDropBp: averageDrop, rules: t.rules });
  const first = t.lines.map((line) => run(line));
  if (!t.useFewBiddersRule) return first.map((result) => ({ result, averageDropBpUsed: null }));
  const few = (r: SelectionResult) => r.validBidderCount > 0 && r.validBidderCount <= t.rules.fewBidders.maxValidBidders;
  return t.lines.map((line, i) => {
    if (!few(first[i]!)) return { result: first[i]!, averageDropBpUsed: null };
    // drop of each direct winner of the other (not few-bidder) lines, in bp of its ceiling
    const drops: bigint[] = [];
    const dens: bigint[] = [];
    t.lines.forEach((other, j) => {
      if (j === i || few(first[j]!)) return;
      for (const b of first[j]!.bids) {
        if (b.outcome !== 'won_direct') continue;
        drops.push(BigInt(other.ceilingFen - b.priceFen) * BigInt(BASIS_POINTS));
        dens.push(BigInt(other.ceilingFen));
      }
    });
    if (drops.length === 0) return { result: first[i]!, averageDropBpUsed: null };
    const bpEach = drops.map((d, k) => divide(d, dens[k]!, 'half_even'));
    const average = toSafeNumber(divide(bpEach.reduce((s, x) => s + x, 0n), BigInt(bpEach.length), 'half_even'));
    return { result: run(line, average), averageDropBpUsed: average };
  });
}

/** Shortlisted bidders that missed and may accept the follow price. */
function eligibleFollowers(result: SelectionResult): string[] {
  return result.bids.filter((b) => b.outcome === 'lost' && b.reasons.some((r) => r.code === 'DID_NOT_ACCEPT_FOLLOW_PRICE')).map((b) => b.distributorId);
}

function stored(stage: StoredSelection['stage'], at: Date, t: TenderDoc, line: TenderLine, sel: { result: SelectionResult; averageDropBpUsed: number | null }): StoredSelection {
  const winners = sel.result.winnerCount;
  const shareBp = agreedVolumeShare(winners, t.rules);
  const agreedTotalQty = line.demands.reduce(
    (s, d) => s + toSafeNumber(divide(BigInt(d.quantity) * BigInt(shareBp), BigInt(BASIS_POINTS), 'half_even')),
    0,
  );
  return {
    stage,
    at,
    result: sel.result,
    eligibleFollowers: stage === 'preliminary' ? eligibleFollowers(sel.result) : [],
    averageDropBpUsed: sel.averageDropBpUsed,
    shareBp,
    termYears: contractTermYears(winners, t.rules),
    agreedTotalQty: winners === 0 ? 0 : agreedTotalQty,
  };
}

/**
 * Opens the sealed bids in the caller's unit of work once the closing time has passed: the
 * preliminary selection, the audit entry and `vbp.tender_opened`; a tender where nobody may accept the
 * follow price is finalised in the same transaction. Exactly once: a tender no longer bidding is left
 * alone, and a bid committed meanwhile (it bumps `bidSeq`) makes the opening retry.
 */
async function openIn(uow: UnitOfWork, tenderId: string): Promise<Outcome> {
  const { session, at } = uow;
  const t = await Tender.findById(oid(tenderId), null, { session }).lean<TenderDoc>();
  if (!t) return 'missing';
  if (t.status !== 'bidding') return 'already';
  if (t.closesAt.getTime() > at.getTime()) return 'early';
  const bids = await Bid.find({ tenderId: t._id }, null, { session }).lean<BidDoc[]>();
  const selections = runSelections(t, bids, new Set());
  const acceptanceDeadline = addSeconds(at, t.followWindowSec);
  const stages = t.lines.map((line, i) => stored('preliminary', at, t, line, selections[i]!));
  const set: Record<string, unknown> = { status: 'awaiting_acceptance', openedAt: at, acceptanceDeadline };
  stages.forEach((sel, i) => (set[`lines.${i}.selection`] = sel));
  const res = await Tender.updateOne({ _id: t._id, status: 'bidding', bidSeq: t.bidSeq }, { $set: set, $inc: { bidSeq: 1 } }, { session });
  if (res.matchedCount === 0) throw new ConflictError({ code: 'TENDER_CHANGED', message: msg('errorCodes.TENDER_CHANGED') });
  const id = String(t._id);
  uow.audit({ action: 'vbp.tender.open', targetType: 'vbp_tender', targetId: id, summary: msg('vbp.audit.tenderOpened', { tenderNo: t.tenderNo, title: t.title, bids: bids.length }) });
  const bidders = [...new Set(bids.map((b) => String(b.distributorOrgId)))];
  const offersOf = (orgId: string) =>
    t.lines.flatMap((line, i) =>
      stages[i]!.eligibleFollowers.includes(orgId) && stages[i]!.result.followPriceFen !== null
        ? [{ lineId: String(line._id), drugName: line.genericNameZh, followPriceFen: stages[i]!.result.followPriceFen! }]
        : [],
    );
  uow.emit(
    TenderOpened,
    {
      tenderId: id,
      tenderNo: t.tenderNo,
      title: t.title,
      openedAt: at.toISOString(),
      acceptanceDeadline: acceptanceDeadline.toISOString(),
      bidders: bidders.map((orgId) => ({ distributorOrgId: orgId, followOffers: offersOf(orgId) })),
    },
    { key: vbpEventKeys.tenderOpened(id) },
  );
  if (!stages.some((sel) => sel.eligibleFollowers.length > 0)) await finaliseIn(uow, id);
  return 'done';
}

/** Opens the sealed bids once the closing time has passed (the job or the sweep; or the operator if they are late). */
export async function openTender(tenderId: string, actor: Actor | null = null): Promise<Outcome> {
  const outcome = await withCommand(actor, (uow) => openIn(uow, tenderId));
  if (outcome === 'early' && actor) {
    const t = await loadTender(tenderId);
    throw new RuleViolationError({ code: 'TENDER_NOT_CLOSED', message: msg('errorCodes.TENDER_NOT_CLOSED', { closesAt: dateTime(t.closesAt) }) });
  }
  return outcome;
}

/** Job handler: opens the tender; a job that ran before the close (clock skew) leaves a follow-up job at the close. */
export async function runOpenTenderJob(tenderId: string): Promise<Outcome> {
  const at = now();
  const outcome = await openTender(tenderId);
  if (outcome === 'early') {
    const t = await Tender.findById(oid(tenderId), { closesAt: 1 }).lean<Pick<TenderDoc, 'closesAt'>>();
    // NOTE: a job that ran early cannot move itself (it is active); a follow-up job with its own id runs at the close.
    if (t) await platform().queues.enqueue(openTenderJob, { tenderId }, { jobId: `${jobIds.open(tenderId)}:after-${at.getTime()}`, runAt: t.closesAt });
  }
  return outcome;
}

/** Distributor: accepts (or declines) the follow price on a line where it missed the price test. */
export async function respondFollowPrice(actor: Actor, tenderId: string, lineId: string, accept: boolean): Promise<{ accept: boolean; at: string; followPriceFen: number }> {
  const t = await loadTender(tenderId);
  const line = findLine(t, lineId);
  const at = now();
  const sel = line.selection;
  const closed = () => new RuleViolationError({ code: 'ACCEPTANCE_CLOSED', message: msg('errorCodes.ACCEPTANCE_CLOSED') });
  if (t.status !== 'awaiting_acceptance' || !t.acceptanceDeadline || at.getTime() >= t.acceptanceDeadline.getTime() || !sel || sel.result.followPriceFen === null) throw closed();
  const followPriceFen = sel.result.followPriceFen;
  if (!sel.eligibleFollowers.includes(actor.orgId)) {
    throw new RuleViolationError({ code: 'NOT_ELIGIBLE', message: msg('errorCodes.NOT_ELIGIBLE') });
  }
  if (accept) await assertMayTrade(actor.orgId, 'bid');
  const key = { tenderId: t._id, lineId: line._id, distributorOrgId: oid(actor.orgId) };
  const answer = (r: FollowResponseDoc) => {
    if (r.accept !== accept) throw new ConflictError({ code: 'ALREADY_RESPONDED', message: msg(r.accept ? 'errorCodes.ALREADY_ACCEPTED_FOLLOW' : 'errorCodes.ALREADY_DECLINED_FOLLOW') });
    return { accept: r.accept, at: r.at.toISOString(), followPriceFen };
  };
  try {
    return await withCommand(actor, async (uow) => {
      const { session } = uow;
      const existing = await FollowResponse.findOne(key, null, { session }).lean<FollowResponseDoc>();
      if (existing) return answer(existing);
      // NOTE: the answer bumps the tender, so it and a finalisation cannot both commit against the same state.
      const open = await Tender.updateOne({ _id: t._id, status: 'awaiting_acceptance', acceptanceDeadline: trusted({ $gt: uow.at }) }, { $inc: { bidSeq: 1 } }, { session });
      if (open.matchedCount === 0) throw closed();
      const response: FollowResponseDoc = { _id: new Types.ObjectId(), ...key, accept, at: uow.at, byId: oid(actor.id), byName: actor.name };
      await FollowResponse.create([response], { session });
      uow.audit({
        action: accept ? 'vbp.follow.accept' : 'vbp.follow.decline',
        targetType: 'vbp_tender',
        targetId: String(t._id),
        summary: msg(accept ? 'vbp.audit.followAccepted' : 'vbp.audit.followDeclined', { tenderNo: t.tenderNo, drug: line.genericNameZh, price: fen(followPriceFen) }),
      });
      const responses = await FollowResponse.find({ tenderId: t._id }, null, { session }).lean<FollowResponseDoc[]>();
      if (allResponded(t, responses)) await finaliseIn(uow, String(t._id));
      return answer(response);
    });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const existing = await FollowResponse.findOne(key).lean<FollowResponseDoc>();
    if (!existing) throw err;
    return answer(existing);
  }
}

function allResponded(t: TenderDoc, responses: FollowResponseDoc[]): boolean {
  return t.lines.every((l) => (l.selection?.eligibleFollowers ?? []).every((org) => responses.some((r) => sameId(r.lineId, l._id) && sameId(r.distributorOrgId, org))));
}

/**
 * Final selection with the acceptances, agreed volume and term, hospital allocation and contracts, in
 * the caller's unit of work (with `vbp.contract_created` per contract and `vbp.tender_awarded`).
 * Runs when the acceptance window has ended or every eligible bidder has answered; exactly once.
 */
async function finaliseIn(uow: UnitOfWork, tenderId: string): Promise<Outcome> {
  const { session, at } = uow;
  const t = await Tender.findById(oid(tenderId), null, { session }).lean<TenderDoc>();
  if (!t) return 'missing';
  if (t.status === 'awarded') return 'already';
  if (t.status !== 'awaiting_acceptance' || !t.acceptanceDeadline) return 'early';
  const responses = await FollowResponse.find({ tenderId: t._id }, null, { session }).lean<FollowResponseDoc[]>();
  if (at.getTime() < t.acceptanceDeadline.getTime() && !allResponded(t, responses)) return 'early';
  const bids = await Bid.find({ tenderId: t._id }, null, { session }).lean<BidDoc[]>();
  const accepting = new Set(
    responses
      .filter((r) => r.accept)
      .map((r) => bids.find((b) => sameId(b.lineId, r.lineId) && sameId(b.distributorOrgId, r.distributorOrgId)))
      .filter((b): b is BidDoc => !!b)
      .map((b) => String(b._id)),
  );
  const selections = runSelections(t, bids, accepting);
  const set: Record<string, unknown> = { status: 'awarded', awardedAt: at };
  const names = new Map(bids.map((b) => [String(b.distributorOrgId), b.distributorName]));
  const drafts: Omit<ContractDoc, '_id' | 'contractNo' | 'checks'>[] = [];
  t.lines.forEach((line, i) => {
    const sel = stored('final', at, t, line, selections[i]!);
    set[`lines.${i}.selection`] = sel;
    const winners = sel.result.bids.filter((b) => b.outcome === 'won_direct' || b.outcome === 'won_by_accepting');
    if (winners.length === 0 || line.demands.length === 0) return;
    const { allocations } = allocateHospitals({
      winnersInRankOrder: winners.map((w) => w.distributorId),
      hospitals: line.demands.map((d) => ({ hospitalId: String(d.hospitalOrgId), declaredQty: d.quantity, preferredDistributorId: d.preferredDistributorOrgId ? String(d.preferredDistributorOrgId) : null })),
      shareBp: sel.shareBp,
    });
    for (const a of allocations) {
      if (a.agreedQty === 0) continue;
      const w = winners.find((x) => x.distributorId === a.distributorId)!;
      const demand = line.demands.find((d) => String(d.hospitalOrgId) === a.hospitalId)!;
      drafts.push({
        key: `award:${tenderId}:${String(line._id)}:${a.hospitalId}`,
        tenderId: t._id,
        tenderNo: t.tenderNo,
        lineId: line._id,
        drugId: line.drugId,
        genericNameZh: line.genericNameZh,
        genericNameEn: line.genericNameEn,
        specification: line.specification,
        packUnit: line.packUnit,
        hospitalOrgId: demand.hospitalOrgId,
        hospitalName: demand.hospitalName,
        distributorOrgId: oid(a.distributorId),
        distributorName: names.get(a.distributorId) ?? '',
        rank: w.rank!,
        priceFen: w.finalPriceFen!,
        declaredQty: a.declaredQty,
        agreedQty: a.agreedQty,
        shareBp: sel.shareBp,
        basis: a.basis,
        termYears: sel.termYears,
        termStart: at,
        termEnd: addYears(at, sel.termYears),
        checkpointShareBp: t.checkpointShareBp,
        status: 'active',
        purchasedQty: 0,
        replacesContractId: null,
        supplyFailure: null,
        createdAt: at,
      });
    }
  });
  const res = await Tender.updateOne({ _id: t._id, status: 'awaiting_acceptance' }, { $set: set }, { session });
  if (res.matchedCount === 0) throw new ConflictError({ code: 'TENDER_CHANGED', message: msg('errorCodes.TENDER_CHANGED_2') });
  const contracts: ContractDoc[] = [];
  if (drafts.length) {
    const settings = await getVbpSettings();
    const { day, first } = await reserveNumbers('C', at, drafts.length, session);
    for (const [k, d] of drafts.entries()) contracts.push({ ...d, _id: new Types.ObjectId(), contractNo: formatNumber('VBP-C', day, first + k, 6), checks: initialChecks(d, settings) });
    await Contract.insertMany(contracts, { session });
  }
  const id = String(t._id);
  uow.audit({ action: 'vbp.tender.award', targetType: 'vbp_tender', targetId: id, summary: msg('vbp.audit.tenderAwarded', { tenderNo: t.tenderNo, title: t.title, contracts: contracts.length }) });
  for (const c of contracts) contractCreated(uow, c);
  uow.emit(
    TenderAwarded,
    { tenderId: id, tenderNo: t.tenderNo, title: t.title, awardedAt: at.toISOString(), bidderOrgIds: [...new Set(bids.map((b) => String(b.distributorOrgId)))], contractCount: contracts.length },
    { key: vbpEventKeys.tenderAwarded(id) },
  );
  return 'done';
}

/**
 * Finalises the tender (the job or the sweep at the end of the acceptance window, the last answer,
 * or the operator): exactly once; before its time the operator is refused.
 */
export async function finaliseTender(tenderId: string, actor: Actor | null): Promise<Outcome> {
  const outcome = await withCommand(actor, (uow) => finaliseIn(uow, tenderId));
  if (outcome === 'early' && actor) {
    throw new RuleViolationError({ code: 'ACCEPTANCE_WINDOW_OPEN', message: msg('errorCodes.ACCEPTANCE_WINDOW_OPEN') });
  }
  return outcome;
}

/** Job handler: finalises the tender; a job that ran before the deadline leaves a follow-up job at it. */
export async function runFinaliseTenderJob(tenderId: string): Promise<Outcome> {
  const at = now();
  const outcome = await finaliseTender(tenderId, null);
  if (outcome === 'early') {
    const t = await Tender.findById(oid(tenderId), { status: 1, acceptanceDeadline: 1 }).lean<Pick<TenderDoc, 'status' | 'acceptanceDeadline'>>();
    if (t?.status === 'awaiting_acceptance' && t.acceptanceDeadline) {
      await platform().queues.enqueue(finaliseTenderJob, { tenderId }, { jobId: `${jobIds.finalise(tenderId)}:after-${at.getTime()}`, runAt: t.acceptanceDeadline });
    }
  }
  return outcome;
}

/**
 * Sweep: tenders whose closing time (or acceptance deadline) has passed but that were not opened (or
 * finalised) because their job was lost, e.g. Redis restarted empty. Each is done once, now.
 */
export async function sweepTenders(limit = 100): Promise<{ opened: number; finalised: number }> {
  const at = now();
  const toOpen = await Tender.find({ status: 'bidding', closesAt: trusted({ $lte: at }) }, { _id: 1 }).sort({ closesAt: 1 }).limit(limit).lean<Pick<TenderDoc, '_id'>[]>();
  const opened = await eachDue('vbp.tenders', toOpen.map((t) => String(t._id)), async (id) => (await openTender(id)) === 'done');
  const toFinalise = await Tender.find({ status: 'awaiting_acceptance', acceptanceDeadline: trusted({ $lte: at }) }, { _id: 1 }).sort({ acceptanceDeadline: 1 }).limit(limit).lean<Pick<TenderDoc, '_id'>[]>();
  const finalised = await eachDue('vbp.tenders', toFinalise.map((t) => String(t._id)), async (id) => (await finaliseTender(id, null)) === 'done');
  return { opened, finalised };
}
