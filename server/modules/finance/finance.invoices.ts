import mongoose, { Types, type ClientSession } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { now, platform } from '../../platform/context';
import { ConflictError, NotFoundError, RuleViolationError } from '../../platform/errors';
import { t } from '../../platform/i18n';
import { trusted } from '../../platform/mongo';
import { decodeCursor, encodeCursor } from '../../platform/pagination';
import { formatFen } from '../../platform/money';
import { businessDay, dueDate } from '../../platform/time';
import type { AdvanceMadePayload, InvoiceSettledPayload } from '../../platform/realtime.events';
import { currentUnitOfWork, withCommand } from '../../platform/unit-of-work';
import { parse } from '../../platform/validate';
import { InvoiceCreated } from '../../events/finance';
import { recordAudit } from '../audit';
import { getOrganisation } from '../identity';
import { notifyOrganisation } from '../notifications';
import { getSettings } from '../settings';
import { hospitalsOfBank, requireOrg } from './finance.access';
import { advanceDueAt, lineAvailableFen, settlementPlan, type SettlementPlan } from './finance.interest';
import { ensureDailyRun, settleInvoiceJob } from './finance.jobs';
import { accounts, ensureAccounts, financeFaults, inTransaction, isDuplicateEntry, postEntry, readAccounts, shownBalance, type PostingInput } from './finance.ledger';
import { bankingOf, currentBankOf } from './finance.lines';
import { Advance, Invoice, type InvoiceDoc } from './finance.model';
import { InvoiceFromAcceptance, type InvoiceFromAcceptanceInput } from './finance.schemas';

/** Job id of an invoice's due-date settlement (deterministic: enqueueing twice keeps one job). */
export function settleJobId(invoiceId: string): string {
  return `invoice-settle:${invoiceId}`;
}

function invoiceNoFor(id: Types.ObjectId, at: Date): string {
  return `FP${businessDay(at).replaceAll('-', '')}${String(id).slice(-8).toUpperCase()}`;
}

/**
 * Creates the invoice of an accepted delivery (contract with the orders module) and posts it to the
 * ledger, in the caller's unit of work when there is one (the acceptance), else in its own; its
 * due-date settlement is scheduled by a subscriber of `finance.invoice_created`. Idempotent by
 * acceptanceKey: a second call returns the same invoice.
 */
