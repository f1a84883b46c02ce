import { expect } from 'chai';
import { buildOrderParties, buildPharmacist, placeCatalogueOrder } from '../support/order-factories';
import { buildUser } from '../support/factories';
import { downloadXlsx, expectPlainText, expectReadableLayout, header, shanghaiCell } from '../support/xlsx';

const EVIL = '=HYPERLINK("http://evil.example/x","点我")';

describe('orders: Excel downloads', () => {
  it('exports the pharmacist’s orders with Chinese headers, yuan amounts, Shanghai times, text codes and a formula kept as text — and no other hospital’s order', async () => {
    const p = await buildOrderParties({ drugs: 2, drug: { referencePriceFen: 123_456 } });
    const placed = await p.pharmacist.api().post('/api/v1/orders', { urgency: 'urgent', note: EVIL, lines: p.drugs.map((d) => ({ drugId: d.id, distributorOrgId: p.distributor.org.id, source: 'catalogue', quantity: 3 })) });
    expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
    const mine = placed.body.data[0] as { orderNo: string; totalFen: number; placedAt: string; confirmBy: string };
    const otherHospital = { ...p, pharmacist: await buildPharmacist() };
    const theirs = await placeCatalogueOrder(otherHospital);

    const zh = await downloadXlsx(p.pharmacist, '/api/v1/orders/export.xlsx');
    expectReadableLayout(zh);
    expect(zh.headers.slice(0, 3)).to.deep.equal(['订单号', '医疗机构', '配送企业']);
    expect(zh.headers).to.include('订单金额（元）').and.include('下单时间').and.include('备注');
    const orderNos = zh.rows.map((r) => r.get('订单号')!.value);
    expect(orderNos).to.include(mine.orderNo);
    expect(orderNos).not.to.include(theirs.orderNo);
    expect(zh.rows.every((r) => r.get('医疗机构')!.value === p.pharmacist.org.name)).to.equal(true);

    const row = zh.rows.find((r) => r.get('订单号')!.value === mine.orderNo)!;
    expectPlainText(row.get('订单号')!, mine.orderNo);
    expect(row.get('订单号')!.numFmt).to.equal('@');
    expect(mine.totalFen).to.equal(2 * 3 * 123_456);
    expect(row.get('订单金额（元）')!.value).to.equal(7407.36);
    expect(row.get('订单金额（元）')!.numFmt).to.equal('#,##0.00');
    expect(row.get('品种数')!.value).to.equal(2);
    expect(row.get('紧急程度')!.value).to.equal('急');
    expect(row.get('状态')!.value).to.equal('已下单');
    const placedAt = row.get('下单时间')!;
    expect(placedAt.value).to.be.instanceOf(Date);
    expect(Math.abs((placedAt.value as Date).getTime() - shanghaiCell(mine.placedAt).getTime())).to.be.lessThan(1000);
    expect(placedAt.numFmt).to.equal('yyyy-mm-dd hh:mm');
    expectPlainText(row.get('备注')!, `'${EVIL}`);

    const en = await downloadXlsx(p.pharmacist, '/api/v1/orders/export.xlsx?lang=en');
    expect(en.headers.slice(0, 3)).to.deep.equal([header('en', 'orders.fields.orderNo'), header('en', 'orders.fields.hospital'), header('en', 'orders.fields.distributor')]);
    expect(en.headers).to.include('Order total (CNY)');
    const enRow = en.rows.find((r) => r.get('Order no.')!.value === mine.orderNo)!;
    expect(enRow.get(header('en', 'orders.fields.status'))!.value).to.equal(header('en', 'orderStatus.placed'));
  });

  it('applies the list’s filters and the distributor’s scope', async () => {
    const p = await buildOrderParties();
    const a = await placeCatalogueOrder(p);
    const b = await placeCatalogueOrder(p);
    const cancelled = await p.pharmacist.api().post(`/api/v1/orders/${b.id}/cancel`, { reason: '重复下单' });
    expect(cancelled.status, JSON.stringify(cancelled.body)).to.equal(200);
    const otherDistributor = await buildOrderParties();
    const elsewhere = await placeCatalogueOrder(otherDistributor);

    const all = await downloadXlsx(p.distributor, '/api/v1/orders/export.xlsx');
    const nos = all.rows.map((r) => r.get('订单号')!.value);
    expect(nos).to.include.members([a.orderNo, b.orderNo]);
    expect(nos).not.to.include(elsewhere.orderNo);
    expect(all.rows.every((r) => r.get('配送企业')!.value === p.distributor.org.name)).to.equal(true);

    const open = await downloadXlsx(p.distributor, '/api/v1/orders/export.xlsx?open=true');
    const openNos = open.rows.map((r) => r.get('订单号')!.value);
    expect(openNos).to.include(a.orderNo);
    expect(openNos).not.to.include(b.orderNo);

    const bank = await buildUser('bank_officer');
    expect((await bank.api().get('/api/v1/orders/export.xlsx')).status).to.equal(403);
    expect((await p.distributor.api().get('/api/v1/orders/export.xlsx?status=nonsense')).status).to.equal(400);
  });

  it('exports the delivery KPIs as percentages; a distributor gets only its own row', async () => {
    const p = await buildOrderParties();
    await placeCatalogueOrder(p);
    const other = await buildOrderParties();
    await placeCatalogueOrder(other);

    const kpis = await downloadXlsx(p.distributor, '/api/v1/orders/kpis/distributors/export.xlsx');
    expectReadableLayout(kpis);
    expect(kpis.headers).to.deep.equal(['配送企业', '订单数', '订单响应率', '响应率区间', '配送及时率', '及时率区间', '交易完成率', '完成率区间']);
    expect(kpis.rows.map((r) => r.get('配送企业')!.value)).to.deep.equal([p.distributor.org.name]);
    expect(kpis.rows[0]!.get('订单数')!.value).to.equal(1);
    expect(kpis.rows[0]!.get('订单响应率')!.numFmt).to.equal('0.00%');

    const operator = await buildUser('operator');
    const scoped = await downloadXlsx(operator, `/api/v1/orders/kpis/distributors/export.xlsx?distributorOrgId=${other.distributor.org.id}&lang=en`);
    expect(scoped.headers[0]).to.equal(header('en', 'orders.fields.distributor'));
    expect(scoped.rows.map((r) => r.get(scoped.headers[0]!)!.value)).to.deep.equal([other.distributor.org.name]);
  });
});
