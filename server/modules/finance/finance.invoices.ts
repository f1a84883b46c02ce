import { Types } from 'mongoose';
import { AdvanceMade, InvoiceCreated, InvoiceOverdue, InvoicePaid, InvoiceSettled } from '../../events/finance';
import type { Actor } from '../../platform/auth';
import { platform } from '../../platform/context';
import { handleError } from '../../platform/error-handler';
import { ConflictError, NotFoundError, RuleViolationError } from '../../platform/errors';
import { fen, msg } from '../../platform/messages';
import { trusted } from '../../platform/mongo';
import { formatFen } from '../../platform/money';
import { decodeCursor, encodeCursor } from '../../platform/pagination';
import type { InvoiceSettledPayload } from '../../platform/realtime.events';
import { businessDay, dueDate } from '../../platform/time';
import { currentUnitOfWork, withCommand, type UnitOfWork } from '../../platform/unit-of-work';
import { parse } from '../../platform/validate';
import { getSettings } from '../settings';
import { hospitalsOfBank, requireOrg } from './finance.access';
import { advanceDueAt, lineAvailableFen, settlementPlan, type SettlementPlan } from './finance.interest';
import { ensureDailyRun, jobIds, settleInvoiceJob } from './finance.jobs';
import { accounts, ensureAccounts, financeFaults, hospitalAccounts, inTransactionAll, isDuplicateEntry, postEntries, postEntry, readAccounts, shownBalance, type EntryInput, type PostingInput } from './finance.ledger';
import { bankingOf, currentBankOf } from './finance.lines';
import { Advance, Invoice, type InvoiceDoc } from './finance.model';
import { InvoiceFromAcceptance, type InvoiceFromAcceptanceInput } from './finance.schemas';
import { invoiceView, orgNames } from './finance.views';

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

/**
 * Subscriber: the due-date settlement of a new invoice, and the daily run.
 *
 * NOTE: the due date is read from the invoice, not taken from the event: a delivery retried later
 * (Redis was down when it first ran, and came back empty) must schedule for the invoice as it is now.
 * A job scheduled for a later instant than the invoice is due would wait there, and the sweep leaves
 * a delayed job alone.
 */
