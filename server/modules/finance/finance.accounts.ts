import { Types } from 'mongoose';
import { DepositMade, PrepaymentRecorded } from '../../events/finance';
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { RuleViolationError } from '../../platform/errors';
import { fen, msg } from '../../platform/messages';
import { trusted } from '../../platform/mongo';
import { sumFen } from '../../platform/money';
import { endOfBusinessDay, parseBusinessDay } from '../../platform/time';
import { withCommand } from '../../platform/unit-of-work';
import { getOrganisation } from '../identity';
import { requireOrg } from './finance.access';
import { debtOf } from './finance.advances';
import { lineAvailableFen, securedStatus, type SecuredLevel } from './finance.interest';
import { accounts, ensureAccounts, isDuplicateEntry, postEntry, readAccounts, shownBalance, type AccountRef } from './finance.ledger';
import { currentBankOf, currentLineOf, effectiveLineStatus, lineView, usableLine } from './finance.lines';
import { Advance, GuaranteeLine, Invoice, JournalEntry, type EntryKind, type GuaranteeLineDoc, type InvoiceDoc, type InvoiceStatus, type JournalEntryDoc } from './finance.model';
import type { MoneyInInput } from './finance.schemas';

export interface MoneyInResult {
  entryId: string;
  hospitalOrgId: string;
  bankOrgId: string;
  amountFen: number;
  balanceFen: number;
  replayed: boolean;
}

/**
 * Money into a hospital's working-capital account, in one unit of work: the journal entry
 * `<kind>:<hospital>:<requestKey>` (Dr bank clearing, Cr working capital), the audit entry and
 * `finance.prepayment_recorded` / `finance.deposit_made`. The same request key again changes nothing
 * and answers the first movement (a different amount under it is refused).
 */
async function moneyIn(actor: Actor, kind: 'prepayment' | 'deposit', hospital: { id: string; name: string }, input: MoneyInInput, requestKey: string): Promise<MoneyInResult> {
  const hospitalOrgId = hospital.id;
  const bank = await currentBankOf(hospitalOrgId);
  if (!bank) {
    throw new RuleViolationError({ code: 'NO_BANK', message: msg('errorCodes.NO_BANK') });
  }
  const key = `${kind}:${hospitalOrgId}:${requestKey}`;
  const wc = accounts.workingCapital(hospitalOrgId, bank);
  await ensureAccounts([accounts.bankClearing(hospitalOrgId, bank), wc]);
  try {
    return await withCommand(actor, async (uow) => {
      const entry = await postEntry(
        {
          idempotencyKey: key,
          kind,
          memo: kind === 'prepayment' ? 'medical-insurance prepayment of working capital' : 'hospital deposit into working capital',
          postings: [
            { account: accounts.bankClearing(hospitalOrgId, bank), amountFen: input.amountFen },
            { account: wc, amountFen: -input.amountFen },
          ],
          refs: { hospitalOrgId, bankOrgId: bank, reference: input.reference, actorId: actor.id },
          postedAt: uow.at,
        },
        uow.session,
      );
      const balanceFen = shownBalance((await readAccounts([wc], uow.session)).get(wc.key));
      uow.audit({
        action: `finance.${kind}`,
        targetType: 'hospital',
        targetId: hospitalOrgId,
        summary: msg(`finance.audit.${kind}${input.reference ? 'WithReference' : ''}`, { hospital: hospital.name, amount: fen(input.amountFen), ...(input.reference ? { reference: input.reference } : {}) }),
      });
      uow.emit(
        kind === 'prepayment' ? PrepaymentRecorded : DepositMade,
        { entryId: String(entry._id), hospitalOrgId, bankOrgId: bank, amountFen: input.amountFen, balanceFen, ...(input.reference ? { reference: input.reference } : {}), at: uow.at.toISOString() },
        { key },
      );
      return { entryId: String(entry._id), hospitalOrgId, bankOrgId: bank, amountFen: input.amountFen, balanceFen, replayed: false };
    });
  } catch (err) {
    if (!isDuplicateEntry(err)) throw err;
    const existing = await JournalEntry.findOne({ idempotencyKey: key }).lean<JournalEntryDoc>();
    const same = existing?.postings.some((p) => p.accountKey === wc.key && p.amountFen === -input.amountFen);
    if (!existing || !same) throw new RuleViolationError({ code: 'IDEMPOTENCY_KEY_REUSED', message: msg('errorCodes.IDEMPOTENCY_KEY_REUSED') });
    const balanceFen = shownBalance((await readAccounts([wc])).get(wc.key));
    return { entryId: String(existing._id), hospitalOrgId, bankOrgId: bank, amountFen: input.amountFen, balanceFen, replayed: true };
  }
}

