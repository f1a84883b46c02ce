import { expect } from 'chai';
import { businessDay } from '../../server/platform/time';
import { buildDistributorOrg, buildGuaranteedHospital, createInvoice, financeHooks } from '../support/finance-factories';
import { testClock } from '../support/global';
import { downloadXlsx, expectPlainText, expectReadableLayout, header } from '../support/xlsx';

const EVIL = '=HYPERLINK("http://evil.example/x","点我")';

describe('finance: Excel downloads', () => {
  financeHooks();

  it('exports the hospital’s invoices by due date with yuan amounts and calendar-day due dates, and never another hospital’s', async () => {
    const [a, b, distributor] = await Promise.all([buildGuaranteedHospital(), buildGuaranteedHospital(), buildDistributorOrg()]);
    const mine = await createInvoice(a.hospital.org.id, distributor.id, 289_000_05, { dueInDays: 10 });
    const theirs = await createInvoice(b.hospital.org.id, distributor.id, 1_950_00, { dueInDays: 5 });

    const zh = await downloadXlsx(a.hospital, '/api/v1/finance/invoices/export.xlsx');
    expectReadableLayout(zh);
    expect(zh.headers.slice(0, 4)).to.deep.equal(['发票号', '订单号', '医院', '配送企业']);
    const nos = zh.rows.map((r) => r.get('发票号')!.value);
    expect(nos).to.deep.equal([mine.invoiceNo]);
    expect(nos).not.to.include(theirs.invoiceNo);
    const row = zh.rows[0]!;
    expectPlainText(row.get('发票号')!, mine.invoiceNo);
    expect(row.get('发票金额（元）')!.value).to.equal(289_000.05);
    expect(row.get('发票金额（元）')!.numFmt).to.equal('#,##0.00');
    expect(row.get('未付（元）')!.value).to.equal(289_000.05);
    expect(row.get('状态')!.value).to.equal('待付款');
    const due = row.get('付款到期日')!;
    expect(due.numFmt).to.equal('yyyy-mm-dd');
    expect((due.value as Date).toISOString()).to.equal(`${businessDay(mine.dueAt)}T00:00:00.000Z`);

    const operatorView = await downloadXlsx(b.operator, `/api/v1/finance/invoices/export.xlsx?hospitalOrgId=${b.hospital.org.id}&lang=en`);
    expect(operatorView.headers[0]).to.equal(header('en', 'finance.fields.invoiceNo'));
    expect(operatorView.rows.map((r) => r.get(operatorView.headers[0]!)!.value)).to.deep.equal([theirs.invoiceNo]);
    expect(operatorView.rows[0]!.get(header('en', 'finance.export.status'))!.value).to.equal(header('en', 'finance.invoiceStatus.open'));
  });

  it('exports the financing statement with opening and closing balances, each movement in yuan, and a reference that looks like a formula kept as text', async () => {
    const a = await buildGuaranteedHospital({ balanceFen: 100_000_00 });
    const other = await buildGuaranteedHospital({ balanceFen: 7_777_00 });
    const deposited = await a.hospital.api().post('/api/v1/finance/account/deposits', { amountFen: 500_50, reference: EVIL });
    expect(deposited.status, JSON.stringify(deposited.body)).to.equal(201);
    const today = businessDay(testClock.now());

    const s = await downloadXlsx(a.hospital, `/api/v1/finance/statement.xlsx?from=${today}&to=${today}`);
    expectReadableLayout(s);
    expect(s.headers).to.deep.equal(['记账时间', '业务类型', '凭证号', '周转金变动（元）', '垫付本金变动（元）', '应付利息变动（元）', '应付发票变动（元）', '周转金余额（元）']);
    expect(s.rows.map((r) => r.get('业务类型')!.value)).to.deep.equal(['期初余额', '医保预付', '医院存入', '期末余额']);
    const deposit = s.rows[2]!;
    expectPlainText(deposit.get('凭证号')!, `'${EVIL}`);
    expect(deposit.get('周转金变动（元）')!.value).to.equal(500.5);
    expect(deposit.get('周转金余额（元）')!.value).to.equal(100_500.5);
    expect(deposit.get('周转金余额（元）')!.numFmt).to.equal('#,##0.00');
    expect(deposit.get('记账时间')!.value).to.be.instanceOf(Date);
    expect(deposit.get('记账时间')!.numFmt).to.equal('yyyy-mm-dd hh:mm');
    expect(s.rows[3]!.get('周转金余额（元）')!.value).to.equal(100_500.5);
    for (const r of s.rows) expect(r.get('周转金变动（元）')!.value).not.to.equal(7_777);

    const en = await downloadXlsx(a.hospital, `/api/v1/finance/statement.xlsx?from=${today}&to=${today}&lang=en`);
    expect(en.headers[1]).to.equal('Kind');
    expect(en.rows.map((r) => r.get('Kind')!.value)).to.deep.equal(['Opening balance', header('en', 'finance.entryKind.prepayment'), header('en', 'finance.entryKind.deposit'), 'Closing balance']);

    const peek = await other.hospital.api().get(`/api/v1/finance/statement.xlsx?from=${today}&to=${today}&hospitalOrgId=${a.hospital.org.id}`);
    expect(peek.status).to.equal(404);
  });
});