export async function createInvoiceFromAcceptance(input: InvoiceFromAcceptanceInput): Promise<{ invoiceId: string; dueAt: Date }> {
  const data = parse(InvoiceFromAcceptance, input, 'invoice');
  await requireOrg(data.hospitalOrgId, 'hospital', 'hospitalOrgId');
  await requireOrg(data.distributorOrgId, 'distributor', 'distributorOrgId');
  const termDays = (await getSettings()).finance.paymentTermDays;
  const dueAt = dueDate(data.acceptedAt, termDays);
  if (!currentUnitOfWork()) await ensureAccounts([accounts.invoiceReceivable(data.hospitalOrgId), accounts.distributorPayable(data.distributorOrgId, data.hospitalOrgId)]);

  const create = () =>
    withCommand(null, async (uow) => {
      const tx = uow.session;
      const existing = await Invoice.findOne({ acceptanceKey: data.acceptanceKey }, { _id: 1, dueAt: 1 }).session(tx).lean<Pick<InvoiceDoc, '_id' | 'dueAt'>>();
      if (existing) return { invoiceId: String(existing._id), dueAt: existing.dueAt };
      const _id = new Types.ObjectId();
      const invoiceNo = invoiceNoFor(_id, data.acceptedAt);
      await Invoice.create(
        [
          {
            _id,
            invoiceNo,
            acceptanceKey: data.acceptanceKey,
            orderId: new Types.ObjectId(data.orderId),
            orderNo: data.orderNo,
            hospitalOrgId: new Types.ObjectId(data.hospitalOrgId),
            distributorOrgId: new Types.ObjectId(data.distributorOrgId),
            lines: data.lines.map((l) => ({ ...l, drugId: new Types.ObjectId(l.drugId) })),
            amountFen: data.amountFen,
            paidFen: 0,
            acceptedAt: data.acceptedAt,
            dueAt,
            paymentTermDays: termDays,
            status: 'open',
            payments: [],
            createdAt: uow.at,
          },
        ],
        { session: tx },
      );
      await postEntry(
        {
          idempotencyKey: `invoice:${String(_id)}`,
          kind: 'invoice',
          memo: `invoice for order ${data.orderNo}`,
          postings: [
            { account: accounts.invoiceReceivable(data.hospitalOrgId), amountFen: data.amountFen },
            { account: accounts.distributorPayable(data.distributorOrgId, data.hospitalOrgId), amountFen: -data.amountFen },
          ],
          refs: { hospitalOrgId: data.hospitalOrgId, distributorOrgId: data.distributorOrgId, invoiceId: String(_id), reference: data.orderNo },
        },
        tx,
      );
      uow.emit(
        InvoiceCreated,
        { invoiceId: String(_id), invoiceNo, orderId: data.orderId, orderNo: data.orderNo, hospitalOrgId: data.hospitalOrgId, distributorOrgId: data.distributorOrgId, amountFen: data.amountFen, dueAt: dueAt.toISOString() },
        { key: `invoice-created:${data.acceptanceKey}` },
      );
      return { invoiceId: String(_id), dueAt };
    });

  if (currentUnitOfWork()) return create();
  try {
    return await create();
  } catch (err) {
    // A concurrent call with the same acceptance committed first: return its invoice.
    const twin = (err as { code?: number }).code === 11000 || isDuplicateEntry(err) ? await Invoice.findOne({ acceptanceKey: data.acceptanceKey }, { _id: 1, dueAt: 1 }).lean<Pick<InvoiceDoc, '_id' | 'dueAt'>>() : null;
    if (!twin) throw err;
    return { invoiceId: String(twin._id), dueAt: twin.dueAt };
  }
}

/** Subscriber: the due-date settlement of a new invoice, and the daily run that catches any it misses. */
export async function scheduleSettlement(invoiceId: string, dueAt: Date): Promise<void> {
  await platform().queues.enqueue(settleInvoiceJob, { invoiceId }, { jobId: settleJobId(invoiceId), runAt: dueAt });
  await ensureDailyRun();
}

/** Invoices visible to the actor: hospital its own, distributor its own, bank its hospitals', operator all. */
export async function invoiceScope(actor: Actor): Promise<Record<string, unknown> | null> {
  if (actor.role === 'operator') return {};
  if (actor.orgType === 'hospital') return { hospitalOrgId: new Types.ObjectId(actor.orgId) };
  if (actor.role === 'distributor') return { distributorOrgId: new Types.ObjectId(actor.orgId) };
  if (actor.role === 'bank_officer') {
    const hospitals = await hospitalsOfBank(actor.orgId);
    return { hospitalOrgId: trusted({ $in: hospitals.map((h) => new Types.ObjectId(h)) }) };
  }
  return null;
}

/** One invoice the actor may see; 404 otherwise. */
export async function getInvoice(actor: Actor, invoiceId: string): Promise<InvoiceDoc> {
  const scope = Types.ObjectId.isValid(invoiceId) ? await invoiceScope(actor) : null;
  const invoice = scope ? await Invoice.findOne({ ...scope, _id: new Types.ObjectId(invoiceId) }).lean<InvoiceDoc>() : null;
  if (!invoice) throw new NotFoundError({ code: 'INVOICE_NOT_FOUND', message: 'No such invoice.' });
  return invoice;
}

/** Unpaid amount of an invoice. */
export function unpaidFen(invoice: Pick<InvoiceDoc, 'amountFen' | 'paidFen'>): number {
  return invoice.amountFen - invoice.paidFen;
}

