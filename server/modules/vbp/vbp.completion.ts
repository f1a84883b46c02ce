// Completion of contracts: purchased versus agreed, pace alerts (behind the pro-rata target) and
// checkpoint alerts (under the checkpoint share of it) as scheduled jobs. Each contract has two
// chains of checks; check n of a kind has the job id `vbp-check:<contractId>:<kind>:<n>` and raises
// at most one alert (a unique key), so a check that runs twice alerts once.
import mongoose, { Types, type ClientSession } from 'mongoose';
import { now, platform } from '../../platform/context';
import { BASIS_POINTS, divide, toSafeNumber } from '../../platform/money';
import { trusted } from '../../platform/mongo';
import { addSeconds } from '../../platform/time';
import { formatDate } from '../../platform/view-helpers/formatters';
import { notifyOrganisation } from '../notifications';
import { isDuplicateKey, oid } from './vbp.common';
import { contractCheckJob, jobIds } from './vbp.jobs';
import { Alert, Contract, ContractPurchase, type AlertDoc, type CheckKind, type ContractDoc } from './vbp.model';
import { completionStatus, type CompletionStatus } from './vbp.selection';
import { getVbpSettings } from './vbp.settings';

async function intervalSec(kind: CheckKind): Promise<number> {
  const { completion } = await getVbpSettings();
  return kind === 'pace' ? completion.paceCheckIntervalSec : completion.checkpointIntervalSec;
}

function minDate(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}

/** Schedules check 1 of each kind for a new contract (deterministic ids: a second call adds nothing). */
export async function scheduleFirstChecks(c: Pick<ContractDoc, '_id' | 'termStart' | 'termEnd' | 'status'>): Promise<void> {
  if (c.status !== 'active') return;
  for (const kind of ['pace', 'checkpoint'] as const) {
    const dueAt = minDate(addSeconds(c.termStart, await intervalSec(kind)), c.termEnd);
    await enqueueCheck(String(c._id), kind, 1, dueAt);
  }
}

async function enqueueCheck(contractId: string, kind: CheckKind, index: number, dueAt: Date): Promise<void> {
  await platform().queues.enqueue(contractCheckJob, { contractId, kind, index, dueAt: dueAt.toISOString() }, { jobId: jobIds.check(contractId, kind, index), runAt: dueAt });
}

/** Purchased quantity of a contract up to and including `at` (all purchases when omitted). */
export async function purchasedUpTo(contractId: Types.ObjectId, at?: Date): Promise<number> {
  const match: Record<string, unknown> = { contractId };
  if (at) match.at = { $lte: at };
  const rows = await ContractPurchase.aggregate<{ qty: number }>([{ $match: match }, { $group: { _id: null, qty: { $sum: '$quantity' } } }]);
  return rows[0]?.qty ?? 0;
}

export function statusOf(c: Pick<ContractDoc, 'agreedQty' | 'purchasedQty' | 'termStart' | 'termEnd' | 'checkpointShareBp'>, at: Date, purchasedQty = c.purchasedQty): CompletionStatus {
  return completionStatus({ agreedQty: c.agreedQty, purchasedQty, termStart: c.termStart, termEnd: c.termEnd, at, checkpointShare: c.checkpointShareBp / BASIS_POINTS });
}

/** Job: one check of one contract; alerts once, then schedules the next check of its kind. */
export async function runContractCheck(payload: { contractId: string; kind: CheckKind; index: number; dueAt: string }): Promise<void> {
  const c = await Contract.findById(payload.contractId).lean<ContractDoc>();
  if (!c || c.status !== 'active') return;
  const dueAt = new Date(payload.dueAt);
  const purchased = await purchasedUpTo(c._id, dueAt);
  const status = statusOf(c, dueAt, purchased);
  const alertKind = payload.kind === 'pace' ? (status.behindPace ? 'behind_pace' : null) : status.underCheckpoint ? 'under_checkpoint' : null;
  if (alertKind) await raiseAlert(c, payload.kind, payload.index, dueAt, alertKind, purchased, status);
  if (dueAt.getTime() < c.termEnd.getTime()) {
    const next = minDate(addSeconds(dueAt, await intervalSec(payload.kind)), c.termEnd);
    await enqueueCheck(String(c._id), payload.kind, payload.index + 1, next);
  }
}

