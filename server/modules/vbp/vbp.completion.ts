// Completion of contracts: purchased versus agreed, pace alerts (behind the pro-rata target) and
// checkpoint alerts (under the checkpoint share of it) as scheduled checks. Each contract has two
// chains of checks; check n of a kind has the job id `vbp-check:<contractId>:<kind>:<n>` and raises
// at most one alert (a unique key), so a check that runs twice alerts once. The contract records its
// next pending check of each kind (`checks`): the check commits the move to the next one with its
// fact `vbp.contract_checked`, whose subscriber schedules the next job, and a sweep runs checks that
// are due but whose job was lost.
import type { Types, ClientSession } from 'mongoose';
import { CompletionAlertRaised, ContractChecked, ContractCreated, vbpEventKeys } from '../../events/vbp';
import { now, platform } from '../../platform/context';
import { day, msg } from '../../platform/messages';
import { BASIS_POINTS, divide, toSafeNumber } from '../../platform/money';
import { trusted } from '../../platform/mongo';
import { addSeconds } from '../../platform/time';
import { withCommand, type UnitOfWork } from '../../platform/unit-of-work';
import { eachDue, oid } from './vbp.common';
import { contractCheckJob, jobIds } from './vbp.jobs';
import { Alert, CHECK_KINDS, Contract, ContractPurchase, type AlertDoc, type CheckKind, type ContractDoc, type PendingCheck } from './vbp.model';
import { completionStatus, type CompletionStatus } from './vbp.selection';
import { getVbpSettings, type VbpSettingsValue } from './vbp.settings';

function intervalSec(settings: VbpSettingsValue, kind: CheckKind): number {
  return kind === 'pace' ? settings.completion.paceCheckIntervalSec : settings.completion.checkpointIntervalSec;
}

function minDate(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}

/** Check 1 of each kind of a new contract: one interval after the term starts (at the latest at its end). */
export function initialChecks(c: Pick<ContractDoc, 'termStart' | 'termEnd'>, settings: VbpSettingsValue): Record<CheckKind, PendingCheck> {
  const first = (kind: CheckKind): PendingCheck => ({ index: 1, dueAt: minDate(addSeconds(c.termStart, intervalSec(settings, kind)), c.termEnd) });
  return { pace: first('pace'), checkpoint: first('checkpoint') };
}

/** Stages `vbp.contract_created` for a contract the unit of work inserted (its first checks get scheduled). */
export function contractCreated(uow: UnitOfWork, c: ContractDoc): void {
  const id = String(c._id);
  uow.emit(
    ContractCreated,
    {
      contractId: id,
      contractNo: c.contractNo,
      tenderId: String(c.tenderId),
      hospitalOrgId: String(c.hospitalOrgId),
      distributorOrgId: String(c.distributorOrgId),
      basis: c.basis,
      firstChecks: CHECK_KINDS.flatMap((kind) => {
        const p = c.checks?.[kind];
        return p ? [{ kind, index: p.index, dueAt: p.dueAt.toISOString() }] : [];
      }),
    },
    { key: vbpEventKeys.contractCreated(id) },
  );
}

/** Schedules one check (deterministic id: a second call adds nothing). */
export async function scheduleCheck(contractId: string, kind: CheckKind, index: number, dueAt: Date): Promise<void> {
  await platform().queues.enqueue(contractCheckJob, { contractId, kind, index, dueAt: dueAt.toISOString() }, { jobId: jobIds.check(contractId, kind, index), runAt: dueAt });
}

/** Purchased quantity of a contract up to and including `at` (all purchases when omitted). */
export async function purchasedUpTo(contractId: Types.ObjectId, at?: Date, session?: ClientSession): Promise<number> {
  const match: Record<string, unknown> = { contractId };
  if (at) match.at = { $lte: at };
  const pipeline = ContractPurchase.aggregate<{ qty: number }>([{ $match: match }, { $group: { _id: null, qty: { $sum: '$quantity' } } }]);
  const rows = await (session ? pipeline.session(session) : pipeline);
  return rows[0]?.qty ?? 0;
}

export function statusOf(c: Pick<ContractDoc, 'agreedQty' | 'purchasedQty' | 'termStart' | 'termEnd' | 'checkpointShareBp'>, at: Date, purchasedQty = c.purchasedQty): CompletionStatus {
  return completionStatus({ agreedQty: c.agreedQty, purchasedQty, termStart: c.termStart, termEnd: c.termEnd, at, checkpointShare: c.checkpointShareBp / BASIS_POINTS });
}

export interface CheckPayload {
  contractId: string;
  kind: CheckKind;
  index: number;
  dueAt: string;
}

/**
 * Job (and sweep): one check of one contract, as a command: at most one alert per check (with its
 * fact), the contract's next pending check of that kind, and `vbp.contract_checked`, whose subscriber
 * schedules the next check. Running it twice changes nothing more.
 */
