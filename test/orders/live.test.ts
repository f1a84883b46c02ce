import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { connectSocket, emitAck, nextEvent } from '../support/factories';
import { buildOrderParties, buildPharmacist, confirm, placeCatalogueOrder, shipAll, track } from '../support/order-factories';

describe('orders: live updates', () => {
  const sockets: Socket[] = [];
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  const connect = async (token: string) => {
    const s = await connectSocket(token);
    sockets.push(s);
    return s;
  };

  it('the hospital sees its order and tracking updates live; another hospital sees nothing', async () => {
    const p = await buildOrderParties();
    const other = await buildPharmacist();
    const mine = await connect(p.pharmacist.token);
    const theirs = await connect(other.token);
    const seenByOther: unknown[] = [];
    theirs.on('order:updated', (e) => seenByOther.push(e));
    theirs.on('order:tracking', (e) => seenByOther.push(e));

    const placedEvent = nextEvent<{ orderId: string; status: string; change: string }>(mine, 'order:updated');
    const order = await placeCatalogueOrder(p);
    expect(await placedEvent).to.include({ orderId: order.id, status: 'placed', change: 'placed' });

    const confirmedEvent = nextEvent<{ status: string }>(mine, 'order:updated');
    await confirm(p.distributor, order.id);
    expect((await confirmedEvent).status).to.equal('confirmed');
    await shipAll(p.distributor, await (await p.pharmacist.api().get(`/api/v1/orders/${order.id}`)).body, p.drugs);

    const tracking = nextEvent<{ orderId: string; kind: string; location: string; status: string }>(mine, 'order:tracking');
    await track(p.distributor, order.id, 'departed', { location: '广州白云仓' });
    expect(await tracking).to.include({ orderId: order.id, kind: 'departed', location: '广州白云仓', status: 'in_transit' });

    const delivered = nextEvent<{ kind: string; status: string }>(mine, 'order:tracking');
    await track(p.distributor, order.id, 'delivered');
    expect(await delivered).to.include({ kind: 'delivered', status: 'delivered' });

    await new Promise((r) => setTimeout(r, 200));
    expect(seenByOther).to.deep.equal([]);
  });

  it('order:watch joins the order room after an access check and answers with the current state', async () => {
    const p = await buildOrderParties();
    const order = await placeCatalogueOrder(p);
    const distributorSocket = await connect(p.distributor.token);
    const ack = await emitAck<{ order: { id: string; status: string }; shipment: null }>(distributorSocket, 'order:watch', { orderId: order.id });
    expect(ack.data!.order).to.include({ id: order.id, status: 'placed' });
    expect(ack.data!.shipment).to.equal(null);

    const other = await buildPharmacist();
    const intruder = await connect(other.token);
    const refused = await emitAck(intruder, 'order:watch', { orderId: order.id });
    expect(refused.error!.code).to.equal('ORDER_NOT_FOUND');
    const seen: unknown[] = [];
    intruder.on('order:updated', (e) => seen.push(e));

    const bad = await emitAck(intruder, 'order:watch', { orderId: { $gt: '' } });
    expect(bad.error!.code).to.equal('VALIDATION_FAILED');

    const update = nextEvent<{ status: string }>(distributorSocket, 'order:updated');
    await p.pharmacist.api().post(`/api/v1/orders/${order.id}/cancel`, { reason: '不需要了' }).expect(200);
    expect((await update).status).to.equal('cancelled');
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).to.deep.equal([]);
  });
});
