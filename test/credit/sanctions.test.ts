import { expect } from 'chai';
import request from 'supertest';
import { Types } from 'mongoose';
import { assertMayTrade, creditBadges } from '../../server/modules/credit';
import { Sanction } from '../../server/modules/credit/credit.model';
import { Notification } from '../../server/modules/notifications/notifications.model';
import { addMonths, addYears } from '../../server/platform/time';
import { findListingEntry } from '../../server/modules/quotation';
import { buildTradingDistributor, creditOperator, eventually, recordManualBreach } from '../support/credit-factories';
import { publishRoundWithQuotes } from '../support/quotation-factories';
import type { TestUser } from '../support/factories';
import { testApp, testClock } from '../support/global';

const DAY = 86_400_000;

interface SanctionRow {
  _id: Types.ObjectId;
  kind: string;
  reason: string;
  startsAt: Date;
  endsAt: Date;
  expiredAt?: Date;
  liftedAt?: Date;
  extensions: unknown[];
}

async function sanctionsOf(user: TestUser): Promise<SanctionRow[]> {
  return Sanction.find({ orgId: new Types.ObjectId(user.org.id) }).sort({ kind: 1 }).lean<SanctionRow[]>();
}

async function gateCode(orgId: string): Promise<string | null> {
  try {
    await assertMayTrade(orgId, 'quote');
    return null;
  } catch (err) {
    return (err as { code: string }).code;
  }
}

function near(a: Date, b: Date, ms = 5000) {
  expect(Math.abs(a.getTime() - b.getTime()), `${a.toISOString()} ≈ ${b.toISOString()}`).to.be.lessThan(ms);
}

