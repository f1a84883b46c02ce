import { Types, type ClientSession } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { ConflictError, NotFoundError, RuleViolationError, ValidationError } from '../../platform/errors';
import { t } from '../../platform/i18n';
import { trusted } from '../../platform/mongo';
import { formatFen } from '../../platform/money';
import { businessDay, endOfBusinessDay, parseBusinessDay } from '../../platform/time';
import { recordAudit } from '../audit';
import { getOrganisation } from '../identity';
import { notifyOrganisation } from '../notifications';
import { requireOrg } from './finance.access';
import { accounts, readAccounts, shownBalance } from './finance.ledger';
import { GuaranteeLine, type AgreementVersionDoc, type GuaranteeLineDoc, type LineEventDoc, type LineStatus } from './finance.model';
import type { ApplyLineInput, ApproveLineInput, ChangeLineInput } from './finance.schemas';

export type EffectiveLineStatus = LineStatus | 'expired';

const OPEN_STATUSES: LineStatus[] = ['pending', 'active', 'suspended'];

/** A line's status as of `at`: an approved line past its expiry is 'expired'. */
export function effectiveLineStatus(line: Pick<GuaranteeLineDoc, 'status' | 'expiresAt'>, at: Date = now()): EffectiveLineStatus {
  if (line.status === 'active' && line.expiresAt && line.expiresAt.getTime() <= at.getTime()) return 'expired';
  return line.status;
}

/** The bank a hospital banks with: the bank of its most recent line application. */
export async function currentBankOf(hospitalOrgId: string, session?: ClientSession): Promise<string | undefined> {
  const line = await GuaranteeLine.findOne({ hospitalOrgId: new Types.ObjectId(hospitalOrgId) }, { bankOrgId: 1 })
    .sort({ appliedAt: -1, _id: -1 })
    .session(session ?? null)
    .lean<Pick<GuaranteeLineDoc, 'bankOrgId'>>();
  return line ? String(line.bankOrgId) : undefined;
}

/**
 * In one read: the hospital's bank and its usable line. NOTE: a hospital has at most one open
 * application at a time, so a usable line is always its most recent one.
 */
export async function bankingOf(hospitalOrgId: string, at: Date, session?: ClientSession): Promise<{ bankOrgId?: string; line: GuaranteeLineDoc | null }> {
  const latest = await GuaranteeLine.findOne({ hospitalOrgId: new Types.ObjectId(hospitalOrgId) })
    .sort({ appliedAt: -1, _id: -1 })
    .session(session ?? null)
    .lean<GuaranteeLineDoc>();
  if (!latest) return { line: null };
  const usable = latest.status === 'active' && latest.expiresAt !== undefined && latest.expiresAt.getTime() > at.getTime();
  return { bankOrgId: String(latest.bankOrgId), line: usable ? latest : null };
}

/** The approved, unexpired, unsuspended line of a hospital at a bank, if any. */
export async function usableLine(hospitalOrgId: string, bankOrgId: string, at: Date, session?: ClientSession): Promise<GuaranteeLineDoc | null> {
  return GuaranteeLine.findOne({
    hospitalOrgId: new Types.ObjectId(hospitalOrgId),
    bankOrgId: new Types.ObjectId(bankOrgId),
    status: 'active',
    expiresAt: trusted({ $gt: at }),
  })
    .session(session ?? null)
    .lean<GuaranteeLineDoc>();
}

/** The hospital's line that is in force or being decided (pending, active or suspended), newest first. */
export async function currentLineOf(hospitalOrgId: string): Promise<GuaranteeLineDoc | null> {
  return GuaranteeLine.findOne({ hospitalOrgId: new Types.ObjectId(hospitalOrgId), status: trusted({ $in: OPEN_STATUSES }) })
    .sort({ appliedAt: -1, _id: -1 })
    .lean<GuaranteeLineDoc>();
}

function event(actor: Actor, action: LineEventDoc['action'], summary: string): LineEventDoc {
  return { at: now(), action, byUserId: new Types.ObjectId(actor.id), byName: actor.name, summary };
}

function notice(key: string, vars: Record<string, unknown>): { title: string; body: string } {
  return { title: t('zh', `finance.notify.${key}.title`, vars), body: t('zh', `finance.notify.${key}.body`, vars) };
}