function settlementPostings(hospital: string, bank: string | undefined, distributor: string, fromAccountFen: number, advanceFen: number): PostingInput[] {
  const paid = fromAccountFen + advanceFen;
  const postings: PostingInput[] = [];
  if (fromAccountFen > 0) {
    postings.push({ account: accounts.workingCapital(hospital, bank!), amountFen: fromAccountFen });
    postings.push({ account: accounts.bankClearing(hospital, bank!), amountFen: -fromAccountFen });
  }
  if (advanceFen > 0) {
    postings.push({ account: accounts.advancePrincipal(hospital, bank!), amountFen: advanceFen });
    postings.push({ account: accounts.bankClearing(hospital, bank!), amountFen: -advanceFen });
  }
  postings.push(
    { account: accounts.supervised(), amountFen: paid },
    { account: accounts.invoiceReceivable(hospital), amountFen: -paid },
    { account: accounts.distributorPayable(distributor, hospital), amountFen: paid },
    { account: accounts.supervised(), amountFen: -paid },
  );
  return postings;
}

/** The invoice moved on between reading and writing it (a concurrent payment or settlement). */
class InvoiceChanged extends Error {}

const INSUFFICIENT = { code: 'INSUFFICIENT_FUNDS', message: 'The working-capital account does not hold enough money.' };

/** Hospital finance: pays an open or overdue invoice in full from the working-capital account. */
export async function payInvoice(actor: Actor, invoiceId: string): Promise<InvoiceDoc> {
  const hospital = actor.orgId;
  const attempt = () =>
    mongoose.connection.transaction(async (s) => {
      const invoice = Types.ObjectId.isValid(invoiceId) ? await Invoice.findOne({ _id: new Types.ObjectId(invoiceId), hospitalOrgId: new Types.ObjectId(hospital) }).session(s).lean<InvoiceDoc>() : null;
      if (!invoice) throw new NotFoundError({ code: 'INVOICE_NOT_FOUND', message: 'No such invoice.' });
      if (invoice.status === 'paid') throw new ConflictError({ code: 'INVOICE_ALREADY_PAID', message: `Invoice ${invoice.invoiceNo} is already paid.` });
      const remaining = unpaidFen(invoice);
      const bank = await currentBankOf(hospital, s);
      if (!bank) throw new RuleViolationError({ code: 'NO_ACCOUNT', message: 'The hospital has no working-capital account yet: apply for a guarantee line at a bank first.' });
      const wc = (await readAccounts([accounts.workingCapital(hospital, bank)], s)).get(accounts.workingCapital(hospital, bank).key);
      const balance = shownBalance(wc);
      if (balance < remaining) {
        throw new RuleViolationError({ ...INSUFFICIENT, message: `The working-capital account holds ${formatFen(balance)}; the invoice needs ${formatFen(remaining)}.` });
      }
      const at = now();
      const entry = await postEntry(
        {
          idempotencyKey: `pay:${invoiceId}`,
          kind: 'invoice_payment',
          memo: `hospital pays invoice ${invoice.invoiceNo}`,
          postings: settlementPostings(hospital, bank, String(invoice.distributorOrgId), remaining, 0),
          guards: [{ account: accounts.workingCapital(hospital, bank), minShownFen: 0, ...INSUFFICIENT }],
          refs: { hospitalOrgId: hospital, bankOrgId: bank, distributorOrgId: String(invoice.distributorOrgId), invoiceId, reference: invoice.invoiceNo, actorId: actor.id },
          postedAt: at,
        },
        s,
      );
      const res = await Invoice.updateOne(
        { _id: invoice._id, status: invoice.status, paidFen: invoice.paidFen },
        {
          $set: { status: 'paid', paidFen: invoice.amountFen, paidAt: at, paidOnTime: at.getTime() <= invoice.dueAt.getTime() },
          $push: { payments: { at, amountFen: remaining, fromAccountFen: remaining, advancedFen: 0, source: 'hospital', entryId: entry._id } },
        },
        { session: s },
      );
      if (res.matchedCount !== 1) throw new InvoiceChanged();
      return { invoice, remaining, at };
    });
  let done: Awaited<ReturnType<typeof attempt>> | undefined;
  for (let tries = 0; !done; tries += 1) {
    try {
      done = await attempt();
    } catch (err) {
      // A concurrent payment (or a first settlement creating the same account) committed first: look again.
      if (!(isDuplicateEntry(err) || err instanceof InvoiceChanged) || tries >= 3) throw err;
    }
  }
  const paid = await Invoice.findById(done.invoice._id).lean<InvoiceDoc>();
  await recordAudit(actor, { action: 'finance.invoice.pay', targetType: 'invoice', targetId: invoiceId, summary: `${done.invoice.invoiceNo}: ${formatFen(done.remaining)}` });
  broadcastInvoice(paid!);
  return paid!;
}