export async function runContractCheck(payload: CheckPayload): Promise<void> {
  const c = await Contract.findById(oid(payload.contractId)).lean<ContractDoc>();
  if (!c || c.status !== 'active') return;
  const settings = await getVbpSettings();
  const dueAt = new Date(payload.dueAt);
  const next = dueAt.getTime() < c.termEnd.getTime() ? { index: payload.index + 1, dueAt: minDate(addSeconds(dueAt, intervalSec(settings, payload.kind)), c.termEnd) } : null;
  await withCommand(null, async (uow) => {
    const { session } = uow;
    const purchased = await purchasedUpTo(c._id, dueAt, session);
    const status = statusOf(c, dueAt, purchased);
    const alertKind = payload.kind === 'pace' ? (status.behindPace ? 'behind_pace' : null) : status.underCheckpoint ? 'under_checkpoint' : null;
    if (alertKind) await raiseAlert(uow, c, payload.kind, payload.index, dueAt, alertKind, purchased, status);
    // NOTE: only the chain's own pending check moves it on; a repeated or extra check leaves it alone.
    await Contract.updateOne({ _id: c._id, status: 'active', [`checks.${payload.kind}.index`]: payload.index }, { $set: { [`checks.${payload.kind}`]: next } }, { session });
    const id = String(c._id);
    uow.emit(
      ContractChecked,
      { contractId: id, kind: payload.kind, index: payload.index, dueAt: dueAt.toISOString(), next: next ? { index: next.index, dueAt: next.dueAt.toISOString() } : null },
      { key: vbpEventKeys.contractChecked(id, payload.kind, payload.index) },
    );
  });
}

async function raiseAlert(uow: UnitOfWork, c: ContractDoc, checkKind: CheckKind, index: number, checkAt: Date, kind: AlertDoc['kind'], purchased: number, status: CompletionStatus): Promise<void> {
  const target = kind === 'under_checkpoint' ? toSafeNumber(divide(BigInt(status.proRataTargetQty) * BigInt(c.checkpointShareBp), BigInt(BASIS_POINTS), 'ceil')) : status.proRataTargetQty;
  const id = String(c._id);
  const key = `${id}:${checkKind}:${index}`;
  // NOTE: look first instead of catching the duplicate key: a failed write would abort the transaction.
  if (await Alert.exists({ key }).session(uow.session)) return;
  await Alert.create(
    [
      {
        key,
        contractId: c._id,
        hospitalOrgId: c.hospitalOrgId,
        distributorOrgId: c.distributorOrgId,
        kind,
        checkKind,
        checkIndex: index,
        checkAt,
        purchasedQty: purchased,
        targetQty: target,
        agreedQty: c.agreedQty,
        ratioBp: status.ratioBp,
        createdAt: uow.at,
      },
    ],
    { session: uow.session },
  );
  uow.audit({
    action: `vbp.contract.${kind}`,
    targetType: 'vbp_contract',
    targetId: id,
    summary: msg(kind === 'behind_pace' ? 'vbp.audit.behindPace' : 'vbp.audit.underCheckpoint', { contractNo: c.contractNo, checkAt: day(checkAt), purchased, target, unit: c.packUnit }),
  });
  uow.emit(
    CompletionAlertRaised,
    {
      contractId: id,
      contractNo: c.contractNo,
      hospitalOrgId: String(c.hospitalOrgId),
      distributorOrgId: String(c.distributorOrgId),
      drugName: c.genericNameZh,
      packUnit: c.packUnit,
      kind,
      checkKind,
      index,
      checkAt: checkAt.toISOString(),
      purchasedQty: purchased,
      proRataTargetQty: status.proRataTargetQty,
      targetQty: target,
      agreedQty: c.agreedQty,
      ratioBp: status.ratioBp,
      checkpointShareBp: c.checkpointShareBp,
    },
    { key: vbpEventKeys.completionAlert(id, checkKind, index) },
  );
}

/**
 * Sweep: checks that are due according to the contracts but did not run (their job was lost, e.g.
 * Redis restarted empty): each runs now, in order, catching up a few per contract per sweep.
 */
export async function sweepContractChecks(limit = 100, perContract = 12): Promise<number> {
  const at = now();
  const due = await Contract.find({ status: 'active', $or: CHECK_KINDS.map((kind) => ({ [`checks.${kind}.dueAt`]: trusted({ $lte: at }) })) }, { _id: 1 })
    .limit(limit)
    .lean<Pick<ContractDoc, '_id'>[]>();
  let ran = 0;
  await eachDue('vbp.contract-checks', due.map((c) => String(c._id)), async (contractId) => {
    for (let n = 0; n < perContract; n += 1) {
      const c = await Contract.findById(oid(contractId), { status: 1, checks: 1 }).lean<Pick<ContractDoc, 'status' | 'checks'>>();
      const kind = CHECK_KINDS.find((k) => {
        const p = c?.checks?.[k];
        return p && p.dueAt.getTime() <= at.getTime();
      });
      const pending = kind ? c?.checks?.[kind] : null;
      if (!c || c.status !== 'active' || !kind || !pending) break;
      await runContractCheck({ contractId, kind, index: pending.index, dueAt: pending.dueAt.toISOString() });
      ran += 1;
    }
    return true;
  });
  return ran;
}

