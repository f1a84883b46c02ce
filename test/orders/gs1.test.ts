import { expect } from 'chai';
import { Types } from 'mongoose';
import { Shipment, TraceCode } from '../../server/modules/orders';
import { gs1Date, parseGs1, readScan, scannedCode } from '../../server/modules/orders/orders.gs1';
import { buildOrderParties, confirm, nextYear, placeCatalogueOrder, traceCodes, track, type OrderParties } from '../support/order-factories';

const GS = '\u001d';
const gtin14 = (gtin13: string) => `0${gtin13}`;
/** A GS1 DataMatrix string as printed under the symbol: GTIN, expiry, batch, serial. */
const dm = (gtin: string, expiry: string, batch: string, serial: string) => `(01)${gtin}(17)${expiry}(10)${batch}(21)${serial}`;
const yymmdd = (isoDate: string) => isoDate.slice(2, 4) + isoDate.slice(5, 7) + isoDate.slice(8, 10);

describe('orders: GS1 element strings (pure)', () => {
  it('reads the human-readable and the raw form, with or without a symbology identifier and with <GS> spelled out', () => {
    const hr = parseGs1('(01)06901234567892(17)281231(10)B2401(21)81002340000000001234');
    expect(Object.fromEntries(hr!)).to.deep.equal({ '01': '06901234567892', '17': '281231', '10': 'B2401', '21': '81002340000000001234' });
    const raw = parseGs1(`]d20106901234567892172812311 0B2401${GS}2181002340000000001234`.replace(' ', ''));
    expect(Object.fromEntries(raw!)).to.deep.equal(Object.fromEntries(hr!));
    const spelled = parseGs1('010690123456789217281231' + '10B2401<GS>2181002340000000001234');
    expect(Object.fromEntries(spelled!)).to.deep.equal(Object.fromEntries(hr!));
  });

  it('refuses what cannot be GS1: unknown or repeated identifiers, wrong fixed lengths, over-long fields, empty values', () => {
    expect(parseGs1('(01)0690123456789(21)1')).to.equal(null); // 13 digits in a 14-digit field
    expect(parseGs1('(21)1(21)2')).to.equal(null);
    expect(parseGs1('(10)(21)1')).to.equal(null);
    expect(parseGs1(`(10)${'B'.repeat(21)}(21)1`)).to.equal(null);
    expect(parseGs1('(01)06901234567892 trailing')).to.equal(null);
    expect(parseGs1('0106901234567892' + '8899')).to.equal(null); // raw AI 88 is not one we read
  });

  it('dates follow the GS1 century rule; day 00 is the last day of the month; impossible dates are refused', () => {
    expect(gs1Date('281231', 2026)).to.equal('2028-12-31');
    expect(gs1Date('280200', 2026)).to.equal('2028-02-29');
    expect(gs1Date('270200', 2026)).to.equal('2027-02-28');
    expect(gs1Date('990101', 2026)).to.equal('1999-01-01'); // 73 years ahead → previous century
    expect(gs1Date('010101', 2098)).to.equal('2101-01-01'); // 97 years behind → next century
    expect(gs1Date('271301', 2026)).to.equal(null);
    expect(gs1Date('270230', 2026)).to.equal(null);
  });

  it('a scan is a bare code, a GS1 string with its serial as the code, or unreadable with the reason', () => {
    expect(readScan(' 81002340000000001234 ', 2026)).to.deep.equal({ kind: 'plain', code: '81002340000000001234' });
    expect(readScan(dm('06901234567892', '281231', 'B2401', '81002340000000001234'), 2026)).to.deep.equal({
      kind: 'gs1', code: '81002340000000001234', gtin: '06901234567892', batchNo: 'B2401', expiryDate: '2028-12-31',
    });
    expect(readScan('(01)06901234567892(17)281231(10)B2401', 2026)).to.include({ kind: 'invalid', reason: 'GS1_NO_SERIAL' });
    expect(readScan('(01)06901234567893(21)1', 2026)).to.include({ kind: 'invalid', reason: 'GS1_BAD_GTIN' });
    expect(readScan('(17)281340(21)1', 2026)).to.include({ kind: 'invalid', reason: 'GS1_BAD_EXPIRY' });
    expect(readScan('(01)0690(21)1', 2026)).to.include({ kind: 'invalid', reason: 'GS1_MALFORMED' });
    expect(scannedCode(dm('06901234567892', '281231', 'B1', '81002340000000009999'), 2026)).to.equal('81002340000000009999');
  });
});