function broadcastInvoice(invoice: InvoiceDoc): void {
  const payload: InvoiceSettledPayload = {
    invoiceId: String(invoice._id),
    invoiceNo: invoice.invoiceNo,
    status: invoice.status,
    amountFen: invoice.amountFen,
    paidFen: invoice.paidFen,
    paidAt: invoice.paidAt?.toISOString(),
  };
  const { broadcaster } = platform();
  broadcaster.toOrg(String(invoice.hospitalOrgId), 'invoice:settled', payload);
  broadcaster.toOrg(String(invoice.distributorOrgId), 'invoice:settled', payload);
  if (invoice.settlement?.bankOrgId) broadcaster.toOrg(String(invoice.settlement.bankOrgId), 'invoice:settled', payload);
}

export type SettleOutcome =
  | { state: 'missing' }
  | { state: 'not_due'; dueAt: Date }
  | { state: 'already' }
  | { state: 'settled'; plan: SettlementPlan };

async function settleInTransaction(invoiceId: string, s: ClientSession): Promise<SettleOutcome> {
  const invoice = await Invoice.findById(invoiceId).session(s).lean<InvoiceDoc>();
  if (!invoice) return { state: 'missing' };
  if (invoice.settledAt || invoice.status !== 'open') return { state: 'already' };
  const at = now();
  if (at.getTime() < invoice.dueAt.getTime()) return { state: 'not_due', dueAt: invoice.dueAt };

  const hospital = String(invoice.hospitalOrgId);
  const distributor = String(invoice.distributorOrgId);
  const remaining = unpaidFen(invoice);
  const { bankOrgId: bank, line } = await bankingOf(hospital, at, s);
  let balance = 0;
  let available = 0;
  if (bank) {
    const held = await readAccounts([accounts.workingCapital(hospital, bank), accounts.advancePrincipal(hospital, bank)], s);
    balance = shownBalance(held.get(accounts.workingCapital(hospital, bank).key));
    if (line) available = lineAvailableFen(line.limitFen!, Math.max(0, shownBalance(held.get(accounts.advancePrincipal(hospital, bank).key))));
  }
  const plan = settlementPlan({ invoiceAmountFen: remaining, accountBalanceFen: balance, lineAvailableFen: available });
  const paid = plan.fromAccountFen + plan.advanceFen;

  let entryId: Types.ObjectId | undefined;
  if (paid > 0) {
    const entry = await postEntry(
      {
        idempotencyKey: `settle:${invoiceId}`,
        kind: 'settlement',
        memo: `due-date settlement of invoice ${invoice.invoiceNo}`,
        postings: settlementPostings(hospital, bank, distributor, plan.fromAccountFen, plan.advanceFen),
        guards: [
          ...(plan.fromAccountFen > 0 ? [{ account: accounts.workingCapital(hospital, bank!), minShownFen: 0, ...INSUFFICIENT }] : []),
          ...(plan.advanceFen > 0
            ? [{ account: accounts.advancePrincipal(hospital, bank!), maxShownFen: line!.limitFen!, code: 'LINE_EXCEEDED', message: 'The advance would exceed the guarantee line.' }]
            : []),
        ],
        refs: { hospitalOrgId: hospital, bankOrgId: bank, distributorOrgId: distributor, invoiceId, reference: invoice.invoiceNo },
        postedAt: at,
      },
      s,
    );
    entryId = entry._id;
  }
  financeFaults.hit('settle:after-entry');

  const status = plan.unpaidFen > 0 ? 'overdue' : 'paid';
  // NOTE: the due-date settlement pays as of the due instant (its value date), although its job can
  // only run after it (by milliseconds, or later after an outage). Dated by the run instead, an
  // invoice due on the last day of a month counted as unpaid at that month's end, and its hospital
  // showed in the month's arrears ranking although the bank paid it on time.
  const valueAt = invoice.dueAt;
  const set: Record<string, unknown> = {
    status,
    paidFen: invoice.paidFen + paid,
    settledAt: at,
    settlement: { outcome: plan.outcome, fromAccountFen: plan.fromAccountFen, advanceFen: plan.advanceFen, unpaidFen: plan.unpaidFen, ...(bank ? { bankOrgId: new Types.ObjectId(bank) } : {}) },
  };
  if (status === 'paid') Object.assign(set, { paidAt: valueAt, paidOnTime: true });
  else set.overdueAt = at;
  const res = await Invoice.updateOne(
    { _id: invoice._id, status: 'open', paidFen: invoice.paidFen, settledAt: trusted({ $exists: false }) },
    {
      $set: set,
      ...(entryId ? { $push: { payments: { at: valueAt, amountFen: paid, fromAccountFen: plan.fromAccountFen, advancedFen: plan.advanceFen, source: 'settlement', entryId } } } : {}),
    },
    { session: s },
  );
  if (res.matchedCount !== 1) throw new InvoiceChanged();

  if (plan.advanceFen > 0) {
    await Advance.create(
      [
        {
          hospitalOrgId: invoice.hospitalOrgId,
          bankOrgId: new Types.ObjectId(bank!),
          lineId: line!._id,
          invoiceId: invoice._id,
          invoiceNo: invoice.invoiceNo,
          principalFen: plan.advanceFen,
          principalOutstandingFen: plan.advanceFen,
          interestAccruedFen: 0,
          interestPaidFen: 0,
          annualRateBp: line!.annualRateBp!,
          tenorDays: line!.maxTenorDays!,
          advancedAt: at,
          dueAt: advanceDueAt(at, line!.maxTenorDays!),
          status: 'outstanding',
          segments: [{ at, principalFen: plan.advanceFen }],
        },
      ],
      { session: s },
    );
  }
  return { state: 'settled', plan };
}