/** Hospital finance: applies to a bank for a guarantee line (amount, term). */
export async function applyForLine(actor: Actor, input: ApplyLineInput): Promise<GuaranteeLineDoc> {
  const hospitalOrgId = actor.orgId;
  const bank = await requireOrg(input.bankOrgId, 'bank', 'bankOrgId');
  const open = await GuaranteeLine.find({ hospitalOrgId: new Types.ObjectId(hospitalOrgId), status: trusted({ $in: OPEN_STATUSES }) }).lean<GuaranteeLineDoc[]>();
  const blocking = open.find((l) => effectiveLineStatus(l) !== 'expired');
  if (blocking) {
    throw new ConflictError({
      code: 'LINE_EXISTS',
      message: blocking.status === 'pending' ? 'An application is already waiting for a decision.' : 'The hospital already has a guarantee line; ask the bank to change it instead.',
      details: [{ lineId: String(blocking._id), status: blocking.status }],
    });
  }
  const previousBank = await currentBankOf(hospitalOrgId);
  if (previousBank && previousBank !== input.bankOrgId) {
    const held = await readAccounts([
      accounts.workingCapital(hospitalOrgId, previousBank),
      accounts.advancePrincipal(hospitalOrgId, previousBank),
      accounts.interestReceivable(hospitalOrgId, previousBank),
    ]);
    if ([...held.values()].some((a) => shownBalance(a) !== 0)) {
      throw new RuleViolationError({
        code: 'BANK_SWITCH_BLOCKED',
        message: 'The hospital still holds working capital or owes advances at its current bank; settle them before choosing another bank.',
      });
    }
  }
  const at = now();
  const [line] = await GuaranteeLine.create([
    {
      hospitalOrgId: new Types.ObjectId(hospitalOrgId),
      bankOrgId: new Types.ObjectId(input.bankOrgId),
      requestedAmountFen: input.amountFen,
      requestedTermMonths: input.termMonths,
      note: input.note,
      status: 'pending',
      appliedAt: at,
      agreementVersion: 0,
      history: [event(actor, 'applied', `${formatFen(input.amountFen)} / ${input.termMonths}`)],
    },
  ]);
  const lineId = String(line!._id);
  await recordAudit(actor, { action: 'finance.line.apply', targetType: 'guarantee_line', targetId: lineId, summary: `${actor.orgName} → ${bank.name}: ${formatFen(input.amountFen)}, ${input.termMonths} months` });
  await notifyOrganisation(
    input.bankOrgId,
    { kind: 'finance.line_applied', ...notice('lineApplied', { hospital: actor.orgName, amount: formatFen(input.amountFen), months: input.termMonths }), link: `/finance/lines/${lineId}`, dedupeKey: `line-applied:${lineId}` },
    ['bank_officer'],
  );
  return line!.toObject();
}

/** A line the actor may see (operator: all; hospital: its own; bank: its own); 404 otherwise. */
export async function getLine(actor: Actor, lineId: string): Promise<GuaranteeLineDoc> {
  const line = Types.ObjectId.isValid(lineId) ? await GuaranteeLine.findById(lineId).lean<GuaranteeLineDoc>() : null;
  const visible =
    line &&
    (actor.role === 'operator' ||
      (actor.orgType === 'hospital' && String(line.hospitalOrgId) === actor.orgId) ||
      (actor.role === 'bank_officer' && String(line.bankOrgId) === actor.orgId));
  if (!visible) throw new NotFoundError({ code: 'LINE_NOT_FOUND', message: 'No such guarantee line.' });
  return line;
}

/** Lines the actor may see, newest application first. */
export async function listLines(actor: Actor, filter: { status?: LineStatus; hospitalOrgId?: string } = {}): Promise<GuaranteeLineDoc[]> {
  const query: Record<string, unknown> = {};
  if (actor.orgType === 'hospital') query.hospitalOrgId = new Types.ObjectId(actor.orgId);
  else if (actor.role === 'bank_officer') query.bankOrgId = new Types.ObjectId(actor.orgId);
  else if (actor.role !== 'operator') return [];
  if (filter.hospitalOrgId && actor.orgType !== 'hospital') query.hospitalOrgId = new Types.ObjectId(filter.hospitalOrgId);
  if (filter.status) query.status = filter.status;
  return GuaranteeLine.find(query).sort({ appliedAt: -1, _id: -1 }).limit(500).lean<GuaranteeLineDoc[]>();
}

async function bankLine(actor: Actor, lineId: string): Promise<GuaranteeLineDoc> {
  const line = await getLine(actor, lineId);
  if (actor.role !== 'bank_officer' || String(line.bankOrgId) !== actor.orgId) throw new NotFoundError({ code: 'LINE_NOT_FOUND', message: 'No such guarantee line.' });
  return line;
}

function expiryFrom(day: string, field: string): Date {
  const expiresAt = endOfBusinessDay(parseBusinessDay(day));
  if (expiresAt.getTime() <= now().getTime()) {
    throw new ValidationError({ code: 'EXPIRY_IN_PAST', message: 'The expiry date must be after today.', details: [{ path: field, message: 'must be after today' }] });
  }
  return expiresAt;
}