export async function scheduleSettlement(invoiceId: string): Promise<void> {
  const invoice = await Invoice.findById(invoiceId, { status: 1, dueAt: 1 }).lean<Pick<InvoiceDoc, 'status' | 'dueAt'>>();
  if (invoice?.status === 'open') await platform().queues.enqueue(settleInvoiceJob, { invoiceId }, { jobId: jobIds.settle(invoiceId), runAt: invoice.dueAt });
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
  if (!invoice) throw new NotFoundError({ code: 'INVOICE_NOT_FOUND', message: msg('errorCodes.INVOICE_NOT_FOUND') });
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

const INSUFFICIENT = { code: 'INSUFFICIENT_FUNDS', message: msg('errorCodes.INSUFFICIENT_FUNDS_2') };

const invoiceRef = (invoice: InvoiceDoc) => ({
  invoiceId: String(invoice._id),
  invoiceNo: invoice.invoiceNo,
  orderId: String(invoice.orderId),
  orderNo: invoice.orderNo,
  hospitalOrgId: String(invoice.hospitalOrgId),
  distributorOrgId: String(invoice.distributorOrgId),
});

/**
 * Hospital finance: pays an open or overdue invoice in full from the working-capital account. One
 * unit of work: the journal entry `pay:<invoiceId>`, the invoice, the audit entry and
 * `finance.invoice_paid`; returns the invoice as the API shows it (the stored reply of the request).
 */
export async function payInvoice(actor: Actor, invoiceId: string): Promise<ReturnType<typeof invoiceView>> {
  const hospital = actor.orgId;
  const attempt = () =>
    withCommand(actor, async (uow) => {
      const s = uow.session;
      const invoice = Types.ObjectId.isValid(invoiceId) ? await Invoice.findOne({ _id: new Types.ObjectId(invoiceId), hospitalOrgId: new Types.ObjectId(hospital) }).session(s).lean<InvoiceDoc>() : null;
      if (!invoice) throw new NotFoundError({ code: 'INVOICE_NOT_FOUND', message: msg('errorCodes.INVOICE_NOT_FOUND') });
      if (invoice.status === 'paid') throw new ConflictError({ code: 'INVOICE_ALREADY_PAID', message: msg('errorCodes.INVOICE_ALREADY_PAID', { invoiceNo: invoice.invoiceNo }) });
      const remaining = unpaidFen(invoice);
      const bank = await currentBankOf(hospital, s);
      if (!bank) throw new RuleViolationError({ code: 'NO_ACCOUNT', message: msg('errorCodes.NO_ACCOUNT') });
      const wc = (await readAccounts([accounts.workingCapital(hospital, bank)], s)).get(accounts.workingCapital(hospital, bank).key);
      const balance = shownBalance(wc);
      if (balance < remaining) {
        throw new RuleViolationError({ ...INSUFFICIENT, message: msg('errorCodes.INSUFFICIENT_FUNDS_INVOICE', { balance: fen(balance), remaining: fen(remaining) }) });
      }
      const at = uow.at;
      const onTime = at.getTime() <= invoice.dueAt.getTime();
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
      const paid = await Invoice.findOneAndUpdate(
        { _id: invoice._id, status: invoice.status, paidFen: invoice.paidFen },
        {
          $set: { status: 'paid', paidFen: invoice.amountFen, paidAt: at, paidOnTime: onTime },
          $push: { payments: { at, amountFen: remaining, fromAccountFen: remaining, advancedFen: 0, source: 'hospital', entryId: entry._id } },
        },
        { session: s, returnDocument: 'after' },
      ).lean<InvoiceDoc>();
      if (!paid) throw new InvoiceChanged();
      uow.audit({ action: 'finance.invoice.pay', targetType: 'invoice', targetId: invoiceId, summary: msg('finance.audit.invoicePaid', { invoiceNo: invoice.invoiceNo, amount: fen(remaining) }) });
      uow.emit(InvoicePaid, { ...invoiceRef(invoice), bankOrgId: bank, amountFen: invoice.amountFen, paymentFen: remaining, paidAt: at.toISOString(), onTime }, { key: `invoice-paid:${invoiceId}` });
      return invoiceView(paid, await orgNames([paid.hospitalOrgId, paid.distributorOrgId]));
    });
  for (let tries = 0; ; tries += 1) {
    try {
      return await attempt();
    } catch (err) {
      // A concurrent payment (or a first settlement creating the same account) committed first: look again.
      if (!(isDuplicateEntry(err) || err instanceof InvoiceChanged) || tries >= 3) throw err;
    }
  }
}

/**
 * Pushes invoices' current state (read in one query, so a late redelivery never shows an older one)
 * to each one's hospital, distributor and the bank involved.
 */
export async function pushInvoices(list: readonly { invoiceId: string; bankOrgId?: string }[]): Promise<void> {
  const bankOf = new Map(list.map((x) => [x.invoiceId, x.bankOrgId]));
  const ids = [...bankOf.keys()].filter((id) => Types.ObjectId.isValid(id)).map((id) => new Types.ObjectId(id));
  if (ids.length === 0) return;
  const invoices = await Invoice.find({ _id: trusted({ $in: ids }) }, { invoiceNo: 1, status: 1, amountFen: 1, paidFen: 1, paidAt: 1, hospitalOrgId: 1, distributorOrgId: 1, settlement: 1 }).lean<InvoiceDoc[]>();
  const { broadcaster } = platform();
  for (const invoice of invoices) {
    const payload: InvoiceSettledPayload = {
      invoiceId: String(invoice._id),
      invoiceNo: invoice.invoiceNo,
      status: invoice.status,
      amountFen: invoice.amountFen,
      paidFen: invoice.paidFen,
      paidAt: invoice.paidAt?.toISOString(),
    };
    const orgs = new Set([String(invoice.hospitalOrgId), String(invoice.distributorOrgId)]);
    const bank = bankOf.get(String(invoice._id)) ?? (invoice.settlement?.bankOrgId ? String(invoice.settlement.bankOrgId) : undefined);
    if (bank) orgs.add(bank);
    for (const org of orgs) broadcaster.toOrg(org, 'invoice:settled', payload);
  }
}

export type SettleOutcome =
  | { state: 'missing' }
  | { state: 'not_due'; dueAt: Date }
  | { state: 'already' }
  | { state: 'settled'; plan: SettlementPlan };

/** How many due invoices of one hospital a settlement job settles in one unit of work. */
export const SETTLEMENT_BATCH = 100;

/**
 * Settles due open invoices of one hospital, in the given order, inside the caller's unit of work:
 * each is planned against the account balance and line headroom its predecessors left (exactly as
 * settling them one after another would), then every journal entry, invoice transition and advance is
 * written with one write per collection, and each invoice gets its audit entry and facts.
 */
async function settleManyIn(uow: UnitOfWork, invoices: readonly InvoiceDoc[]): Promise<Map<string, SettlementPlan>> {
  const s = uow.session;
  const at = uow.at;
  const hospital = String(invoices[0]!.hospitalOrgId);
  if (invoices.some((i) => String(i.hospitalOrgId) !== hospital)) throw new Error('a settlement batch holds the invoices of one hospital');
  // NOTE: the hospital's accounts are read with its banking (not after it) to save a round trip.
  const [{ bankOrgId: bank, line }, held] = await inTransactionAll([bankingOf(hospital, at, s), hospitalAccounts(hospital, ['working_capital', 'advance_principal'], s)]);
  let balance = bank ? shownBalance(held.get(accounts.workingCapital(hospital, bank).key)) : 0;
  let principal = bank ? shownBalance(held.get(accounts.advancePrincipal(hospital, bank).key)) : 0;

  const plans = new Map<string, SettlementPlan>();
  const entries: EntryInput[] = [];
  for (const invoice of invoices) {
    const invoiceId = String(invoice._id);
    financeFaults.hit(`settle:invoice:${invoiceId}`);
    const available = bank && line ? lineAvailableFen(line.limitFen!, Math.max(0, principal)) : 0;
    const plan = settlementPlan({ invoiceAmountFen: unpaidFen(invoice), accountBalanceFen: balance, lineAvailableFen: available });
    balance -= plan.fromAccountFen;
    principal += plan.advanceFen;
    plans.set(invoiceId, plan);
    if (plan.fromAccountFen + plan.advanceFen === 0) continue;
    const distributor = String(invoice.distributorOrgId);
    entries.push({
      idempotencyKey: `settle:${invoiceId}`,
      kind: 'settlement',
      memo: `due-date settlement of invoice ${invoice.invoiceNo}`,
      postings: settlementPostings(hospital, bank, distributor, plan.fromAccountFen, plan.advanceFen),
      guards: [
        ...(plan.fromAccountFen > 0 ? [{ account: accounts.workingCapital(hospital, bank!), minShownFen: 0, ...INSUFFICIENT }] : []),
        ...(plan.advanceFen > 0 ? [{ account: accounts.advancePrincipal(hospital, bank!), maxShownFen: line!.limitFen!, code: 'LINE_EXCEEDED', message: msg('errorCodes.LINE_EXCEEDED') }] : []),
      ],
      refs: { hospitalOrgId: hospital, bankOrgId: bank, distributorOrgId: distributor, invoiceId, reference: invoice.invoiceNo },
      postedAt: at,
    });
  }
  const posted = await postEntries(entries, s);
  const entryOf = new Map(posted.map((e) => [String(e.invoiceId), e._id]));
  financeFaults.hit('settle:after-entry');

  const advances: Record<string, unknown>[] = [];
  const updates = invoices.map((invoice) => {
    const invoiceId = String(invoice._id);
    const plan = plans.get(invoiceId)!;
    const paid = plan.fromAccountFen + plan.advanceFen;
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
    const entryId = entryOf.get(invoiceId);
    if (plan.advanceFen > 0) {
      advances.push({
        _id: new Types.ObjectId(),
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
      });
    }
    return {
      updateOne: {
        filter: { _id: invoice._id, status: 'open' as const, paidFen: invoice.paidFen, settledAt: trusted({ $exists: false }) },
        update: {
          $set: set,
          ...(entryId ? { $push: { payments: { at: valueAt, amountFen: paid, fromAccountFen: plan.fromAccountFen, advancedFen: plan.advanceFen, source: 'settlement', entryId } } } : {}),
        },
      },
    };
  });
  // NOTE: both writes are in flight together (one round trip); the transaction commits after both.
  const [res] = await inTransactionAll([Invoice.bulkWrite(updates, { session: s, ordered: true }), advances.length > 0 ? Advance.insertMany(advances, { session: s }) : undefined]);
  if (res.matchedCount !== invoices.length) throw new InvoiceChanged();
  const advanceOf = new Map(advances.map((a) => [String(a.invoiceId), a as { _id: Types.ObjectId; dueAt: Date }]));

  for (const invoice of invoices) {
    const invoiceId = String(invoice._id);
    const plan = plans.get(invoiceId)!;
    const paid = plan.fromAccountFen + plan.advanceFen;
    const status = plan.unpaidFen > 0 ? 'overdue' : 'paid';
    const ref = invoiceRef(invoice);
    uow.audit({
      action: 'finance.invoice.settle',
      targetType: 'invoice',
      targetId: invoiceId,
      summary: msg('finance.audit.invoiceSettled', {
        invoiceNo: invoice.invoiceNo,
        outcome: { msg: `finance.outcome.${plan.outcome}` },
        fromAccount: fen(plan.fromAccountFen),
        advance: fen(plan.advanceFen),
        unpaid: fen(plan.unpaidFen),
      }),
    });
    uow.emit(
      InvoiceSettled,
      {
        ...ref,
        ...(bank ? { bankOrgId: bank } : {}),
        status,
        outcome: plan.outcome,
        amountFen: invoice.amountFen,
        paidFen: invoice.paidFen + paid,
        fromAccountFen: plan.fromAccountFen,
        advancedFen: plan.advanceFen,
        unpaidFen: plan.unpaidFen,
        dueAt: invoice.dueAt.toISOString(),
        settledAt: at.toISOString(),
        ...(status === 'paid' ? { paidAt: invoice.dueAt.toISOString() } : {}),
      },
      { key: `invoice-settled:${invoiceId}` },
    );
    if (plan.unpaidFen > 0) {
      uow.emit(
        InvoiceOverdue,
        { ...ref, ...(bank ? { bankOrgId: bank } : {}), amountFen: invoice.amountFen, unpaidFen: plan.unpaidFen, dueAt: invoice.dueAt.toISOString(), at: at.toISOString() },
        { key: `invoice-overdue:${invoiceId}` },
      );
    }
    const advance = advanceOf.get(invoiceId);
    if (advance) {
      uow.emit(
        AdvanceMade,
        {
          advanceId: String(advance._id),
          invoiceId,
          invoiceNo: invoice.invoiceNo,
          hospitalOrgId: hospital,
          bankOrgId: bank!,
          principalFen: plan.advanceFen,
          annualRateBp: line!.annualRateBp!,
          tenorDays: line!.maxTenorDays!,
          advancedAt: at.toISOString(),
          dueAt: advance.dueAt.toISOString(),
        },
        { key: `advance-made:${invoiceId}` },
      );
    }
  }
  return plans;
}

/** The invoice a settlement starts from, or why there is nothing to settle. */
async function dueInvoiceIn(uow: UnitOfWork, invoiceId: string): Promise<InvoiceDoc | Exclude<SettleOutcome, { state: 'settled' }>> {
  const invoice = Types.ObjectId.isValid(invoiceId) ? await Invoice.findById(invoiceId).session(uow.session).lean<InvoiceDoc>() : null;
  if (!invoice) return { state: 'missing' };
  if (invoice.settledAt || invoice.status !== 'open') return { state: 'already' };
  if (uow.at.getTime() < invoice.dueAt.getTime()) return { state: 'not_due', dueAt: invoice.dueAt };
  return invoice;
}

async function settleIn(uow: UnitOfWork, invoiceId: string): Promise<SettleOutcome> {
  const invoice = await dueInvoiceIn(uow, invoiceId);
  if ('state' in invoice) return invoice;
  return { state: 'settled', plan: (await settleManyIn(uow, [invoice])).get(invoiceId)! };
}

/** Retries a settlement a twin run beat to it (duplicate journal key, or an invoice that moved on): it re-reads. */
async function onceTwinsSettle<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await run();
    } catch (err) {
      if ((isDuplicateEntry(err) || err instanceof InvoiceChanged) && attempt < 3) continue;
      throw err;
    }
  }
}

