// Opening, the accept-the-follow-price window, and finalisation. Opening runs the selection on the
// sealed bids (a preliminary result); shortlisted bidders that missed the price test may accept the
// follow price until the window closes (or everyone eligible has answered); finalisation reruns the
// selection with the acceptances, fixes the agreed volume and term, allocates the hospitals and makes
// the contracts, all in one transaction. Every step is idempotent and safe to run twice.
import mongoose, { Types } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { now, platform } from '../../platform/context';
import { ConflictError, RuleViolationError } from '../../platform/errors';
import { BASIS_POINTS, divide, toSafeNumber } from '../../platform/money';
import { addSeconds, addYears } from '../../platform/time';
import { formatDateTime, formatMoney } from '../../platform/view-helpers/formatters';
import { recordAudit } from '../audit';
import { assertMayTrade } from '../credit';
import { notifyOrganisation } from '../notifications';
import { formatNumber, isDuplicateKey, oid, reserveNumbers, sameId } from './vbp.common';
import { scheduleFirstChecks } from './vbp.completion';
import { finaliseTenderJob, jobIds, openTenderJob } from './vbp.jobs';
import { Bid, Contract, FollowResponse, Tender, type BidDoc, type ContractDoc, type FollowResponseDoc, type StoredSelection, type TenderDoc, type TenderLine } from './vbp.model';
import { agreedVolumeShare, allocateHospitals, contractTermYears, selectWinners, type SelectionResult } from './vbp.selection';
import { findLine, loadTender } from './vbp.tenders';

type Outcome = 'done' | 'already' | 'early' | 'missing';

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

/** Opens the sealed bids once the closing time has passed (the job; or the operator if the job is late). */
export async function openTender(tenderId: string, actor: Actor | null = null): Promise<Outcome> {
  const at = now();
  let outcome = 'missing' as Outcome;
  let opened: TenderDoc | null = null;
  await mongoose.connection.transaction(async (session) => {
    const t = await Tender.findById(tenderId, null, { session }).lean<TenderDoc>();
    if (!t) return void (outcome = 'missing');
    if (t.status !== 'bidding') return void (outcome = 'already');
    if (t.closesAt.getTime() > at.getTime()) return void (outcome = 'early');
    const bids = await Bid.find({ tenderId: t._id }, null, { session }).lean<BidDoc[]>();
    const selections = runSelections(t, bids, new Set());
    const set: Record<string, unknown> = { status: 'awaiting_acceptance', openedAt: at, acceptanceDeadline: addSeconds(at, t.followWindowSec) };
    t.lines.forEach((line, i) => (set[`lines.${i}.selection`] = stored('preliminary', at, t, line, selections[i]!)));
    const res = await Tender.updateOne({ _id: t._id, status: 'bidding', bidSeq: t.bidSeq }, { $set: set, $inc: { bidSeq: 1 } }, { session });
    if (res.matchedCount === 0) throw new ConflictError({ code: 'TENDER_CHANGED', message: 'The tender changed while it was being opened; try again.' });
    outcome = 'done';
  });
  if (outcome === 'early') {
    const t = await Tender.findById(tenderId, { closesAt: 1 }).lean<TenderDoc>();
    // NOTE: a job that ran early cannot move itself (it is active); a follow-up job with its own id runs at the close.
    if (t && !actor) await platform().queues.enqueue(openTenderJob, { tenderId }, { jobId: `${jobIds.open(tenderId)}:after-${at.getTime()}`, runAt: t.closesAt });
    if (actor) throw new RuleViolationError({ code: 'TENDER_NOT_CLOSED', message: `Bids are open until ${formatDateTime(t!.closesAt)} (Asia/Shanghai); the tender cannot be opened yet.` });
    return outcome;
  }
  if (outcome !== 'done') return outcome;
  opened = await Tender.findById(tenderId).lean<TenderDoc>();
  const t = opened!;
  await recordAudit(actor, { action: 'vbp.tender.open', targetType: 'vbp_tender', targetId: tenderId, summary: `${t.tenderNo} opened` });
  platform().broadcaster.toRole('operator', 'vbp:tender_opened', { tenderId, status: t.status });
  const bidders = await Bid.distinct('distributorOrgId', { tenderId: t._id });
  const anyEligible = t.lines.some((l) => (l.selection?.eligibleFollowers.length ?? 0) > 0);
  for (const orgId of bidders.map(String)) {
    const eligibleLines = t.lines.filter((l) => l.selection?.eligibleFollowers.includes(orgId));
    platform().broadcaster.toOrg(orgId, 'vbp:tender_opened', { tenderId, status: t.status });
    await notifyOrganisation(
      orgId,
      eligibleLines.length
        ? {
            kind: 'vbp.follow_price_offer',
            title: `可接受中选价获得中选资格：${t.title}`,
            body: eligibleLines.map((l) => `${l.genericNameZh}：${formatMoney(l.selection!.result.followPriceFen)}`).join('；') + `。请于 ${formatDateTime(t.acceptanceDeadline!)} 前确认是否接受。`,
            link: `/vbp/tenders/${tenderId}`,
            dedupeKey: `vbp-opened:${tenderId}`,
          }
        : { kind: 'vbp.tender_opened', title: `已开标：${t.title}`, body: `${t.tenderNo} 已开标，可查看贵公司报价的评审结果与说明。`, link: `/vbp/tenders/${tenderId}`, dedupeKey: `vbp-opened:${tenderId}` },
      ['distributor'],
    );
  }
  if (anyEligible) await platform().queues.enqueue(finaliseTenderJob, { tenderId }, { jobId: jobIds.finalise(tenderId), runAt: t.acceptanceDeadline! });
  else await finaliseTender(tenderId, null);
  return 'done';
}

