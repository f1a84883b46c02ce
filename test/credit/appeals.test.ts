import { expect } from 'chai';
import { Types } from 'mongoose';
import { assertMayTrade, creditBadges } from '../../server/modules/credit';
import { Appeal, Breach, Repair, Sanction } from '../../server/modules/credit/credit.model';
import { Notification } from '../../server/modules/notifications/notifications.model';
import { expireSanctionJobId } from '../../server/modules/credit/credit.jobs';
import { buildTradingDistributor, creditOperator, eventually, recordManualBreach, settled, uploadEvidence } from '../support/credit-factories';
import { login } from '../../server/modules/identity';
import { apiWithToken, buildUser, type TestUser } from '../support/factories';
import { testApp, testClock } from '../support/global';

const DAY = 86_400_000;

async function mayTrade(orgId: string): Promise<string | null> {
  try {
    await assertMayTrade(orgId, 'confirm_order');
    return null;
  } catch (err) {
    return (err as { code: string }).code;
  }
}

/** Signs the distributor in again when the test clock moved beyond its session. */
async function freshSession(user: TestUser): Promise<TestUser> {
  const s = await login(user.email, user.password, { ip: 'test' });
  return { ...user, token: s.token, api: () => apiWithToken(s.token) };
}

describe('credit: appeals', () => {
  it('voids an appealed breach: it stops counting at once, the suspension it caused is lifted, and both sides are told', async () => {
    const d = await buildTradingDistributor();
    const op = await creditOperator();
    const breach = await recordManualBreach(d.org.id, { points: 45 });
    expect(await mayTrade(d.org.id)).to.equal('DISTRIBUTOR_SUSPENDED');

    const fileId = await uploadEvidence(d, 'appeal', { name: '签收单.png', type: 'image/png', content: Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(32)]) });
    const appeal = await d.api().post(`/api/v1/credit/breaches/${breach.id}/appeal`, { statement: '该订单已于规定时限内送达，附医院签收单。', fileIds: [fileId] }).expect(201);
    expect(appeal.body).to.include({ status: 'pending', breachId: breach.id });
    expect(appeal.body.files).to.have.length(1);
    expect((await Breach.findById(breach.id).lean<{ status: string }>())!.status).to.equal('appealed');
    expect((await creditBadges([d.org.id])).get(d.org.id)!.score, 'an appealed breach still counts').to.equal(55);
    await settled();
    expect(await Notification.countDocuments({ userId: new Types.ObjectId(op.id), kind: 'credit.appeal_submitted', dedupeKey: `appeal-submitted:${appeal.body.id}` })).to.equal(1);

    const decided = await op.api().post(`/api/v1/credit/appeals/${appeal.body.id}/decision`, { decision: 'void', reason: '签收单证明按时送达。' }).expect(200);
    expect(decided.body).to.include({ status: 'voided', decisionReason: '签收单证明按时送达。' });
    const stored = await Breach.findById(breach.id).lean<{ status: string; voidReason: string }>();
    expect(stored).to.include({ status: 'voided', voidReason: '签收单证明按时送达。' });
    expect((await creditBadges([d.org.id])).get(d.org.id)).to.deep.equal({ grade: 'A', score: 100, riskWarning: false, suspended: false });
    expect(await mayTrade(d.org.id)).to.equal(null);
    const lifted = await Sanction.find({ orgId: new Types.ObjectId(d.org.id) }).lean<{ liftedAt?: Date }[]>();
    expect(lifted.every((s) => s.liftedAt instanceof Date)).to.equal(true);
    await settled();
    expect(await Notification.countDocuments({ userId: new Types.ObjectId(d.id), kind: 'credit.appeal_decided' })).to.equal(1);
    expect(await Notification.countDocuments({ userId: new Types.ObjectId(d.id), kind: 'credit.sanction_lifted' })).to.be.greaterThan(0);
    const pub = await d.api().get('/api/v1/credit/public').expect(200);
    expect(pub.body.data.find((r: { orgId: string }) => r.orgId === d.org.id)).to.include({ grade: 'A', score: 100 });

    const again = await op.api().post(`/api/v1/credit/appeals/${appeal.body.id}/decision`, { decision: 'uphold', reason: '改判' }).expect(409);
    expect(again.body.error.code).to.equal('APPEAL_ALREADY_DECIDED');
  });

  it('voiding a 特别严重失信 breach lifts its years-long sanctions but keeps the distributor suspended for the grade D that remains', async () => {
    const d = await buildTradingDistributor();
    const op = await creditOperator();
    await recordManualBreach(d.org.id, { points: 45 });
    const severe = await recordManualBreach(d.org.id, { severity: 'especially_serious', level: 3, points: 20 });
    const appeal = await d.api().post(`/api/v1/credit/breaches/${severe.id}/appeal`, { statement: '该事项与我司无关。' }).expect(201);
    await op.api().post(`/api/v1/credit/appeals/${appeal.body.id}/decision`, { decision: 'void', reason: '经复核，事项不属实。' }).expect(200);
    const rows = await Sanction.find({ orgId: new Types.ObjectId(d.org.id) }).lean<{ kind: string; reason: string; liftedAt?: Date; endsAt: Date; startsAt: Date }[]>();
    const active = rows.filter((s) => !s.liftedAt);
    expect(rows.filter((s) => s.liftedAt).map((s) => `${s.kind}:${s.reason}`).sort()).to.deep.equal(['listing_withdrawal:ESPECIALLY_SERIOUS', 'suspension:ESPECIALLY_SERIOUS']);
    expect(active.map((s) => `${s.kind}:${s.reason}`).sort()).to.deep.equal(['risk_warning:GRADE_D', 'suspension:GRADE_D']);
    expect(await mayTrade(d.org.id)).to.equal('DISTRIBUTOR_SUSPENDED');
    expect((await creditBadges([d.org.id])).get(d.org.id)).to.include({ grade: 'D', score: 55, suspended: true });
  });

  it('upholds a breach: it keeps counting and cannot be appealed again', async () => {
    const d = await buildTradingDistributor();
    const op = await creditOperator();
    const breach = await recordManualBreach(d.org.id, { points: 10 });
    const appeal = await d.api().post(`/api/v1/credit/breaches/${breach.id}/appeal`, { statement: '我们认为记录有误。' }).expect(201);
    await op.api().post(`/api/v1/credit/appeals/${appeal.body.id}/decision`, { decision: 'uphold', reason: '医院提供的记录清楚表明延误。' }).expect(200);
    expect((await Breach.findById(breach.id).lean<{ status: string }>())!.status).to.equal('upheld');
    expect((await creditBadges([d.org.id])).get(d.org.id)!.score).to.equal(90);
    const res = await d.api().post(`/api/v1/credit/breaches/${breach.id}/appeal`, { statement: '再次申诉' }).expect(409);
    expect(res.body.error.code).to.equal('BREACH_NOT_APPEALABLE');
    expect(await Appeal.countDocuments({ breachId: new Types.ObjectId(breach.id) })).to.equal(1);
  });

  it('accepts an appeal on the last day of the period and refuses it the day after, storing nothing', async () => {
    const d = await buildTradingDistributor();
    const late = await buildTradingDistributor();
    const b1 = await recordManualBreach(d.org.id, { points: 5 });
    const b2 = await recordManualBreach(late.org.id, { points: 5 });
    const deadline = new Date(b1.appealDeadline);
    testClock.advance(deadline.getTime() - testClock.now().getTime() - 60_000);
    const dNow = await freshSession(d);
    await dNow.api().post(`/api/v1/credit/breaches/${b1.id}/appeal`, { statement: '最后一天提出申诉。' }).expect(201);
    testClock.advance(2 * 60_000);
    const lateNow = await freshSession(late);
    const res = await lateNow.api().post(`/api/v1/credit/breaches/${b2.id}/appeal`, { statement: '逾期申诉。' }).expect(422);
    expect(res.body.error.code).to.equal('APPEAL_DEADLINE_PASSED');
    expect(await Appeal.countDocuments({ breachId: new Types.ObjectId(b2.id) })).to.equal(0);
    expect((await Breach.findById(b2.id).lean<{ status: string }>())!.status).to.equal('active');
  });

  it('takes the appeal period from the platform settings', async () => {
    const op = await creditOperator();
    await op.api().patch('/api/v1/settings', { credit: { appealDays: 3 } }).expect(200);
    try {
      const d = await buildTradingDistributor();
      const b = await recordManualBreach(d.org.id, { points: 5 });
      const days = (new Date(b.appealDeadline).getTime() - testClock.now().getTime()) / DAY;
      expect(days).to.be.greaterThan(3).and.lessThan(4);
    } finally {
      await op.api().patch('/api/v1/settings', { credit: { appealDays: 15 } }).expect(200);
    }
  });

  it('refuses appeals by another distributor, by the operator, with bad input or foreign files, storing nothing', async () => {
    const d = await buildTradingDistributor();
    const other = await buildTradingDistributor();
    const op = await creditOperator();
    const breach = await recordManualBreach(d.org.id, { points: 5 });
    await other.api().post(`/api/v1/credit/breaches/${breach.id}/appeal`, { statement: '冒名申诉' }).expect(404);
    await op.api().post(`/api/v1/credit/breaches/${breach.id}/appeal`, { statement: '运营方' }).expect(403);
    await d.api().post(`/api/v1/credit/breaches/${breach.id}/appeal`, { statement: '' }).expect(400);
    await d.api().post(`/api/v1/credit/breaches/${breach.id}/appeal`, { statement: 'ok', extra: 1 }).expect(400);
    const foreign = await uploadEvidence(other, 'appeal');
    const res = await d.api().post(`/api/v1/credit/breaches/${breach.id}/appeal`, { statement: '附件不是我的', fileIds: [foreign] }).expect(400);
    expect(res.body.error.code).to.equal('FILE_NOT_FOUND');
    await d.api().post('/api/v1/credit/breaches/not-an-id/appeal', { statement: 'x' }).expect(400);
    expect(await Appeal.countDocuments({ breachId: new Types.ObjectId(breach.id) })).to.equal(0);
    await op.api().post(`/api/v1/credit/appeals/${new Types.ObjectId().toHexString()}/decision`, { decision: 'void', reason: 'x' }).expect(404);
    const appeal = await d.api().post(`/api/v1/credit/breaches/${breach.id}/appeal`, { statement: '正式申诉' }).expect(201);
    await op.api().post(`/api/v1/credit/appeals/${appeal.body.id}/decision`, { decision: 'maybe', reason: 'x' }).expect(400);
    await op.api().post(`/api/v1/credit/appeals/${appeal.body.id}/decision`, { decision: 'void' }).expect(400);
    await d.api().post(`/api/v1/credit/appeals/${appeal.body.id}/decision`, { decision: 'void', reason: '自己裁决' }).expect(403);
    expect((await Appeal.findById(appeal.body.id).lean<{ status: string }>())!.status).to.equal('pending');
  });
});