/**
 * The due-date settlement of one invoice, exactly once however often it runs: the journal entry
 * `settle:<invoiceId>`, the guarded open → paid/overdue transition, the advance, the audit entry and
 * the facts (`finance.invoice_settled`, `finance.invoice_overdue`, `finance.advance_made`) commit in
 * one unit of work; subscribers do what follows.
 */
export async function settleInvoice(invoiceId: string): Promise<SettleOutcome> {
  return onceTwinsSettle(() => withCommand(null, (uow) => settleIn(uow, invoiceId)));
}

// NOTE: invoices whose settlement failed in this process are settled on their own (by their own job,
// with its retries) rather than in a batch, so one bad invoice does not fail every batch it joins.
const failedAlone = new Set<string>();
const FAILED_REMEMBERED = 10_000;

/**
 * The settlement job's body: settles the invoice together with up to SETTLEMENT_BATCH − 1 other due
 * open invoices of its hospital (soonest due first) in one unit of work, each exactly as its own job
 * would, then drops the other invoices' jobs, which have nothing left to do. If the batch fails, its
 * invoices are settled one at a time, so one bad invoice cannot block the others: the others settle,
 * the failing one fails its own job (retried by the queue) as before. Returns this invoice's outcome.
 */
export async function settleDueInvoices(invoiceId: string): Promise<SettleOutcome> {
  let batch: string[] = [];
  const run = () =>
    withCommand(null, async (uow) => {
      batch = [];
      const own = await dueInvoiceIn(uow, invoiceId);
      if ('state' in own) return own;
      let invoices = [own];
      if (!failedAlone.has(invoiceId)) {
        const others = await Invoice.find({ hospitalOrgId: own.hospitalOrgId, status: 'open', dueAt: trusted({ $lte: uow.at }), _id: trusted({ $ne: own._id }) })
          .sort({ dueAt: 1, _id: 1 })
          .limit(SETTLEMENT_BATCH - 1)
          .session(uow.session)
          .lean<InvoiceDoc[]>();
        invoices = [own, ...others.filter((i) => !i.settledAt && !failedAlone.has(String(i._id)))].sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || (String(a._id) < String(b._id) ? -1 : 1));
      }
      batch = invoices.map((i) => String(i._id));
      return { state: 'settled', plan: (await settleManyIn(uow, invoices)).get(invoiceId)! } satisfies SettleOutcome;
    });
  let outcome: SettleOutcome;
  try {
    outcome = await onceTwinsSettle(run);
  } catch (err) {
    if (batch.length <= 1) {
      rememberFailed(invoiceId);
      throw err;
    }
    return settleOneByOne(invoiceId, batch, err);
  }
  failedAlone.delete(invoiceId);
  if (outcome.state === 'settled') await discardSettlementJobs(batch.filter((id) => id !== invoiceId));
  return outcome;
}

