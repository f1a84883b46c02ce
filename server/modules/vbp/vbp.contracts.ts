// Contracts (hospital × winner × drug × agreed quantity × price × term), their completion, and
// supply failure: the operator declares that a winner failed to supply a contract (a credit breach,
// recorded as the domain event `vbp.supply_failure`), and the next bidder in rank order that may
// trade takes the remaining volume in a new contract (`vbp.backup_promoted`), in the same unit of work.
import { Types, type ClientSession } from 'mongoose';
import { BackupPromoted, SupplyFailureDeclared, vbpEventKeys } from '../../events/vbp';
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { AppError, ConflictError, ForbiddenError, NotFoundError, RuleViolationError } from '../../platform/errors';
import { fen, msg, type Message } from '../../platform/messages';
import { trusted } from '../../platform/mongo';
import { beforeCursor, pageOf } from '../../platform/pagination';
import { withCommand, type UnitOfWork } from '../../platform/unit-of-work';
import { assertMayTrade } from '../credit';
import { formatNumber, isDuplicateKey, oid, reserveNumbers, sameId } from './vbp.common';
import { completionOf, contractCreated, initialChecks, type ContractCompletion } from './vbp.completion';
import { Bid, Contract, Tender, type AlertDoc, type BidDoc, type ContractDoc, type SupplyFailure, type TenderDoc } from './vbp.model';
import type { ContractListQueryInput } from './vbp.schemas';
import { getVbpSettings } from './vbp.settings';

export const supplyFailureKey = vbpEventKeys.supplyFailure;

export interface ContractView {
  id: string;
  contractNo: string;
  tenderId: string;
  tenderNo: string;
  lineId: string;
  drugId: string;
  genericNameZh: string;
  genericNameEn: string;
  specification: string;
  packUnit: string;
  hospitalOrgId: string;
  hospitalName: string;
  distributorOrgId: string;
  distributorName: string;
  rank: number;
  priceFen: number;
  declaredQty: number;
  agreedQty: number;
  amountFen: number;
  shareBp: number;
  basis: ContractDoc['basis'];
  termYears: number;
  termStart: string;
  termEnd: string;
  checkpointShareBp: number;
  status: ContractDoc['status'];
  purchasedQty: number;
  remainingQty: number;
  completion: { ratioBp: number | null; proRataTargetQty: number; behindPace: boolean; underCheckpoint: boolean };
  alerts: number;
  lastAlert: { kind: AlertDoc['kind']; checkAt: string; purchasedQty: number; targetQty: number } | null;
  replacesContractId: string | null;
  supplyFailure: { at: string; reason: string; byName: string; remainingQty: number; promotedContractId: string | null; noBackup: string | null } | null;
  createdAt: string;
}

export function contractView(r: ContractCompletion): ContractView {
  const c = r.contract;
  const f = c.supplyFailure;
  return {
    id: String(c._id),
    contractNo: c.contractNo,
    tenderId: String(c.tenderId),
    tenderNo: c.tenderNo,
    lineId: String(c.lineId),
    drugId: String(c.drugId),
    genericNameZh: c.genericNameZh,
    genericNameEn: c.genericNameEn,
    specification: c.specification,
    packUnit: c.packUnit,
    hospitalOrgId: String(c.hospitalOrgId),
    hospitalName: c.hospitalName,
    distributorOrgId: String(c.distributorOrgId),
    distributorName: c.distributorName,
    rank: c.rank,
    priceFen: c.priceFen,
    declaredQty: c.declaredQty,
    agreedQty: c.agreedQty,
    amountFen: c.agreedQty * c.priceFen,
    shareBp: c.shareBp,
    basis: c.basis,
    termYears: c.termYears,
    termStart: c.termStart.toISOString(),
    termEnd: c.termEnd.toISOString(),
    checkpointShareBp: c.checkpointShareBp,
    status: c.status,
    purchasedQty: c.purchasedQty,
    remainingQty: Math.max(0, c.agreedQty - c.purchasedQty),
    completion: r.status,
    alerts: r.alerts,
    lastAlert: r.lastAlert ? { kind: r.lastAlert.kind, checkAt: r.lastAlert.checkAt.toISOString(), purchasedQty: r.lastAlert.purchasedQty, targetQty: r.lastAlert.targetQty } : null,
    replacesContractId: c.replacesContractId ? String(c.replacesContractId) : null,
    supplyFailure: f
      ? { at: f.at.toISOString(), reason: f.reason, byName: f.byName, remainingQty: f.remainingQty, promotedContractId: f.promotedContractId ? String(f.promotedContractId) : null, noBackup: f.noBackup ?? null }
      : null,
    createdAt: c.createdAt.toISOString(),
  };
}