/** Distributor: accepts (or declines) the follow price on a line where it missed the price test. */
export async function respondFollowPrice(actor: Actor, tenderId: string, lineId: string, accept: boolean): Promise<{ accept: boolean; at: string; followPriceFen: number }> {
  const t = await loadTender(tenderId);
  const line = findLine(t, lineId);
  const at = now();
  const sel = line.selection;
  if (t.status !== 'awaiting_acceptance' || !t.acceptanceDeadline || at.getTime() >= t.acceptanceDeadline.getTime() || !sel) {
    throw new RuleViolationError({ code: 'ACCEPTANCE_CLOSED', message: 'The tender is not waiting for acceptances of the follow price.' });
  }
  if (!sel.eligibleFollowers.includes(actor.orgId)) {
    throw new RuleViolationError({ code: 'NOT_ELIGIBLE', message: 'Only a shortlisted bidder that missed the price test on this line may accept the follow price.' });
  }
  if (accept) await assertMayTrade(actor.orgId, 'bid');
  const key = { tenderId: t._id, lineId: line._id, distributorOrgId: oid(actor.orgId) };
  let response: FollowResponseDoc;
  try {
    response = (await FollowResponse.create({ ...key, accept, at, byId: oid(actor.id), byName: actor.name })).toObject() as FollowResponseDoc;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    response = (await FollowResponse.findOne(key).lean<FollowResponseDoc>())!;
    if (response.accept !== accept) throw new ConflictError({ code: 'ALREADY_RESPONDED', message: `You already ${response.accept ? 'accepted' : 'declined'} the follow price on this line.` });
  }
  await recordAudit(actor, { action: accept ? 'vbp.follow.accept' : 'vbp.follow.decline', targetType: 'vbp_tender', targetId: tenderId, summary: `${t.tenderNo} ${line.genericNameZh}` });
  const responses = await FollowResponse.find({ tenderId: t._id }).lean<FollowResponseDoc[]>();
  if (allResponded(t, responses)) await finaliseTender(tenderId, null);
  return { accept: response.accept, at: response.at.toISOString(), followPriceFen: sel.result.followPriceFen! };
}

function allResponded(t: TenderDoc, responses: FollowResponseDoc[]): boolean {
  return t.lines.every((l) => (l.selection?.eligibleFollowers ?? []).every((org) => responses.some((r) => sameId(r.lineId, l._id) && sameId(r.distributorOrgId, org))));
}

/**
 * Final selection with the acceptances, agreed volume and term, hospital allocation and contracts.
 * Runs when the acceptance window has ended or every eligible bidder has answered.
 */
