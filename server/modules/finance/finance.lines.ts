import { Types, type ClientSession } from 'mongoose';
import { LineApplied, LineChanged, LineDecided } from '../../events/finance';
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { ConflictError, NotFoundError, RuleViolationError, ValidationError } from '../../platform/errors';
import { fen, msg, renderMessage, type Message } from '../../platform/messages';
import { currentContext } from '../../platform/request-context';
import { trusted } from '../../platform/mongo';
import { formatFen } from '../../platform/money';
import { businessDay, endOfBusinessDay, parseBusinessDay } from '../../platform/time';
import { withCommand, type UnitOfWork } from '../../platform/unit-of-work';
import { getOrganisation } from '../identity';
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

/** An annual rate in basis points as a percentage, e.g. 435 → "4.35%" (the same in both languages). */
function ratePercent(bp: number): string {
  return `${(bp / 100).toFixed(2)}%`;
}

/** Several messages as one, separated as each language separates list items. */
function joinMessages(parts: Message[]): Message {
  const param = (m: Message) => ({ msg: m.key, params: m.params });
  return parts.slice(1).reduce((acc, m) => msg('finance.lineTerms.join', { a: param(acc), b: param(m) }), parts[0] ?? msg('finance.lineTerms.none'));
}

function event(actor: Actor, action: LineEventDoc['action'], summary: string | Message, at: Date): LineEventDoc {
  return { at, action, byUserId: new Types.ObjectId(actor.id), byName: actor.name, summary };
}

const lineRef = (line: GuaranteeLineDoc, names: { hospitalName: string; bankName: string }) => ({
  lineId: String(line._id),
  hospitalOrgId: String(line.hospitalOrgId),
  hospitalName: names.hospitalName,
  bankOrgId: String(line.bankOrgId),
  bankName: names.bankName,
});

const termsOf = (l: Pick<GuaranteeLineDoc, 'limitFen' | 'annualRateBp' | 'maxTenorDays' | 'expiresAt'>) => ({
  limitFen: l.limitFen!,
  annualRateBp: l.annualRateBp!,
  maxTenorDays: l.maxTenorDays!,
  expiresAt: l.expiresAt!.toISOString(),
});

/** Terms as message parameters: limit, rate (percent), longest tenor (days), expiry (day). */
export function termsParams(t: { limitFen: number; annualRateBp: number; maxTenorDays: number; expiresAt: string }) {
  return { limit: fen(t.limitFen), rate: `${(t.annualRateBp / 100).toFixed(2)}%`, tenor: t.maxTenorDays, expires: { date: t.expiresAt } };
}

/**
 * Hospital finance: applies to a bank for a guarantee line (amount, term). One unit of work: the
 * pending line, the audit entry and `finance.line_applied`; returns the line as the API shows it.
 */
export async function applyForLine(actor: Actor, input: ApplyLineInput): Promise<Awaited<ReturnType<typeof lineView>>> {
  const hospitalOrgId = actor.orgId;
  const bank = await requireOrg(input.bankOrgId, 'bank', 'bankOrgId');
  const open = await GuaranteeLine.find({ hospitalOrgId: new Types.ObjectId(hospitalOrgId), status: trusted({ $in: OPEN_STATUSES }) }).lean<GuaranteeLineDoc[]>();
  const blocking = open.find((l) => effectiveLineStatus(l) !== 'expired');
  if (blocking) {
    throw new ConflictError({
      code: 'LINE_EXISTS',
      message: msg(blocking.status === 'pending' ? 'errorCodes.LINE_PENDING' : 'errorCodes.LINE_EXISTS'),
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
        message: msg('errorCodes.BANK_SWITCH_BLOCKED'),
      });
    }
  }
  return withCommand(actor, async (uow) => {
    const at = uow.at;
    const [line] = await GuaranteeLine.create(
      [
        {
          hospitalOrgId: new Types.ObjectId(hospitalOrgId),
          bankOrgId: new Types.ObjectId(input.bankOrgId),
          requestedAmountFen: input.amountFen,
          requestedTermMonths: input.termMonths,
          note: input.note,
          status: 'pending',
          appliedAt: at,
          agreementVersion: 0,
          history: [event(actor, 'applied', msg('finance.lineTerms.applied', { amount: fen(input.amountFen), months: input.termMonths }), at)],
        },
      ],
      { session: uow.session },
    );
    const doc = line!.toObject() as GuaranteeLineDoc;
    const lineId = String(doc._id);
    uow.audit({
      action: 'finance.line.apply',
      targetType: 'guarantee_line',
      targetId: lineId,
      summary: msg('finance.audit.lineApplied', { hospital: actor.orgName, bank: bank.name, amount: fen(input.amountFen), months: input.termMonths }),
    });
    uow.emit(LineApplied, { ...lineRef(doc, { hospitalName: actor.orgName, bankName: bank.name }), amountFen: input.amountFen, termMonths: input.termMonths, at: at.toISOString() }, { key: `line-applied:${lineId}` });
    return lineView(doc);
  });
}

