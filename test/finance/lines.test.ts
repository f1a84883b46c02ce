import { expect } from 'chai';
import { Types } from 'mongoose';
import { GuaranteeLine, JournalEntry } from '../../server/modules/finance/finance.model';
import { Notification } from '../../server/modules/notifications/notifications.model';
import { AuditEntry } from '../../server/platform/audit-log';
import { buildOrg, buildUser } from '../support/factories';
import { buildDistributorOrg, buildGuaranteedHospital, createInvoice, factsHandled, financeHooks, settled } from '../support/finance-factories';

const future = '2099-06-30';

describe('finance: banks, guarantee lines and working-capital accounts', function () {
  financeHooks();

  it('a hospital applies, the bank approves with limit, rate, tenor and expiry; both are told and it is audited', async () => {
    const hospital = await buildUser('hospital_finance');
    const bank = await buildUser('bank_officer');
    const applied = await hospital.api().post('/api/v1/finance/lines', { bankOrgId: bank.org.id, amountFen: 300_000_00, termMonths: 12, note: '年度药品采购' });
    expect(applied.status).to.equal(201);
    expect(applied.body).to.include({ status: 'pending', requestedAmountFen: 300_000_00, requestedTermMonths: 12, bankName: bank.org.name, hospitalName: hospital.org.name });
    await factsHandled();
    expect(await Notification.countDocuments({ userId: new Types.ObjectId(bank.id), kind: 'finance.line_applied' })).to.equal(1);

    const banks = await hospital.api().get('/api/v1/finance/banks');
    expect(banks.body.data.map((b: { id: string }) => b.id)).to.include(bank.org.id);

    const approved = await bank.api().post(`/api/v1/finance/lines/${applied.body.id}/approve`, { limitFen: 250_000_00, annualRateBp: 435, maxTenorDays: 90, expiresOn: future });
    expect(approved.status).to.equal(200);
    expect(approved.body).to.include({ status: 'active', effectiveStatus: 'active', limitFen: 250_000_00, annualRateBp: 435, maxTenorDays: 90, agreementVersion: 1 });
    expect(approved.body.agreementNo).to.match(/^GA-\d{8}-[0-9A-F]{6}$/);
    expect(approved.body.expiresAt).to.equal(new Date(`${future}T23:59:59.999+08:00`).toISOString());
    await factsHandled();
    expect(await Notification.countDocuments({ userId: new Types.ObjectId(hospital.id), kind: 'finance.line_approved' })).to.equal(1);
    expect(await AuditEntry.countDocuments({ action: 'finance.line.approve', targetId: applied.body.id })).to.equal(1);
    const account = await hospital.api().get('/api/v1/finance/account');
    expect(account.body).to.include({ bankOrgId: bank.org.id, balanceFen: 0, headroomFen: 250_000_00, lineStatus: 'active' });
  });

  it('refuses bad applications with a clear 4xx and stores nothing', async () => {
    const hospital = await buildUser('hospital_finance');
    const bank = await buildUser('bank_officer');
    const notABank = await buildOrg({ type: 'distributor' });
    const cases: [unknown, number][] = [
      [{ bankOrgId: bank.org.id, amountFen: 0, termMonths: 12 }, 400],
      [{ bankOrgId: bank.org.id, amountFen: -5, termMonths: 12 }, 400],
      [{ bankOrgId: bank.org.id, amountFen: 100.5, termMonths: 12 }, 400],
      [{ bankOrgId: bank.org.id, amountFen: 1e15, termMonths: 12 }, 400],
      [{ bankOrgId: bank.org.id, amountFen: 100, termMonths: 0 }, 400],
      [{ bankOrgId: bank.org.id, amountFen: 100, termMonths: 61 }, 400],
      [{ bankOrgId: bank.org.id, amountFen: 100, termMonths: 12, status: 'active' }, 400],
      [{ bankOrgId: { $gt: '' }, amountFen: 100, termMonths: 12 }, 400],
      [{ bankOrgId: notABank.id, amountFen: 100, termMonths: 12 }, 400],
      [{ bankOrgId: String(new Types.ObjectId()), amountFen: 100, termMonths: 12 }, 404],
    ];
    for (const [body, status] of cases) {
      const res = await hospital.api().post('/api/v1/finance/lines', body);
      expect(res.status, JSON.stringify(body)).to.equal(status);
      expect(res.body.error.code).to.be.a('string');
    }
    expect((await bank.api().post('/api/v1/finance/lines', { bankOrgId: bank.org.id, amountFen: 100, termMonths: 12 })).status).to.equal(403);
    expect(await GuaranteeLine.countDocuments({ hospitalOrgId: new Types.ObjectId(hospital.org.id) })).to.equal(0);
    // One application at a time.
    expect((await hospital.api().post('/api/v1/finance/lines', { bankOrgId: bank.org.id, amountFen: 100, termMonths: 12 })).status).to.equal(201);
    const twice = await hospital.api().post('/api/v1/finance/lines', { bankOrgId: bank.org.id, amountFen: 100, termMonths: 12 });
    expect(twice.status).to.equal(409);
    expect(twice.body.error.code).to.equal('LINE_EXISTS');
  });

  it('refuses bad decisions and leaves the application pending; a rejection needs a reason', async () => {
    const { hospital, bank, lineId } = await buildGuaranteedHospital({ approve: false });
    const bad = [
      { limitFen: 0, annualRateBp: 435, maxTenorDays: 90, expiresOn: future },
      { limitFen: 100, annualRateBp: 2401, maxTenorDays: 90, expiresOn: future },
      { limitFen: 100, annualRateBp: 4.5, maxTenorDays: 90, expiresOn: future },
      { limitFen: 100, annualRateBp: 435, maxTenorDays: 0, expiresOn: future },
      { limitFen: 100, annualRateBp: 435, maxTenorDays: 90, expiresOn: '2001-01-01' },
      { limitFen: 100, annualRateBp: 435, maxTenorDays: 90, expiresOn: '2099-02-30' },
      { limitFen: 100, annualRateBp: 435, maxTenorDays: 90 },
    ];
    for (const body of bad) {
      const res = await bank.api().post(`/api/v1/finance/lines/${lineId}/approve`, body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
    }
    expect((await bank.api().post(`/api/v1/finance/lines/${lineId}/reject`, { reason: '' })).status).to.equal(400);
    expect((await bank.api().post(`/api/v1/finance/lines/${lineId}/reject`, {})).status).to.equal(400);
    expect((await hospital.api().post(`/api/v1/finance/lines/${lineId}/approve`, bad[0])).status).to.equal(403);
    expect((await GuaranteeLine.findById(lineId).lean())?.status).to.equal('pending');

    const rejected = await bank.api().post(`/api/v1/finance/lines/${lineId}/reject`, { reason: '近 12 个月欠款率过高' });
    expect(rejected.status).to.equal(200);
    expect(rejected.body).to.include({ status: 'rejected', rejectedReason: '近 12 个月欠款率过高' });
    const late = await bank.api().post(`/api/v1/finance/lines/${lineId}/approve`, { limitFen: 100, annualRateBp: 435, maxTenorDays: 90, expiresOn: future });
    expect(late.status).to.equal(409);
    await factsHandled();
    expect(await Notification.countDocuments({ userId: new Types.ObjectId(hospital.id), kind: 'finance.line_rejected' })).to.equal(1);
  });

  it('a bank officer cannot see or touch another bank\'s hospital (404 everywhere)', async () => {
    const { hospital, lineId } = await buildGuaranteedHospital({ balanceFen: 1_000, approve: false });
    const other = await buildUser('bank_officer');
    const api = other.api();
    expect((await api.get(`/api/v1/finance/lines/${lineId}`)).status).to.equal(404);
    expect((await api.get(`/api/v1/finance/lines/${lineId}/review`)).status).to.equal(404);
    expect((await api.post(`/api/v1/finance/lines/${lineId}/approve`, { limitFen: 100, annualRateBp: 435, maxTenorDays: 90, expiresOn: future })).status).to.equal(404);
    expect((await api.post(`/api/v1/finance/lines/${lineId}/reject`, { reason: '不是本行客户' })).status).to.equal(404);
    expect((await api.get(`/api/v1/finance/accounts/${hospital.org.id}`)).status).to.equal(404);
    expect((await api.get(`/api/v1/finance/advances?hospitalOrgId=${hospital.org.id}`)).status).to.equal(404);
    expect((await api.get(`/api/v1/finance/statement?hospitalOrgId=${hospital.org.id}&from=2026-01-01&to=2026-01-31`)).status).to.equal(404);
    expect((await api.get('/api/v1/finance/lines')).body.data.map((l: { id: string }) => l.id)).not.to.include(lineId);
    expect((await api.get('/api/v1/finance/bank/summary')).body.hospitals).to.deep.equal([]);
    expect((await GuaranteeLine.findById(lineId).lean())?.status).to.equal('pending');
  });

  it('the bank suspends, reinstates and changes a line; each change is a new agreement version', async () => {
    const { hospital, bank, lineId } = await buildGuaranteedHospital({ limitFen: 100_000 });
    const suspended = await bank.api().post(`/api/v1/finance/lines/${lineId}/suspend`, { reason: '医院欠款未结清' });
    expect(suspended.body).to.include({ status: 'suspended', suspendedReason: '医院欠款未结清' });
    expect((await hospital.api().get('/api/v1/finance/account')).body.headroomFen).to.equal(0);
    expect((await bank.api().post(`/api/v1/finance/lines/${lineId}/suspend`, { reason: '再次暂停' })).status).to.equal(409);
    expect((await bank.api().post(`/api/v1/finance/lines/${lineId}/reinstate`, {})).body).to.include({ status: 'active' });
    const changed = await bank.api().post(`/api/v1/finance/lines/${lineId}/change`, { limitFen: 200_000, maxTenorDays: 120 });
    expect(changed.body).to.include({ limitFen: 200_000, maxTenorDays: 120, annualRateBp: 365, agreementVersion: 2 });
    expect((await bank.api().post(`/api/v1/finance/lines/${lineId}/change`, {})).status).to.equal(400);
    expect((await hospital.api().get('/api/v1/finance/account')).body.headroomFen).to.equal(200_000);
    expect(changed.body.history.map((h: { action: string }) => h.action)).to.deep.equal(['applied', 'approved', 'suspended', 'reinstated', 'changed']);
  });

  it('the operator records insurance prepayments, the hospital deposits; bad amounts, wrong roles and hospitals without a bank are refused and store nothing', async () => {
    const { hospital, operator, bank } = await buildGuaranteedHospital();
    const prepay = (body: unknown, key?: string) => {
      const req = operator.api().post(`/api/v1/finance/accounts/${hospital.org.id}/prepayments`, body);
      return key ? req.set('Idempotency-Key', key) : req;
    };
    expect((await prepay({ amountFen: 500_000, reference: 'YB-2026-001' }, 'prepay-key-0001')).status).to.equal(201);
    const replay = await prepay({ amountFen: 500_000, reference: 'YB-2026-001' }, 'prepay-key-0001');
    expect(replay.status).to.equal(201);
    expect(replay.body.balanceFen).to.equal(500_000);
    for (const body of [{ amountFen: 0 }, { amountFen: -1 }, { amountFen: 0.5 }, { amountFen: 1e13 }, { amountFen: '100' }, { amountFen: 100, bankOrgId: bank.org.id }, {}]) {
      expect((await prepay(body)).status, JSON.stringify(body)).to.equal(400);
    }
    expect((await hospital.api().post(`/api/v1/finance/accounts/${hospital.org.id}/prepayments`, { amountFen: 100 })).status).to.equal(403);
    const deposit = await hospital.api().post('/api/v1/finance/account/deposits', { amountFen: 20_000, reference: 'ZZ-1' });
    expect(deposit.status).to.equal(201);
    expect(deposit.body).to.include({ balanceFen: 520_000 });
    expect((await hospital.api().post('/api/v1/finance/account/deposits', { amountFen: -20_000 })).status).to.equal(400);
    const entries = await JournalEntry.find({ hospitalOrgId: new Types.ObjectId(hospital.org.id) }).lean();
    expect(entries.map((e) => e.kind).sort()).to.deep.equal(['deposit', 'prepayment']);
    await factsHandled();
    expect(await Notification.countDocuments({ userId: new Types.ObjectId(hospital.id), kind: 'finance.prepayment' })).to.equal(1);

    const loner = await buildUser('hospital_finance');
    const noBank = await operator.api().post(`/api/v1/finance/accounts/${loner.org.id}/prepayments`, { amountFen: 100 });
    expect(noBank.status).to.equal(422);
    expect(noBank.body.error.code).to.equal('NO_BANK');
    const notHospital = await operator.api().post(`/api/v1/finance/accounts/${bank.org.id}/prepayments`, { amountFen: 100 });
    expect(notHospital.status).to.equal(400);
    expect((await bank.api().get(`/api/v1/finance/accounts/${hospital.org.id}`)).body.balanceFen).to.equal(520_000);
  });

  it('a hospital cannot move to another bank while it holds money or owes advances at its bank', async () => {
    const { hospital, bank, operator, lineId } = await buildGuaranteedHospital({ approve: false });
    expect((await operator.api().post(`/api/v1/finance/accounts/${hospital.org.id}/prepayments`, { amountFen: 10_000 })).status).to.equal(201);
    expect((await bank.api().post(`/api/v1/finance/lines/${lineId}/reject`, { reason: '资料不全' })).status).to.equal(200);
    const other = await buildUser('bank_officer');
    const moved = await hospital.api().post('/api/v1/finance/lines', { bankOrgId: other.org.id, amountFen: 100, termMonths: 6 });
    expect(moved.status).to.equal(422);
    expect(moved.body.error.code).to.equal('BANK_SWITCH_BLOCKED');
    // Re-applying to the same bank is fine.
    expect((await hospital.api().post('/api/v1/finance/lines', { bankOrgId: bank.org.id, amountFen: 100, termMonths: 6 })).status).to.equal(201);
  });

  it('the review shows the hospital\'s monthly purchases, payment record and arrears; the bank book shows utilisation', async () => {
    const { hospital, bank, lineId } = await buildGuaranteedHospital({ balanceFen: 10_000, limitFen: 100_000 });
    const distributor = await buildDistributorOrg();
    const paid = await createInvoice(hospital.org.id, distributor.id, 40_000, { dueInDays: 0 });
    await settled(String(paid._id));
    const open = await createInvoice(hospital.org.id, distributor.id, 5_000);
    const review = await bank.api().get(`/api/v1/finance/lines/${lineId}/review`);
    expect(review.status).to.equal(200);
    expect(review.body.months).to.have.length(12);
    expect(review.body.purchases12mFen).to.equal(45_000);
    expect(review.body.paymentRecord).to.include({ invoicesDue: 1, paidOnTime: 1, onTimeRateBp: 10_000 });
    expect(review.body.arrearsNowFen).to.equal(0);
    expect(review.body.debt).to.include({ principalFen: 30_000 });
    void open;

    const book = await bank.api().get('/api/v1/finance/bank/summary');
    expect(book.status).to.equal(200);
    const row = book.body.hospitals.find((h: { hospitalOrgId: string }) => h.hospitalOrgId === hospital.org.id);
    expect(row).to.include({ limitFen: 100_000, principalFen: 30_000, utilisationBp: 3_000, balanceFen: 0, lineStatus: 'active' });
    expect(book.body.totals).to.include({ limitFen: 100_000, principalFen: 30_000, utilisationBp: 3_000 });
    expect(book.body.series).to.have.length(90);
    expect(book.body.series.at(-1)).to.include({ principalFen: 30_000 });
  });
});