/** The filter that limits contracts to what the actor may see (tenancy). */
export function contractScope(actor: Actor): Record<string, unknown> {
  if (actor.role === 'operator') return {};
  if (actor.orgType === 'hospital') return { hospitalOrgId: oid(actor.orgId) };
  if (actor.orgType === 'distributor') return { distributorOrgId: oid(actor.orgId) };
  throw new ForbiddenError({ code: 'CONTRACTS_NOT_VISIBLE', message: msg('errorCodes.CONTRACTS_NOT_VISIBLE') });
}

export async function loadContractFor(actor: Actor, id: string, session?: ClientSession): Promise<ContractDoc> {
  const c = Types.ObjectId.isValid(id) ? await Contract.findOne({ _id: oid(id), ...contractScope(actor) }, null, { session }).lean<ContractDoc>() : null;
  if (!c) throw new NotFoundError({ code: 'CONTRACT_NOT_FOUND', message: msg('errorCodes.CONTRACT_NOT_FOUND') });
  return c;
}

function listFilter(actor: Actor, q: Partial<ContractListQueryInput>): Record<string, unknown> {
  const filter: Record<string, unknown> = { ...contractScope(actor) };
  if (q.tenderId) filter.tenderId = oid(q.tenderId);
  if (q.drugId) filter.drugId = oid(q.drugId);
  if (q.status) filter.status = q.status;
  if (q.hospitalOrgId && actor.orgType !== 'hospital') filter.hospitalOrgId = oid(q.hospitalOrgId);
  if (q.distributorOrgId && actor.orgType !== 'distributor') filter.distributorOrgId = oid(q.distributorOrgId);
  return filter;
}

/** Contracts the actor may see, newest first, with their completion now. */
export async function listContracts(actor: Actor, q: ContractListQueryInput): Promise<{ data: ContractView[]; nextCursor: string | null }> {
  const rows = await Contract.find({ ...listFilter(actor, q), ...beforeCursor('createdAt', q.cursor) })
    .sort({ createdAt: -1, _id: -1 })
    .limit(q.limit + 1)
    .lean<ContractDoc[]>();
  const page = pageOf(rows, q.limit, (r) => r.createdAt);
  return { data: (await completionOf(page.rows)).map(contractView), nextCursor: page.nextCursor };
}

/** Every contract the actor may see under the filters (for completion tables and charts). */
export async function allContracts(actor: Actor, q: Partial<ContractListQueryInput> = {}): Promise<ContractCompletion[]> {
  const rows = await Contract.find(listFilter(actor, q)).sort({ hospitalName: 1, genericNameZh: 1, createdAt: 1 }).limit(5000).lean<ContractDoc[]>();
  return completionOf(rows);
}

export async function getContractView(actor: Actor, id: string, session?: ClientSession): Promise<ContractView> {
  const c = await loadContractFor(actor, id, session);
  return contractView((await completionOf([c]))[0]!);
}

export interface PromotionResult {
  promotedContractId: string | null;
  distributorOrgId: string | null;
  distributorName: string | null;
  priceFen: number | null;
  quantity: number;
  /** Why nothing was promoted. */
  noBackup: 'NOTHING_REMAINING' | 'TERM_ENDED' | 'NO_BACKUP' | null;
  /** Bidders passed over because they may not trade now (suspended, unsigned commitment). */
  skipped: { distributorOrgId: string; code: string }[];
}

