import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { testClock } from '../support/global';
import { Types } from 'mongoose';
import { Breach, BreachType, CreditFile, ScoreSnapshot } from '../../server/modules/credit/credit.model';
import { Notification } from '../../server/modules/notifications/notifications.model';
import { OrderDeadlineMissed, OrderQualityRefusal, OrderRefusedListedHospital } from '../../server/events/orders';
import { QuoteWithdrawnAfterPublication } from '../../server/events/quotation';
import { SupplyFailureDeclared } from '../../server/events/vbp';
import { OutboxEvent, type EventSpec } from '../../server/platform/events';
import { publishFact } from '../support/events';
import { trusted } from '../../server/platform/mongo';
import { buildTradingDistributor, creditOperator, eventually, recordManualBreach, uploadEvidence } from '../support/credit-factories';
import { buildUser, connectSocket, nextEvent } from '../support/factories';

const uniq = () => randomBytes(4).toString('hex');

const oidHex = () => new Types.ObjectId().toHexString();

function orderRef(distributorOrgId: string) {
  return { orderId: oidHex(), orderNo: `PO-${uniq()}`, distributorOrgId, hospitalOrgId: oidHex() };
}

function missed(kind: 'confirmation' | 'delivery' | 'notDelivered') {
  return (org: string) => ({ ...orderRef(org), hospitalName: '测试医院', distributorName: '测试配送企业', kind, deadline: testClock.now().toISOString(), urgency: 'regular' as const, detectedAt: testClock.now().toISOString() });
}

interface Automatic {
  spec: EventSpec;
  code: string;
  points: number;
  payload: (org: string) => Record<string, unknown>;
  key: (id: string) => string;
}

const AUTOMATIC: Automatic[] = [
  { spec: OrderDeadlineMissed, code: 'LATE_CONFIRMATION', points: 2, key: (id) => `order-confirmation-late:${id}`, payload: missed('confirmation') },
  { spec: OrderDeadlineMissed, code: 'LATE_DELIVERY', points: 3, key: (id) => `order-delivery-late:${id}`, payload: missed('delivery') },
  { spec: OrderDeadlineMissed, code: 'CONFIRMED_NOT_DELIVERED', points: 10, key: (id) => `order-not-delivered:${id}`, payload: missed('notDelivered') },
  { spec: OrderRefusedListedHospital, code: 'REFUSED_LISTED_HOSPITAL', points: 15, key: (id) => `order-refused-listed:${id}`, payload: (org) => ({ ...orderRef(org), at: testClock.now().toISOString(), reason: '缺货', drugIds: [oidHex()] }) },
  {
    spec: OrderQualityRefusal,
    code: 'QUALITY_REFUSAL',
    points: 5,
    key: (id) => `order-quality-refusal:${id}:1`,
    payload: (org) => ({ ...orderRef(org), at: testClock.now().toISOString(), acceptanceId: oidHex(), lineNo: 1, drugId: oidHex(), drugName: '注射用尿激酶', batchNo: 'B1', refusedQuantity: 3, reason: '包装破损' }),
  },
  {
    spec: SupplyFailureDeclared,
    code: 'VBP_SUPPLY_FAILURE',
    points: 30,
    key: (id) => `vbp-supply-failure:${id}`,
    payload: (org) => ({ contractId: oidHex(), contractNo: `VBP-${uniq()}`, tenderId: oidHex(), distributorOrgId: org, hospitalOrgId: oidHex(), drugId: oidHex(), drugName: '阿托伐他汀钙片', remainingQty: 10, reason: '断供 7 日', at: testClock.now().toISOString() }),
  },
  {
    spec: QuoteWithdrawnAfterPublication,
    code: 'QUOTE_WITHDRAWN_AFTER_PUBLICATION',
    points: 10,
    key: (id) => `quote-withdrawn-after-publication:${id}`,
    payload: (org) => ({ roundId: oidHex(), roundNo: 'R-1', lineId: oidHex(), quoteId: oidHex(), listingId: oidHex(), distributorOrgId: org, drugId: oidHex(), drugName: '注射用尿激酶', at: testClock.now().toISOString(), reason: '停产' }),
  },
];

async function dispatched(key: string) {
  return eventually(async () => (await OutboxEvent.findOne({ key }).lean<{ dispatchedAt?: Date }>())?.dispatchedAt, 8000, `dispatch of ${key}`);
}

