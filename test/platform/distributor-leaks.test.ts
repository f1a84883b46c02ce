import { expect } from 'chai';
import request from 'supertest';
import { buildUser, connectSocket, emitAck, type TestUser } from '../support/factories';
import { buildGuaranteedHospital, createInvoice } from '../support/finance-factories';
import { testApp } from '../support/global';
import { buildOrderParties, placeCatalogueOrder } from '../support/order-factories';

const MONEY_FIELDS = new Set(['balanceFen', 'availableFen', 'headroomFen', 'limitFen', 'shortfallFen', 'capacityFen', 'openInvoicesFen', 'overdueInvoicesFen', 'principalFen', 'debtFen', 'usedFen']);
const ORG_FIELDS = ['orgId', 'hospitalOrgId', 'distributorOrgId', 'bankOrgId'];

/** Every object in `value` holding a balance or limit field that does not belong to `ownOrgId`. */
function foreignMoney(value: unknown, ownOrgId: string, where: string, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v, i) => foreignMoney(v, ownOrgId, `${where}[${i}]`, out));
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const fields = Object.keys(o).filter((k) => MONEY_FIELDS.has(k));
    const owners = ORG_FIELDS.map((k) => o[k]).filter((v): v is string => typeof v === 'string');
    const own = owners.length > 0 && owners.every((v) => v === ownOrgId);
    if (fields.length > 0 && !own) out.push(`${where}: ${fields.join(', ')} of ${owners.join('/') || 'an unnamed organisation'}`);
    for (const [k, v] of Object.entries(o)) foreignMoney(v, ownOrgId, `${where}.${k}`, out);
  }
  return out;
}

describe("no route or socket event a distributor can reach returns another organisation's balances or limits", function () {
  this.timeout(120_000);

  it('walks every GET route as a distributor with and without dealings with a funded hospital, and watches its socket', async () => {
    const { hospital, operator, bank } = await buildGuaranteedHospital({ balanceFen: 1_234_567, limitFen: 7_654_321 });
    const bankName = bank.org.name;
    const parties = await buildOrderParties();
    const pharmacist = await buildUser('pharmacist', { org: hospital.org });
    const order = await placeCatalogueOrder({ ...parties, pharmacist });
    await createInvoice(hospital.org.id, parties.distributor.org.id, 50_000);
    const stranger = await buildUser('distributor');
    const doc = (await request(testApp().url).get('/api/v1/openapi.json').expect(200)).body as { paths: Record<string, Record<string, unknown>> };
    const failures: string[] = [];
    let answered = 0;

    const seen: { distributor: TestUser; events: [string, unknown][] }[] = [];
    const sockets = [];
    for (const distributor of [parties.distributor, stranger]) {
      const socket = await connectSocket(distributor.token);
      const entry = { distributor, events: [] as [string, unknown][] };
      socket.onAny((event: string, ...args: unknown[]) => entry.events.push([event, args]));
      seen.push(entry);
      sockets.push(socket);
      for (const [event, payload] of [
        ['order:watch', { orderId: order.id }],
        ['notification:read', { id: hospital.org.id }],
        ['round:watch', { roundId: hospital.org.id }],
        ['round:unwatch', { roundId: hospital.org.id }],
        ['order:unwatch', { orderId: order.id }],
        ['quote:submit', { roundId: hospital.org.id, lineId: hospital.org.id, priceFen: 1 }],
        ['quote:withdraw', { roundId: hospital.org.id, lineId: hospital.org.id }],
      ] as const) {
        const ack = await emitAck(socket, event, payload);
        failures.push(...foreignMoney(ack, distributor.org.id, `${event} ack to ${distributor === stranger ? 'stranger' : 'supplier'}`));
      }
    }

    for (const distributor of [parties.distributor, stranger]) {
      const ids = [hospital.org.id, order.id, hospital.org.id];
      for (const [path, ops] of Object.entries(doc.paths)) {
        if (!('get' in ops) || path === '/api/v1/openapi.json') continue;
        for (const id of ids) {
          const url = path.replace(/\{[^}]+\}/g, id);
          for (const query of ['', `?hospitalOrgId=${hospital.org.id}&orgId=${hospital.org.id}&amountFen=100000000000`]) {
            const res = await request(testApp().url).get(url + query).set('Authorization', `Bearer ${distributor.token}`);
            if (res.status === 200) answered += 1;
            const body = res.type === 'application/json' ? res.body : undefined;
            failures.push(...foreignMoney(body, distributor.org.id, `GET ${url}${query} as ${distributor === stranger ? 'stranger' : 'supplier'}`));
            if (/1234567|7654321/.test(res.text ?? '')) failures.push(`GET ${url}${query}: the hospital's balance or limit appears in the answer`);
          }
          if (!path.includes('{')) break;
        }
      }
    }

    // The pages a distributor opens about this hospital and order show no amount of its funds either.
    for (const distributor of [parties.distributor, stranger]) {
      for (const path of [`/orders/${order.id}`, '/orders', '/finance/invoices', `/finance/security?hospitalOrgId=${hospital.org.id}&amount=1000000000.00`, `/finance/hospitals/${hospital.org.id}`, '/finance/account']) {
        const res = await request(testApp().url).get(path).set('Cookie', `gpo_session=${distributor.token}; lang=zh`);
        if (/12,345\.67|76,543\.21|1234567|7654321/.test(res.text ?? '')) failures.push(`page ${path}: the hospital's balance or limit appears`);
        if (bankName && (res.text ?? '').includes(bankName)) failures.push(`page ${path}: the hospital's bank appears`);
      }
    }

    // Money moves while the distributors listen: nothing about it reaches them.
    const paid = await operator.api().post(`/api/v1/finance/accounts/${hospital.org.id}/prepayments`, { amountFen: 1_000, reference: `YB-leak-${Date.now().toString(36)}` });
    expect(paid.status, JSON.stringify(paid.body)).to.equal(201);
    const settle = await operator.api().get(`/api/v1/finance/payment-security/${hospital.org.id}`);
    expect(settle.body.balanceFen).to.equal(1_235_567);
    await new Promise((r) => setTimeout(r, 300));
    for (const { distributor, events } of seen) {
      for (const [event, args] of events) failures.push(...foreignMoney(args, distributor.org.id, `socket ${event}`));
    }
    for (const s of sockets) s.disconnect();
    expect(answered).to.be.greaterThan(20);
    expect(failures, failures.join('\n')).to.deep.equal([]);
  });
});
