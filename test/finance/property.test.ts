// Property-style test: a few hundred seeded random sequences of deposits, invoices, due dates,
// settlements (some run twice at once), early payments, accruals and repayments against a handful of
// hospitals; after every sequence the ledger's invariants hold and no invoice is paid twice.
import { expect } from 'chai';
import { Types } from 'mongoose';
import { accrueAdvanceThrough, checkLedger, createInvoiceFromAcceptance, payInvoice, settleInvoice } from '../../server/modules/finance';
import { deposit } from '../../server/modules/finance/finance.accounts';
import { repay } from '../../server/modules/finance/finance.advances';
import { accounts, shownBalance } from '../../server/modules/finance/finance.ledger';
import { Advance, Invoice, JournalEntry, LedgerAccount, type AdvanceDoc, type AdvanceStatus, type EntryKind, type InvoiceDoc, type InvoiceStatus, type JournalEntryDoc, type LedgerAccountDoc } from '../../server/modules/finance/finance.model';
import type { Actor } from '../../server/platform/auth';
import { AppError } from '../../server/platform/errors';
import { trusted } from '../../server/platform/mongo';
import { sumFen } from '../../server/platform/money';
import { addDays } from '../../server/platform/time';
import { testClock } from '../support/global';
import { acceptanceInput, buildDistributorOrg, buildGuaranteedHospital, financeHooks } from '../support/finance-factories';