/** Operator: records a medical-insurance prepayment into a hospital's working-capital account. */
export async function recordPrepayment(actor: Actor, hospitalOrgId: string, input: MoneyInInput, requestKey: string): Promise<MoneyInResult> {
  const hospital = await requireOrg(hospitalOrgId, 'hospital', 'hospitalOrgId');
  return moneyIn(actor, 'prepayment', { id: hospitalOrgId, name: hospital.name }, input, requestKey);
}

/** Hospital finance: deposits the hospital's own money into its working-capital account. */
export async function deposit(actor: Actor, input: MoneyInInput, requestKey: string): Promise<MoneyInResult> {
  return moneyIn(actor, 'deposit', { id: actor.orgId, name: actor.orgName }, input, requestKey);
}

/** Open (not yet due, unpaid) and overdue invoice amounts of a hospital. */
export async function invoiceExposure(hospitalOrgId: string) {
  const rows = await Invoice.find({ hospitalOrgId: new Types.ObjectId(hospitalOrgId), status: trusted({ $in: ['open', 'overdue'] as InvoiceStatus[] }) }, { status: 1, amountFen: 1, paidFen: 1 }).lean<
    Pick<InvoiceDoc, 'status' | 'amountFen' | 'paidFen'>[]
  >();
  return {
    openInvoicesFen: sumFen(rows.filter((r) => r.status === 'open').map((r) => r.amountFen - r.paidFen)),
    overdueInvoicesFen: sumFen(rows.filter((r) => r.status === 'overdue').map((r) => r.amountFen - r.paidFen)),
    openCount: rows.filter((r) => r.status === 'open').length,
    overdueCount: rows.filter((r) => r.status === 'overdue').length,
  };
}

/** A hospital's position: account balance, line and headroom, debt to its bank, open and overdue invoices. */
export async function accountSummary(hospitalOrgId: string) {
  const at = now();
  const [hospital, bank, exposure, line] = await Promise.all([getOrganisation(hospitalOrgId), currentBankOf(hospitalOrgId), invoiceExposure(hospitalOrgId), currentLineOf(hospitalOrgId)]);
  const bankOrg = bank ? await getOrganisation(bank) : null;
  let balanceFen = 0;
  let headroomFen = 0;
  let debt = { principalFen: 0, interestFen: 0, overduePrincipalFen: 0, advances: 0 };
  if (bank) {
    const wc = accounts.workingCapital(hospitalOrgId, bank);
    balanceFen = shownBalance((await readAccounts([wc])).get(wc.key));
    debt = await debtOf(hospitalOrgId, bank);
    const usable = await usableLine(hospitalOrgId, bank, at);
    if (usable) headroomFen = lineAvailableFen(usable.limitFen!, Math.max(0, debt.principalFen));
  }
  const shownLine = line ? await lineView(line, { usedFen: debt.principalFen }) : null;
  return {
    hospitalOrgId,
    hospitalName: hospital?.name ?? '',
    hospitalLevel: hospital?.hospitalLevel ?? undefined,
    bankOrgId: bank,
    bankName: bankOrg?.name,
    balanceFen,
    headroomFen,
    line: shownLine,
    lineStatus: line ? effectiveLineStatus(line, at) : undefined,
    principalFen: debt.principalFen,
    interestFen: debt.interestFen,
    debtFen: debt.principalFen + debt.interestFen,
    overduePrincipalFen: debt.overduePrincipalFen,
    ...exposure,
  };
}

/**
 * Whether a hospital's payment is secured, for a distributor before it confirms an order (contract):
 * balance plus line headroom covers its open invoices.
 */
