// What follows from a credit change survives a crash between its commit and its dispatch: the change
// and its facts are committed together, and redelivering the facts (the outbox sweep after a restart)
// produces every consequence exactly once; redelivering again changes nothing.
import { expect } from 'chai';
import { Types } from 'mongoose';
import type { Socket } from 'socket.io-client';
import { SupplyFailureDeclared } from '../../server/events/vbp';
import { OrderDeadlineMissed } from '../../server/events/orders';
import { creditModule } from '../../server/modules/credit';
import { expireSanctionJobId } from '../../server/modules/credit/credit.jobs';
import { Breach, Sanction, ScoreSnapshot } from '../../server/modules/credit/credit.model';
import { sweepSanctionExpiries } from '../../server/modules/credit/credit.sanctions';
import { Notification } from '../../server/modules/notifications/notifications.model';
import { findListingEntry } from '../../server/modules/quotation';
import { AuditEntry } from '../../server/platform/audit-log';
import { OutboxEvent } from '../../server/platform/events';
import { takeMissingKeys } from '../../server/platform/i18n';
import { renderMessage, type Message } from '../../server/platform/messages';
import { trusted } from '../../server/platform/mongo';
import { buildTradingDistributor, creditOperator, eventually, recordManualBreach, settled } from '../support/credit-factories';
import { publishFact, redeliver, withLostDispatch } from '../support/events';
import { connectSocket, type TestUser } from '../support/factories';
import { testApp, testClock } from '../support/global';
import { publishRoundWithQuotes } from '../support/quotation-factories';

const oidHex = () => new Types.ObjectId().toHexString();
const MINUTE = 60_000;

function notices(user: TestUser, kind: string): Promise<number> {
  return Notification.countDocuments({ userId: new Types.ObjectId(user.id), kind });
}

interface SanctionRow {
  _id: Types.ObjectId;
  kind: string;
  endsAt: Date;
  expiredAt?: Date;
  liftedAt?: Date;
}

function sanctionsOf(orgId: string): Promise<SanctionRow[]> {
  return Sanction.find({ orgId: new Types.ObjectId(orgId) }).sort({ kind: 1 }).lean<SanctionRow[]>();
}

async function expiryJobsOf(sanctionId: string): Promise<number> {
  const delayed = await testApp().platform.queues.queue.getDelayed();
  return delayed.filter((j) => (j.data as { sanctionId?: string }).sanctionId === sanctionId).length;
}

function missedDelivery(distributorOrgId: string) {
  const at = testClock.now().toISOString();
  return { orderId: oidHex(), orderNo: `PO-${oidHex().slice(-6)}`, distributorOrgId, hospitalOrgId: oidHex(), hospitalName: '测试医院', distributorName: '测试配送企业', kind: 'delivery' as const, deadline: at, urgency: 'regular' as const, detectedAt: at };
}