export async function finaliseTender(tenderId: string, actor: Actor | null, fromJob = false): Promise<Outcome> {
  const at = now();
  let outcome = 'missing' as Outcome;
  let created: ContractDoc[] = [];
  await mongoose.connection.transaction(async (session) => {
    created = [];
    const t = await Tender.findById(tenderId, null, { session }).lean<TenderDoc>();
    if (!t) return void (outcome = 'missing');
    if (t.status === 'awarded') return void (outcome = 'already');
    if (t.status !== 'awaiting_acceptance') return void (outcome = 'early');
    const responses = await FollowResponse.find({ tenderId: t._id }, null, { session }).lean<FollowResponseDoc[]>();
    if (at.getTime() < t.acceptanceDeadline!.getTime() && !allResponded(t, responses)) return void (outcome = 'early');
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
    const drafts: Omit<ContractDoc, '_id' | 'contractNo'>[] = [];
    t.lines.forEach((line, i) => {
      const sel = stored('final', at, t, line, selections[i]!);
      set[`lines.${i}.selection`] = sel;
      const winners = sel.result.bids.filter((b) => b.outcome === 'won_direct' || b.outcome === 'won_by_accepting');
      if (winners.length === 0 || line.demands.length === 0) return;
      const names = new Map(bids.map((b) => [String(b.distributorOrgId), b.distributorName]));
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
    if (res.matchedCount === 0) throw new ConflictError({ code: 'TENDER_CHANGED', message: 'The tender changed while it was being finalised; try again.' });
    if (drafts.length) {
      const { day, first } = await reserveNumbers('C', at, drafts.length, session);
      const docs = drafts.map((d, k) => ({ ...d, _id: new Types.ObjectId(), contractNo: formatNumber('VBP-C', day, first + k, 6) }));
      await Contract.insertMany(docs, { session });
      created = docs as ContractDoc[];
    }
    outcome = 'done';
  });
  if (outcome === 'early' && fromJob) {
    const t = await Tender.findById(tenderId, { status: 1, acceptanceDeadline: 1 }).lean<TenderDoc>();
    if (t?.status === 'awaiting_acceptance' && t.acceptanceDeadline) {
      await platform().queues.enqueue(finaliseTenderJob, { tenderId }, { jobId: `${jobIds.finalise(tenderId)}:after-${at.getTime()}`, runAt: t.acceptanceDeadline });
    }
    return outcome;
  }
  if (outcome === 'early' && actor) throw new RuleViolationError({ code: 'ACCEPTANCE_WINDOW_OPEN', message: 'Some shortlisted bidders may still accept the follow price; the tender is finalised when the window ends or all have answered.' });
  if (outcome === 'already' && fromJob) {
    // NOTE: a retried job after a crash between the commit and the follow-up steps redoes them; each is idempotent.
    created = await Contract.find({ tenderId: oid(tenderId), replacesContractId: null }).lean<ContractDoc[]>();
    for (const c of created) await scheduleFirstChecks(c);
    return outcome;
  }
  if (outcome !== 'done') return outcome;
  for (const c of created) await scheduleFirstChecks(c);
  const t = (await Tender.findById(tenderId).lean<TenderDoc>())!;
  await recordAudit(actor, { action: 'vbp.tender.award', targetType: 'vbp_tender', targetId: tenderId, summary: `${t.tenderNo} awarded: ${created.length} contracts` });
  platform().broadcaster.toRole('operator', 'vbp:tender_awarded', { tenderId, contracts: created.length });
  await notifyAward(t, created);
  return 'done';
}

async function notifyAward(t: TenderDoc, contracts: ContractDoc[]): Promise<void> {
  const id = String(t._id);
  const bidders = (await Bid.distinct('distributorOrgId', { tenderId: t._id })).map(String);
  for (const orgId of bidders) {
    const mine = contracts.filter((c) => String(c.distributorOrgId) === orgId);
    platform().broadcaster.toOrg(orgId, 'vbp:tender_awarded', { tenderId: id });
    await notifyOrganisation(
      orgId,
      mine.length
        ? { kind: 'vbp.awarded', title: `中选通知：${t.title}`, body: `贵公司获得 ${mine.length} 份带量采购协议（${[...new Set(mine.map((c) => c.genericNameZh))].join('、')}）。`, link: '/vbp/contracts', dedupeKey: `vbp-awarded:${id}` }
        : { kind: 'vbp.not_awarded', title: `未中选：${t.title}`, body: `${t.tenderNo} 已确定中选结果，贵公司未中选，可查看评审说明。`, link: `/vbp/tenders/${id}`, dedupeKey: `vbp-awarded:${id}` },
      ['distributor'],
    );
  }
  const hospitals = [...new Set(contracts.map((c) => String(c.hospitalOrgId)))];
  for (const h of hospitals) {
    const mine = contracts.filter((c) => String(c.hospitalOrgId) === h);
    await notifyOrganisation(
      h,
      {
        kind: 'vbp.contracts_created',
        title: `带量采购协议已生成：${t.title}`,
        body: mine.map((c) => `${c.genericNameZh} ${c.agreedQty}${c.packUnit}，${c.distributorName}，${formatMoney(c.priceFen)}`).join('；'),
        link: '/vbp/contracts',
        dedupeKey: `vbp-contracts:${id}`,
      },
      ['pharmacist'],
    );
  }
}
