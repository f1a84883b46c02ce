import { expect } from 'chai';
import request from 'supertest';
import { businessDay } from '../../server/platform/time';
import { binaryBody } from '../support/binary';
import { buildUser, type TestUser } from '../support/factories';
import { testApp, testClock } from '../support/global';
import { extractPdfText } from '../support/pdf-text';
import { buildDistributorOrg, buildGuaranteedHospital, createInvoice, financeHooks, settled } from '../support/finance-factories';

async function pdf(user: TestUser, path: string): Promise<{ status: number; type?: string; body: Buffer }> {
  const res = await request(testApp().url)
    .get(path)
    .set('Cookie', `gpo_session=${user.token}`)
    .buffer(true)
    .parse(binaryBody);
  return { status: res.status, type: res.headers['content-type'], body: res.body as Buffer };
}

const squash = (s: string) => s.replace(/\s+/g, '');

describe('finance: agreement and statement PDFs', function () {
  financeHooks();

  it('approval produces the three-party agreement with the parties and the approved terms, the same bytes every time', async () => {
    const { hospital, bank, operator, lineId } = await buildGuaranteedHospital({ limitFen: 5_000_000_00, annualRateBp: 435, maxTenorDays: 90 });
    const first = await pdf(hospital, `/finance/lines/${lineId}/agreement.pdf`);
    expect(first.status).to.equal(200);
    expect(first.type).to.match(/application\/pdf/);
    const text = squash(await extractPdfText(first.body));
    for (const expected of ['三方担保支付协议', hospital.org.name, bank.org.name, '¥5,000,000.00', '4.35%', '90天', '甲方（医院）', '乙方（担保银行）', '丙方（平台）', '实际天数/365', '先抵扣利息']) {
      expect(text, expected).to.contain(squash(expected));
    }
    const again = await pdf(bank, `/finance/lines/${lineId}/agreement.pdf`);
    expect(Buffer.compare(again.body, first.body)).to.equal(0);
    expect((await pdf(operator, `/finance/lines/${lineId}/agreement.pdf`)).status).to.equal(200);

    // A change of terms is a new version of the agreement.
    expect((await bank.api().post(`/api/v1/finance/lines/${lineId}/change`, { annualRateBp: 500 })).status).to.equal(200);
    const changed = squash(await extractPdfText((await pdf(hospital, `/finance/lines/${lineId}/agreement.pdf`)).body));
    expect(changed).to.contain('5.00%');
    expect(changed).to.contain('v2');
    // The first version keeps the terms it was signed with, byte for byte.
    const v1 = await pdf(hospital, `/finance/lines/${lineId}/agreement.pdf?version=1`);
    expect(Buffer.compare(v1.body, first.body)).to.equal(0);
    expect((await pdf(hospital, `/finance/lines/${lineId}/agreement.pdf?version=3`)).status).to.equal(404);
  });

  it('has no agreement for a pending line, and none for another bank', async () => {
    const { hospital, lineId } = await buildGuaranteedHospital({ approve: false });
    expect((await pdf(hospital, `/finance/lines/${lineId}/agreement.pdf`)).status).to.equal(404);
    const approved = await buildGuaranteedHospital();
    const stranger = await buildUser('bank_officer');
    expect((await pdf(stranger, `/finance/lines/${approved.lineId}/agreement.pdf`)).status).to.equal(404);
  });

  it('the financing statement lists the period\'s movements with opening and closing balances', async () => {
    const { hospital, bank } = await buildGuaranteedHospital({ balanceFen: 30_000, limitFen: 500_000 });
    const distributor = await buildDistributorOrg();
    const invoice = await createInvoice(hospital.org.id, distributor.id, 100_000, { dueInDays: 0 });
    await settled(String(invoice._id));
    const today = businessDay(testClock.now());
    const res = await pdf(hospital, `/finance/statement.pdf?from=${today}&to=${today}`);
    expect(res.status).to.equal(200);
    const text = squash(await extractPdfText(res.body));
    for (const expected of ['医院融资对账单', hospital.org.name, bank.org.name, '医保预付', '到期结算', '发票入账', '+¥300.00', '−¥300.00', '+¥700.00', invoice.invoiceNo]) {
      expect(text, expected).to.contain(squash(expected));
    }
    // The bank of the hospital may print it too; another bank may not; a bad period is refused.
    expect((await pdf(bank, `/finance/statement.pdf?hospitalOrgId=${hospital.org.id}&from=${today}&to=${today}`)).status).to.equal(200);
    const stranger = await buildUser('bank_officer');
    expect((await pdf(stranger, `/finance/statement.pdf?hospitalOrgId=${hospital.org.id}&from=${today}&to=${today}`)).status).to.equal(404);
    expect((await pdf(hospital, `/finance/statement.pdf?from=${today}&to=2000-01-01`)).status).to.equal(400);
    expect((await pdf(hospital, `/finance/statement.pdf?from=yesterday&to=${today}`)).status).to.equal(400);

    const json = await hospital.api().get(`/api/v1/finance/statement?from=${today}&to=${today}`);
    expect(json.status).to.equal(200);
    expect(json.body.closing).to.include({ wc: 0, principal: 70_000 });
    expect(json.body.opening.wc + json.body.rows.reduce((s: number, r: { workingCapitalFen: number }) => s + r.workingCapitalFen, 0)).to.equal(json.body.closing.wc);
  });
});