/** mulberry32: a tiny deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = 20_261_123;
const SEQUENCES = 200;
const OWING: AdvanceStatus[] = ['outstanding', 'overdue'];

interface Party {
  actor: Actor;
  hospital: string;
  bank: string;
  limitFen: number;
}

async function assertInvariants(parties: Party[], distributor: string): Promise<void> {
  const ids = parties.map((p) => new Types.ObjectId(p.hospital));
  const keys = [
    'supervised',
    ...parties.flatMap((p) => [
      accounts.invoiceReceivable(p.hospital).key,
      accounts.distributorPayable(distributor, p.hospital).key,
      accounts.workingCapital(p.hospital, p.bank).key,
      accounts.advancePrincipal(p.hospital, p.bank).key,
      accounts.interestReceivable(p.hospital, p.bank).key,
    ]),
  ];
  const [accountRows, invoices, entries, advances] = await Promise.all([
    LedgerAccount.find({ key: trusted({ $in: keys }) }).lean<LedgerAccountDoc[]>(),
    Invoice.find({ hospitalOrgId: trusted({ $in: ids }) }).lean<InvoiceDoc[]>(),
    JournalEntry.find({ hospitalOrgId: trusted({ $in: ids }), kind: trusted({ $in: ['settlement', 'invoice_payment'] as EntryKind[] }) }, { invoiceId: 1, postings: 1 }).lean<JournalEntryDoc[]>(),
    Advance.find({ hospitalOrgId: trusted({ $in: ids }) }).lean<AdvanceDoc[]>(),
  ]);
  const shown = new Map(accountRows.map((a) => [a.key, shownBalance(a)]));
  const balanceOf = (key: string) => shown.get(key) ?? 0;

  expect(balanceOf('supervised'), 'the supervised account passes money through').to.equal(0);
  const paidByEntries = new Map<string, number>();
  for (const e of entries) {
    const inLeg = e.postings.find((p) => p.accountKey === 'supervised' && p.amountFen > 0)!.amountFen;
    paidByEntries.set(String(e.invoiceId), (paidByEntries.get(String(e.invoiceId)) ?? 0) + inLeg);
  }
  for (const inv of invoices) {
    const id = String(inv._id);
    expect(inv.paidFen, `invoice ${inv.invoiceNo} paid at most once in full`).to.be.within(0, inv.amountFen);
    expect(sumFen(inv.payments.map((p) => p.amountFen)), `payments of ${inv.invoiceNo}`).to.equal(inv.paidFen);
    expect(paidByEntries.get(id) ?? 0, `journal money for ${inv.invoiceNo}`).to.equal(inv.paidFen);
    expect(inv.status === 'paid', `status of ${inv.invoiceNo}`).to.equal(inv.paidFen === inv.amountFen);
    expect(inv.payments.filter((p) => p.source === 'settlement').length).to.be.at.most(1);
    expect(inv.payments.filter((p) => p.source === 'hospital').length).to.be.at.most(1);
  }
  const unpaidOf = (rows: InvoiceDoc[]) => sumFen(rows.map((i) => i.amountFen - i.paidFen));
  for (const p of parties) {
    const unpaid = unpaidOf(invoices.filter((i) => String(i.hospitalOrgId) === p.hospital));
    expect(balanceOf(accounts.invoiceReceivable(p.hospital).key), 'the hospital owes its unpaid invoices').to.equal(unpaid);
    expect(balanceOf(accounts.distributorPayable(distributor, p.hospital).key), 'the distributor is owed the same').to.equal(unpaid);
    expect(balanceOf(accounts.workingCapital(p.hospital, p.bank).key), 'no overdraft of working capital').to.be.at.least(0);
    const mine = advances.filter((a) => String(a.hospitalOrgId) === p.hospital);
    const principal = balanceOf(accounts.advancePrincipal(p.hospital, p.bank).key);
    expect(principal, 'principal owed equals the advances').to.equal(sumFen(mine.map((a) => a.principalOutstandingFen)));
    expect(principal, 'never beyond the line').to.be.within(0, p.limitFen);
    expect(balanceOf(accounts.interestReceivable(p.hospital, p.bank).key), 'interest owed equals the advances').to.equal(sumFen(mine.map((a) => a.interestAccruedFen - a.interestPaidFen)));
    for (const a of mine) {
      expect(a.principalOutstandingFen).to.be.within(0, a.principalFen);
      expect(a.interestPaidFen).to.be.within(0, a.interestAccruedFen);
    }
  }
}

describe('finance: random sequences keep the ledger whole (property-style, seeded)', function () {
  this.timeout(300_000);
  financeHooks();

  it(`${SEQUENCES} random sequences: balances equal entries, no overdraft, no line exceeded, no invoice paid twice`, async () => {
    const random = prng(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
    const distributor = (await buildDistributorOrg()).id;
    const parties: Party[] = [];
    for (let i = 0; i < 4; i += 1) {
      const limitFen = pick([0, 50_000, 150_000, 400_000]) || 1;
      const g = await buildGuaranteedHospital({ limitFen, annualRateBp: int(100, 2400), maxTenorDays: int(5, 60), balanceFen: pick([0, 20_000, 100_000]) || undefined });
      parties.push({ actor: { id: g.hospital.id, sessionId: 'property', email: g.hospital.email, name: 'property', role: 'hospital_finance', orgId: g.hospital.org.id, orgType: 'hospital', orgName: g.hospital.org.name }, hospital: g.hospital.org.id, bank: g.bank.org.id, limitFen });
    }
    const refusals = new Map<string, number>();
    const expectRefusal = async (op: () => Promise<unknown>) => {
      try {
        await op();
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        refusals.set(err.code, (refusals.get(err.code) ?? 0) + 1);
      }
    };
    let keySeq = 0;
    const ops = ['deposit', 'invoice', 'invoice', 'time', 'settle', 'settle', 'pay', 'accrue', 'repay', 'repay'] as const;

    for (let seq = 0; seq < SEQUENCES; seq += 1) {
      const p = pick(parties);
      const steps = int(1, 4);
      for (let s = 0; s < steps; s += 1) {
        const op = pick(ops);
        if (op === 'deposit') {
          await deposit(p.actor, { amountFen: int(1, 40_000) }, `prop-${SEED}-${keySeq++}`);
        } else if (op === 'invoice') {
          const dueInDays = int(1, 4);
          const acceptedAt = addDays(testClock.now(), dueInDays - 30);
          await createInvoiceFromAcceptance(acceptanceInput(p.hospital, distributor, int(1, 90_000), acceptedAt));
        } else if (op === 'time') {
          testClock.advance(int(1, 30) * 3_600_000);
        } else if (op === 'settle') {
          const due = await Invoice.find({ hospitalOrgId: new Types.ObjectId(p.hospital), status: 'open', dueAt: trusted({ $lte: testClock.now() }) }, { _id: 1 }).lean();
          for (const inv of due) {
            // Sometimes two settlement runs race for the same invoice.
            const runs = random() < 0.3 ? 2 : 1;
            const outcomes = await Promise.all(Array.from({ length: runs }, () => settleInvoice(String(inv._id))));
            expect(outcomes.filter((o) => o.state === 'settled')).to.have.length(1);
          }
        } else if (op === 'pay') {
          const open = await Invoice.find({ hospitalOrgId: new Types.ObjectId(p.hospital), status: trusted({ $in: ['open', 'overdue'] as InvoiceStatus[] }) }, { _id: 1 }).lean();
          if (open.length > 0) await expectRefusal(() => payInvoice(p.actor, String(pick(open)._id)));
        } else if (op === 'accrue') {
          const owing = await Advance.find({ hospitalOrgId: new Types.ObjectId(p.hospital), status: trusted({ $in: OWING }) }, { _id: 1 }).lean();
          await Promise.all(owing.map((a) => accrueAdvanceThrough(String(a._id))));
        } else {
          const owing = await Advance.find({ hospitalOrgId: new Types.ObjectId(p.hospital), status: trusted({ $in: OWING }) }).lean<AdvanceDoc[]>();
          const debt = sumFen(owing.map((a) => a.principalOutstandingFen + a.interestAccruedFen - a.interestPaidFen));
          const amountFen = debt > 0 && random() < 0.8 ? int(1, debt) : int(1, 60_000);
          await expectRefusal(() => repay(p.actor, { amountFen, source: random() < 0.6 ? 'account' : 'transfer' }, `prop-${SEED}-${keySeq++}`));
        }
      }
      await assertInvariants(parties, distributor);
      if (seq % 40 === 39) {
        const check = await checkLedger();
        expect(check.mismatches).to.deep.equal([]);
        expect(check.ok).to.equal(true);
      }
    }
    // The random walk exercised the interesting paths.
    const settled = await Invoice.find({ hospitalOrgId: trusted({ $in: parties.map((p) => new Types.ObjectId(p.hospital)) }), settledAt: trusted({ $exists: true }) }).lean<InvoiceDoc[]>();
    const outcomes = new Set(settled.map((i) => i.settlement?.outcome));
    expect([...outcomes]).to.include.members(['paid_from_account', 'paid_with_advance']);
    expect(outcomes.has('overdue') || outcomes.has('partially_paid_overdue')).to.equal(true);
    expect(await JournalEntry.countDocuments({ kind: 'interest', hospitalOrgId: trusted({ $in: parties.map((p) => new Types.ObjectId(p.hospital)) }) })).to.be.greaterThan(0);
    expect(await JournalEntry.countDocuments({ kind: 'repayment', hospitalOrgId: trusted({ $in: parties.map((p) => new Types.ObjectId(p.hospital)) }) })).to.be.greaterThan(0);
    expect([...refusals.keys()]).to.include('REPAYMENT_EXCEEDS_DEBT');
  });
});