describe('credit: breach catalogue and automatic breaches', () => {
  for (const c of AUTOMATIC) {
    it(`raises ${c.code} exactly once from ${c.spec.name} committed three times, notifies the distributor and lowers the score`, async () => {
      const d = await buildTradingDistributor();
      const key = c.key(new Types.ObjectId().toHexString());
      const payload = c.payload(d.org.id);
      const socket = await connectSocket(d.token);
      try {
        const live = nextEvent<{ code: string; orgId: string }>(socket, 'credit:breach_recorded');
        for (let i = 0; i < 3; i += 1) await publishFact(c.spec, payload, key);
        expect(await OutboxEvent.countDocuments({ key })).to.equal(1);
        await dispatched(key);
        const pushed = await live;
        expect(pushed).to.include({ code: c.code, orgId: d.org.id });
      } finally {
        socket.disconnect();
      }
      const breaches = await Breach.find({ orgId: new Types.ObjectId(d.org.id) }).lean<{ code: string; points: number; sourceKey: string; source: string }[]>();
      expect(breaches).to.have.length(1);
      expect(breaches[0]).to.include({ code: c.code, points: c.points, sourceKey: key, source: 'automatic' });
      const notes = await Notification.countDocuments({ userId: new Types.ObjectId(d.id), kind: 'credit.breach_recorded' });
      expect(notes).to.equal(1);
      const standing = await d.api().get('/api/v1/credit/standing').expect(200);
      expect(standing.body.score).to.equal(100 - c.points);
      expect(await ScoreSnapshot.countDocuments({ orgId: new Types.ObjectId(d.org.id) })).to.equal(1);
    });
  }

  it('handles a repeated event after the first dispatch without a second breach', async () => {
    const d = await buildTradingDistributor();
    const key = `order-delivery-late:${new Types.ObjectId().toHexString()}`;
    const payload = missed('delivery')(d.org.id);
    await publishFact(OrderDeadlineMissed, payload, key);
    await dispatched(key);
    await publishFact(OrderDeadlineMissed, payload, key);
    await publishFact(OrderDeadlineMissed, payload, key);
    expect(await Breach.countDocuments({ orgId: new Types.ObjectId(d.org.id) })).to.equal(1);
  });

  it('ignores an event about an organisation that is not a distributor, without retrying forever', async () => {
    const hospital = await buildUser('pharmacist');
    const key = `order-delivery-late:${new Types.ObjectId().toHexString()}`;
    await publishFact(OrderDeadlineMissed, missed('delivery')(hospital.org.id), key);
    await dispatched(key);
    expect(await Breach.countDocuments({ sourceKey: key })).to.equal(0);
  });

  it('lists the seeded catalogue and lets the operator add and change entries, refusing bad input', async () => {
    const op = await creditOperator();
    const list = await op.api().get('/api/v1/credit/breach-types').expect(200);
    const codes = list.body.data.map((t: { code: string }) => t.code);
    expect(codes).to.include.members(['LATE_CONFIRMATION', 'LATE_DELIVERY', 'CONFIRMED_NOT_DELIVERED', 'REFUSED_LISTED_HOSPITAL', 'QUOTE_WITHDRAWN_AFTER_PUBLICATION', 'VBP_SUPPLY_FAILURE', 'QUALITY_REFUSAL', 'MANUAL']);

    const code = `FAKE_INVOICE_${uniq().toUpperCase()}`;
    const created = await op.api().post('/api/v1/credit/breach-types', { code, zh: '提供虚假票据', en: 'False invoices', severity: 'serious', points: 30 }).expect(201);
    expect(created.body).to.include({ code, automatic: false, active: true });
    const dup = await op.api().post('/api/v1/credit/breach-types', { code, zh: '重复', en: 'dup', severity: 'shixin', points: 1 }).expect(409);
    expect(dup.body.error.code).to.equal('BREACH_CODE_TAKEN');
    await op.api().post('/api/v1/credit/breach-types', { code: 'lower', zh: 'x', en: 'x', severity: 'shixin', points: 1 }).expect(400);
    await op.api().post('/api/v1/credit/breach-types', { code: `X_${uniq().toUpperCase()}`, zh: 'x', en: 'x', severity: 'fatal', points: 1 }).expect(400);
    await op.api().post('/api/v1/credit/breach-types', { code: `X_${uniq().toUpperCase()}`, zh: 'x', en: 'x', severity: 'shixin', points: 1.5 }).expect(400);
    expect(await BreachType.countDocuments({ code: trustedPrefix('X_') })).to.equal(0);

    const changed = await op.api().patch(`/api/v1/credit/breach-types/${code}`, { points: 25 }).expect(200);
    expect(changed.body.points).to.equal(25);
    await op.api().patch(`/api/v1/credit/breach-types/${code}`, {}).expect(400);
    await op.api().patch('/api/v1/credit/breach-types/NO_SUCH_CODE', { points: 1 }).expect(404);
    const d = await buildUser('distributor');
    await d.api().post('/api/v1/credit/breach-types', { code: `Y_${uniq().toUpperCase()}`, zh: 'x', en: 'x', severity: 'shixin', points: 1 }).expect(403);
  });

  it('records a manual breach with uploaded evidence that the distributor can read and others cannot', async () => {
    const d = await buildTradingDistributor();
    const other = await buildUser('distributor');
    const breach = await recordManualBreach(d.org.id, { points: 8, description: '医院投诉：冷链药品未按要求运输。' });
    expect(breach).to.include({ points: 8, status: 'active' });
    const mine = await d.api().get(`/api/v1/credit/breaches/${breach.id}`).expect(200);
    expect(mine.body.evidence).to.have.length(1);
    expect(mine.body.source).to.equal('manual');
    const url: string = mine.body.evidence[0].url;
    const file = await d.api().get(url).buffer(true).expect(200);
    expect(file.headers['content-type']).to.contain('application/pdf');
    await other.api().get(url).expect(404);
    await other.api().get(`/api/v1/credit/breaches/${breach.id}`).expect(404);
    const standing = await d.api().get('/api/v1/credit/standing').expect(200);
    expect(standing.body.score).to.equal(92);
  });

  it('refuses manual breaches without evidence, of an automatic type, about a non-distributor or in the future, storing nothing', async () => {
    const op = await creditOperator();
    const d = await buildTradingDistributor();
    const hospital = await buildUser('pharmacist');
    const fileId = await uploadEvidence(op, 'breach_evidence');
    const base = { orgId: d.org.id, code: 'MANUAL', description: '投诉' };
    expect((await op.api().post('/api/v1/credit/breaches', { ...base, fileIds: [] }).expect(400)).body.error.code).to.equal('VALIDATION_FAILED');
    expect((await op.api().post('/api/v1/credit/breaches', { ...base, code: 'LATE_DELIVERY', fileIds: [fileId] }).expect(422)).body.error.code).to.equal('BREACH_TYPE_AUTOMATIC');
    expect((await op.api().post('/api/v1/credit/breaches', { ...base, orgId: hospital.org.id, fileIds: [fileId] }).expect(404)).body.error.code).to.equal('DISTRIBUTOR_NOT_FOUND');
    expect((await op.api().post('/api/v1/credit/breaches', { ...base, occurredAt: new Date(testClock.now().getTime() + 86_400_000).toISOString(), fileIds: [fileId] }).expect(422)).body.error.code).to.equal('OCCURRED_IN_FUTURE');
    expect((await op.api().post('/api/v1/credit/breaches', { ...base, fileIds: [new Types.ObjectId().toHexString()] }).expect(400)).body.error.code).to.equal('FILE_NOT_FOUND');
    await op.api().post('/api/v1/credit/breaches', { ...base, fileIds: [fileId], points: -1 }).expect(400);
    await op.api().post('/api/v1/credit/breaches', { ...base, fileIds: [fileId], hack: true }).expect(400);
    await d.api().post('/api/v1/credit/breaches', { ...base, fileIds: [fileId] }).expect(403);
    expect(await Breach.countDocuments({ orgId: new Types.ObjectId(d.org.id) })).to.equal(0);
  });

  it('refuses uploads of the wrong type, disguised content, empty or oversized files, storing nothing', async () => {
    const op = await creditOperator();
    const before = await CreditFile.countDocuments({ orgId: new Types.ObjectId(op.org.id) });
    const up = (content: Buffer, filename: string, contentType: string, purpose = 'breach_evidence') =>
      op.api().post('/api/v1/credit/files').field('purpose', purpose).attach('file', content, { filename, contentType });
    expect((await up(Buffer.from('MZ\x90\x00'), 'x.exe', 'application/octet-stream').expect(400)).body.error.code).to.equal('FILE_TYPE_NOT_ALLOWED');
    expect((await up(Buffer.from('not a pdf at all'), 'x.pdf', 'application/pdf').expect(400)).body.error.code).to.equal('FILE_TYPE_NOT_ALLOWED');
    expect((await up(Buffer.alloc(6 * 1024 * 1024, 0x41), 'big.txt', 'text/plain').expect(400)).body.error.code).to.equal('FILE_TOO_LARGE');
    await up(Buffer.from('%PDF-1.4'), 'x.pdf', 'application/pdf', 'selfie').expect(400);
    await op.api().post('/api/v1/credit/files', { purpose: 'breach_evidence' }).expect(400);
    const d = await buildUser('distributor');
    await d.api().post('/api/v1/credit/files').field('purpose', 'breach_evidence').attach('file', Buffer.from('%PDF-1.4'), { filename: 'x.pdf', contentType: 'application/pdf' }).expect(400);
    expect(await CreditFile.countDocuments({ orgId: new Types.ObjectId(op.org.id) })).to.equal(before);
  });

  it('records the same manual breach once when the request is retried with the same Idempotency-Key', async () => {
    const op = await creditOperator();
    const d = await buildTradingDistributor();
    const fileId = await uploadEvidence(op, 'breach_evidence');
    const body = { orgId: d.org.id, code: 'MANUAL', description: '重复提交测试', fileIds: [fileId] };
    const key = `k-${uniq()}`;
    const a = await op.api().post('/api/v1/credit/breaches', body).set('Idempotency-Key', key).expect(201);
    const b = await op.api().post('/api/v1/credit/breaches', body).set('Idempotency-Key', key).expect(201);
    expect(b.body.breach.id).to.equal(a.body.breach.id);
    expect(await Breach.countDocuments({ orgId: new Types.ObjectId(d.org.id) })).to.equal(1);
  });
});

function trustedPrefix(prefix: string) {
  return trusted({ $regex: `^${prefix}[0-9A-F]{8}$` }) as unknown as string;
}