/**
 * Operator: declares the winner's supply failure on a contract and promotes a backup, in one unit of
 * work: the contract's new status, the breach fact `vbp.supply_failure` (credit reacts to it), the
 * promotion and their audit entries commit together or not at all.
 */
export async function declareSupplyFailure(actor: Actor, contractId: string, reason: string): Promise<{ contract: ContractView; promotion: PromotionResult }> {
  const alreadyFailed = (c: ContractDoc) => new ConflictError({ code: 'ALREADY_FAILED', message: msg('errorCodes.ALREADY_FAILED', { contractNo: c.contractNo }) });
  const before = await loadContractFor(actor, contractId);
  if (before.status !== 'active') throw alreadyFailed(before);
  const id = String(before._id);
  return withCommand(actor, async (uow) => {
    const { session, at } = uow;
    const c = await loadContractFor(actor, id, session);
    if (c.status !== 'active') throw alreadyFailed(c);
    const remainingQty = Math.max(0, c.agreedQty - c.purchasedQty);
    const failure: SupplyFailure = { at, reason, byId: oid(actor.id), byName: actor.name, remainingQty, promotedContractId: null, noBackup: null };
    const res = await Contract.updateOne({ _id: c._id, status: 'active' }, { $set: { status: 'supply_failed', supplyFailure: failure } }, { session });
    if (res.modifiedCount === 0) throw alreadyFailed(c);
    uow.audit({
      action: 'vbp.contract.supply_failure',
      targetType: 'vbp_contract',
      targetId: id,
      summary: msg('vbp.audit.supplyFailure', { contractNo: c.contractNo, distributor: c.distributorName, remaining: remainingQty, unit: c.packUnit, reason }),
    });
    uow.emit(
      SupplyFailureDeclared,
      {
        contractId: id,
        contractNo: c.contractNo,
        tenderId: String(c.tenderId),
        distributorOrgId: String(c.distributorOrgId),
        hospitalOrgId: String(c.hospitalOrgId),
        drugId: String(c.drugId),
        drugName: c.genericNameZh,
        remainingQty,
        at: at.toISOString(),
        reason,
        hospitalName: c.hospitalName,
        packUnit: c.packUnit,
      },
      { key: supplyFailureKey(id) },
    );
    const promotion = await promoteIn(uow, actor, id);
    return { contract: await getContractView(actor, id, session), promotion };
  });
}

/** The bids of the contract's line in final rank order (valid bids only). */
async function rankedBids(c: ContractDoc, session: ClientSession): Promise<{ t: TenderDoc; ranked: { distributorId: string; rank: number; priceFen: number; finalPriceFen: number | null }[]; names: Map<string, string> }> {
  const t = await Tender.findById(c.tenderId, null, { session }).lean<TenderDoc>();
  const line = t?.lines.find((l) => sameId(l._id, c.lineId));
  if (!t || !line) throw new NotFoundError({ code: 'TENDER_NOT_FOUND', message: msg('errorCodes.TENDER_NOT_FOUND', { contractNo: c.contractNo }) });
  const bids = await Bid.find({ tenderId: t._id, lineId: line._id }, { distributorOrgId: 1, distributorName: 1 }, { session }).lean<BidDoc[]>();
  const ranked = (line.selection?.result.bids ?? [])
    .flatMap((b) => (b.rank === null ? [] : [{ distributorId: b.distributorId, rank: b.rank, priceFen: b.priceFen, finalPriceFen: b.finalPriceFen }]))
    .sort((a, b) => a.rank - b.rank);
  return { t, ranked, names: new Map(bids.map((b) => [String(b.distributorOrgId), b.distributorName])) };
}

function promotionOf(p: ContractDoc, skipped: PromotionResult['skipped'] = []): PromotionResult {
  return { promotedContractId: String(p._id), distributorOrgId: String(p.distributorOrgId), distributorName: p.distributorName, priceFen: p.priceFen, quantity: p.agreedQty, noBackup: null, skipped };
}

/**
 * Moves the remaining volume of a failed contract to the best-ranked valid bidder of its line that
 * has not failed on that line and may trade now (winners first by rank, then the others), in the
 * caller's unit of work. Safe to repeat: once promoted, it returns the same contract; with no backup
 * it records why.
 */