export interface CompletionRow {
  key: string;
  label: string;
  sublabel?: string;
  contracts: number;
  agreedQty: number;
  purchasedQty: number;
  targetQty: number;
  ratioBp: number | null;
  /** purchased / pro-rata target in bp (null before the term starts). */
  paceBp: number | null;
  behindPace: boolean;
  underCheckpoint: boolean;
  alerts: number;
}

export interface ContractCompletion {
  contract: ContractDoc;
  status: CompletionStatus;
  alerts: number;
  lastAlert: AlertDoc | null;
}

/** Completion of each contract now (for display), with its alert count. */
export async function completionOf(contracts: ContractDoc[], at: Date = now()): Promise<ContractCompletion[]> {
  const ids = contracts.map((c) => c._id);
  const alerts = ids.length ? await Alert.find({ contractId: trusted({ $in: ids }) }).sort({ createdAt: -1 }).lean<AlertDoc[]>() : [];
  return contracts.map((c) => {
    const mine = alerts.filter((a) => String(a.contractId) === String(c._id));
    const status = statusOf(c, minDate(at, c.supplyFailure?.at ?? at));
    // NOTE: shown to people: while the pro-rata target still rounds to nothing (a contract hours old), nobody is behind yet.
    const shown = status.proRataTargetQty === 0 ? { ...status, behindPace: false, underCheckpoint: false } : status;
    return { contract: c, status: shown, alerts: mine.length, lastAlert: mine[0] ?? null };
  });
}

/** Sums completions by contract, hospital, drug or winner. */
export function groupCompletion(rows: ContractCompletion[], by: 'contract' | 'hospital' | 'drug' | 'winner'): CompletionRow[] {
  const groups = new Map<string, { label: string; sublabel?: string; rows: ContractCompletion[] }>();
  for (const r of rows) {
    const c = r.contract;
    const [key, label, sublabel] =
      by === 'contract'
        ? [String(c._id), c.contractNo, `${c.hospitalName} · ${c.genericNameZh} · ${c.distributorName}`]
        : by === 'hospital'
          ? [String(c.hospitalOrgId), c.hospitalName, undefined]
          : by === 'drug'
            ? [String(c.drugId), c.genericNameZh, c.specification]
            : [String(c.distributorOrgId), c.distributorName, undefined];
    const g = groups.get(key) ?? { label, sublabel, rows: [] };
    g.rows.push(r);
    groups.set(key, g);
  }
  return [...groups.entries()].map(([key, g]) => {
    const agreedQty = g.rows.reduce((s, r) => s + r.contract.agreedQty, 0);
    const purchasedQty = g.rows.reduce((s, r) => s + r.contract.purchasedQty, 0);
    const targetQty = g.rows.reduce((s, r) => s + r.status.proRataTargetQty, 0);
    return {
      key,
      label: g.label,
      sublabel: g.sublabel,
      contracts: g.rows.length,
      agreedQty,
      purchasedQty,
      targetQty,
      ratioBp: agreedQty === 0 ? null : toSafeNumber(divide(BigInt(purchasedQty) * BigInt(BASIS_POINTS), BigInt(agreedQty), 'half_even')),
      paceBp: targetQty === 0 ? null : toSafeNumber(divide(BigInt(purchasedQty) * BigInt(BASIS_POINTS), BigInt(targetQty), 'half_even')),
      behindPace: g.rows.some((r) => r.status.behindPace),
      underCheckpoint: g.rows.some((r) => r.status.underCheckpoint),
      alerts: g.rows.reduce((s, r) => s + r.alerts, 0),
    };
  });
}

/** Records a purchase against a contract once per source key, in the caller's transaction (the `orders.accepted` subscriber). */
export async function recordContractPurchase(
  input: { contractId: string; sourceKey: string; quantity: number; at: Date; orderId?: string; orderNo?: string },
  session: ClientSession,
): Promise<{ recorded: boolean; purchasedQty: number }> {
  if (!Number.isSafeInteger(input.quantity) || input.quantity < 0) throw new RangeError('quantity must be a non-negative integer');
  const contractId = oid(input.contractId);
  // NOTE: look first instead of catching the duplicate key: a failed write would abort the caller's transaction.
  if (await ContractPurchase.exists({ sourceKey: input.sourceKey }).session(session)) {
    const c = await Contract.findById(contractId, { purchasedQty: 1 }, { session }).lean<Pick<ContractDoc, 'purchasedQty'>>();
    return { recorded: false, purchasedQty: c?.purchasedQty ?? 0 };
  }
  if (!(await Contract.exists({ _id: contractId }).session(session))) return { recorded: false, purchasedQty: 0 };
  await ContractPurchase.create([{ contractId, sourceKey: input.sourceKey, quantity: input.quantity, at: input.at, orderId: input.orderId, orderNo: input.orderNo }], { session });
  const c = await Contract.findOneAndUpdate({ _id: contractId }, { $inc: { purchasedQty: input.quantity } }, { returnDocument: 'after', session }).lean<ContractDoc>();
  return { recorded: true, purchasedQty: c?.purchasedQty ?? 0 };
}