function rememberFailed(invoiceId: string): void {
  if (failedAlone.size >= FAILED_REMEMBERED) failedAlone.clear();
  failedAlone.add(invoiceId);
}

/** The fallback of a failed batch: each invoice in its own unit of work; this job's invoice last, its error thrown. */
async function settleOneByOne(invoiceId: string, batch: readonly string[], batchError: unknown): Promise<SettleOutcome> {
  const { logger } = platform();
  logger.warn({ invoiceId, invoices: batch.length, err: batchError instanceof Error ? batchError.message : String(batchError) }, 'settlement batch failed; settling its invoices one at a time');
  const done: string[] = [];
  for (const id of batch) {
    if (id === invoiceId) continue;
    try {
      const outcome = await settleInvoice(id);
      if (outcome.state === 'settled') done.push(id);
    } catch (err) {
      // NOTE: its own job settles it (or fails and is retried) as before; here it only must not stop the others.
      rememberFailed(id);
      handleError(err, logger, { settlement: 'batch-fallback', invoiceId: id });
    }
  }
  await discardSettlementJobs(done);
  try {
    const outcome = await settleInvoice(invoiceId);
    failedAlone.delete(invoiceId);
    return outcome;
  } catch (err) {
    rememberFailed(invoiceId);
    throw err;
  }
}

/** Drops the pending settlement jobs of invoices settled by another job's batch (a running one finishes and finds the invoice settled). */
async function discardSettlementJobs(invoiceIds: readonly string[]): Promise<void> {
  if (invoiceIds.length === 0) return;
  // NOTE: only saves work: a job left behind re-reads its invoice, finds it settled and does nothing.
  await platform()
    .queues.discard(invoiceIds.map((id) => jobIds.settle(id)))
    .catch((err: unknown) => platform().logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not drop settled invoices\' jobs'));
}

/** Open invoices whose due instant has passed (to be settled), soonest first. */
export async function dueOpenInvoiceIds(at: Date, limit = 5000): Promise<string[]> {
  const rows = await Invoice.find({ status: 'open', dueAt: trusted({ $lte: at }) }, { _id: 1 }).sort({ dueAt: 1 }).limit(limit).lean();
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

/** The invoice number (FP…) of an invoice, for pages that link to it by id. */
export async function invoiceNoOf(invoiceId: string): Promise<string | undefined> {
  if (!Types.ObjectId.isValid(invoiceId)) return undefined;
  const row = await Invoice.findById(invoiceId, { invoiceNo: 1 }).lean<{ invoiceNo: string }>();
  return row?.invoiceNo;
}