async function promoteIn(uow: UnitOfWork, actor: Actor, contractId: string): Promise<PromotionResult> {
  const { session, at } = uow;
  const c = await loadContractFor(actor, contractId, session);
  if (c.status !== 'supply_failed' || !c.supplyFailure) throw new RuleViolationError({ code: 'NOT_FAILED', message: msg('errorCodes.NOT_FAILED') });
  const f = c.supplyFailure;
  if (f.promotedContractId) {
    const p = await Contract.findById(f.promotedContractId, null, { session }).lean<ContractDoc>();
    if (p) return promotionOf(p);
  }
  const id = String(c._id);
  const none = async (why: NonNullable<PromotionResult['noBackup']>, skipped: PromotionResult['skipped'] = []): Promise<PromotionResult> => {
    await Contract.updateOne({ _id: c._id }, { $set: { 'supplyFailure.noBackup': why } }, { session });
    uow.audit({ action: 'vbp.contract.no_backup', targetType: 'vbp_contract', targetId: id, summary: msg('vbp.audit.noBackup', { contractNo: c.contractNo, why: { msg: `vbp.noBackup.${why}` } }) });
    return { promotedContractId: null, distributorOrgId: null, distributorName: null, priceFen: null, quantity: f.remainingQty, noBackup: why, skipped };
  };
  if (f.remainingQty === 0) return none('NOTHING_REMAINING');
  if (at.getTime() >= c.termEnd.getTime()) return none('TERM_ENDED');
  const { t, ranked, names } = await rankedBids(c, session);
  const failedHere = new Set((await Contract.distinct('distributorOrgId', { tenderId: c.tenderId, lineId: c.lineId, status: 'supply_failed' }).session(session)).map(String));
  const skipped: PromotionResult['skipped'] = [];
  let chosen: (typeof ranked)[number] | undefined;
  for (const b of ranked) {
    if (failedHere.has(b.distributorId)) continue;
    try {
      await assertMayTrade(b.distributorId, 'be_chosen');
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      skipped.push({ distributorOrgId: b.distributorId, code: err.code });
      continue;
    }
    chosen = b;
    break;
  }
  if (!chosen) return none('NO_BACKUP', skipped);
  const priceFen = t.backupPrice === 'contract_price' ? c.priceFen : (chosen.finalPriceFen ?? chosen.priceFen);
  const { day, first } = await reserveNumbers('C', at, 1, session);
  const draft: Omit<ContractDoc, 'checks'> = {
    _id: new Types.ObjectId(),
    contractNo: formatNumber('VBP-C', day, first, 6),
    key: `promotion:${id}`,
    tenderId: c.tenderId,
    tenderNo: c.tenderNo,
    lineId: c.lineId,
    drugId: c.drugId,
    genericNameZh: c.genericNameZh,
    genericNameEn: c.genericNameEn,
    specification: c.specification,
    packUnit: c.packUnit,
    hospitalOrgId: c.hospitalOrgId,
    hospitalName: c.hospitalName,
    distributorOrgId: oid(chosen.distributorId),
    distributorName: names.get(chosen.distributorId) ?? '',
    rank: chosen.rank,
    priceFen,
    declaredQty: c.declaredQty,
    agreedQty: f.remainingQty,
    shareBp: c.shareBp,
    basis: 'backup_promotion',
    termYears: c.termYears,
    termStart: at,
    termEnd: c.termEnd,
    checkpointShareBp: c.checkpointShareBp,
    status: 'active',
    purchasedQty: 0,
    replacesContractId: c._id,
    supplyFailure: null,
    createdAt: at,
  };
  const p: ContractDoc = { ...draft, checks: initialChecks(draft, await getVbpSettings()) };
  await Contract.create([p], { session });
  await Contract.updateOne({ _id: c._id }, { $set: { 'supplyFailure.promotedContractId': p._id, 'supplyFailure.noBackup': null } }, { session });
  const pid = String(p._id);
  uow.audit({
    action: 'vbp.contract.promote_backup',
    targetType: 'vbp_contract',
    targetId: pid,
    summary: msg('vbp.audit.backupPromoted', { contractNo: p.contractNo, failedNo: c.contractNo, distributor: p.distributorName, rank: p.rank, quantity: p.agreedQty, unit: p.packUnit, price: fen(p.priceFen) }),
  });
  contractCreated(uow, p);
  uow.emit(
    BackupPromoted,
    {
      failedContractId: id,
      failedContractNo: c.contractNo,
      previousDistributorName: c.distributorName,
      contractId: pid,
      contractNo: p.contractNo,
      tenderId: String(p.tenderId),
      hospitalOrgId: String(p.hospitalOrgId),
      hospitalName: p.hospitalName,
      distributorOrgId: String(p.distributorOrgId),
      distributorName: p.distributorName,
      drugName: p.genericNameZh,
      packUnit: p.packUnit,
      agreedQty: p.agreedQty,
      priceFen: p.priceFen,
      rank: p.rank,
    },
    { key: vbpEventKeys.backupPromoted(id) },
  );
  return promotionOf(p, skipped);
}