async function transition(
  line: GuaranteeLineDoc,
  from: LineStatus[],
  update: Record<string, unknown>,
  ev: LineEventDoc,
  conflict: string,
  agreement?: AgreementVersionDoc,
): Promise<GuaranteeLineDoc> {
  const updated = await GuaranteeLine.findOneAndUpdate(
    // NOTE: the version guard makes two concurrent changes produce two versions, never one twice.
    { _id: line._id, status: trusted({ $in: from }), agreementVersion: line.agreementVersion },
    { $set: update, $push: { history: ev, ...(agreement ? { agreements: agreement } : {}) } },
    { returnDocument: 'after' },
  ).lean<GuaranteeLineDoc>();
  if (!updated) throw new ConflictError({ code: 'LINE_STATE_CHANGED', message: conflict, details: [{ status: line.status }] });
  return updated;
}

async function tellHospital(line: GuaranteeLineDoc, key: string, vars: Record<string, unknown>): Promise<void> {
  await notifyOrganisation(
    line.hospitalOrgId,
    { kind: `finance.line_${key}`, ...notice(`line${key[0]!.toUpperCase()}${key.slice(1)}`, vars), link: '/finance/lines', dedupeKey: `line-${key}:${String(line._id)}:${line.history.length}` },
    ['hospital_finance'],
  );
}

/** Bank officer: approves a pending application, fixing the terms; this makes the agreement. */
export async function approveLine(actor: Actor, lineId: string, input: ApproveLineInput): Promise<GuaranteeLineDoc> {
  const line = await bankLine(actor, lineId);
  if (line.status !== 'pending') throw new ConflictError({ code: 'LINE_NOT_PENDING', message: 'Only a pending application can be approved.', details: [{ status: line.status }] });
  const expiresAt = expiryFrom(input.expiresOn, 'expiresOn');
  const at = now();
  const agreementNo = `GA-${businessDay(at).replaceAll('-', '')}-${String(line._id).slice(-6).toUpperCase()}`;
  const summary = `${formatFen(input.limitFen)}, ${input.annualRateBp} bp, ${input.maxTenorDays} d, → ${input.expiresOn}`;
  const updated = await transition(
    line,
    ['pending'],
    { status: 'active', limitFen: input.limitFen, annualRateBp: input.annualRateBp, maxTenorDays: input.maxTenorDays, expiresAt, decidedAt: at, agreementNo, agreementVersion: 1, agreementAt: at },
    event(actor, 'approved', summary),
    'The application was decided meanwhile.',
    { version: 1, at, byName: actor.name, limitFen: input.limitFen, annualRateBp: input.annualRateBp, maxTenorDays: input.maxTenorDays, expiresAt },
  );
  await recordAudit(actor, { action: 'finance.line.approve', targetType: 'guarantee_line', targetId: lineId, summary });
  await tellHospital(updated, 'approved', { bank: actor.orgName, limit: formatFen(input.limitFen) });
  return updated;
}

/** Bank officer: rejects a pending application with a reason. */
export async function rejectLine(actor: Actor, lineId: string, reason: string): Promise<GuaranteeLineDoc> {
  const line = await bankLine(actor, lineId);
  if (line.status !== 'pending') throw new ConflictError({ code: 'LINE_NOT_PENDING', message: 'Only a pending application can be rejected.', details: [{ status: line.status }] });
  const updated = await transition(line, ['pending'], { status: 'rejected', rejectedReason: reason, decidedAt: now() }, event(actor, 'rejected', reason), 'The application was decided meanwhile.');
  await recordAudit(actor, { action: 'finance.line.reject', targetType: 'guarantee_line', targetId: lineId, summary: reason });
  await tellHospital(updated, 'rejected', { bank: actor.orgName, reason });
  return updated;
}

/** Bank officer: suspends an active line; no new advances until it is reinstated. */
export async function suspendLine(actor: Actor, lineId: string, reason: string): Promise<GuaranteeLineDoc> {
  const line = await bankLine(actor, lineId);
  if (line.status !== 'active') throw new ConflictError({ code: 'LINE_NOT_ACTIVE', message: 'Only an active line can be suspended.', details: [{ status: line.status }] });
  const updated = await transition(line, ['active'], { status: 'suspended', suspendedReason: reason }, event(actor, 'suspended', reason), 'The line changed meanwhile.');
  await recordAudit(actor, { action: 'finance.line.suspend', targetType: 'guarantee_line', targetId: lineId, summary: reason });
  await tellHospital(updated, 'suspended', { bank: actor.orgName, reason });
  return updated;
}