export async function paymentSecurity(hospitalOrgId: string, orderAmountFen?: number) {
  const s = await accountSummary(hospitalOrgId);
  const status = securedStatus({ balanceFen: s.balanceFen, headroomFen: s.headroomFen, openInvoicesFen: s.openInvoicesFen + s.overdueInvoicesFen, orderAmountFen });
  return {
    hospitalOrgId,
    hospitalName: s.hospitalName,
    secured: status.level === 'secured',
    level: status.level,
    balanceFen: s.balanceFen,
    headroomFen: s.headroomFen,
    openInvoicesFen: s.openInvoicesFen + s.overdueInvoicesFen,
    overdueInvoicesFen: s.overdueInvoicesFen,
    capacityFen: status.capacityFen,
    shortfallFen: status.shortfallFen,
    bankName: s.bankName,
  };
}

/** The coarse answer a distributor gets about one order of its own: a level, never an amount. */
export interface OrderPaymentSecurity {
  hospitalOrgId: string;
  hospitalName: string;
  secured: boolean;
  level: SecuredLevel;
}

/**
 * Whether the hospital's payment for one order is secured. A distributor learns only the level for
 * that order's own amount (it cannot choose the amount, so it cannot bisect the hospital's funds);
 * no balance, headroom, shortfall or bank. The operator sees everything.
 */
export async function paymentSecurityFor(actor: Pick<Actor, 'role'>, order: { hospitalOrgId: string; totalFen: number }) {
  const s = await paymentSecurity(order.hospitalOrgId, order.totalFen);
  if (actor.role === 'operator') return s;
  const coarse: OrderPaymentSecurity = { hospitalOrgId: s.hospitalOrgId, hospitalName: s.hospitalName, secured: s.secured, level: s.level };
  return coarse;
}

export interface StatementRow {
  at: Date;
  kind: EntryKind;
  memo: string;
  reference?: string;
  invoiceId?: string;
  workingCapitalFen: number;
  principalFen: number;
  interestFen: number;
  invoicesFen: number;
  balanceAfterFen: number;
}

/** The financing statement of a hospital for a period of Asia/Shanghai days (inclusive). */
export async function statement(hospitalOrgId: string, fromDay: string, toDay: string) {
  const from = parseBusinessDay(fromDay);
  const to = endOfBusinessDay(parseBusinessDay(toDay));
  const summary = await accountSummary(hospitalOrgId);
  const bank = summary.bankOrgId;
  const refs: Record<'wc' | 'principal' | 'interest' | 'invoices', AccountRef | undefined> = {
    wc: bank ? accounts.workingCapital(hospitalOrgId, bank) : undefined,
    principal: bank ? accounts.advancePrincipal(hospitalOrgId, bank) : undefined,
    interest: bank ? accounts.interestReceivable(hospitalOrgId, bank) : undefined,
    invoices: accounts.invoiceReceivable(hospitalOrgId),
  };
  // Each column shows its account on the normal side: credit-normal working capital is negated.
  const sign: Record<keyof typeof refs, number> = { wc: -1, principal: 1, interest: 1, invoices: 1 };
  const deltas = (e: Pick<JournalEntryDoc, 'postings'>) => {
    const out = { wc: 0, principal: 0, interest: 0, invoices: 0 };
    for (const p of e.postings) {
      for (const k of Object.keys(refs) as (keyof typeof refs)[]) if (refs[k]?.key === p.accountKey) out[k] += sign[k] * p.amountFen;
    }
    return out;
  };
  const hospitalFilter = { hospitalOrgId: new Types.ObjectId(hospitalOrgId) };
  // NOTE: the opening balance is today's balance less what was posted since the period began, so a
  // statement reads the period and what followed it, never the account's whole history.
  const held = await readAccounts(Object.values(refs).filter((r): r is AccountRef => r !== undefined));
  const balanceOf = (k: keyof typeof refs) => {
    const ref = refs[k];
    return ref ? sign[k] * (held.get(ref.key)?.balanceFen ?? 0) : 0;
  };
  const opening = { wc: balanceOf('wc'), principal: balanceOf('principal'), interest: balanceOf('interest'), invoices: balanceOf('invoices') };
  const since = JournalEntry.find({ ...hospitalFilter, postedAt: trusted({ $gte: from }) }, { postings: 1 }).lean<Pick<JournalEntryDoc, 'postings'>[]>().cursor();
  for await (const e of since as AsyncIterable<Pick<JournalEntryDoc, 'postings'>>) {
    const d = deltas(e);
    for (const k of Object.keys(opening) as (keyof typeof opening)[]) opening[k] -= d[k];
  }
  const entries = await JournalEntry.find({ ...hospitalFilter, postedAt: trusted({ $gte: from, $lte: to }) }).sort({ postedAt: 1, _id: 1 }).lean<JournalEntryDoc[]>();
  const running = { ...opening };
  const totals: Record<string, number> = {};
  const rows: StatementRow[] = entries.map((e) => {
    const d = deltas(e);
    for (const k of Object.keys(running) as (keyof typeof running)[]) running[k] += d[k];
    const moved = e.kind === 'invoice' ? d.invoices : e.kind === 'interest' ? d.interest : Math.abs(d.wc) || Math.abs(d.principal) || Math.abs(d.invoices);
    totals[e.kind] = (totals[e.kind] ?? 0) + Math.abs(moved);
    return {
      at: e.postedAt,
      kind: e.kind,
      memo: e.memo,
      reference: e.reference ?? undefined,
      invoiceId: e.invoiceId ? String(e.invoiceId) : undefined,
      workingCapitalFen: d.wc,
      principalFen: d.principal,
      interestFen: d.interest,
      invoicesFen: d.invoices,
      balanceAfterFen: running.wc,
    };
  });
  return { from: fromDay, to: toDay, generatedAt: now(), summary, opening, closing: running, rows, totals };
}