describe('orders: shipping with GS1 DataMatrix scans', () => {
  async function confirmedOrder(p: OrderParties, quantity: number) {
    return confirm(p.distributor, (await placeCatalogueOrder(p, { quantity })).id);
  }
  const ship = (p: OrderParties, orderId: string, line: Record<string, unknown>, lang = 'zh') =>
    p.distributor.api().post(`/api/v1/orders/${orderId}/ship`, { carrier: '国药物流', trackingNo: 'GY-GS1', lines: [{ lineNo: 1, quantity: 2, ...line }] }).set('Accept-Language', lang);
  const nothingShipped = async (orderId: string) => {
    expect(await Shipment.countDocuments({ orderId: new Types.ObjectId(orderId) })).to.equal(0);
    expect(await TraceCode.countDocuments({ orderId: new Types.ObjectId(orderId) })).to.equal(0);
  };

  it('takes batch and expiry from the scans when the line leaves them out, and stores the serials as the codes', async () => {
    const p = await buildOrderParties();
    const drug = p.drugs[0]!;
    const order = await confirmedOrder(p, 2);
    const expiry = nextYear();
    const serials = traceCodes(drug.tracePrefix, 2);
    const res = await ship(p, order.id, { codes: serials.map((s) => dm(gtin14(drug.gtin!), yymmdd(expiry), 'B-GS1-7', s)) });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.shipment.lines[0]).to.deep.include({ batchNo: 'B-GS1-7', expiryDate: expiry, codes: serials });
    const stored = await TraceCode.find({ orderId: new Types.ObjectId(order.id) }).lean();
    expect(stored.map((c) => c.code).sort()).to.deep.equal([...serials].sort());
    expect(stored.every((c) => c.batchNo === 'B-GS1-7' && c.expiryDate === expiry)).to.equal(true);
  });

  it('mixes bare codes and scans on one line; a raw scan with the GS separator reads the same', async () => {
    const p = await buildOrderParties();
    const drug = p.drugs[0]!;
    const order = await confirmedOrder(p, 2);
    const [a, b] = traceCodes(drug.tracePrefix, 2) as [string, string];
    const expiry = nextYear();
    const raw = `]d201${gtin14(drug.gtin!)}17${yymmdd(expiry)}10LOT9${GS}21${b}`;
    const res = await ship(p, order.id, { batchNo: 'LOT9', codes: [a, raw] });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.shipment.lines[0]).to.deep.include({ batchNo: 'LOT9', expiryDate: expiry, codes: [a, b] });
  });

  it('refuses, naming only the scans at fault and storing nothing: another GTIN, unreadable scans, a batch or expiry that disagrees', async () => {
    const p = await buildOrderParties();
    const drug = p.drugs[0]!;
    const order = await confirmedOrder(p, 2);
    const expiry = nextYear();
    const [a, b] = traceCodes(drug.tracePrefix, 2) as [string, string];
    const good = dm(gtin14(drug.gtin!), yymmdd(expiry), 'B1', a);
    const foreign = dm('06901234567892', yymmdd(expiry), 'B1', b);
    const r1 = await ship(p, order.id, { codes: [good, foreign] });
    expect(r1.status).to.equal(422);
    expect(r1.body.error.details.map((d: { code: string }) => d.code)).to.deep.equal(['GS1_GTIN_MISMATCH']);
    expect(r1.body.error.details[0].codes).to.deep.equal([foreign]);
    expect(r1.body.error.message).to.contain(`第 1 行`).and.contain(gtin14(drug.gtin!)).and.not.contain(a);

    const unreadable = '(01)06901234567892(17)281231(10)B1';
    const r2 = await ship(p, order.id, { codes: [good, unreadable] }, 'en');
    expect(r2.status).to.equal(422);
    expect(r2.body.error.details[0]).to.include({ code: 'GS1_UNREADABLE' });
    expect(r2.body.error.details[0].codes).to.deep.equal([unreadable]);
    expect(r2.body.error.message).to.match(/^Line 1: these GS1 scans cannot be read/);

    const r3 = await ship(p, order.id, { batchNo: 'TYPED', codes: [good, dm(gtin14(drug.gtin!), yymmdd(expiry), 'B1', b)] });
    expect(r3.body.error.details.map((d: { code: string }) => d.code)).to.deep.equal(['GS1_BATCH_MISMATCH']);
    expect(r3.body.error.message).to.contain('B1').and.contain('TYPED');

    const r4 = await ship(p, order.id, { codes: [good, dm(gtin14(drug.gtin!), yymmdd(expiry), 'B2', b)] });
    expect(r4.body.error.details.map((d: { code: string }) => d.code)).to.deep.equal(['GS1_MIXED_BATCHES']);

    const other = new Date(`${expiry}T00:00:00Z`);
    other.setUTCDate(other.getUTCDate() + 1);
    const r5 = await ship(p, order.id, { expiryDate: other.toISOString().slice(0, 10), codes: [good, dm(gtin14(drug.gtin!), yymmdd(expiry), 'B1', b)] });
    expect(r5.body.error.details.map((d: { code: string }) => d.code)).to.deep.equal(['GS1_EXPIRY_MISMATCH']);
    await nothingShipped(order.id);
  });

  it('bare codes still need a typed batch and expiry; the refusal says what to enter, in the reader\'s language', async () => {
    const p = await buildOrderParties();
    const order = await confirmedOrder(p, 2);
    const res = await ship(p, order.id, { codes: traceCodes(p.drugs[0]!.tracePrefix, 2) });
    expect(res.status).to.equal(422);
    expect(res.body.error.details.map((d: { code: string }) => d.code)).to.deep.equal(['BATCH_REQUIRED', 'EXPIRY_REQUIRED']);
    expect(res.body.error.details[0].message).to.contain('请填写批号');
    expect(res.body.error.details[1].message).to.contain('请填写有效期');
    const en = await ship(p, order.id, { codes: traceCodes(p.drugs[0]!.tracePrefix, 2) }, 'en');
    expect(en.body.error.details[0].message).to.equal('Line 1: enter the batch number, or scan GS1 codes that carry it.');
    await nothingShipped(order.id);
  });

  it('a pharmacist accepting by scanning the same DataMatrix symbols is matched by their serials', async () => {
    const p = await buildOrderParties();
    const drug = p.drugs[0]!;
    const order = await confirmedOrder(p, 2);
    const expiry = nextYear();
    const serials = traceCodes(drug.tracePrefix, 2);
    const scans = serials.map((s) => dm(gtin14(drug.gtin!), yymmdd(expiry), 'B-ACC', s));
    expect((await ship(p, order.id, { codes: scans })).status).to.equal(201);
    await track(p.distributor, order.id, 'delivered');
    const acc = await p.pharmacist.api().post(`/api/v1/orders/${order.id}/acceptance`, {
      lines: [{ lineNo: 1, acceptedQty: 2, refusedQty: 0, batchNo: 'B-ACC', expiryDate: expiry, codes: scans }],
    });
    expect(acc.status, JSON.stringify(acc.body)).to.equal(201);
    const stored = await TraceCode.find({ orderId: new Types.ObjectId(order.id) }).lean();
    expect(stored.map((c) => c.status)).to.deep.equal(['received', 'received']);
  });
});
