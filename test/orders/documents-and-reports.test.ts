import { expect } from 'chai';
import { binaryBody } from '../support/binary';
import { testClock } from '../support/global';
import { Types } from 'mongoose';
import { Order } from '../../server/modules/orders';
import { businessDay } from '../../server/platform/time';
import { buildTradingDistributor } from '../support/credit-factories';
import { buildUser, type TestUser } from '../support/factories';
import { extractPdfText } from '../support/pdf-text';
import { acceptAllLines, buildOrderParties, buildPharmacist, confirm, deliveredOrder, nextYear, placeCatalogueOrder, shipAll, traceCodes } from '../support/order-factories';
import { buildDrug } from '../support/quotation-factories';

/** PDF table cells wrap long text, so compare without whitespace. */
const squash = (s: string) => s.replace(/\s+/g, '');

const pdf = (user: TestUser, path: string) =>
  user
    .api()
    .get(path)
    .buffer(true)
    .parse(binaryBody);

describe('orders: documents', () => {
  it('the delivery note (随货同行单) carries supplier, manufacturer, generic name, form, spec, batch, quantity, receiving unit, address and ship date', async () => {
    const p = await buildOrderParties({ drug: { genericNameZh: '注射用尿激酶', dosageForm: '注射剂', specification: '10万单位', manufacturer: '天津生化制药有限公司', packUnit: '瓶' } });
    const order = await confirm(p.distributor, (await placeCatalogueOrder(p, { quantity: 3 })).id);
    const expiry = nextYear();
    await p.distributor
      .api()
      .post(`/api/v1/orders/${order.id}/ship`, { carrier: '国药物流', trackingNo: 'GY123', lines: [{ lineNo: 1, quantity: 3, batchNo: 'P2405017', expiryDate: expiry, codes: traceCodes(p.drugs[0]!.tracePrefix, 3) }] })
      .expect(201);
    const res = await pdf(p.pharmacist, `/orders/${order.id}/delivery-note.pdf`);
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.equal('application/pdf');
    const text = await extractPdfText(res.body as Buffer);
    const stored = await Order.findById(order.id).lean();
    for (const expected of ['随货同行单', p.distributor.org.name, '天津生化制药有限公司', '注射用尿激酶', '注射剂', '10万单位', 'P2405017', '3 瓶', p.pharmacist.org.name, '测试市测试路 1 号', businessDay(stored!.shippedAt!), expiry, 'GY123']) {
      expect(squash(text), expected).to.contain(squash(expected));
    }
    // Deterministic: the same shipment gives the same bytes.
    const again = await pdf(p.pharmacist, `/orders/${order.id}/delivery-note.pdf`);
    expect(Buffer.compare(res.body as Buffer, again.body as Buffer)).to.equal(0);
    // The distributor gets it too; another hospital does not; before shipment there is none.
    expect((await pdf(p.distributor, `/orders/${order.id}/delivery-note.pdf`)).status).to.equal(200);
    expect((await pdf(await buildPharmacist(), `/orders/${order.id}/delivery-note.pdf`)).status).to.equal(404);
    const unshipped = await placeCatalogueOrder(p);
    expect((await pdf(p.pharmacist, `/orders/${unshipped.id}/delivery-note.pdf`)).status).to.equal(404);
  });

  it('the purchase order lists the lines with locked prices and the total in CNY', async () => {
    const p = await buildOrderParties({ drug: { genericNameZh: '阿莫西林胶囊', referencePriceFen: 123_456 } });
    const order = await placeCatalogueOrder(p, { quantity: 2 });
    const res = await pdf(p.pharmacist, `/orders/${order.id}/purchase-order.pdf`);
    expect(res.status).to.equal(200);
    const text = await extractPdfText(res.body as Buffer);
    for (const expected of ['药品采购订单', order.orderNo, '阿莫西林胶囊', '¥1,234.56', '¥2,469.12', p.pharmacist.org.name, p.distributor.org.name]) expect(squash(text), expected).to.contain(squash(expected));
  });
});