describe('credit: repair (信用修复)', () => {
  it('approves a repair only after the quiet period, restoring points that show in the history and lifting the risk warning that still runs', async () => {
    // NOTE: a grade-C risk warning runs three calendar months (89 to 92 days, by the month it starts
    // in); a 60-day quiet period ends while it certainly still runs, whatever the date.
    const op = await creditOperator();
    await op.api().patch('/api/v1/settings', { credit: { repairQuietDays: 60 } }).expect(200);
    try {
      await approveRepairWhileWarningRuns();
    } finally {
      await (await creditOperator()).api().patch('/api/v1/settings', { credit: { repairQuietDays: 90 } }).expect(200);
    }
  });

  async function approveRepairWhileWarningRuns(): Promise<void> {
    const d = await buildTradingDistributor();
    const op = await creditOperator();
    await recordManualBreach(d.org.id, { points: 30 });
    expect((await creditBadges([d.org.id])).get(d.org.id)!.grade).to.equal('C');
    const fileId = await uploadEvidence(d, 'repair', { name: 'report.txt', type: 'text/plain', content: Buffer.from('整改报告：已建立冷链复核制度。', 'utf8') });
    const repair = await d.api().post('/api/v1/credit/repairs', { report: '已完成整改：增加配送车辆，建立超时预警。', apology: '我司就配送延误向相关医疗机构公开致歉。', fileIds: [fileId] }).expect(201);
    expect(repair.body.status).to.equal('pending');
    expect(repair.body.eligibleFrom).to.be.a('string');
    const dup = await d.api().post('/api/v1/credit/repairs', { report: '重复', apology: '重复' }).expect(409);
    expect(dup.body.error.code).to.equal('REPAIR_ALREADY_PENDING');

    const early = await op.api().post(`/api/v1/credit/repairs/${repair.body.id}/decision`, { decision: 'approve', reason: '整改到位' }).expect(422);
    expect(early.body.error.code).to.equal('REPAIR_QUIET_PERIOD_NOT_OVER');
    expect((await Repair.findById(repair.body.id).lean<{ status: string }>())!.status).to.equal('pending');

    testClock.advance(61 * DAY);
    const op2 = await creditOperator();
    const tooMany = await op2.api().post(`/api/v1/credit/repairs/${repair.body.id}/decision`, { decision: 'approve', reason: '整改到位', pointsRestored: 31 }).expect(422);
    expect(tooMany.body.error.code).to.equal('TOO_MANY_POINTS');
    const ok = await op2.api().post(`/api/v1/credit/repairs/${repair.body.id}/decision`, { decision: 'approve', reason: '整改到位，恢复 20 分。', pointsRestored: 20 }).expect(200);
    expect(ok.body).to.include({ status: 'approved', pointsRestored: 20 });
    expect((await creditBadges([d.org.id])).get(d.org.id)).to.include({ score: 90, grade: 'A', riskWarning: false });
    const risk = await Sanction.findOne({ orgId: new Types.ObjectId(d.org.id), kind: 'risk_warning' }).lean<{ liftedAt?: Date }>();
    expect(risk!.liftedAt, 'the grade-C warning no longer holds').to.be.instanceOf(Date);
    const dNow = await freshSession(d);
    const trend = await dNow.api().get('/api/v1/credit/trend').expect(200);
    expect(trend.body.data.map((p: { score: number }) => p.score)).to.deep.equal([70, 90]);
    const history = await dNow.api().get('/api/v1/credit/repairs').expect(200);
    expect(history.body.data[0]).to.include({ status: 'approved', pointsRestored: 20 });
    await op2.api().post(`/api/v1/credit/repairs/${repair.body.id}/decision`, { decision: 'reject', reason: '再次' }).expect(409);
    await settled();
    expect(await Notification.countDocuments({ userId: new Types.ObjectId(d.id), kind: 'credit.sanction_lifted' })).to.equal(1);
  }

  it('a risk warning that ran its three months before the repair is approved ends as expired, not lifted', async () => {
    const d = await buildTradingDistributor();
    const breach = await recordManualBreach(d.org.id, { points: 30 });
    const warning = await Sanction.findOne({ orgId: new Types.ObjectId(d.org.id), kind: 'risk_warning' }).lean<{ _id: Types.ObjectId; endsAt: Date; startsAt: Date }>();
    expect(warning, 'grade C opens a risk warning').to.not.equal(null);
    const days = Math.round((warning!.endsAt.getTime() - warning!.startsAt.getTime()) / DAY);
    expect(days, 'three calendar months in Asia/Shanghai').to.be.within(89, 92);
    const repair = await d.api().post('/api/v1/credit/repairs', { report: '已完成整改。', apology: '公开致歉。' }).expect(201);

    // Past both the warning's end and the 90-day quiet period.
    const quietEnds = new Date(breach.occurredAt).getTime() + 90 * DAY;
    testClock.advance(Math.max(warning!.endsAt.getTime(), quietEnds) + 60_000 - testClock.now().getTime());
    await testApp().relay.idle();
    const job = await testApp().platform.queues.getJob(expireSanctionJobId(String(warning!._id), warning!.endsAt));
    expect(job, 'the expiry job scheduled with the warning').to.not.equal(undefined);
    await job!.promote();
    const expired = await eventually(async () => {
      const s = await Sanction.findById(warning!._id).lean<{ expiredAt?: Date; liftedAt?: Date }>();
      return s?.expiredAt ? s : null;
    }, 15_000, 'the warning to expire');
    expect(expired!.expiredAt).to.be.instanceOf(Date);

    const op = await creditOperator();
    await op.api().post(`/api/v1/credit/repairs/${repair.body.id}/decision`, { decision: 'approve', reason: '整改到位', pointsRestored: 20 }).expect(200);
    const after = await Sanction.findById(warning!._id).lean<{ expiredAt?: Date; liftedAt?: Date }>();
    expect(after!.liftedAt, 'nothing left to lift').to.equal(undefined);
    expect(after!.expiredAt!.getTime()).to.equal(expired!.expiredAt!.getTime());
    await settled();
    expect(await Notification.countDocuments({ userId: new Types.ObjectId(d.id), kind: 'credit.sanction_expired' })).to.equal(1);
    expect(await Notification.countDocuments({ userId: new Types.ObjectId(d.id), kind: 'credit.sanction_lifted' })).to.equal(0);
    expect((await creditBadges([d.org.id])).get(d.org.id)).to.include({ score: 90, grade: 'A', riskWarning: false });
  });

  it('a new breach restarts the quiet period', async () => {
    const d = await buildTradingDistributor();
    await recordManualBreach(d.org.id, { points: 10 });
    const repair = await d.api().post('/api/v1/credit/repairs', { report: '整改', apology: '致歉' }).expect(201);
    testClock.advance(60 * DAY);
    await recordManualBreach(d.org.id, { points: 2 });
    testClock.advance(40 * DAY);
    const op = await creditOperator();
    const res = await op.api().post(`/api/v1/credit/repairs/${repair.body.id}/decision`, { decision: 'approve', reason: '整改' }).expect(422);
    expect(res.body.error.code).to.equal('REPAIR_QUIET_PERIOD_NOT_OVER');
    testClock.advance(51 * DAY);
    const op2 = await creditOperator();
    const ok = await op2.api().post(`/api/v1/credit/repairs/${repair.body.id}/decision`, { decision: 'approve', reason: '整改到位' }).expect(200);
    expect(ok.body.pointsRestored, 'all deducted points by default').to.equal(12);
  });

  it('refuses a repair with nothing to repair or bad input, and rejects with reasons', async () => {
    const clean = await buildTradingDistributor();
    const res = await clean.api().post('/api/v1/credit/repairs', { report: '整改', apology: '致歉' }).expect(422);
    expect(res.body.error.code).to.equal('NOTHING_TO_REPAIR');
    expect(await Repair.countDocuments({ orgId: new Types.ObjectId(clean.org.id) })).to.equal(0);

    const d = await buildTradingDistributor();
    await recordManualBreach(d.org.id, { points: 10 });
    await d.api().post('/api/v1/credit/repairs', { report: '', apology: '致歉' }).expect(400);
    await d.api().post('/api/v1/credit/repairs', { report: '整改' }).expect(400);
    const pharmacist = await buildUser('pharmacist');
    await pharmacist.api().post('/api/v1/credit/repairs', { report: '整改', apology: '致歉' }).expect(403);
    expect(await Repair.countDocuments({ orgId: new Types.ObjectId(d.org.id) })).to.equal(0);

    const repair = await d.api().post('/api/v1/credit/repairs', { report: '整改', apology: '致歉' }).expect(201);
    const op = await creditOperator();
    await op.api().post(`/api/v1/credit/repairs/${repair.body.id}/decision`, { decision: 'reject', reason: 'x', pointsRestored: 5 }).expect(400);
    const rejected = await op.api().post(`/api/v1/credit/repairs/${repair.body.id}/decision`, { decision: 'reject', reason: '整改报告未说明具体措施。' }).expect(200);
    expect(rejected.body).to.include({ status: 'rejected', decisionReason: '整改报告未说明具体措施。' });
    expect((await creditBadges([d.org.id])).get(d.org.id)!.score).to.equal(90);
    await settled();
    expect(await Notification.countDocuments({ userId: new Types.ObjectId(d.id), kind: 'credit.repair_decided' })).to.equal(1);
  });

  it('adds bonus points up to the cap', async () => {
    const d = await buildTradingDistributor();
    const op = await creditOperator();
    await recordManualBreach(d.org.id, { points: 30 });
    await op.api().post('/api/v1/credit/bonuses', { orgId: d.org.id, points: 8, reason: '疫情期间保障短缺药品供应' }).expect(201);
    await op.api().post('/api/v1/credit/bonuses', { orgId: d.org.id, points: 8, reason: '偏远地区配送' }).expect(201);
    expect((await creditBadges([d.org.id])).get(d.org.id)!.score).to.equal(80);
    await op.api().post('/api/v1/credit/bonuses', { orgId: d.org.id, points: 0, reason: 'x' }).expect(400);
    await d.api().post('/api/v1/credit/bonuses', { orgId: d.org.id, points: 5, reason: '自评' }).expect(403);
  });
});