describe('credit: grades and sanctions', () => {
  it('grade C: a risk warning for three months shown beside the distributor, trading still allowed', async () => {
    const d = await buildTradingDistributor();
    await recordManualBreach(d.org.id, { points: 35 });
    const badge = (await creditBadges([d.org.id])).get(d.org.id)!;
    expect(badge).to.deep.equal({ grade: 'C', score: 65, riskWarning: true, suspended: false });
    const [warning, ...rest] = await sanctionsOf(d);
    expect(rest).to.have.length(0);
    expect(warning).to.include({ kind: 'risk_warning', reason: 'GRADE_C' });
    near(warning!.endsAt, addMonths(warning!.startsAt, 3), 1);
    expect(await gateCode(d.org.id)).to.equal(null);
    expect(await Notification.countDocuments({ userId: new Types.ObjectId(d.id), kind: 'credit.sanction_applied' })).to.equal(1);
    expect(await Notification.countDocuments({ userId: new Types.ObjectId(d.id), kind: 'credit.grade_changed' })).to.equal(1);
  });

  it('grade D: suspended for six months, refused with the end date, open again exactly at the end, and the expiry job records it', async () => {
    const d = await buildTradingDistributor();
    await recordManualBreach(d.org.id, { points: 45 });
    const suspension = (await sanctionsOf(d)).find((s) => s.kind === 'suspension')!;
    expect(suspension).to.include({ reason: 'GRADE_D' });
    near(suspension.endsAt, addMonths(suspension.startsAt, 6), 1);
    expect((await creditBadges([d.org.id])).get(d.org.id)).to.include({ grade: 'D', suspended: true, riskWarning: true });

    const refusal = await d.api().get('/api/v1/credit/gate').expect(200);
    expect(refusal.body.mayTrade).to.equal(false);
    expect(refusal.body.refusal.code).to.equal('DISTRIBUTOR_SUSPENDED');
    expect(refusal.body.refusal.message).to.contain('暂停至');

    testClock.advance(suspension.endsAt.getTime() - testClock.now().getTime() - 1000);
    expect(await gateCode(d.org.id)).to.equal('DISTRIBUTOR_SUSPENDED');
    testClock.advance(1000);
    expect(await gateCode(d.org.id)).to.equal(null);
    expect((await creditBadges([d.org.id])).get(d.org.id)!.suspended).to.equal(false);

    const job = await testApp().platform.queues.queue.getJob(`credit-sanction-expire-${String(suspension._id)}-${suspension.endsAt.getTime()}`);
    expect(job, 'expiry job scheduled with a deterministic id').to.not.equal(undefined);
    await job!.promote();
    const expired = await eventually(async () => (await Sanction.findById(suspension._id).lean<SanctionRow>())?.expiredAt, 8000, 'expiry');
    expect(expired).to.be.instanceOf(Date);
    await eventually(() => Notification.exists({ userId: new Types.ObjectId(d.id), kind: 'credit.sanction_expired' }), 5000, 'expiry notice');
  });

  it('an expiry job that runs early changes nothing and stays scheduled', async () => {
    const d = await buildTradingDistributor();
    await recordManualBreach(d.org.id, { points: 45 });
    const suspension = (await sanctionsOf(d)).find((s) => s.kind === 'suspension')!;
    const queue = testApp().platform.queues.queue;
    await testApp().relay.idle();
    const job = await queue.getJob(`credit-sanction-expire-${String(suspension._id)}-${suspension.endsAt.getTime()}`);
    await job!.promote();
    await eventually(async () => (await job!.getState()) === 'completed', 8000, 'early job done');
    expect((await Sanction.findById(suspension._id).lean<SanctionRow>())!.expiredAt).to.equal(undefined);
    expect(await gateCode(d.org.id)).to.equal('DISTRIBUTOR_SUSPENDED');
    const delayed = await queue.getDelayed();
    const recheck = delayed.filter((j) => (j.data as { sanctionId?: string }).sanctionId === String(suspension._id));
    expect(recheck, 'a recheck stays scheduled for the end').to.have.length(1);
    // NOTE: BullMQ stamps jobs with the wall clock; the sanction's end is on the test clock.
    const clockAhead = testClock.now().getTime() - Date.now();
    near(new Date(recheck[0]!.timestamp + recheck[0]!.delay + clockAhead), suspension.endsAt, 2000);
  });

  it('严重失信: suspension and risk warning even while the grade is only C', async () => {
    const d = await buildTradingDistributor();
    await recordManualBreach(d.org.id, { code: 'VBP_SUPPLY_FAILURE', description: '中选后未按约定供应，医疗机构断供 7 日。' });
    const rows = await sanctionsOf(d);
    expect(rows.map((s) => `${s.kind}:${s.reason}`).sort()).to.deep.equal(['risk_warning:SERIOUS', 'suspension:SERIOUS']);
    expect((await creditBadges([d.org.id])).get(d.org.id)).to.deep.equal({ grade: 'C', score: 70, riskWarning: true, suspended: true });
  });

  it('特别严重失信 level 2: suspended for three years and listings withdrawn', async () => {
    const d = await buildTradingDistributor();
    await recordManualBreach(d.org.id, { severity: 'especially_serious', level: 2, points: 50, description: '经查实的商业贿赂，金额 60 万元。' });
    const rows = await sanctionsOf(d);
    const suspension = rows.find((s) => s.kind === 'suspension')!;
    const withdrawal = rows.find((s) => s.kind === 'listing_withdrawal')!;
    expect(suspension.reason).to.equal('ESPECIALLY_SERIOUS');
    near(suspension.endsAt, addYears(suspension.startsAt, 3), 1);
    expect(withdrawal.endsAt.getTime()).to.equal(suspension.endsAt.getTime());
    const pub = await testAppPublic(`/api/v1/credit/distributors/${d.org.id}`);
    expect(pub.activeSanctions.map((s: { kind: string }) => s.kind).sort()).to.deep.equal(['listing_withdrawal', 'risk_warning', 'suspension']);
  });

  it('特别严重失信 withdraws the distributor\'s published listings', async () => {
    const published = await publishRoundWithQuotes();
    const d = published.distributors[0]!;
    const drugId = published.lines[0]!.drugId;
    expect(await findListingEntry(drugId, d.org.id)).to.not.equal(null);
    await recordManualBreach(d.org.id, { severity: 'especially_serious', level: 1, points: 40, description: '串通报价，经查实。' });
    expect(await findListingEntry(drugId, d.org.id)).to.equal(null);
    const refused = await d.api().get('/api/v1/credit/gate').expect(200);
    expect(refused.body.refusal.code).to.equal('DISTRIBUTOR_SUSPENDED');
  });

  it('a further breach lengthens the sanction in force instead of opening a second one', async () => {
    const d = await buildTradingDistributor();
    await recordManualBreach(d.org.id, { points: 45 });
    testClock.advance(10 * DAY);
    await recordManualBreach(d.org.id, { points: 5 });
    const suspensions = (await sanctionsOf(d)).filter((s) => s.kind === 'suspension');
    expect(suspensions).to.have.length(1);
    expect(suspensions[0]!.extensions).to.have.length(1);
    near(suspensions[0]!.endsAt, addMonths(testClock.now(), 6));
  });

  it('uses the operator-set suspension period', async () => {
    const op = await creditOperator();
    await op.api().patch('/api/v1/credit/rules', { suspensionMonths: 2 }).expect(200);
    try {
      const d = await buildTradingDistributor();
      await recordManualBreach(d.org.id, { points: 45 });
      const suspension = (await sanctionsOf(d)).find((s) => s.kind === 'suspension')!;
      near(suspension.endsAt, addMonths(suspension.startsAt, 2), 1);
    } finally {
      await op.api().patch('/api/v1/credit/rules', { suspensionMonths: 6 }).expect(200);
    }
    await op.api().patch('/api/v1/credit/rules', { gradeThresholds: { A: 50, B: 75, C: 60 } }).expect(400);
    await op.api().patch('/api/v1/credit/rules', { suspensionMonths: 0 }).expect(400);
  });

  it('stops counting breaches older than the window', async () => {
    const d = await buildTradingDistributor();
    await recordManualBreach(d.org.id, { points: 20 });
    expect((await creditBadges([d.org.id])).get(d.org.id)!.score).to.equal(80);
    testClock.advance(366 * DAY);
    expect((await creditBadges([d.org.id])).get(d.org.id)!.score).to.equal(100);
  });
});

async function testAppPublic(path: string) {
  const res = await request(testApp().url).get(path).expect(200);
  return res.body;
}