describe('orders: KPIs, hospital statistics, recall trace', () => {
  it('computes a distributor’s response, on-time and completion rates with bands over a period', async () => {
    const p = await buildOrderParties();
    // 1: answered, delivered and accepted in time.
    const { order: a, shipment } = await deliveredOrder(p, { quantity: 1 });
    await p.pharmacist.api().post(`/api/v1/orders/${a.id}/acceptance`, { lines: acceptAllLines(shipment) }).expect(201);
    // 2: rejected (a response, not a completion). 3: still within its confirmation time (not counted).
    const b = await placeCatalogueOrder(p);
    await p.distributor.api().post(`/api/v1/orders/${b.id}/reject`, { reason: '缺货' }).expect(200);
    await placeCatalogueOrder(p);
    // 4: never answered, its deadline long past (placed two days ago).
    const d = await placeCatalogueOrder(p);
    const twoDaysAgo = new Date(testClock.now().getTime() - 2 * 86_400_000);
    await Order.updateOne({ _id: new Types.ObjectId(d.id) }, { $set: { placedAt: twoDaysAgo, confirmBy: new Date(twoDaysAgo.getTime() + 86_400_000) } });

    const res = await p.distributor.api().get('/api/v1/orders/kpis/distributors');
    expect(res.status).to.equal(200);
    const [row] = res.body.data;
    expect(row).to.include({ distributorOrgId: p.distributor.org.id, orders: 4, responseRateBp: 6667, onTimeDeliveryRateBp: 10_000, completionRateBp: 3333 });
    expect(row).to.include({ responseBand: '<80', onTimeDeliveryBand: '95-100', completionBand: '<80' });
    expect(row.counts).to.include({ responseDue: 3, respondedOnTime: 2, completionDue: 3, completed: 1 });

    // The period is chosen: a day long ago has nothing.
    const empty = await p.distributor.api().get('/api/v1/orders/kpis/distributors?from=2020-01-01&to=2020-01-31');
    expect(empty.body.data).to.deep.equal([]);
    expect((await p.distributor.api().get('/api/v1/orders/kpis/distributors?from=2020-02-01&to=2020-01-01')).status).to.equal(400);
    // A distributor sees only itself; a hospital may look any distributor up.
    const other = await buildTradingDistributor();
    expect((await other.api().get('/api/v1/orders/kpis/distributors')).body.data).to.deep.equal([]);
    const look = await p.pharmacist.api().get(`/api/v1/orders/kpis/distributors?distributorOrgId=${p.distributor.org.id}`);
    expect(look.body.data[0].orders).to.equal(4);
  });

  it('counts a hospital’s open orders and late deliveries', async () => {
    const p = await buildOrderParties();
    await placeCatalogueOrder(p);
    const late = await confirm(p.distributor, (await placeCatalogueOrder(p)).id);
    await Order.updateOne({ _id: new Types.ObjectId(late.id) }, { $set: { deliverBy: new Date(testClock.now().getTime() - 60_000) } });
    const res = await p.pharmacist.api().get('/api/v1/orders/kpis/hospitals');
    expect(res.status).to.equal(200);
    expect(res.body.data).to.deep.equal([{ hospitalOrgId: p.pharmacist.org.id, hospitalName: p.pharmacist.org.name, openOrders: 2, ordersInPeriod: 2, lateDeliveries: 1 }]);
    expect((await p.distributor.api().get('/api/v1/orders/kpis/hospitals')).status).to.equal(403);
  });

  it('traces a drug batch to every hospital and order that received it, scoped by who asks', async () => {
    const drug = await buildDrug({ referencePriceFen: 1000 });
    const distributor = await buildTradingDistributor();
    const hospitals = [await buildPharmacist(), await buildPharmacist()];
    const batch = `RC${Date.now()}`;
    const orders: string[] = [];
    for (const [i, pharmacist] of hospitals.entries()) {
      const p = { pharmacist, distributor, drugs: [drug] };
      const order = await confirm(distributor, (await placeCatalogueOrder(p, { quantity: 2 + i })).id);
      await shipAll(distributor, order, [drug], {
        lines: [{ lineNo: 1, quantity: 2 + i, batchNo: batch, expiryDate: nextYear(), codes: traceCodes(drug.tracePrefix, 2 + i) }],
      });
      orders.push(order.id);
    }
    // Another batch of the same drug is not part of the recall.
    const p3 = { pharmacist: hospitals[0]!, distributor, drugs: [drug] };
    await shipAll(distributor, await confirm(distributor, (await placeCatalogueOrder(p3)).id), [drug]);

    const operator = await buildUser('operator');
    const res = await operator.api().get(`/api/v1/orders/recall?drugId=${drug.id}&batchNo=${batch}`);
    expect(res.status).to.equal(200);
    expect(res.body.hospitals).to.equal(2);
    expect(res.body.data.map((r: { orderId: string; shippedQty: number; hospitalOrgId: string }) => [r.orderId, r.shippedQty, r.hospitalOrgId])).to.deep.equal([
      [orders[0], 2, hospitals[0]!.org.id],
      [orders[1], 3, hospitals[1]!.org.id],
    ]);
    const mine = await hospitals[1]!.api().get(`/api/v1/orders/recall?drugId=${drug.id}&batchNo=${batch}`);
    expect(mine.body.data.map((r: { orderId: string }) => r.orderId)).to.deep.equal([orders[1]]);
    expect((await operator.api().get(`/api/v1/orders/recall?drugId=${drug.id}`)).status).to.equal(400);
  });
});