/** A line the actor may see (operator: all; hospital: its own; bank: its own); 404 otherwise. */
export async function getLine(actor: Actor, lineId: string): Promise<GuaranteeLineDoc> {
  const line = Types.ObjectId.isValid(lineId) ? await GuaranteeLine.findById(lineId).lean<GuaranteeLineDoc>() : null;
  const visible =
    line &&
    (actor.role === 'operator' ||
      (actor.orgType === 'hospital' && String(line.hospitalOrgId) === actor.orgId) ||
      (actor.role === 'bank_officer' && String(line.bankOrgId) === actor.orgId));
  if (!visible) throw new NotFoundError({ code: 'LINE_NOT_FOUND', message: msg('errorCodes.LINE_NOT_FOUND') });
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
  if (actor.role !== 'bank_officer' || String(line.bankOrgId) !== actor.orgId) throw new NotFoundError({ code: 'LINE_NOT_FOUND', message: msg('errorCodes.LINE_NOT_FOUND') });
  return line;
}

function expiryFrom(day: string, field: string): Date {
  const expiresAt = endOfBusinessDay(parseBusinessDay(day));
  if (expiresAt.getTime() <= now().getTime()) {
    throw new ValidationError({ code: 'EXPIRY_IN_PAST', message: msg('errorCodes.EXPIRY_IN_PAST'), details: [{ path: field, message: msg('validationIssues.afterToday') }] });
  }
  return expiresAt;
}

async function transition(
  uow: UnitOfWork,
  line: GuaranteeLineDoc,
  from: LineStatus[],
  change: { set: Record<string, unknown>; unset?: string[] },
  ev: LineEventDoc,
  conflict: Message,
  agreement?: AgreementVersionDoc,
): Promise<GuaranteeLineDoc> {
  const updated = await GuaranteeLine.findOneAndUpdate(
    // NOTE: the version guard makes two concurrent changes produce two versions, never one twice.
    { _id: line._id, status: trusted({ $in: from }), agreementVersion: line.agreementVersion },
    {
      $set: change.set,
      ...(change.unset?.length ? { $unset: Object.fromEntries(change.unset.map((k) => [k, 1])) } : {}),
      $push: { history: ev, ...(agreement ? { agreements: agreement } : {}) },
    },
    { session: uow.session, returnDocument: 'after' },
  ).lean<GuaranteeLineDoc>();
  if (!updated) throw new ConflictError({ code: 'LINE_STATE_CHANGED', message: conflict, details: [{ status: line.status }] });
  return updated;
}

/** Stages the audit entry and `finance.line_changed` of a suspension, reinstatement or change of terms. */
function lineChanged(uow: UnitOfWork, names: { hospitalName: string; bankName: string }, updated: GuaranteeLineDoc, action: 'suspended' | 'reinstated' | 'changed', audit: { action: string; summary: Message }, reason?: string): void {
  const lineId = String(updated._id);
  uow.audit({ action: audit.action, targetType: 'guarantee_line', targetId: lineId, summary: audit.summary });
  uow.emit(
    LineChanged,
    {
      ...lineRef(updated, names),
      action,
      at: uow.at.toISOString(),
      version: updated.history.length,
      ...(action === 'changed' ? { terms: termsOf(updated) } : {}),
      ...(reason ? { reason } : {}),
    },
    { key: `line-changed:${lineId}:${updated.history.length}` },
  );
}

