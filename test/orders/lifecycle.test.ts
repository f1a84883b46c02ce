import { expect } from 'chai';
import { acceptAllLines, buildOrderParties, confirm, deliveredOrder, placeCatalogueOrder, shipAll, track } from '../support/order-factories';
import { buildUser } from '../support/factories';

describe('orders: the life of an order', () => {
  it('goes placed → confirmed → shipped → in transit → delivered → accepted, storing every move with time, actor and reason', async () => {
    const p = await buildOrderParties({ drugs: 2 });
    const placed = await placeCatalogueOrder(p, { quantity: 4 });
    expect(placed.status).to.equal('placed');
    expect(placed.orderNo).to.match(/^PO\d{8}-\d{6}$/);
    expect(placed.totalFen).to.equal(2 * 4 * 12_345);
    expect(placed.lines.map((l) => l.unitPriceFen)).to.deep.equal([12_345, 12_345]);

    const confirmed = await confirm(p.distributor, placed.id);
    expect(confirmed.status).to.equal('confirmed');
    const { order: shipped, shipment } = await shipAll(p.distributor, confirmed, p.drugs);
    expect(shipped.status).to.equal('shipped');
    expect((await track(p.distributor, placed.id, 'picked')).order.status).to.equal('shipped');
    expect((await track(p.distributor, placed.id, 'departed', { location: '广州仓' })).order.status).to.equal('in_transit');
    expect((await track(p.distributor, placed.id, 'location', { location: '清远市' })).order.status).to.equal('in_transit');
    expect((await track(p.distributor, placed.id, 'delivered')).order.status).to.equal('delivered');

    const accepted = await p.pharmacist.api().post(`/api/v1/orders/${placed.id}/acceptance`, { lines: acceptAllLines(shipment) });
    expect(accepted.status, JSON.stringify(accepted.body)).to.equal(201);
    expect(accepted.body.order.status).to.equal('accepted');
    expect(accepted.body.acceptance.amountFen).to.equal(placed.totalFen);

    const stored = (await p.pharmacist.api().get(`/api/v1/orders/${placed.id}`)).body;
    expect(stored.events.map((e: { to: string }) => e.to)).to.deep.equal(['placed', 'confirmed', 'shipped', 'in_transit', 'delivered', 'accepted']);
    expect(stored.events.map((e: { actorRole: string }) => e.actorRole)).to.deep.equal(['pharmacist', 'distributor', 'distributor', 'distributor', 'distributor', 'pharmacist']);
    for (const e of stored.events) expect(Date.parse(e.at)).to.be.a('number').and.not.NaN;
  });

  it('creates the invoice for the finance module: accepted quantity × locked unit price, due after the payment term', async () => {
    const p = await buildOrderParties();
    const { order, shipment } = await deliveredOrder(p, { quantity: 5 });
    const res = await p.pharmacist.api().post(`/api/v1/orders/${order.id}/acceptance`, { lines: acceptAllLines(shipment) });
    expect(res.status).to.equal(201);
    const invoices = await p.distributor.api().get('/api/v1/finance/invoices');
    const invoice = invoices.body.data.find((i: { orderId: string }) => i.orderId === order.id);
    expect(invoice, JSON.stringify(invoices.body)).to.exist;
    expect(invoice.amountFen).to.equal(5 * 12_345);
    const dueDays = (Date.parse(invoice.dueAt) - Date.parse(res.body.order.acceptedAt)) / 86_400_000;
    expect(dueDays).to.be.within(29, 31);
  });

  it("shows the distributor whether the hospital's payment is secured before it confirms, and nobody else", async () => {
    const p = await buildOrderParties();
    const order = await placeCatalogueOrder(p);
    const res = await p.distributor.api().get(`/api/v1/orders/${order.id}/payment-security`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ hospitalOrgId: p.pharmacist.org.id });
    expect(res.body.secured).to.be.a('boolean');
    expect(res.body.level).to.be.oneOf(['secured', 'partially_secured', 'unsecured']);
    // A distributor learns a coarse level for its own order, never an amount or the hospital's bank.
    expect(Object.keys(res.body).sort()).to.deep.equal(['hospitalName', 'hospitalOrgId', 'level', 'secured']);
    const stranger = await buildUser('distributor');
    const foreign = await stranger.api().get(`/api/v1/orders/${order.id}/payment-security`);
    const missing = await stranger.api().get('/api/v1/orders/000000000000000000000000/payment-security');
    expect(foreign.status).to.equal(404);
    expect(foreign.body.error.code).to.equal(missing.body.error.code);
    expect((await p.pharmacist.api().get(`/api/v1/orders/${order.id}/payment-security`)).status).to.equal(403);
    const page = await p.distributor.api().get(`/orders/${order.id}`);
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('data-payment-security');
  });
});