async function raiseAlert(c: ContractDoc, checkKind: CheckKind, index: number, checkAt: Date, kind: AlertDoc['kind'], purchased: number, status: CompletionStatus): Promise<void> {
  const target = kind === 'under_checkpoint' ? toSafeNumber(divide(BigInt(status.proRataTargetQty) * BigInt(c.checkpointShareBp), BigInt(BASIS_POINTS), 'ceil')) : status.proRataTargetQty;
  const key = `${String(c._id)}:${checkKind}:${index}`;
  try {
    await Alert.create({
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
      createdAt: now(),
    });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  const percent = (bp: number | null) => (bp === null ? '—' : `${(bp / 100).toFixed(2)}%`);
  await notifyOrganisation(
    c.hospitalOrgId,
    {
      kind: `vbp.${kind}`,
      title: kind === 'behind_pace' ? `带量采购进度落后：${c.genericNameZh}` : `带量采购未达考核进度：${c.genericNameZh}`,
      body:
        kind === 'behind_pace'
          ? `协议 ${c.contractNo} 截至 ${formatDate(checkAt)} 已采购 ${purchased}${c.packUnit}，按时间进度应采购 ${status.proRataTargetQty}${c.packUnit}（协议量 ${c.agreedQty}，完成 ${percent(status.ratioBp)}）。`
          : `协议 ${c.contractNo} 截至 ${formatDate(checkAt)} 已采购 ${purchased}${c.packUnit}，低于考核要求的 ${target}${c.packUnit}（时间进度的 ${c.checkpointShareBp / 100}%）。`,
      link: `/vbp/contracts/${String(c._id)}`,
      dedupeKey: `vbp-alert:${key}`,
    },
    ['pharmacist'],
  );
  platform().broadcaster.toRole('operator', 'vbp:alert', { contractId: String(c._id), kind, checkKind, index });
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

/** Records a purchase against a contract once per source key (orders call this on acceptance). */
export async function recordContractPurchase(
  input: { contractId: string; sourceKey: string; quantity: number; at: Date; orderId?: string; orderNo?: string },
  session?: ClientSession,
): Promise<{ recorded: boolean; purchasedQty: number }> {
  if (!Number.isSafeInteger(input.quantity) || input.quantity < 0) throw new RangeError('quantity must be a non-negative integer');
  const contractId = oid(input.contractId);
  const current = async (s: ClientSession | null) => (await Contract.findById(contractId, { purchasedQty: 1 }, { session: s }).lean<ContractDoc>())?.purchasedQty ?? 0;
  const run = async (s: ClientSession): Promise<{ recorded: boolean; purchasedQty: number }> => {
    // NOTE: look first instead of catching the duplicate key: a failed write would abort the caller's transaction.
    if (await ContractPurchase.exists({ sourceKey: input.sourceKey }).session(s)) return { recorded: false, purchasedQty: await current(s) };
    if (!(await Contract.exists({ _id: contractId }).session(s))) return { recorded: false, purchasedQty: 0 };
    await ContractPurchase.create([{ contractId, sourceKey: input.sourceKey, quantity: input.quantity, at: input.at, orderId: input.orderId, orderNo: input.orderNo }], { session: s });
    const c = await Contract.findOneAndUpdate({ _id: contractId }, { $inc: { purchasedQty: input.quantity } }, { returnDocument: 'after', session: s }).lean<ContractDoc>();
    return { recorded: true, purchasedQty: c?.purchasedQty ?? 0 };
  };
  if (session) return run(session);
  try {
    let out = { recorded: false, purchasedQty: 0 };
    await mongoose.connection.transaction(async (s) => {
      out = await run(s);
    });
    return out;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return { recorded: false, purchasedQty: await current(null) };
  }
}
