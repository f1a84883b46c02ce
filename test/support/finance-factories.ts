// Finance helpers: hospitals with a bank, a guarantee line and money in the account (built through
// the real API), invoices from factory acceptances, and the ledger check every finance test ends with.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Types } from 'mongoose';
import { checkLedger, createInvoiceFromAcceptance, financeFaults, financeModule } from '../../server/modules/finance';
import { login } from '../../server/modules/identity';
import { Invoice, type InvoiceDoc } from '../../server/modules/finance/finance.model';
import { OutboxEvent } from '../../server/platform/events';
import { trusted } from '../../server/platform/mongo';
import { addDays } from '../../server/platform/time';
import { apiWithToken, buildOrg, buildUser, type TestUser } from './factories';
import { testApp, testClock } from './global';
import { until } from './wait';

const uniq = () => randomBytes(4).toString('hex');

/** Fails the test unless every stored balance equals the sum of its journal postings. */
export async function assertLedgerConsistent(): Promise<void> {
  const check = await checkLedger();
  expect(check.mismatches, 'ledger balances that differ from their entries').to.deep.equal([]);
  expect(check.unbalancedEntries, 'journal entries that do not sum to zero').to.deep.equal([]);
  expect(check.totalFen, 'sum of all balances').to.equal(0);
  expect(check.ok).to.equal(true);
}

/** The standard hooks of a finance test file: ledger check after each test, faults cleared. */
export function financeHooks(): void {
  afterEach(async function () {
    financeFaults.clear();
    await assertLedgerConsistent();
  });
}

/** Signs the user in again (after the test clock moved past the session's lifetime). */
export async function relogin(user: TestUser): Promise<TestUser> {
  const session = await login(user.email, user.password, { ip: `relogin-${uniq()}` });
  return { ...user, token: session.token, api: () => apiWithToken(session.token) };
}

export interface GuaranteedHospital {
  hospital: TestUser;
  bank: TestUser;
  operator: TestUser;
  lineId: string;
}

/**
 * A hospital finance user whose hospital applied to a new bank; unless `approve: false`, the bank
 * approved the line with the given terms; `balanceFen` is prepaid into its account by the operator.
 */
export async function buildGuaranteedHospital(
  opts: { limitFen?: number; annualRateBp?: number; maxTenorDays?: number; balanceFen?: number; approve?: boolean; bank?: TestUser; operator?: TestUser; hospitalLevel?: 1 | 2 | 3 } = {},
): Promise<GuaranteedHospital> {
  const hospital = await buildUser('hospital_finance', { hospitalLevel: opts.hospitalLevel });
  const bank = opts.bank ?? (await buildUser('bank_officer'));
  const operator = opts.operator ?? (await buildUser('operator'));
  const applied = await hospital.api().post('/api/v1/finance/lines', { bankOrgId: bank.org.id, amountFen: opts.limitFen ?? 1_000_000_00, termMonths: 12 });
  expect(applied.status, JSON.stringify(applied.body)).to.equal(201);
  const lineId = applied.body.id as string;
  if (opts.approve !== false) {
    const approved = await bank.api().post(`/api/v1/finance/lines/${lineId}/approve`, {
      limitFen: opts.limitFen ?? 1_000_000_00,
      annualRateBp: opts.annualRateBp ?? 365,
      maxTenorDays: opts.maxTenorDays ?? 90,
      expiresOn: '2099-12-31',
    });
    expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
  }
  if (opts.balanceFen) {
    const paid = await operator.api().post(`/api/v1/finance/accounts/${hospital.org.id}/prepayments`, { amountFen: opts.balanceFen, reference: `YB-${uniq()}` });
    expect(paid.status, JSON.stringify(paid.body)).to.equal(201);
  }
  return { hospital, bank, operator, lineId };
}

/** A distributor organisation (invoices need one; no user is needed to be paid). */
export async function buildDistributorOrg() {
  return buildOrg({ type: 'distributor' });
}

/** Factory data for createInvoiceFromAcceptance: one line of `amountFen` (quantity 1). */
export function acceptanceInput(hospitalOrgId: string, distributorOrgId: string, amountFen: number, acceptedAt: Date = testClock.now()) {
  return {
    acceptanceKey: `acceptance-${uniq()}-${uniq()}`,
    orderId: String(new Types.ObjectId()),
    orderNo: `PO${uniq().toUpperCase()}`,
    hospitalOrgId,
    distributorOrgId,
    lines: [{ drugId: String(new Types.ObjectId()), drugName: '注射用尿激酶 10万单位', quantity: 1, unitPriceFen: amountFen, amountFen }],
    amountFen,
    acceptedAt,
  };
}

/** Creates an invoice through the contract function; `dueInDays` ≤ 0 makes it already due. */
export async function createInvoice(hospitalOrgId: string, distributorOrgId: string, amountFen: number, opts: { dueInDays?: number; termDays?: number } = {}): Promise<InvoiceDoc> {
  const term = opts.termDays ?? 30;
  const acceptedAt = addDays(testClock.now(), (opts.dueInDays ?? term) - term - 1);
  const { invoiceId } = await createInvoiceFromAcceptance(acceptanceInput(hospitalOrgId, distributorOrgId, amountFen, acceptedAt));
  return (await Invoice.findById(invoiceId).lean<InvoiceDoc>())!;
}

export { until };

/** The outbox keys of the facts a due-date settlement of the invoice can commit. */
export function settlementFactKeys(invoiceId: string): string[] {
  return [`invoice-settled:${invoiceId}`, `invoice-overdue:${invoiceId}`, `advance-made:${invoiceId}`];
}

/** Whether the invoice's settlement committed and every fact it committed was handled by all subscribers. */
export async function settlementDone(invoiceId: string): Promise<boolean> {
  const facts = await OutboxEvent.find({ key: trusted({ $in: settlementFactKeys(invoiceId) }) }, { key: 1, dispatchedAt: 1 }).lean<{ key: string; dispatchedAt?: Date }[]>();
  return facts.some((f) => f.key === `invoice-settled:${invoiceId}`) && facts.every((f) => f.dispatchedAt !== undefined);
}

/** Waits until the background job settled the invoice (and its subscribers did what follows), then returns it. */
export async function settled(invoiceId: string): Promise<InvoiceDoc> {
  await until(() => settlementDone(invoiceId));
  return (await Invoice.findById(invoiceId).lean<InvoiceDoc>())!;
}

/** Waits until the facts committed so far in this process were handed to their subscribers (notifications, pushes, jobs). */
export async function factsHandled(): Promise<void> {
  await testApp().relay.idle();
}

/** Runs the finance sweep now, as the worker's sweeper does on its timer. */
export async function runFinanceSweep(): Promise<void> {
  const sweep = financeModule.sweeps!.find((s) => s.name === 'finance.due-work')!;
  await testApp().sweeper!.runOnce(sweep);
}

/**
 * Keeps the worker's finance sweep from running on its timer until `release()`: for a test that
 * inserts due invoices with no jobs and settles them itself (the sweep would queue their jobs, and
 * those would settle some of them at the same time). Holds the sweep's lock, then waits for a run
 * already under way.
 */
export async function holdFinanceSweep(): Promise<{ release: () => Promise<void> }> {
  const { redis, config } = testApp().platform;
  const key = `${config.queuePrefix}:sweep:finance.due-work`;
  await redis.set(key, 'held by a test', 'PX', 120_000);
  await runFinanceSweep();
  return { release: async () => void (await redis.del(key)) };
}

/** Moves the test clock by whole days. */
export function advanceDays(days: number): void {
  testClock.advance(days * 86_400_000);
}