/**
 * The due-date settlement of one invoice (the job's body): exactly once however often it runs.
 * The journal key `settle:<invoiceId>` and the guarded open → paid/overdue transition share one
 * transaction; what follows (events, notifications) is redone until it is marked done.
 */
export async function settleInvoice(invoiceId: string): Promise<SettleOutcome> {
  let outcome: SettleOutcome = { state: 'already' };
  for (let attempt = 0; ; attempt += 1) {
    try {
      outcome = await mongoose.connection.transaction((s) => settleInTransaction(invoiceId, s));
      break;
    } catch (err) {
      // A twin run committed first (duplicate journal key, or the invoice moved on): re-read.
      if ((isDuplicateEntry(err) || err instanceof InvoiceChanged) && attempt < 3) continue;
      throw err;
    }
  }
  if (outcome.state === 'settled' || outcome.state === 'already') await completeSettlementEffects(invoiceId);
  return outcome;
}

/** Sends what follows a settlement (overdue event, notifications, live updates) once, then marks it done. */
export async function completeSettlementEffects(invoiceId: string): Promise<void> {
  const invoice = await Invoice.findById(invoiceId).lean<InvoiceDoc>();
  if (!invoice?.settledAt || invoice.settlementEffectsAt) return;
  financeFaults.hit('settle:after-commit');
  const s = invoice.settlement!;
  const hospital = String(invoice.hospitalOrgId);
  const distributor = String(invoice.distributorOrgId);
  const bank = s.bankOrgId ? String(s.bankOrgId) : undefined;
  const quiet = s.unpaidFen === 0 && s.advanceFen === 0;
  const [hospitalOrg, distributorOrg] = quiet ? [null, null] : await Promise.all([getOrganisation(hospital), getOrganisation(distributor)]);
  const vars = { invoiceNo: invoice.invoiceNo, hospital: hospitalOrg?.name ?? '', distributor: distributorOrg?.name ?? '', unpaid: formatFen(s.unpaidFen), advance: formatFen(s.advanceFen), amount: formatFen(invoice.amountFen) };
  const notice = (key: string) => ({ title: t('zh', `finance.notify.${key}.title`, vars), body: t('zh', `finance.notify.${key}.body`, vars) });

  if (s.unpaidFen > 0) {
    const overdue = { kind: 'finance.invoice_overdue', ...notice('invoiceOverdue'), link: `/finance/invoices/${invoiceId}`, dedupeKey: `invoice-overdue:${invoiceId}` };
    await notifyOrganisation(hospital, overdue, ['hospital_finance']);
    await notifyOrganisation(distributor, overdue, ['distributor']);
    if (bank) await notifyOrganisation(bank, { ...overdue, link: `/finance/hospitals/${hospital}` }, ['bank_officer']);
  }
  if (s.advanceFen > 0 && bank) {
    const made = { kind: 'finance.advance_made', ...notice('advanceMade'), dedupeKey: `advance-made:${invoiceId}` };
    await notifyOrganisation(hospital, { ...made, link: '/finance/account' }, ['hospital_finance']);
    await notifyOrganisation(bank, { ...made, link: `/finance/hospitals/${hospital}` }, ['bank_officer']);
    const advance = await Advance.findOne({ invoiceId: invoice._id }, { _id: 1 }).lean();
    const payload: AdvanceMadePayload = { advanceId: advance ? String(advance._id) : undefined, invoiceId, invoiceNo: invoice.invoiceNo, principalFen: s.advanceFen, hospitalOrgId: hospital };
    platform().broadcaster.toOrg(hospital, 'advance:made', payload);
    platform().broadcaster.toOrg(bank, 'advance:made', payload);
    await ensureDailyRun();
  }
  broadcastInvoice(invoice);
  await recordAudit(null, {
    action: 'finance.invoice.settle',
    targetType: 'invoice',
    targetId: invoiceId,
    summary: `${invoice.invoiceNo}: ${s.outcome}, account ${formatFen(s.fromAccountFen)}, advance ${formatFen(s.advanceFen)}, unpaid ${formatFen(s.unpaidFen)}`,
  });
  await Invoice.updateOne({ _id: invoice._id, settlementEffectsAt: trusted({ $exists: false }) }, { $set: { settlementEffectsAt: now() } });
}

