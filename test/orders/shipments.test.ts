import { expect } from 'chai';
import { testClock } from '../support/global';
import { Types } from 'mongoose';
import { Order, Shipment, TraceCode } from '../../server/modules/orders';
import { trusted } from '../../server/platform/mongo';
import { buildOrderParties, confirm, nextYear, placeCatalogueOrder, shipAll, traceCodes, type OrderParties } from '../support/order-factories';

async function confirmedOrder(p: OrderParties, quantity = 2) {
  return confirm(p.distributor, (await placeCatalogueOrder(p, { quantity })).id);
}

const nothingStored = async (orderId: string) => {
  expect(await Shipment.countDocuments({ orderId: new Types.ObjectId(orderId) })).to.equal(0);
  expect(await TraceCode.countDocuments({ orderId: new Types.ObjectId(orderId) })).to.equal(0);
  expect((await Order.findById(orderId).lean())!.status).to.equal('confirmed');
};

describe('orders: shipments and traceability codes', () => {
  it('ships with carrier, tracking number, ETA and per line batch, expiry and codes; codes are stored as shipped', async () => {
    const p = await buildOrderParties();
    const order = await confirmedOrder(p, 3);
    const codes = traceCodes(p.drugs[0]!.tracePrefix, 3);
    const eta = new Date(testClock.now().getTime() + 3_600_000).toISOString();
    const res = await p.distributor.api().post(`/api/v1/orders/${order.id}/ship`, {
      carrier: '国药物流',
      trackingNo: 'GY-0001',
      eta,
      lines: [{ lineNo: 1, quantity: 3, batchNo: 'B240501', expiryDate: nextYear(), codes }],
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.order.status).to.equal('shipped');
    expect(res.body.order.lines[0].shippedQty).to.equal(3);
    expect(res.body.shipment).to.include({ carrier: '国药物流', trackingNo: 'GY-0001', eta });
    expect(res.body.shipment.lines[0]).to.deep.include({ batchNo: 'B240501', quantity: 3, codes });
    const stored = await TraceCode.find({ code: trusted({ $in: codes }) }).sort({ code: 1 }).lean();
    expect(stored.map((c) => c.status)).to.deep.equal(['shipped', 'shipped', 'shipped']);
    expect(stored.every((c) => String(c.hospitalOrgId) === p.pharmacist.org.id)).to.equal(true);
    const fetched = await p.pharmacist.api().get(`/api/v1/orders/${order.id}/shipment`);
    expect(fetched.body.trackingNo).to.equal('GY-0001');
  });

  it('refuses a code used before anywhere on the platform — even shipped to another hospital — naming it', async () => {
    const first = await buildOrderParties();
    const shipped = await shipAll(first.distributor, await confirmedOrder(first, 2), first.drugs);
    const reused = shipped.codes.get(1)![0]!;

    // Another hospital, another distributor, the same drug: the box was already sold once.
    const second = await buildOrderParties();
    second.drugs = first.drugs;
    const order = await confirmedOrder(second, 2);
    const fresh = traceCodes(first.drugs[0]!.tracePrefix, 1)[0]!;
    const res = await second.distributor.api().post(`/api/v1/orders/${order.id}/ship`, {
      carrier: 'c',
      trackingNo: 't',
      lines: [{ lineNo: 1, quantity: 2, batchNo: 'B1', expiryDate: nextYear(), codes: [fresh, reused] }],
    });
    expect(res.status).to.equal(422);
    expect(res.body.error.code).to.equal('TRACE_CODE_REUSED');
    expect(res.body.error.details[0].codes).to.deep.equal([reused]);
    expect(res.body.error.message).to.contain(reused);
    await nothingStored(order.id);
    expect(await TraceCode.countDocuments({ code: fresh })).to.equal(0);
  });

  describe('refusals store nothing', () => {
    const cases: [string, (prefix: string) => Record<string, unknown>, number, string][] = [
      ['a code that is not 20 digits', (px) => ({ codes: [`${px}123`, ...traceCodes(px, 1)] }), 422, 'INVALID_TRACE_CODE'],
      ['a code with letters', (px) => ({ codes: [`${px}12345678901A`.padEnd(20, '0'), ...traceCodes(px, 1)] }), 422, 'INVALID_TRACE_CODE'],
      ['a code of another drug (prefix mismatch)', (px) => ({ codes: [...traceCodes(px === '9999999' ? '8888888' : '9999999', 1), ...traceCodes(px, 1)] }), 422, 'TRACE_PREFIX_MISMATCH'],
      ['the same code twice', (px) => {
        const [c] = traceCodes(px, 1);
        return { codes: [c, c] };
      }, 422, 'TRACE_CODE_DUPLICATED'],
      ['fewer codes than packs', (px) => ({ codes: traceCodes(px, 1) }), 422, 'TRACE_CODE_COUNT_MISMATCH'],
      ['more than confirmed', (px) => ({ quantity: 3, codes: traceCodes(px, 3) }), 422, 'QUANTITY_EXCEEDS_CONFIRMED'],
      ['an expiry in the past', (px) => ({ expiryDate: '2020-01-01', codes: traceCodes(px, 2) }), 422, 'EXPIRY_NOT_IN_FUTURE'],
      ['an impossible expiry date', (px) => ({ expiryDate: '2031-02-30', codes: traceCodes(px, 2) }), 400, 'VALIDATION_FAILED'],
      ['an unknown line', (px) => ({ lineNo: 5, codes: traceCodes(px, 2) }), 422, 'UNKNOWN_LINE'],
      ['no batch (bare codes carry none)', (px) => ({ batchNo: '', codes: traceCodes(px, 2) }), 422, 'BATCH_REQUIRED'],
      ['no expiry (bare codes carry none)', (px) => ({ expiryDate: undefined, codes: traceCodes(px, 2) }), 422, 'EXPIRY_REQUIRED'],
    ];
    for (const [name, line, status, code] of cases) {
      it(`refuses ${name} (${code})`, async () => {
        const p = await buildOrderParties();
        const order = await confirmedOrder(p, 2);
        const res = await p.distributor.api().post(`/api/v1/orders/${order.id}/ship`, {
          carrier: 'c',
          trackingNo: 't',
          lines: [{ lineNo: 1, quantity: 2, batchNo: 'B1', expiryDate: nextYear(), ...line(p.drugs[0]!.tracePrefix) }],
        });
        expect(res.status, JSON.stringify(res.body)).to.equal(status);
        expect(res.body.error.code).to.equal(code);
        await nothingStored(order.id);
      });
    }

    it('refuses an ETA in the past', async () => {
      const p = await buildOrderParties();
      const order = await confirmedOrder(p, 1);
      const res = await p.distributor.api().post(`/api/v1/orders/${order.id}/ship`, {
        carrier: 'c',
        trackingNo: 't',
        eta: '2020-01-01T00:00:00Z',
        lines: [{ lineNo: 1, quantity: 1, batchNo: 'B1', expiryDate: nextYear(), codes: traceCodes(p.drugs[0]!.tracePrefix, 1) }],
      });
      expect(res.status).to.equal(422);
      expect(res.body.error.code).to.equal('ETA_IN_PAST');
      await nothingStored(order.id);
    });
  });

  it('ships once: a second shipment of the same order is refused', async () => {
    const p = await buildOrderParties();
    const order = await confirmedOrder(p, 1);
    await shipAll(p.distributor, order, p.drugs);
    const again = await p.distributor.api().post(`/api/v1/orders/${order.id}/ship`, {
      carrier: 'c',
      trackingNo: 't',
      lines: [{ lineNo: 1, quantity: 1, batchNo: 'B1', expiryDate: nextYear(), codes: traceCodes(p.drugs[0]!.tracePrefix, 1) }],
    });
    expect(again.status).to.equal(409);
    expect(await Shipment.countDocuments({ orderId: new Types.ObjectId(order.id) })).to.equal(1);
  });

  it('two concurrent shipments with the same code: one wins, the other is refused naming the code', async () => {
    const a = await buildOrderParties();
    const b = await buildOrderParties();
    b.drugs = a.drugs;
    const [oa, ob] = await Promise.all([confirmedOrder(a, 1), confirmedOrder(b, 1)]);
    const [code] = traceCodes(a.drugs[0]!.tracePrefix, 1);
    const body = { carrier: 'c', trackingNo: 't', lines: [{ lineNo: 1, quantity: 1, batchNo: 'B1', expiryDate: nextYear(), codes: [code] }] };
    const [ra, rb] = await Promise.all([a.distributor.api().post(`/api/v1/orders/${oa.id}/ship`, body), b.distributor.api().post(`/api/v1/orders/${ob.id}/ship`, body)]);
    expect([ra.status, rb.status].sort()).to.deep.equal([201, 422]);
    const loser = ra.status === 422 ? ra : rb;
    expect(loser.body.error.code).to.equal('TRACE_CODE_REUSED');
    expect(await TraceCode.countDocuments({ code })).to.equal(1);
  });

  it('stores tracking events on the shipment and moves the ETA', async () => {
    const p = await buildOrderParties();
    const order = await confirmedOrder(p, 1);
    await shipAll(p.distributor, order, p.drugs);
    const eta = new Date(testClock.now().getTime() + 7_200_000).toISOString();
    const res = await p.distributor.api().post(`/api/v1/orders/${order.id}/tracking`, { kind: 'location', location: '清远市清城区', note: '预计下午送达', eta });
    expect(res.status).to.equal(201);
    expect(res.body.shipment.eta).to.equal(eta);
    expect(res.body.shipment.tracking.at(-1)).to.include({ kind: 'location', location: '清远市清城区', note: '预计下午送达' });
    expect((await p.distributor.api().post(`/api/v1/orders/${order.id}/tracking`, { kind: 'teleported' })).status).to.equal(400);
  });
});