/** Collects the pushes of some socket events. */
function collect(socket: Socket, events: string[]): Record<string, unknown[]> {
  const seen: Record<string, unknown[]> = Object.fromEntries(events.map((e) => [e, []]));
  for (const e of events) socket.on(e, (payload: unknown) => seen[e]!.push(payload));
  return seen;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('credit: consequences survive a crash between commit and dispatch', () => {
  it('records a breach from another module\'s fact once when the fact is redelivered after a lost dispatch', async () => {
    const d = await buildTradingDistributor();
    const key = `order-delivery-late:${oidHex()}`;
    await withLostDispatch(() => publishFact(OrderDeadlineMissed, missedDelivery(d.org.id), key));
    expect(await Breach.countDocuments({ sourceKey: key }), 'nothing handled before the redelivery').to.equal(0);

    await redeliver();
    const breaches = await Breach.find({ sourceKey: key }).lean<{ _id: Types.ObjectId; code: string; points: number }[]>();
    expect(breaches).to.have.length(1);
    expect(breaches[0]).to.include({ code: 'LATE_DELIVERY', points: 3 });
    expect(await ScoreSnapshot.countDocuments({ orgId: new Types.ObjectId(d.org.id) })).to.equal(1);
    expect(await OutboxEvent.countDocuments({ key: `breach-recorded:${String(breaches[0]!._id)}` })).to.equal(1);
    expect(await notices(d, 'credit.breach_recorded')).to.equal(1);
    expect((await OutboxEvent.findOne({ key }).lean<{ handled: string[]; dispatchedAt?: Date }>())!.handled).to.include('credit.breach-from-missed-deadline');

    await redeliver();
    expect(await Breach.countDocuments({ sourceKey: key })).to.equal(1);
    expect(await ScoreSnapshot.countDocuments({ orgId: new Types.ObjectId(d.org.id) })).to.equal(1);
    expect(await notices(d, 'credit.breach_recorded')).to.equal(1);
    const standing = await d.api().get('/api/v1/credit/standing').expect(200);
    expect(standing.body.score).to.equal(97);
  });

  it('opens the sanctions of a redelivered serious breach once, with one fact each', async () => {
    const d = await buildTradingDistributor();
    const key = `vbp-supply-failure:${oidHex()}`;
    const payload = { contractId: oidHex(), contractNo: `VBP-${oidHex().slice(-6)}`, tenderId: oidHex(), distributorOrgId: d.org.id, hospitalOrgId: oidHex(), drugId: oidHex(), drugName: '阿托伐他汀钙片', remainingQty: 10, reason: '断供 7 日', at: testClock.now().toISOString() };
    await withLostDispatch(() => publishFact(SupplyFailureDeclared, payload, key));
    expect(await sanctionsOf(d.org.id)).to.have.length(0);

    await redeliver();
    const rows = await sanctionsOf(d.org.id);
    expect(rows.map((s) => s.kind)).to.deep.equal(['risk_warning', 'suspension']);
    for (const s of rows) expect(await OutboxEvent.countDocuments({ key: `sanction-opened:${String(s._id)}` }), s.kind).to.equal(1);
    expect(await notices(d, 'credit.sanction_applied')).to.equal(2);

    await redeliver();
    expect(await sanctionsOf(d.org.id)).to.have.length(2);
    expect(await notices(d, 'credit.sanction_applied')).to.equal(2);
    expect((await d.api().get('/api/v1/credit/gate').expect(200)).body.refusal.code).to.equal('DISTRIBUTOR_SUSPENDED');
  });

  it('notifies the distributor and the operators once when the facts of a manual breach are redelivered', async () => {
    const d = await buildTradingDistributor();
    const op = await creditOperator();
    const breach = await withLostDispatch(() => recordManualBreach(d.org.id, { points: 35 }));
    expect(await Breach.countDocuments({ _id: new Types.ObjectId(breach.id) }), 'the breach itself is committed').to.equal(1);
    const [warning, ...none] = await sanctionsOf(d.org.id);
    expect(none, 'and so is its one sanction').to.have.length(0);
    const operatorNotice = () => Notification.countDocuments({ userId: new Types.ObjectId(op.id), kind: 'credit.sanction_applied', dedupeKey: `sanction-opened:${String(warning!._id)}:operator` });
    for (const kind of ['credit.breach_recorded', 'credit.grade_changed', 'credit.sanction_applied']) expect(await notices(d, kind), kind).to.equal(0);
    expect(await operatorNotice()).to.equal(0);

    await redeliver();
    for (const kind of ['credit.breach_recorded', 'credit.grade_changed', 'credit.sanction_applied']) expect(await notices(d, kind), kind).to.equal(1);
    expect(await operatorNotice()).to.equal(1);

    await redeliver();
    for (const kind of ['credit.breach_recorded', 'credit.grade_changed', 'credit.sanction_applied']) expect(await notices(d, kind), kind).to.equal(1);
    expect(await operatorNotice()).to.equal(1);
  });

  it('pushes the recorded breach and the new standing once when the facts are redelivered', async () => {
    const d = await buildTradingDistributor();
    const socket = await connectSocket(d.token);
    try {
      const seen = collect(socket, ['credit:breach_recorded', 'credit:standing_changed']);
      const breach = await withLostDispatch(() => recordManualBreach(d.org.id, { points: 12 }));
      await pause(300);
      expect(seen['credit:breach_recorded'], 'no push before the redelivery').to.have.length(0);

      await redeliver();
      await eventually(async () => seen['credit:breach_recorded']!.length > 0 && seen['credit:standing_changed']!.length > 0, 5000, 'the pushes');
      await pause(300);
      expect(seen['credit:breach_recorded']).to.have.length(1);
      expect(seen['credit:breach_recorded']![0]).to.include({ id: breach.id, orgId: d.org.id, points: 12 });
      expect(seen['credit:standing_changed']).to.have.length(1);
      expect(seen['credit:standing_changed']![0]).to.include({ orgId: d.org.id, score: 88, grade: 'B', suspended: false });

      await redeliver();
      await pause(300);
      expect(seen['credit:breach_recorded']).to.have.length(1);
      expect(seen['credit:standing_changed']).to.have.length(1);
    } finally {
      socket.disconnect();
    }
  });

  it('withdraws the listings of a 特别严重失信 distributor once when the sanction is redelivered to the quotation module', async () => {
    const published = await publishRoundWithQuotes();
    const d = published.distributors[0]!;
    const drugId = published.lines[0]!.drugId;
    await withLostDispatch(() => recordManualBreach(d.org.id, { severity: 'especially_serious', level: 1, points: 40, description: '串通报价，经查实。' }));
    expect(await findListingEntry(drugId, d.org.id), 'still listed before the redelivery').to.not.equal(null);

    await redeliver();
    expect(await findListingEntry(drugId, d.org.id)).to.equal(null);
    const withdrawals = () => AuditEntry.countDocuments({ action: 'listing.withdraw_all', targetId: d.org.id });
    expect(await withdrawals()).to.equal(1);
    const withdrawal = (await Sanction.findOne({ orgId: new Types.ObjectId(d.org.id), kind: 'listing_withdrawal' }).lean<SanctionRow>())!;
    const fact = await OutboxEvent.findOne({ key: `sanction-opened:${String(withdrawal._id)}` }).lean<{ handled: string[] }>();
    expect(fact!.handled.filter((h) => h === 'quotation.withdraw-listings-of-sanctioned')).to.have.length(1);

    await redeliver();
    expect(await withdrawals()).to.equal(1);
  });

  it('schedules each sanction\'s expiry job once when the facts are redelivered', async () => {
    const d = await buildTradingDistributor();
    await withLostDispatch(() => recordManualBreach(d.org.id, { points: 45 }));
    const rows = await sanctionsOf(d.org.id);
    expect(rows.map((s) => s.kind)).to.deep.equal(['risk_warning', 'suspension']);
    for (const s of rows) expect(await testApp().platform.queues.getJob(expireSanctionJobId(String(s._id), s.endsAt)), `${s.kind} not yet scheduled`).to.equal(undefined);

    await redeliver();
    for (const s of rows) {
      const job = await testApp().platform.queues.getJob(expireSanctionJobId(String(s._id), s.endsAt));
      expect(job, `${s.kind} scheduled at its end`).to.not.equal(undefined);
      expect(await expiryJobsOf(String(s._id))).to.equal(1);
    }

    await redeliver();
    for (const s of rows) expect(await expiryJobsOf(String(s._id)), s.kind).to.equal(1);
  });
});

describe('credit: the sanction sweep', () => {
  const sweep = () => testApp().sweeper!.runOnce(creditModule.sweeps!.find((s) => s.name === 'credit.sanctions')!);

  it('expires a sanction whose expiry job was lost once its end has passed, once however often it runs', async () => {
    const d = await buildTradingDistributor();
    await recordManualBreach(d.org.id, { points: 45 });
    const suspension = (await sanctionsOf(d.org.id)).find((s) => s.kind === 'suspension')!;
    await testApp().relay.idle();
    const job = await testApp().platform.queues.getJob(expireSanctionJobId(String(suspension._id), suspension.endsAt));
    await job!.remove();

    await sweep();
    expect((await Sanction.findById(suspension._id).lean<SanctionRow>())!.expiredAt, 'not before its end').to.equal(undefined);

    testClock.advance(suspension.endsAt.getTime() - testClock.now().getTime() + MINUTE);
    await sweep();
    const expired = (await Sanction.findById(suspension._id).lean<SanctionRow>())!;
    expect(expired.expiredAt).to.be.instanceOf(Date);
    await settled();
    const id = String(suspension._id);
    expect(await OutboxEvent.countDocuments({ key: `sanction-expired:${id}` })).to.equal(1);
    expect(await AuditEntry.countDocuments({ action: 'credit.sanction.expire', targetId: id })).to.equal(1);
    expect(await Notification.countDocuments({ userId: new Types.ObjectId(d.id), kind: 'credit.sanction_expired', dedupeKey: `sanction-expired:${id}` })).to.equal(1);

    await sweep();
    await sweepSanctionExpiries();
    await settled();
    expect((await Sanction.findById(suspension._id).lean<SanctionRow>())!.expiredAt!.getTime()).to.equal(expired.expiredAt!.getTime());
    expect(await OutboxEvent.countDocuments({ key: `sanction-expired:${id}` })).to.equal(1);
    expect(await AuditEntry.countDocuments({ action: 'credit.sanction.expire', targetId: id })).to.equal(1);
    expect(await Notification.countDocuments({ userId: new Types.ObjectId(d.id), kind: 'credit.sanction_expired', dedupeKey: `sanction-expired:${id}` })).to.equal(1);
  });

  it('leaves a lifted sanction alone after its end', async () => {
    const d = await buildTradingDistributor();
    const op = await creditOperator();
    const breach = await recordManualBreach(d.org.id, { points: 45 });
    const appeal = await d.api().post(`/api/v1/credit/breaches/${breach.id}/appeal`, { statement: '记录有误。' }).expect(201);
    await op.api().post(`/api/v1/credit/appeals/${appeal.body.id}/decision`, { decision: 'void', reason: '经核实记录有误。' }).expect(200);
    const rows = await sanctionsOf(d.org.id);
    expect(rows.every((s) => s.liftedAt instanceof Date)).to.equal(true);
    testClock.advance(Math.max(...rows.map((s) => s.endsAt.getTime())) - testClock.now().getTime() + MINUTE);
    await sweep();
    const after = await sanctionsOf(d.org.id);
    expect(after.every((s) => s.expiredAt === undefined)).to.equal(true);
    expect(await OutboxEvent.countDocuments({ key: trusted({ $in: rows.map((s) => `sanction-expired:${String(s._id)}`) }) })).to.equal(0);
  });
});

describe('credit: messages', () => {
  it('words every credit notification and audit entry in Chinese and in English', async () => {
    const d = await buildTradingDistributor();
    takeMissingKeys();
    const breach = await recordManualBreach(d.org.id, { points: 45 });
    const rows = await Notification.find({ userId: new Types.ObjectId(d.id), kind: trusted({ $ne: 'credit.commitment_published' }) }).lean<{ kind: string; title: Message; body: Message }[]>();
    expect(rows.map((r) => r.kind).sort()).to.deep.equal(['credit.breach_recorded', 'credit.grade_changed', 'credit.sanction_applied', 'credit.sanction_applied']);
    const audits = await AuditEntry.find({ targetId: trusted({ $in: [breach.id, ...(await sanctionsOf(d.org.id)).map((s) => String(s._id))] }) }).lean<{ action: string; summary: Message }[]>();
    expect(audits.map((a) => a.action).sort()).to.deep.equal(['credit.breach.record', 'credit.sanction.open', 'credit.sanction.open']);
    const texts = [...rows.flatMap((r) => [r.title, r.body]), ...audits.map((a) => a.summary)];
    for (const lang of ['zh', 'en'] as const) {
      for (const m of texts) {
        const text = renderMessage(lang, m);
        expect(text, `${m.key} in ${lang}`).to.not.match(/\{\w+\}/);
        expect(text, `${m.key} in ${lang}`).to.not.equal(m.key);
      }
    }
    expect(renderMessage('zh', rows.find((r) => r.kind === 'credit.grade_changed')!.title)).to.equal('信用等级变更：A → D');
    expect(renderMessage('en', rows.find((r) => r.kind === 'credit.grade_changed')!.title)).to.equal('Credit grade changed: A → D');
    expect(takeMissingKeys().filter((k) => k.startsWith('credit.'))).to.deep.equal([]);
  });
});