export interface BankTotals {
  hospitals: number;
  limitFen: number;
  principalFen: number;
  overduePrincipalFen: number;
}

/**
 * Per bank, from a few grouped reads (never one read per hospital): the hospitals that bank with it
 * (their latest line application is there), the limits of its active and suspended lines, the
 * principal lent and not yet repaid, and the part of it overdue.
 */
export async function bankTotals(at: Date = now()): Promise<Map<string, BankTotals>> {
  const [banking, lines, lent] = await Promise.all([
    GuaranteeLine.aggregate<{ _id: Types.ObjectId; hospitals: number }>([
      { $sort: { hospitalOrgId: 1, appliedAt: -1, _id: -1 } },
      { $group: { _id: '$hospitalOrgId', bankOrgId: { $first: '$bankOrgId' } } },
      { $group: { _id: '$bankOrgId', hospitals: { $sum: 1 } } },
    ]),
    GuaranteeLine.find({ status: trusted({ $in: ['active', 'suspended'] as ('active' | 'suspended')[] }) }, { bankOrgId: 1, status: 1, expiresAt: 1, limitFen: 1 }).lean<Pick<GuaranteeLineDoc, '_id' | 'bankOrgId' | 'status' | 'expiresAt' | 'limitFen'>[]>(),
    Advance.aggregate<{ _id: Types.ObjectId; principalFen: number; overduePrincipalFen: number }>([
      { $match: { status: { $in: ['outstanding', 'overdue'] } } },
      {
        $group: {
          _id: '$bankOrgId',
          principalFen: { $sum: '$principalOutstandingFen' },
          overduePrincipalFen: { $sum: { $cond: [{ $eq: ['$status', 'overdue'] }, '$principalOutstandingFen', 0] } },
        },
      },
    ]),
  ]);
  const out = new Map<string, BankTotals>();
  const of = (id: Types.ObjectId) => {
    const key = String(id);
    let t = out.get(key);
    if (!t) out.set(key, (t = { hospitals: 0, limitFen: 0, principalFen: 0, overduePrincipalFen: 0 }));
    return t;
  };
  for (const b of banking) of(b._id).hospitals = b.hospitals;
  for (const l of lines) {
    const status = effectiveLineStatus(l, at);
    if (status === 'active' || status === 'suspended') of(l.bankOrgId).limitFen += l.limitFen ?? 0;
  }
  for (const a of lent) Object.assign(of(a._id), { principalFen: a.principalFen, overduePrincipalFen: a.overduePrincipalFen });
  return out;
}