/** The line's hospital and bank names (the bank is the acting officer's). */
async function namesOf(actor: Actor, line: GuaranteeLineDoc): Promise<{ hospitalName: string; bankName: string }> {
  return { hospitalName: (await getOrganisation(line.hospitalOrgId))?.name ?? '', bankName: actor.orgName };
}

/** Bank officer: approves a pending application, fixing the terms; this makes the agreement. */
export async function approveLine(actor: Actor, lineId: string, input: ApproveLineInput): Promise<GuaranteeLineDoc> {
  const line = await bankLine(actor, lineId);
  if (line.status !== 'pending') throw new ConflictError({ code: 'LINE_NOT_PENDING', message: msg('errorCodes.LINE_NOT_PENDING'), details: [{ status: line.status }] });
  const expiresAt = expiryFrom(input.expiresOn, 'expiresOn');
  const names = await namesOf(actor, line);
  return withCommand(actor, async (uow) => {
    const at = uow.at;
    const agreementNo = `GA-${businessDay(at).replaceAll('-', '')}-${String(line._id).slice(-6).toUpperCase()}`;
    const summary = msg('finance.lineTerms.approved', { limit: fen(input.limitFen), rate: ratePercent(input.annualRateBp), tenor: input.maxTenorDays, expires: input.expiresOn });
    const updated = await transition(
      uow,
      line,
      ['pending'],
      { set: { status: 'active', limitFen: input.limitFen, annualRateBp: input.annualRateBp, maxTenorDays: input.maxTenorDays, expiresAt, decidedAt: at, agreementNo, agreementVersion: 1, agreementAt: at } },
      event(actor, 'approved', summary, at),
      msg('errorCodes.LINE_DECIDED_MEANWHILE'),
      { version: 1, at, byName: actor.name, limitFen: input.limitFen, annualRateBp: input.annualRateBp, maxTenorDays: input.maxTenorDays, expiresAt },
    );
    const terms = termsOf(updated);
    uow.audit({ action: 'finance.line.approve', targetType: 'guarantee_line', targetId: lineId, summary: msg('finance.audit.lineApproved', { hospital: names.hospitalName, agreementNo, ...termsParams(terms) }) });
    uow.emit(LineDecided, { ...lineRef(updated, names), decision: 'approved', at: at.toISOString(), terms, agreementNo }, { key: `line-decided:${lineId}` });
    return updated;
  });
}

/** Bank officer: rejects a pending application with a reason. */
export async function rejectLine(actor: Actor, lineId: string, reason: string): Promise<GuaranteeLineDoc> {
  const line = await bankLine(actor, lineId);
  if (line.status !== 'pending') throw new ConflictError({ code: 'LINE_NOT_PENDING', message: msg('errorCodes.LINE_NOT_PENDING_2'), details: [{ status: line.status }] });
  const names = await namesOf(actor, line);
  return withCommand(actor, async (uow) => {
    const updated = await transition(uow, line, ['pending'], { set: { status: 'rejected', rejectedReason: reason, decidedAt: uow.at } }, event(actor, 'rejected', reason, uow.at), msg('errorCodes.LINE_DECIDED_MEANWHILE'));
    uow.audit({ action: 'finance.line.reject', targetType: 'guarantee_line', targetId: lineId, summary: msg('finance.audit.lineRejected', { hospital: names.hospitalName, reason }) });
    uow.emit(LineDecided, { ...lineRef(updated, names), decision: 'rejected', at: uow.at.toISOString(), reason }, { key: `line-decided:${lineId}` });
    return updated;
  });
}

/** Bank officer: suspends an active line; no new advances until it is reinstated. */
export async function suspendLine(actor: Actor, lineId: string, reason: string): Promise<GuaranteeLineDoc> {
  const line = await bankLine(actor, lineId);
  if (line.status !== 'active') throw new ConflictError({ code: 'LINE_NOT_ACTIVE', message: msg('errorCodes.LINE_NOT_ACTIVE'), details: [{ status: line.status }] });
  const names = await namesOf(actor, line);
  return withCommand(actor, async (uow) => {
    const updated = await transition(uow, line, ['active'], { set: { status: 'suspended', suspendedReason: reason } }, event(actor, 'suspended', reason, uow.at), msg('errorCodes.LINE_STATE_CHANGED'));
    lineChanged(uow, names, updated, 'suspended', { action: 'finance.line.suspend', summary: msg('finance.audit.lineSuspended', { hospital: names.hospitalName, reason }) }, reason);
    return updated;
  });
}

