import { expect } from 'chai';
import { Types } from 'mongoose';
import { createInvoiceFromAcceptance } from '../../server/modules/finance';
import { Invoice, JournalEntry, type InvoiceDoc } from '../../server/modules/finance/finance.model';
import { buildUser } from '../support/factories';
import { testApp } from '../support/global';
import { acceptanceInput, buildDistributorOrg, buildGuaranteedHospital, createInvoice, financeHooks, settled } from '../support/finance-factories';

describe('finance: invoices from accepted deliveries', function () {
  financeHooks();

  it('creates an invoice due payment-term days after acceptance, posts it to the ledger and schedules its settlement job', async () => {
    const { hospital } = await buildGuaranteedHospital();
    const distributor = await buildDistributorOrg();
    const input = acceptanceInput(hospital.org.id, distributor.id, 195_000, new Date('2026-03-01T10:00:00+08:00'));
    const { invoiceId, dueAt } = await createInvoiceFromAcceptance(input);
    expect(dueAt.toISOString()).to.equal(new Date('2026-03-31T23:59:59.999+08:00').toISOString());
    const invoice = await Invoice.findById(invoiceId).lean<InvoiceDoc>();
    expect(invoice).to.include({ amountFen: 195_000, paidFen: 0, status: 'open', orderNo: input.orderNo, paymentTermDays: 30 });
    const entry = await JournalEntry.findOne({ idempotencyKey: `invoice:${invoiceId}` }).lean();
    expect(entry?.postings.map((p) => [p.accountKey, p.amountFen])).to.deep.equal([
      [`invoice_receivable:${hospital.org.id}`, 195_000],
      [`distributor_payable:${distributor.id}:${hospital.org.id}`, -195_000],
    ]);
    await testApp().relay.idle();
    const job = await testApp().platform.queues.getJob(`invoice-settle:${invoiceId}`);
    expect(job?.data).to.deep.equal({ invoiceId });
  });

  it('is idempotent by acceptance key: a repeated or concurrent call returns the same invoice and posts once', async () => {
    const { hospital } = await buildGuaranteedHospital();
    const distributor = await buildDistributorOrg();
    const input = acceptanceInput(hospital.org.id, distributor.id, 5_000);
    const results = await Promise.all([createInvoiceFromAcceptance(input), createInvoiceFromAcceptance(input), createInvoiceFromAcceptance(input)]);
    expect(new Set(results.map((r) => r.invoiceId)).size).to.equal(1);
    expect(await Invoice.countDocuments({ acceptanceKey: input.acceptanceKey })).to.equal(1);
    expect(await JournalEntry.countDocuments({ invoiceId: new Types.ObjectId(results[0]!.invoiceId) })).to.equal(1);
  });

  it('refuses bad acceptances (zero, negative, fractional, mismatched totals, wrong organisations) and stores nothing', async () => {
    const { hospital } = await buildGuaranteedHospital();
    const distributor = await buildDistributorOrg();
    const base = acceptanceInput(hospital.org.id, distributor.id, 1_000);
    const line = base.lines[0]!;
    const bad = [
      { ...base, amountFen: 0, lines: [{ ...line, unitPriceFen: 0, amountFen: 0 }] },
      { ...base, amountFen: -1_000, lines: [{ ...line, unitPriceFen: -1_000, amountFen: -1_000 }] },
      { ...base, amountFen: 10.5, lines: [{ ...line, unitPriceFen: 10.5, amountFen: 10.5 }] },
      { ...base, amountFen: 2_000 },
      { ...base, lines: [{ ...line, quantity: 3 }] },
      { ...base, amountFen: 1e15, lines: [{ ...line, unitPriceFen: 1e15, amountFen: 1e15 }] },
      { ...base, hospitalOrgId: distributor.id },
      { ...base, distributorOrgId: hospital.org.id },
      { ...base, hospitalOrgId: String(new Types.ObjectId()) },
    ];
    for (const input of bad) {
      let status = 0;
      try {
        await createInvoiceFromAcceptance(input);
      } catch (err) {
        status = (err as { status?: number }).status ?? 500;
      }
      expect(status, JSON.stringify(input)).to.be.oneOf([400, 404]);
    }
    expect(await Invoice.countDocuments({ acceptanceKey: base.acceptanceKey })).to.equal(0);
  });

  it('shows invoices to the hospital, the distributor and the bank, and to nobody else (404)', async () => {
    const { hospital, bank } = await buildGuaranteedHospital();
    const distributorUser = await buildUser('distributor');
    const invoice = await createInvoice(hospital.org.id, distributorUser.org.id, 12_345);
    const id = String(invoice._id);
    for (const viewer of [hospital, distributorUser, bank]) {
      const res = await viewer.api().get(`/api/v1/finance/invoices/${id}`);
      expect(res.status, viewer.role).to.equal(200);
      expect(res.body).to.include({ id, amountFen: 12_345, status: 'open' });
      const list = await viewer.api().get('/api/v1/finance/invoices');
      expect(list.body.data.map((r: { id: string }) => r.id)).to.include(id);
    }
    const strangers = [await buildUser('hospital_finance'), await buildUser('distributor'), await buildUser('bank_officer'), await buildUser('pharmacist')];
    for (const s of strangers) {
      const res = await s.api().get(`/api/v1/finance/invoices/${id}`);
      expect(res.status, s.role).to.equal(404);
      const list = await s.api().get('/api/v1/finance/invoices');
      expect(list.body.data.map((r: { id: string }) => r.id)).not.to.include(id);
    }
  });

  it('lets the hospital pay an open invoice early from its account; paying twice is refused and pays nothing more', async () => {
    const { hospital } = await buildGuaranteedHospital({ balanceFen: 100_000 });
    const distributor = await buildDistributorOrg();
    const invoice = await createInvoice(hospital.org.id, distributor.id, 30_000);
    const id = String(invoice._id);
    const first = await hospital.api().post(`/api/v1/finance/invoices/${id}/pay`, {});
    expect(first.status, JSON.stringify(first.body)).to.equal(200);
    expect(first.body).to.include({ status: 'paid', paidFen: 30_000, paidOnTime: true });
    const again = await hospital.api().post(`/api/v1/finance/invoices/${id}/pay`, {});
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal('INVOICE_ALREADY_PAID');
    const concurrent = await Promise.all([1, 2, 3].map(() => hospital.api().post(`/api/v1/finance/invoices/${id}/pay`, {})));
    expect(concurrent.map((r) => r.status)).to.deep.equal([409, 409, 409]);
    const account = await hospital.api().get('/api/v1/finance/account');
    expect(account.body.balanceFen).to.equal(70_000);
    expect(await JournalEntry.countDocuments({ invoiceId: invoice._id, kind: 'invoice_payment' })).to.equal(1);
  });

  it('pays an invoice once when the hospital pays it several times at the same moment', async () => {
    const { hospital } = await buildGuaranteedHospital({ balanceFen: 100_000 });
    const distributor = await buildDistributorOrg();
    const invoice = await createInvoice(hospital.org.id, distributor.id, 40_000);
    const replies = await Promise.all([1, 2, 3, 4].map(() => hospital.api().post(`/api/v1/finance/invoices/${String(invoice._id)}/pay`, {})));
    expect(replies.filter((r) => r.status === 200)).to.have.length(1);
    expect(replies.filter((r) => r.status === 409)).to.have.length(3);
    expect((await hospital.api().get('/api/v1/finance/account')).body.balanceFen).to.equal(60_000);
  });

  it('refuses early payment without enough money in the account and changes nothing', async () => {
    const { hospital } = await buildGuaranteedHospital({ balanceFen: 1_000 });
    const distributor = await buildDistributorOrg();
    const invoice = await createInvoice(hospital.org.id, distributor.id, 5_000);
    const res = await hospital.api().post(`/api/v1/finance/invoices/${String(invoice._id)}/pay`, {});
    expect(res.status).to.equal(422);
    expect(res.body.error.code).to.equal('INSUFFICIENT_FUNDS');
    expect(await Invoice.findById(invoice._id).lean()).to.include({ status: 'open', paidFen: 0 });
    expect((await hospital.api().get('/api/v1/finance/account')).body.balanceFen).to.equal(1_000);
  });

  it('refuses paying another hospital\'s invoice (404) and leaves it open', async () => {
    const { hospital } = await buildGuaranteedHospital({ balanceFen: 100_000 });
    const other = await buildGuaranteedHospital({ balanceFen: 100_000 });
    const distributor = await buildDistributorOrg();
    const invoice = await createInvoice(hospital.org.id, distributor.id, 5_000);
    const res = await other.hospital.api().post(`/api/v1/finance/invoices/${String(invoice._id)}/pay`, {});
    expect(res.status).to.equal(404);
    expect(await Invoice.findById(invoice._id).lean()).to.include({ status: 'open', paidFen: 0 });
  });

  it('the settlement job pays a due invoice from the working-capital account', async () => {
    const { hospital } = await buildGuaranteedHospital({ balanceFen: 50_000 });
    const distributor = await buildDistributorOrg();
    const invoice = await createInvoice(hospital.org.id, distributor.id, 20_000, { dueInDays: 0 });
    const done = await settled(String(invoice._id));
    expect(done).to.include({ status: 'paid', paidFen: 20_000, paidOnTime: true });
    expect(done.settlement).to.include({ outcome: 'paid_from_account', fromAccountFen: 20_000, advanceFen: 0, unpaidFen: 0 });
    expect((await hospital.api().get('/api/v1/finance/account')).body.balanceFen).to.equal(30_000);
  });
});