/** Operator: promotes a backup for a failed contract (again, e.g. once a bidder may trade again). */
export async function promoteBackup(actor: Actor, contractId: string): Promise<PromotionResult> {
  try {
    return await withCommand(actor, (uow) => promoteIn(uow, actor, contractId));
  } catch (err) {
    // NOTE: a concurrent promotion committed the contract first; this one answers with it.
    if (!isDuplicateKey(err)) throw err;
    return withCommand(actor, (uow) => promoteIn(uow, actor, contractId));
  }
}

/** For the orders module: the locked price of an active contract for this hospital, drug and distributor. */
export async function resolveContractPrice(q: { contractId: string; drugId: string; hospitalOrgId: string; distributorOrgId: string; quantity: number; at: Date }): Promise<{ ok: true; unitPriceFen: number } | { ok: false; code: string; message: Message }> {
  const c = Types.ObjectId.isValid(q.contractId) ? await Contract.findById(q.contractId).lean<ContractDoc>() : null;
  if (!c || !sameId(c.hospitalOrgId, q.hospitalOrgId)) return { ok: false, code: 'CONTRACT_NOT_FOUND', message: msg('errorCodes.CONTRACT_NOT_FOUND_2') };
  if (!sameId(c.drugId, q.drugId)) return { ok: false, code: 'CONTRACT_DRUG_MISMATCH', message: msg('errorCodes.CONTRACT_DRUG_MISMATCH', { contractNo: c.contractNo, genericNameZh: c.genericNameZh }) };
  if (!sameId(c.distributorOrgId, q.distributorOrgId)) return { ok: false, code: 'CONTRACT_DISTRIBUTOR_MISMATCH', message: msg('errorCodes.CONTRACT_DISTRIBUTOR_MISMATCH', { contractNo: c.contractNo, distributorName: c.distributorName }) };
  if (c.status !== 'active') return { ok: false, code: 'CONTRACT_NOT_ACTIVE', message: msg(c.supplyFailure?.promotedContractId ? 'errorCodes.CONTRACT_REPLACED' : 'errorCodes.CONTRACT_NOT_ACTIVE', { contractNo: c.contractNo }) };
  if (q.at.getTime() < c.termStart.getTime() || q.at.getTime() >= c.termEnd.getTime()) return { ok: false, code: 'CONTRACT_OUT_OF_TERM', message: msg('errorCodes.CONTRACT_OUT_OF_TERM', { contractNo: c.contractNo }) };
  return { ok: true, unitPriceFen: c.priceFen };
}

/** The active contracts of a hospital (for ordering pages). */
export async function activeContractsOf(hospitalOrgId: string, at: Date = now()): Promise<ContractDoc[]> {
  return Contract.find({ hospitalOrgId: oid(hospitalOrgId), status: 'active', termStart: trusted({ $lte: at }), termEnd: trusted({ $gt: at }) }).sort({ genericNameZh: 1 }).lean<ContractDoc[]>();
}