/** Invoices due and not settled (for the daily sweep that catches a lost settlement job). */
export async function dueUnsettledInvoiceIds(at: Date, limit = 5000): Promise<string[]> {
  const rows = await Invoice.find({ status: 'open', dueAt: trusted({ $lte: at }) }, { _id: 1 }).sort({ dueAt: 1 }).limit(limit).lean();
  return rows.map((r) => String(r._id));
}

/** Invoices settled whose follow-up was interrupted (a crash after the commit). */
export async function settledWithoutEffects(limit = 1000): Promise<string[]> {
  const rows = await Invoice.find({ settledAt: trusted({ $exists: true }), settlementEffectsAt: trusted({ $exists: false }) }, { _id: 1 }).limit(limit).lean();
  return rows.map((r) => String(r._id));
}

/** Invoices the actor may see, by due date (soonest first), one cursor page at a time. */
export async function listInvoices(actor: Actor, q: { status?: string; hospitalOrgId?: string; cursor?: string; limit: number }) {
  const scope = await invoiceScope(actor);
  if (!scope) return { rows: [] as InvoiceDoc[], nextCursor: null as string | null };
  const filter: Record<string, unknown> = { ...scope };
  if (q.status) filter.status = q.status;
  if (q.hospitalOrgId) {
    const allowed = actor.role === 'bank_officer' ? (await hospitalsOfBank(actor.orgId)).includes(q.hospitalOrgId) : actor.orgType !== 'hospital' || actor.orgId === q.hospitalOrgId;
    if (!allowed) return { rows: [], nextCursor: null };
    filter.hospitalOrgId = new Types.ObjectId(q.hospitalOrgId);
  }
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    filter.$or = [{ dueAt: trusted({ $gt: c.at }) }, { dueAt: c.at, _id: trusted({ $gt: c.id }) }];
  }
  const rows = await Invoice.find(filter).sort({ dueAt: 1, _id: 1 }).limit(q.limit + 1).lean<InvoiceDoc[]>();
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return { rows: page, nextCursor: rows.length > q.limit && last ? encodeCursor(last.dueAt, last._id) : null };
}