/** Bank officer: lifts a suspension. */
export async function reinstateLine(actor: Actor, lineId: string): Promise<GuaranteeLineDoc> {
  const line = await bankLine(actor, lineId);
  if (line.status !== 'suspended') throw new ConflictError({ code: 'LINE_NOT_SUSPENDED', message: 'Only a suspended line can be reinstated.', details: [{ status: line.status }] });
  const updated = await transition(line, ['suspended'], { status: 'active' }, event(actor, 'reinstated', ''), 'The line changed meanwhile.');
  await GuaranteeLine.updateOne({ _id: line._id }, { $unset: { suspendedReason: 1 } });
  await recordAudit(actor, { action: 'finance.line.reinstate', targetType: 'guarantee_line', targetId: lineId, summary: 'reinstated' });
  await tellHospital(updated, 'reinstated', { bank: actor.orgName });
  return updated;
}

/** Bank officer: changes the terms of an active or suspended line (a new agreement version). */
export async function changeLine(actor: Actor, lineId: string, input: ChangeLineInput): Promise<GuaranteeLineDoc> {
  const line = await bankLine(actor, lineId);
  if (line.status !== 'active' && line.status !== 'suspended') {
    throw new ConflictError({ code: 'LINE_NOT_ACTIVE', message: 'Only an approved line can be changed.', details: [{ status: line.status }] });
  }
  const set: Record<string, unknown> = { agreementVersion: line.agreementVersion + 1, agreementAt: now() };
  const parts: string[] = [];
  if (input.limitFen !== undefined) {
    set.limitFen = input.limitFen;
    parts.push(`limit ${formatFen(input.limitFen)}`);
  }
  if (input.annualRateBp !== undefined) {
    set.annualRateBp = input.annualRateBp;
    parts.push(`rate ${input.annualRateBp} bp`);
  }
  if (input.maxTenorDays !== undefined) {
    set.maxTenorDays = input.maxTenorDays;
    parts.push(`tenor ${input.maxTenorDays} d`);
  }
  if (input.expiresOn !== undefined) {
    set.expiresAt = expiryFrom(input.expiresOn, 'expiresOn');
    parts.push(`expires ${input.expiresOn}`);
  }
  const summary = parts.join(', ');
  const agreement: AgreementVersionDoc = {
    version: line.agreementVersion + 1,
    at: set.agreementAt as Date,
    byName: actor.name,
    limitFen: (set.limitFen as number | undefined) ?? line.limitFen!,
    annualRateBp: (set.annualRateBp as number | undefined) ?? line.annualRateBp!,
    maxTenorDays: (set.maxTenorDays as number | undefined) ?? line.maxTenorDays!,
    expiresAt: (set.expiresAt as Date | undefined) ?? line.expiresAt!,
  };
  const updated = await transition(line, ['active', 'suspended'], set, event(actor, 'changed', summary), 'The line changed meanwhile.', agreement);
  await recordAudit(actor, { action: 'finance.line.change', targetType: 'guarantee_line', targetId: lineId, summary });
  await tellHospital(updated, 'changed', { bank: actor.orgName, summary });
  return updated;
}

/** The JSON shape of a line for the API, with names and its status as of now. */
export async function lineView(line: GuaranteeLineDoc, extra: { usedFen?: number } = {}) {
  const [hospital, bank] = await Promise.all([getOrganisation(line.hospitalOrgId), getOrganisation(line.bankOrgId)]);
  return {
    id: String(line._id),
    hospitalOrgId: String(line.hospitalOrgId),
    hospitalName: hospital?.name ?? '',
    hospitalLevel: hospital?.hospitalLevel ?? undefined,
    bankOrgId: String(line.bankOrgId),
    bankName: bank?.name ?? '',
    requestedAmountFen: line.requestedAmountFen,
    requestedTermMonths: line.requestedTermMonths,
    note: line.note ?? undefined,
    status: line.status,
    effectiveStatus: effectiveLineStatus(line),
    appliedAt: line.appliedAt.toISOString(),
    limitFen: line.limitFen ?? undefined,
    annualRateBp: line.annualRateBp ?? undefined,
    maxTenorDays: line.maxTenorDays ?? undefined,
    expiresAt: line.expiresAt?.toISOString(),
    decidedAt: line.decidedAt?.toISOString(),
    rejectedReason: line.rejectedReason ?? undefined,
    suspendedReason: line.suspendedReason ?? undefined,
    agreementNo: line.agreementNo ?? undefined,
    agreementVersion: line.agreementVersion,
    agreementVersions: (line.agreements ?? []).map((a) => ({ version: a.version, at: a.at.toISOString(), byName: a.byName })),
    usedFen: extra.usedFen,
    history: line.history.map((h) => ({ at: h.at.toISOString(), action: h.action, byName: h.byName, summary: h.summary })),
  };
}
