import { expect } from 'chai';
import request from 'supertest';
import { takeMissingKeys } from '../../server/platform/i18n';
import { buildUser, type TestUser } from '../support/factories';
import { testApp } from '../support/global';
import { buildDistributorOrg, buildGuaranteedHospital, createInvoice, financeHooks, settled } from '../support/finance-factories';

/** GET a page with the user's session cookie (pages use the cookie, not the bearer token). */
function page(user: TestUser, path: string, lang: 'zh' | 'en' = 'zh') {
  return request(testApp().url).get(path).set('Cookie', `gpo_session=${user.token}; lang=${lang}`);
}

describe('finance: pages render for every role, in Chinese and English', function () {
  financeHooks();

  it('every finance page renders with its data and no missing message', async () => {
    const { hospital, bank, operator, lineId } = await buildGuaranteedHospital({ balanceFen: 20_000, limitFen: 500_000 });
    const distributorUser = await buildUser('distributor');
    const paid = await createInvoice(hospital.org.id, distributorUser.org.id, 50_000, { dueInDays: 0 });
    await settled(String(paid._id));
    const open = await createInvoice(hospital.org.id, distributorUser.org.id, 7_000);
    const pharmacist = await buildUser('pharmacist', { org: hospital.org });
    const pages: [TestUser, string, string][] = [
      [operator, `/finance?q=${encodeURIComponent(hospital.org.name)}`, hospital.org.name],
      [operator, '/finance/ledger', '一致'],
      [operator, '/finance/reports', '欠款'],
      [operator, `/finance/hospitals/${hospital.org.id}`, hospital.org.name],
      [operator, '/finance/invoices', paid.invoiceNo],
      [hospital, '/finance/invoices', open.invoiceNo],
      [hospital, `/finance/invoices/${String(paid._id)}`, '银行垫付'],
      [hospital, '/finance/lines', bank.org.name],
      [hospital, `/finance/lines/${lineId}`, '三方担保支付协议'],
      [hospital, '/finance/account', '¥300.00'],
      [pharmacist, '/finance/account', '¥0.00'],
      [distributorUser, '/finance/invoices', paid.invoiceNo],
      [distributorUser, '/finance/invoices', '查看待确认订单'],
      [bank, '/finance/lines', hospital.org.name],
      [bank, `/finance/lines/${lineId}`, '近 12 个月采购额'],
      [bank, '/finance/hospitals', hospital.org.name],
      [bank, `/finance/hospitals/${hospital.org.id}`, '¥300.00'],
    ];
    takeMissingKeys();
    for (const lang of ['zh', 'en'] as const) {
      for (const [user, path, text] of pages) {
        const res = await page(user, path, lang);
        expect(res.status, `${user.role} ${path} ${lang}: ${res.text.slice(0, 300)}`).to.equal(200);
        if (lang === 'zh') expect(res.text, `${user.role} ${path}`).to.contain(text);
      }
    }
    expect(takeMissingKeys()).to.deep.equal([]);
  });

  it('keeps pages to their roles and tenants: 403 for the wrong role, 404 for another bank\'s hospital', async () => {
    const { hospital, lineId } = await buildGuaranteedHospital();
    const otherBank = await buildUser('bank_officer');
    const distributorUser = await buildUser('distributor');
    expect((await page(otherBank, `/finance/hospitals/${hospital.org.id}`)).status).to.equal(404);
    expect((await page(otherBank, `/finance/lines/${lineId}`)).status).to.equal(404);
    expect((await page(distributorUser, '/finance/account')).status).to.equal(403);
    expect((await page(hospital, '/finance/ledger')).status).to.equal(403);
    expect((await page(distributorUser, `/finance/lines/${lineId}`)).status).to.equal(403);
    const anonymous = await request(testApp().url).get('/finance/account');
    expect(anonymous.status).to.equal(303);
    expect(anonymous.headers.location).to.match(/^\/login/);
  });

  it('a form with a bad amount is shown again with the error next to the field, and nothing is stored', async () => {
    const { hospital } = await buildGuaranteedHospital({ balanceFen: 1_000 });
    const form = await page(hospital, '/finance/account');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
    const cookies = [`gpo_session=${hospital.token}`, ...(form.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]!)].join('; ');
    for (const amount of ['-5', '0', '1.234', 'abc', '99999999999999999']) {
      const res = await request(testApp().url).post('/finance/account/deposit').set('Cookie', cookies).type('form').send({ _csrf: csrf, amount, requestKey: 'deposit-form-key-1' });
      expect(res.status, amount).to.equal(400);
      expect(res.text).to.match(/id="deposit-amount-error">[^<]*金额/);
    }
    expect((await hospital.api().get('/api/v1/finance/account')).body.balanceFen).to.equal(1_000);
    const ok = await request(testApp().url).post('/finance/account/deposit').set('Cookie', cookies).type('form').send({ _csrf: csrf, amount: '1,234.56', requestKey: 'deposit-form-key-2' });
    expect(ok.status).to.equal(303);
    // The same form sent again (same request key) deposits once.
    await request(testApp().url).post('/finance/account/deposit').set('Cookie', cookies).type('form').send({ _csrf: csrf, amount: '1,234.56', requestKey: 'deposit-form-key-2' });
    expect((await hospital.api().get('/api/v1/finance/account')).body.balanceFen).to.equal(1_000 + 123_456);

    // A refusal from the service reads in the user's language too.
    const invoice = await createInvoice(hospital.org.id, (await buildDistributorOrg()).id, 500);
    const pay = () => request(testApp().url).post(`/finance/invoices/${String(invoice._id)}/pay`).set('Cookie', cookies).type('form').send({ _csrf: csrf });
    expect((await pay()).status).to.equal(303);
    const twice = await pay();
    expect(twice.status).to.equal(409);
    expect(twice.text).to.contain('该发票已支付，不能重复支付。');
  });

  it("refuses a distributor the hospital-wide payment security (like a missing hospital) and keeps it for the operator", async () => {
    const { hospital, operator } = await buildGuaranteedHospital({ balanceFen: 10_000, limitFen: 20_000 });
    const distributorUser = await buildUser('distributor');
    const d = await buildDistributorOrg();
    await createInvoice(hospital.org.id, d.id, 25_000);
    const probe = await distributorUser.api().get(`/api/v1/finance/payment-security/${hospital.org.id}?amountFen=100000000000`);
    const missing = await distributorUser.api().get('/api/v1/finance/payment-security/000000000000000000000000?amountFen=100000000000');
    expect(probe.status).to.equal(403);
    expect(missing.status).to.equal(probe.status);
    expect(probe.body.error.code).to.equal(missing.body.error.code);
    expect(JSON.stringify(probe.body)).not.to.match(/shortfallFen|bankName|balanceFen/);
    const full = await operator.api().get(`/api/v1/finance/payment-security/${hospital.org.id}?amountFen=6000`);
    expect(full.status).to.equal(200);
    expect(full.body).to.include({ secured: false, level: 'partially_secured', shortfallFen: 1_000, balanceFen: 10_000, headroomFen: 20_000 });
    const invoicesPage = await page(distributorUser, '/finance/invoices');
    expect(invoicesPage.text).to.contain('data-security-per-order');
    expect(invoicesPage.text).not.to.contain(hospital.org.name);
    expect((await page(distributorUser, `/finance/security?hospitalOrgId=${hospital.org.id}&amount=60.00`)).status).to.equal(404);
  });

});
