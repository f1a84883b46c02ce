import { expect } from 'chai';
import { Types } from 'mongoose';
import { OutboxEvent } from '../../server/platform/events';
import { Order } from '../../server/modules/orders';
import { buildTradingDistributor, recordManualBreach } from '../support/credit-factories';
import { buildUser } from '../support/factories';
import { buildListing, buildOrderParties, buildPharmacist, confirm, deliveredOrder, placeCatalogueOrder, shipAll } from '../support/order-factories';

const stored = (id: string) => Order.findById(id).lean();

describe('orders: moves and refusals', () => {
  it('only the distributor confirms; a wrong role gets 403 and nothing changes', async () => {
    const p = await buildOrderParties();
    const order = await placeCatalogueOrder(p);
    const res = await p.pharmacist.api().post(`/api/v1/orders/${order.id}/confirm`, {});
    expect(res.status).to.equal(403);
    expect((await stored(order.id))!.status).to.equal('placed');
  });

  it('an illegal move gets 409 with the moves allowed now, and stores nothing', async () => {
    const p = await buildOrderParties();
    const order = await placeCatalogueOrder(p);
    const ship = await p.distributor.api().post(`/api/v1/orders/${order.id}/tracking`, { kind: 'delivered' });
    expect(ship.status).to.equal(409);
    const accept = await p.pharmacist.api().post(`/api/v1/orders/${order.id}/acceptance`, { lines: [{ lineNo: 1, acceptedQty: 3, batchNo: 'B', expiryDate: '2099-01-01', codes: [] }] });
    expect(accept.status).to.equal(409);
    expect(accept.body.error.code).to.equal('ILLEGAL_TRANSITION');
    expect(accept.body.error.details[0]).to.deep.include({ status: 'placed', allowedMoves: ['cancelled'] });
    await confirm(p.distributor, order.id);
    const again = await p.distributor.api().post(`/api/v1/orders/${order.id}/confirm`, {});
    expect(again.status).to.equal(409);
    expect(again.body.error.details[0]).to.deep.include({ status: 'confirmed', allowedMoves: ['shipped'] });
    const s = await stored(order.id);
    expect(s!.status).to.equal('confirmed');
    expect(s!.events.map((e) => e.to)).to.deep.equal(['placed', 'confirmed']);
  });

  it('rejects with a reason (required), recorded on the order', async () => {
    const p = await buildOrderParties();
    const order = await placeCatalogueOrder(p);
    const noReason = await p.distributor.api().post(`/api/v1/orders/${order.id}/reject`, { reason: '  ' });
    expect(noReason.status).to.equal(400);
    const res = await p.distributor.api().post(`/api/v1/orders/${order.id}/reject`, { reason: '库存不足' });
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ status: 'rejected', reason: '库存不足' });
    expect(res.body.events.at(-1)).to.include({ to: 'rejected', reason: '库存不足', actorRole: 'distributor' });
  });

  it('a rejection of an order from the current listing records refused_listed_hospital once; a catalogue rejection does not', async () => {
    const { drug, distributors } = await buildListing([150_000]);
    const pharmacist = await buildPharmacist();
    const placed = await pharmacist.api().post('/api/v1/orders', { lines: [{ drugId: drug.id, distributorOrgId: distributors[0]!.org.id, quantity: 1 }] });
    const id = placed.body.data[0].id;
    expect((await distributors[0]!.api().post(`/api/v1/orders/${id}/reject`, { reason: '不配送' })).status).to.equal(200);
    const events = await OutboxEvent.find({ key: `order-refused-listed:${id}` }).lean();
    expect(events).to.have.length(1);
    expect(events[0]!.payload).to.include({ orderId: id, distributorOrgId: distributors[0]!.org.id, hospitalOrgId: pharmacist.org.id, reason: '不配送' });

    const p = await buildOrderParties();
    const cat = await placeCatalogueOrder(p);
    await p.distributor.api().post(`/api/v1/orders/${cat.id}/reject`, { reason: '不配送' }).expect(200);
    expect(await OutboxEvent.countDocuments({ key: `order-refused-listed:${cat.id}` })).to.equal(0);
  });

  it('the pharmacist or the operator cancels before shipment with a reason, never after', async () => {
    const p = await buildOrderParties();
    const a = await placeCatalogueOrder(p);
    const cancelled = await p.pharmacist.api().post(`/api/v1/orders/${a.id}/cancel`, { reason: '录入错误' });
    expect(cancelled.status).to.equal(200);
    expect(cancelled.body).to.include({ status: 'cancelled', reason: '录入错误' });

    const operator = await buildUser('operator');
    const b = await placeCatalogueOrder(p);
    await confirm(p.distributor, b.id);
    expect((await operator.api().post(`/api/v1/orders/${b.id}/cancel`, { reason: '医院停诊' })).body.status).to.equal('cancelled');

    const c = await placeCatalogueOrder(p);
    await shipAll(p.distributor, await confirm(p.distributor, c.id), p.drugs);
    const late = await p.pharmacist.api().post(`/api/v1/orders/${c.id}/cancel`, { reason: '不要了' });
    expect(late.status).to.equal(409);
    expect(late.body.error.details[0]).to.deep.include({ status: 'shipped', allowedMoves: [] });
    expect((await stored(c.id))!.status).to.equal('shipped');
    expect((await p.distributor.api().post(`/api/v1/orders/${c.id}/cancel`, { reason: 'x' })).status).to.equal(403);
  });

  it('confirms partially with backorders per line: the backordered rest becomes a new order at the locked price', async () => {
    const p = await buildOrderParties({ drugs: 2 });
    const order = await placeCatalogueOrder(p, { quantity: 10 });
    const res = await p.distributor.api().post(`/api/v1/orders/${order.id}/confirm`, {
      lines: [
        { lineNo: 1, confirmedQty: 6, backorderQty: 4, reason: '库存不足，余量补发' },
        { lineNo: 2, confirmedQty: 8, reason: '停产规格' },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.status).to.equal('partially_confirmed');
    expect(res.body.lines.map((l: { confirmedQty: number; backorderedQty: number }) => [l.confirmedQty, l.backorderedQty])).to.deep.equal([[6, 4], [8, 0]]);
    const backorder = await Order.findOne({ backorderOf: new Types.ObjectId(order.id) }).lean();
    expect(backorder).to.exist;
    expect(backorder!.status).to.equal('placed');
    expect(backorder!.lines.map((l) => [String(l.drugId), l.quantity, l.unitPriceFen])).to.deep.equal([[p.drugs[0]!.id, 4, 12_345]]);
  });

  describe('confirmation refusals store nothing', () => {
    const cases: [string, unknown, number, string][] = [
      ['more than ordered', { lines: [{ lineNo: 1, confirmedQty: 4 }] }, 422, 'QUANTITY_EXCEEDS_ORDERED'],
      ['confirmed plus backorder above ordered', { lines: [{ lineNo: 1, confirmedQty: 2, backorderQty: 2, reason: 'x' }] }, 422, 'QUANTITY_EXCEEDS_ORDERED'],
      ['a shortfall without a reason', { lines: [{ lineNo: 1, confirmedQty: 2 }] }, 422, 'REASON_REQUIRED'],
      ['nothing confirmed', { lines: [{ lineNo: 1, confirmedQty: 0, reason: 'none' }] }, 422, 'NOTHING_CONFIRMED'],
      ['an unknown line', { lines: [{ lineNo: 9, confirmedQty: 1 }] }, 422, 'UNKNOWN_LINE'],
      ['a negative quantity', { lines: [{ lineNo: 1, confirmedQty: -1 }] }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [name, body, status, code] of cases) {
      it(`refuses ${name}`, async () => {
        const p = await buildOrderParties();
        const order = await placeCatalogueOrder(p, { quantity: 3 });
        const res = await p.distributor.api().post(`/api/v1/orders/${order.id}/confirm`, body);
        expect(res.status, JSON.stringify(res.body)).to.equal(status);
        expect(res.body.error.code).to.equal(code);
        const s = await stored(order.id);
        expect(s!.status).to.equal('placed');
        expect(s!.lines[0]!.confirmedQty).to.equal(0);
        expect(await Order.countDocuments({ backorderOf: new Types.ObjectId(order.id) })).to.equal(0);
      });
    }
  });

  it('a suspended distributor cannot confirm', async () => {
    const p = await buildOrderParties();
    const order = await placeCatalogueOrder(p);
    await recordManualBreach(p.distributor.org.id, { points: 45 });
    const res = await p.distributor.api().post(`/api/v1/orders/${order.id}/confirm`, {});
    expect(res.status).to.equal(422);
    expect(res.body.error.code).to.equal('DISTRIBUTOR_SUSPENDED');
    expect((await stored(order.id))!.status).to.equal('placed');
  });

  it("another hospital's or distributor's order is not found, in every route", async () => {
    const p = await buildOrderParties();
    const order = await placeCatalogueOrder(p);
    const otherPharmacist = await buildPharmacist();
    const otherDistributor = await buildTradingDistributor();
    const bank = await buildUser('bank_officer');
    expect((await otherPharmacist.api().get(`/api/v1/orders/${order.id}`)).status).to.equal(404);
    expect((await otherPharmacist.api().post(`/api/v1/orders/${order.id}/cancel`, { reason: 'x' })).status).to.equal(404);
    expect((await otherDistributor.api().get(`/api/v1/orders/${order.id}`)).status).to.equal(404);
    expect((await otherDistributor.api().post(`/api/v1/orders/${order.id}/confirm`, {})).status).to.equal(404);
    expect((await otherPharmacist.api().get('/api/v1/orders')).body.data).to.deep.equal([]);
    expect((await bank.api().get(`/api/v1/orders/${order.id}`)).status).to.equal(403);
    expect((await stored(order.id))!.status).to.equal('placed');
  });

  it('lists my orders newest first, filtered by status or open/closed', async () => {
    const p = await buildOrderParties();
    const a = await placeCatalogueOrder(p);
    const b = await placeCatalogueOrder(p);
    await p.pharmacist.api().post(`/api/v1/orders/${a.id}/cancel`, { reason: '重复' }).expect(200);
    const all = await p.pharmacist.api().get('/api/v1/orders');
    expect(all.body.data.map((o: { id: string }) => o.id)).to.deep.equal([b.id, a.id]);
    const open = await p.pharmacist.api().get('/api/v1/orders?open=true');
    expect(open.body.data.map((o: { id: string }) => o.id)).to.deep.equal([b.id]);
    const incoming = await p.distributor.api().get('/api/v1/orders?status=placed');
    expect(incoming.body.data.map((o: { id: string }) => o.id)).to.deep.equal([b.id]);
    expect((await p.pharmacist.api().get('/api/v1/orders?status=nope')).status).to.equal(400);
  });

  it('tracking: departed and location move a shipped order in transit; delivered needs a shipment; nothing after delivery', async () => {
    const p = await buildOrderParties();
    const { order } = await deliveredOrder(p);
    const late = await p.distributor.api().post(`/api/v1/orders/${order.id}/tracking`, { kind: 'location', location: 'x' });
    expect(late.status).to.equal(409);
    expect(late.body.error.code).to.equal('TRACKING_NOT_ALLOWED');
    const q = await placeCatalogueOrder(p);
    await confirm(p.distributor, q.id);
    expect((await p.distributor.api().post(`/api/v1/orders/${q.id}/tracking`, { kind: 'departed' })).status).to.equal(409);
    const wrongRole = await p.pharmacist.api().post(`/api/v1/orders/${order.id}/tracking`, { kind: 'picked' });
    expect(wrongRole.status).to.equal(403);
  });
});
