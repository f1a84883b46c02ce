import { expect } from 'chai';
import { Types } from 'mongoose';
import { Order } from '../../server/modules/orders';
import { buildTradingDistributor, recordManualBreach } from '../support/credit-factories';
import { buildUser, type TestUser } from '../support/factories';
import { buildListing, buildOrderParties, buildPharmacist } from '../support/order-factories';
import { buildDrug } from '../support/quotation-factories';

const countOrders = (hospitalOrgId: string) => Order.countDocuments({ hospitalOrgId: new Types.ObjectId(hospitalOrgId) });

describe('orders: placing', () => {
  let listing: Awaited<ReturnType<typeof buildListing>>;
  let cheap: TestUser;
  let dear: TestUser;

  before(async function () {
    this.timeout(30_000);
    // Two distributors list the same drug: ¥1,950.00 and ¥1,800.00.
    listing = await buildListing([195_000, 180_000]);
    [dear, cheap] = listing.distributors as [TestUser, TestUser];
  });

  it('lists the distributors of a drug cheapest first, with their credit badges', async () => {
    const pharmacist = await buildPharmacist();
    const res = await pharmacist.api().get(`/api/v1/orders/listings?drugId=${listing.drug.id}`);
    expect(res.status).to.equal(200);
    expect(res.body.data.map((e: { distributorOrgId: string }) => e.distributorOrgId)).to.deep.equal([cheap.org.id, dear.org.id]);
    expect(res.body.data.map((e: { unitPriceFen: number }) => e.unitPriceFen)).to.deep.equal([180_000, 195_000]);
    expect(res.body.data[0].credit).to.include({ grade: 'A', suspended: false, riskWarning: false });
  });

  it('locks the listing price of the chosen distributor at order time, with the address of the hospital', async () => {
    const pharmacist = await buildPharmacist();
    const res = await pharmacist.api().post('/api/v1/orders', { urgency: 'urgent', lines: [{ drugId: listing.drug.id, distributorOrgId: dear.org.id, quantity: 2 }] });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const [order] = res.body.data;
    expect(order).to.include({ status: 'placed', urgency: 'urgent', distributorOrgId: dear.org.id, totalFen: 390_000, deliveryAddress: '测试市测试路 1 号' });
    expect(order.lines[0]).to.include({ unitPriceFen: 195_000, amountFen: 390_000 });
    expect(order.lines[0].source.kind).to.equal('listing');
    expect(order.lines[0].source.refId).to.match(/^[a-f0-9]{24}$/);
  });

  it('splits a cart across distributors into one order each', async () => {
    const pharmacist = await buildPharmacist();
    const other = await buildDrug({ referencePriceFen: 5_000 });
    const res = await pharmacist.api().post('/api/v1/orders', {
      lines: [
        { drugId: listing.drug.id, distributorOrgId: cheap.org.id, quantity: 1 },
        { drugId: other.id, distributorOrgId: dear.org.id, source: 'catalogue', quantity: 10 },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.data).to.have.length(2);
    const byDistributor = Object.fromEntries(res.body.data.map((o: { distributorOrgId: string; totalFen: number }) => [o.distributorOrgId, o.totalFen]));
    expect(byDistributor).to.deep.equal({ [cheap.org.id]: 180_000, [dear.org.id]: 50_000 });
  });

  it('orders from the catalogue at the reference price in force', async () => {
    const p = await buildOrderParties({ drug: { referencePriceFen: 777 } });
    const res = await p.pharmacist.api().post('/api/v1/orders', { lines: [{ drugId: p.drugs[0]!.id, distributorOrgId: p.distributor.org.id, source: 'catalogue', quantity: 3 }] });
    expect(res.status).to.equal(201);
    expect(res.body.data[0].lines[0]).to.include({ unitPriceFen: 777, amountFen: 2331 });
  });

  it('refuses a distributor that has not listed the drug, and stores nothing', async () => {
    const pharmacist = await buildPharmacist();
    const stranger = await buildTradingDistributor();
    const res = await pharmacist.api().post('/api/v1/orders', { lines: [{ drugId: listing.drug.id, distributorOrgId: stranger.org.id, quantity: 1 }] });
    expect(res.status).to.equal(422);
    expect(res.body.error.code).to.equal('DISTRIBUTOR_NOT_LISTED');
    expect(res.body.error.details[0]).to.include({ line: 1 });
    expect(await countOrders(pharmacist.org.id)).to.equal(0);
  });

  it('refuses a suspended distributor, saying until when, and stores nothing', async () => {
    const pharmacist = await buildPharmacist();
    const suspended = await buildTradingDistributor();
    await recordManualBreach(suspended.org.id, { points: 45 });
    const drug = await buildDrug();
    const res = await pharmacist.api().post('/api/v1/orders', { lines: [{ drugId: drug.id, distributorOrgId: suspended.org.id, source: 'catalogue', quantity: 1 }] });
    expect(res.status).to.equal(422);
    expect(res.body.error.code).to.equal('DISTRIBUTOR_SUSPENDED');
    expect(res.body.error.message).to.contain('暂停至');
    expect(await countOrders(pharmacist.org.id)).to.equal(0);
  });

  it('refuses a distributor without a signed commitment', async () => {
    const pharmacist = await buildPharmacist();
    const unsigned = await buildUser('distributor');
    const drug = await buildDrug();
    const res = await pharmacist.api().post('/api/v1/orders', { lines: [{ drugId: drug.id, distributorOrgId: unsigned.org.id, source: 'catalogue', quantity: 1 }] });
    expect(res.status).to.equal(422);
    expect(res.body.error.code).to.equal('COMMITMENT_NOT_SIGNED');
    expect(await countOrders(pharmacist.org.id)).to.equal(0);
  });

  it('makes one order of a double click (same Idempotency-Key), replaying the first reply', async () => {
    const pharmacist = await buildPharmacist();
    const body = { lines: [{ drugId: listing.drug.id, distributorOrgId: cheap.org.id, quantity: 1 }] };
    const first = await pharmacist.api().post('/api/v1/orders', body).set('Idempotency-Key', 'cart-checkout-0001');
    const second = await pharmacist.api().post('/api/v1/orders', body).set('Idempotency-Key', 'cart-checkout-0001');
    expect(first.status).to.equal(201);
    expect(second.status).to.equal(201);
    expect(second.body.data[0].id).to.equal(first.body.data[0].id);
    expect(await countOrders(pharmacist.org.id)).to.equal(1);
  });

  it('takes the order number with the reads of a keyed cart, and a refused keyed cart uses none', async () => {
    const p = await buildOrderParties({ drug: { referencePriceFen: 500 } });
    const line = { drugId: p.drugs[0]!.id, distributorOrgId: p.distributor.org.id, source: 'catalogue', quantity: 1 };
    const seq = (orderNo: string) => Number(orderNo.split('-')[1]);
    const first = await p.pharmacist.api().post('/api/v1/orders', { lines: [line] }).set('Idempotency-Key', `numbers-${p.pharmacist.id}-1`);
    const refused = await p.pharmacist.api().post('/api/v1/orders', { lines: [line, line] }).set('Idempotency-Key', `numbers-${p.pharmacist.id}-2`);
    const next = await p.pharmacist.api().post('/api/v1/orders', { lines: [line] }).set('Idempotency-Key', `numbers-${p.pharmacist.id}-3`);
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    expect(refused.status).to.equal(422);
    expect(refused.body.error.code).to.equal('DUPLICATE_LINE');
    expect(next.status).to.equal(201);
    expect(seq(next.body.data[0].orderNo)).to.equal(seq(first.body.data[0].orderNo) + 1);
    expect(await countOrders(p.pharmacist.org.id)).to.equal(2);
  });

  it('refuses the order when the price changed since the pharmacist saw it', async () => {
    const pharmacist = await buildPharmacist();
    const res = await pharmacist.api().post('/api/v1/orders', { lines: [{ drugId: listing.drug.id, distributorOrgId: cheap.org.id, quantity: 1, expectedUnitPriceFen: 170_000 }] });
    expect(res.status).to.equal(409);
    expect(res.body.error.code).to.equal('PRICE_CHANGED');
    expect(res.body.error.details[0]).to.include({ expectedUnitPriceFen: 170_000, unitPriceFen: 180_000 });
    expect(await countOrders(pharmacist.org.id)).to.equal(0);
  });

  describe('bad input stores nothing', () => {
    const cases: [string, (ctx: { drugId: string; distributorOrgId: string }) => unknown, number, string][] = [
      ['no lines', () => ({ lines: [] }), 400, 'VALIDATION_FAILED'],
      ['a zero quantity', (c) => ({ lines: [{ ...c, quantity: 0 }] }), 400, 'VALIDATION_FAILED'],
      ['a fractional quantity', (c) => ({ lines: [{ ...c, quantity: 1.5 }] }), 400, 'VALIDATION_FAILED'],
      ['an unknown field', (c) => ({ lines: [{ ...c, quantity: 1 }], price: 1 }), 400, 'VALIDATION_FAILED'],
      ['an operator object as id', (c) => ({ lines: [{ ...c, drugId: { $gt: '' }, quantity: 1 }] }), 400, 'VALIDATION_FAILED'],
      ['a bad urgency', (c) => ({ urgency: 'asap', lines: [{ ...c, quantity: 1 }] }), 400, 'VALIDATION_FAILED'],
      ['an unknown drug', (c) => ({ lines: [{ ...c, drugId: new Types.ObjectId().toHexString(), quantity: 1 }] }), 422, 'UNKNOWN_DRUG'],
      ['an unknown distributor', (c) => ({ lines: [{ ...c, distributorOrgId: new Types.ObjectId().toHexString(), quantity: 1 }] }), 422, 'UNKNOWN_DISTRIBUTOR'],
      ['the same line twice', (c) => ({ lines: [{ ...c, quantity: 1 }, { ...c, quantity: 2 }] }), 422, 'DUPLICATE_LINE'],
      ['a contract line without its contract', (c) => ({ lines: [{ ...c, source: 'contract', quantity: 1 }] }), 422, 'CONTRACT_REQUIRED'],
    ];
    for (const [name, body, status, code] of cases) {
      it(`refuses ${name} with ${status} ${code}`, async () => {
        const pharmacist = await buildPharmacist();
        const res = await pharmacist.api().post('/api/v1/orders', body({ drugId: listing.drug.id, distributorOrgId: cheap.org.id }));
        expect(res.status, JSON.stringify(res.body)).to.equal(status);
        expect(res.body.error.code).to.equal(code);
        expect(await countOrders(pharmacist.org.id)).to.equal(0);
      });
    }

    it('refuses a catalogue order for a drug without a reference price', async () => {
      const p = await buildOrderParties({ drug: { referencePriceFen: null } });
      const res = await p.pharmacist.api().post('/api/v1/orders', { lines: [{ drugId: p.drugs[0]!.id, distributorOrgId: p.distributor.org.id, source: 'catalogue', quantity: 1 }] });
      expect(res.status).to.equal(422);
      expect(res.body.error.code).to.equal('NO_REFERENCE_PRICE');
      expect(await countOrders(p.pharmacist.org.id)).to.equal(0);
    });

    it('refuses anyone but a pharmacist', async () => {
      for (const role of ['distributor', 'hospital_finance', 'bank_officer', 'operator'] as const) {
        const user = await buildUser(role);
        const res = await user.api().post('/api/v1/orders', { lines: [{ drugId: listing.drug.id, distributorOrgId: cheap.org.id, quantity: 1 }] });
        expect(res.status, role).to.equal(403);
      }
    });
  });

  describe('VBP contracts as a price source', () => {
    it('refuses a contract line without a contract, or naming a contract that is not the hospital\'s, storing nothing', async () => {
      const p = await buildOrderParties();
      const line = { drugId: p.drugs[0]!.id, distributorOrgId: p.distributor.org.id, source: 'contract', quantity: 2 };
      const before = await Order.countDocuments({ hospitalOrgId: new Types.ObjectId(p.pharmacist.org.id) });
      const missing = await p.pharmacist.api().post('/api/v1/orders', { lines: [line] });
      expect(missing.status).to.equal(422);
      expect(missing.body.error.code).to.equal('CONTRACT_REQUIRED');
      const unknown = await p.pharmacist.api().post('/api/v1/orders', { lines: [{ ...line, refId: new Types.ObjectId().toHexString() }] });
      expect(unknown.status).to.equal(422);
      expect(unknown.body.error.code).to.equal('CONTRACT_NOT_FOUND');
      expect(await Order.countDocuments({ hospitalOrgId: new Types.ObjectId(p.pharmacist.org.id) })).to.equal(before);
    });
  });

  describe('bulk ordering from CSV', () => {
    it('places the orders of a CSV (drug by NHSA code, distributor by name)', async () => {
      const pharmacist = await buildPharmacist();
      const csv = `drug,distributor,quantity\n${listing.drug.nhsaCode},${cheap.org.name},4\n`;
      const res = await pharmacist.api().post('/api/v1/orders/import', { csv, urgency: 'urgent' });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body.data[0]).to.include({ urgency: 'urgent', totalFen: 720_000, distributorOrgId: cheap.org.id });
    });

    it('reports every bad row and orders nothing', async () => {
      const pharmacist = await buildPharmacist();
      const csv = `drug,distributor,quantity\n${listing.drug.nhsaCode},${cheap.org.name},4\nXNOPE,${cheap.org.name},1\n${listing.drug.nhsaCode},nobody,x\n`;
      const res = await pharmacist.api().post('/api/v1/orders/import', { csv });
      expect(res.status).to.equal(422);
      expect(res.body.error.code).to.equal('CSV_INVALID');
      expect(res.body.error.details.map((d: { row: number; field: string }) => `${d.row}:${d.field}`)).to.deep.equal(['3:drug', '4:distributor', '4:quantity']);
      expect(await countOrders(pharmacist.org.id)).to.equal(0);
    });

    it('refuses a CSV without the required columns', async () => {
      const pharmacist = await buildPharmacist();
      const res = await pharmacist.api().post('/api/v1/orders/import', { csv: 'drug,qty\nX,1\n' });
      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('CSV_COLUMNS');
    });
  });
});