/** Bank officer: lifts a suspension. */
export async function reinstateLine(actor: Actor, lineId: string): Promise<GuaranteeLineDoc> {
  const line = await bankLine(actor, lineId);
  if (line.status !== 'suspended') throw new ConflictError({ code: 'LINE_NOT_SUSPENDED', message: msg('errorCodes.LINE_NOT_SUSPENDED'), details: [{ status: line.status }] });
  const names = await namesOf(actor, line);
  return withCommand(actor, async (uow) => {
    const updated = await transition(uow, line, ['suspended'], { set: { status: 'active' }, unset: ['suspendedReason'] }, event(actor, 'reinstated', '', uow.at), msg('errorCodes.LINE_STATE_CHANGED'));
    lineChanged(uow, names, updated, 'reinstated', { action: 'finance.line.reinstate', summary: msg('finance.audit.lineReinstated', { hospital: names.hospitalName }) });
    return updated;
  });
}

/** Bank officer: changes the terms of an active or suspended line (a new agreement version). */
export async function changeLine(actor: Actor, lineId: string, input: ChangeLineInput): Promise<GuaranteeLineDoc> {
  const line = await bankLine(actor, lineId);
  if (line.status !== 'active' && line.status !== 'suspended') {
    throw new ConflictError({ code: 'LINE_NOT_ACTIVE', message: msg('errorCodes.LINE_NOT_ACTIVE_2'), details: [{ status: line.status }] });
  }
  const expiresAt = input.expiresOn !== undefined ? expiryFrom(input.expiresOn, 'expiresOn') : undefined;
  const names = await namesOf(actor, line);
  return withCommand(actor, async (uow) => {
    const set: Record<string, unknown> = { agreementVersion: line.agreementVersion + 1, agreementAt: uow.at };
    const parts: Message[] = [];
    if (input.limitFen !== undefined) {
      set.limitFen = input.limitFen;
      parts.push(msg('finance.lineTerms.limit', { limit: fen(input.limitFen) }));
    }
    if (input.annualRateBp !== undefined) {
      set.annualRateBp = input.annualRateBp;
      parts.push(msg('finance.lineTerms.rate', { rate: ratePercent(input.annualRateBp) }));
    }
    if (input.maxTenorDays !== undefined) {
      set.maxTenorDays = input.maxTenorDays;
      parts.push(msg('finance.lineTerms.tenor', { tenor: input.maxTenorDays }));
    }
    if (expiresAt !== undefined) {
      set.expiresAt = expiresAt;
      parts.push(msg('finance.lineTerms.expires', { expires: input.expiresOn ?? '' }));
    }
    const agreement: AgreementVersionDoc = {
      version: line.agreementVersion + 1,
      at: uow.at,
      byName: actor.name,
      limitFen: (set.limitFen as number | undefined) ?? line.limitFen!,
      annualRateBp: (set.annualRateBp as number | undefined) ?? line.annualRateBp!,
      maxTenorDays: (set.maxTenorDays as number | undefined) ?? line.maxTenorDays!,
      expiresAt: (set.expiresAt as Date | undefined) ?? line.expiresAt!,
    };
    const updated = await transition(uow, line, ['active', 'suspended'], { set }, event(actor, 'changed', joinMessages(parts), uow.at), msg('errorCodes.LINE_STATE_CHANGED'), agreement);
    lineChanged(uow, names, updated, 'changed', { action: 'finance.line.change', summary: msg('finance.audit.lineChanged', { hospital: names.hospitalName, version: agreement.version, ...termsParams(termsOf(updated)) }) });
    return updated;
  });
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
    history: line.history.map((h) => ({ at: h.at.toISOString(), action: h.action, byName: h.byName, summary: typeof h.summary === 'string' ? h.summary : renderMessage(currentContext()?.lang ?? 'zh', h.summary) })),
  };
}
