import { expect } from 'chai';
import { Types } from 'mongoose';
import { Acceptance, Order, TraceCode } from '../../server/modules/orders';
import { OutboxEvent } from '../../server/platform/events';
import { buildPharmacist } from '../support/order-factories';
import { acceptAllLines, buildOrderParties, deliveredOrder, eventually, traceCodes } from '../support/order-factories';

async function invoicesOf(distributor: { api: () => { get: (p: string) => Promise<{ body: { data: { orderId: string; amountFen: number }[] } }> } }, orderId: string) {
  const res = await distributor.api().get('/api/v1/finance/invoices');
  return res.body.data.filter((i) => i.orderId === orderId);
}

describe('orders: acceptance (验收)', () => {
  it('accepts everything: codes become received, one invoice of accepted × locked price', async () => {
    const p = await buildOrderParties({ drugs: 2 });
    const { order, shipment } = await deliveredOrder(p, { quantity: 2 });
    const res = await p.pharmacist.api().post(`/api/v1/orders/${order.id}/acceptance`, { lines: acceptAllLines(shipment) });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.acceptance).to.include({ outcome: 'accepted', amountFen: 4 * 12_345 });
    const codes = await TraceCode.find({ orderId: new Types.ObjectId(order.id) }).lean();
    expect(codes).to.have.length(4);
    expect(codes.every((c) => c.status === 'received' && c.receivedAt)).to.equal(true);
    expect(await invoicesOf(p.distributor, order.id)).to.have.length(1);
  });

  it('accepts part of a line and refuses the rest for a quality reason: partially accepted, invoice of the accepted part, one quality event', async () => {
    const p = await buildOrderParties();
    const { order, shipment } = await deliveredOrder(p, { quantity: 5 });
    const line = shipment.lines[0]!;
    const res = await p.pharmacist.api().post(`/api/v1/orders/${order.id}/acceptance`, {
      lines: [{ lineNo: 1, acceptedQty: 3, refusedQty: 2, refusalReason: 'quality', note: '外包装破损渗漏', batchNo: line.batchNo, expiryDate: line.expiryDate, codes: line.codes.slice(0, 3) }],
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.order.status).to.equal('partially_accepted');
    expect(res.body.order.lines[0]).to.include({ acceptedQty: 3, refusedQty: 2 });
    expect(res.body.acceptance.amountFen).to.equal(3 * 12_345);
    const [invoice] = await invoicesOf(p.distributor, order.id);
    expect(invoice!.amountFen).to.equal(3 * 12_345);
    const codes = await TraceCode.find({ orderId: new Types.ObjectId(order.id) }).sort({ code: 1 }).lean();
    expect(codes.filter((c) => c.status === 'received').map((c) => c.code)).to.deep.equal(line.codes.slice(0, 3));
    expect(codes.filter((c) => c.status === 'refused').map((c) => c.code)).to.deep.equal(line.codes.slice(3));
    const events = await OutboxEvent.find({ type: 'orders.quality_refusal', 'payload.orderId': order.id }).lean();
    expect(events).to.have.length(1);
    expect(events[0]!.key).to.match(new RegExp(`^order-quality-refusal:[a-f0-9]{24}:1$`));
    expect(events[0]!.payload).to.include({ orderId: order.id, orderNo: order.orderNo, distributorOrgId: p.distributor.org.id, hospitalOrgId: p.pharmacist.org.id, refusedQuantity: 2 });
  });

  it('refuses everything: refused, no invoice', async () => {
    const p = await buildOrderParties();
    const { order, shipment } = await deliveredOrder(p, { quantity: 2 });
    const l = shipment.lines[0]!;
    const res = await p.pharmacist.api().post(`/api/v1/orders/${order.id}/acceptance`, {
      lines: [{ lineNo: 1, acceptedQty: 0, refusedQty: 2, refusalReason: 'wrong_item', batchNo: l.batchNo, expiryDate: l.expiryDate, codes: [] }],
    });
    expect(res.status).to.equal(201);
    expect(res.body.order.status).to.equal('refused');
    expect(res.body.acceptance.invoiceId).to.equal(undefined);
    expect(await invoicesOf(p.distributor, order.id)).to.have.length(0);
    expect(await OutboxEvent.countDocuments({ type: 'orders.quality_refusal', 'payload.orderId': order.id })).to.equal(0);
  });

  it('creates exactly one acceptance and one invoice when the same acceptance is submitted twice at once', async () => {
    const p = await buildOrderParties();
    const { order, shipment } = await deliveredOrder(p, { quantity: 2 });
    const body = { lines: acceptAllLines(shipment) };
    const replies = await Promise.all([
      p.pharmacist.api().post(`/api/v1/orders/${order.id}/acceptance`, body),
      p.pharmacist.api().post(`/api/v1/orders/${order.id}/acceptance`, body),
    ]);
    expect(replies.map((r) => r.status).sort(), JSON.stringify(replies.map((r) => r.body))).to.deep.equal([201, 409]);
    expect(await Acceptance.countDocuments({ orderId: new Types.ObjectId(order.id) })).to.equal(1);
    expect(await invoicesOf(p.distributor, order.id)).to.have.length(1);
    const stored = await Order.findById(order.id).lean();
    expect(stored!.events.filter((e) => e.to === 'accepted')).to.have.length(1);
  });

  it('is final: a later acceptance is refused', async () => {
    const p = await buildOrderParties();
    const { order, shipment } = await deliveredOrder(p, { quantity: 1 });
    await p.pharmacist.api().post(`/api/v1/orders/${order.id}/acceptance`, { lines: acceptAllLines(shipment) }).expect(201);
    const again = await p.pharmacist.api().post(`/api/v1/orders/${order.id}/acceptance`, { lines: acceptAllLines(shipment) });
    expect(again.status).to.equal(409);
    expect(again.body.error.message).to.match(/不能再更改/);
  });

  describe('refusals store nothing', () => {
    type Ship = Awaited<ReturnType<typeof deliveredOrder>>['shipment'];
    const cases: [string, (s: Ship, prefix: string) => unknown[], number, string][] = [
      ['accepted + refused ≠ shipped', (s) => [{ ...acceptAllLines(s)[0], acceptedQty: 1, codes: s.lines[0]!.codes.slice(0, 1) }], 422, 'QUANTITY_MISMATCH'],
      ['a refusal without a reason', (s) => [{ ...acceptAllLines(s)[0], acceptedQty: 1, refusedQty: 1, codes: s.lines[0]!.codes.slice(0, 1) }], 422, 'REFUSAL_REASON_REQUIRED'],
      ['a scanned code not on the shipment', (s, px) => [{ ...acceptAllLines(s)[0], codes: [s.lines[0]!.codes[0], traceCodes(px, 1)[0]] }], 422, 'TRACE_CODE_NOT_IN_SHIPMENT'],
      ['a code scanned twice', (s) => [{ ...acceptAllLines(s)[0], codes: [s.lines[0]!.codes[0], s.lines[0]!.codes[0]] }], 422, 'TRACE_CODE_DUPLICATED'],
      ['fewer codes than accepted packs', (s) => [{ ...acceptAllLines(s)[0], codes: s.lines[0]!.codes.slice(0, 1) }], 422, 'TRACE_CODE_COUNT_MISMATCH'],
      ['another batch than shipped', (s) => [{ ...acceptAllLines(s)[0], batchNo: 'OTHER' }], 422, 'BATCH_MISMATCH'],
      ['another expiry than shipped', (s) => [{ ...acceptAllLines(s)[0], expiryDate: '2098-12-31' }], 422, 'EXPIRY_MISMATCH'],
      ['a missing line', () => [], 400, 'VALIDATION_FAILED'],
      ['an unknown refusal reason', (s) => [{ ...acceptAllLines(s)[0], acceptedQty: 1, refusedQty: 1, refusalReason: 'meh', codes: s.lines[0]!.codes.slice(0, 1) }], 400, 'VALIDATION_FAILED'],
    ];
    for (const [name, lines, status, code] of cases) {
      it(`refuses ${name} (${code})`, async () => {
        const p = await buildOrderParties();
        const { order, shipment } = await deliveredOrder(p, { quantity: 2 });
        const res = await p.pharmacist.api().post(`/api/v1/orders/${order.id}/acceptance`, { lines: lines(shipment, p.drugs[0]!.tracePrefix) });
        expect(res.status, JSON.stringify(res.body)).to.equal(status);
        expect(res.body.error.code).to.equal(code);
        expect(await Acceptance.countDocuments({ orderId: new Types.ObjectId(order.id) })).to.equal(0);
        expect((await Order.findById(order.id).lean())!.status).to.equal('delivered');
        expect(await TraceCode.countDocuments({ orderId: new Types.ObjectId(order.id), status: 'shipped' })).to.equal(2);
        expect(await invoicesOf(p.distributor, order.id)).to.have.length(0);
      });
    }

    it('only the ordering hospital accepts', async () => {
      const p = await buildOrderParties();
      const { order, shipment } = await deliveredOrder(p, { quantity: 1 });
      const other = await buildPharmacist();
      expect((await other.api().post(`/api/v1/orders/${order.id}/acceptance`, { lines: acceptAllLines(shipment) })).status).to.equal(404);
      expect((await p.distributor.api().post(`/api/v1/orders/${order.id}/acceptance`, { lines: acceptAllLines(shipment) })).status).to.equal(403);
      expect(await Acceptance.countDocuments({ orderId: new Types.ObjectId(order.id) })).to.equal(0);
    });
  });

  it('records the accepted purchase for other modules (orders.accepted) once', async () => {
    const p = await buildOrderParties();
    const { order, shipment } = await deliveredOrder(p, { quantity: 1 });
    await p.pharmacist.api().post(`/api/v1/orders/${order.id}/acceptance`, { lines: acceptAllLines(shipment) }).expect(201);
    const e = await eventually(() => OutboxEvent.findOne({ key: `order-accepted:${order.id}` }).lean());
    expect(e.payload).to.include({ orderId: order.id, outcome: 'accepted', amountFen: 12_345 });
  });
});
