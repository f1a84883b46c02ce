import { expect } from 'chai';
import mongoose, { Types } from 'mongoose';
import { creditBadges, rebuildStandingRecords } from '../../server/modules/credit';
import { Breach, StandingRecord, type StandingRecordDoc } from '../../server/modules/credit/credit.model';
import { getCreditRules, standingsFromHistory, standingsOf } from '../../server/modules/credit/credit.standing';
import { backfillStandingRecords } from '../../server/modules/credit/credit.standing-record';
import type { Logger } from '../../server/platform/logger';
import { login } from '../../server/modules/identity';
import { addMonths } from '../../server/platform/time';
import { buildTradingDistributor, creditOperator, settled, uploadEvidence } from '../support/credit-factories';
import { apiWithToken, type TestUser } from '../support/factories';
import { testClock } from '../support/global';

const DAY = 86_400_000;

/** Records a manual breach that occurred at `occurredAt`, through the API. */
async function breachAt(orgId: string, occurredAt: Date, opts: { code?: string; points?: number; severity?: 'shixin' | 'serious' | 'especially_serious'; level?: 1 | 2 | 3 } = {}) {
  const op = await creditOperator();
  const fileId = await uploadEvidence(op, 'breach_evidence');
  const res = await op
    .api()
    .post('/api/v1/credit/breaches', { orgId, code: opts.code ?? 'MANUAL', description: '经核实的医疗机构投诉。', fileIds: [fileId], occurredAt: occurredAt.toISOString(), ...opts })
    .expect(201);
  await settled();
  return res.body.breach as { id: string; occurredAt: string };
}

async function signedIn(user: TestUser): Promise<TestUser> {
  const s = await login(user.email, user.password, { ip: 'test' });
  return { ...user, token: s.token, api: () => apiWithToken(s.token) };
}

/** Instants around the moment something that happened at `t` leaves the window (or enters it). */
function edgesOf(t: Date, windowMonths: number): Date[] {
  const leaves = addMonths(t, windowMonths).getTime();
  return [t.getTime() - 1, t.getTime(), leaves - DAY, leaves - 1, leaves, leaves + 1, leaves + DAY].map((ms) => new Date(ms));
}

/** The standing from the record equals the one from the history, at `now` and at every instant given. */
async function expectSame(orgId: string, instants: Date[], what: string): Promise<void> {
  for (const at of [testClock.now(), ...instants]) {
    const [fast, full] = await Promise.all([standingsOf([orgId], at), standingsFromHistory([orgId], at)]);
    expect(fast.get(orgId), `${what} at ${at.toISOString()}`).to.deep.equal(full.get(orgId));
  }
  const badge = (await creditBadges([orgId])).get(orgId)!;
  const full = (await standingsFromHistory([orgId], testClock.now())).get(orgId)!;
  expect({ score: badge.score, grade: badge.grade }, `${what}: the badge`).to.deep.equal({ score: full.score, grade: full.grade });
}

/** The distributor's record exists and holds the whole window at `at` (so reads use it). */
async function expectRecordServes(orgId: string, at: Date = testClock.now()): Promise<StandingRecordDoc> {
  const record = await StandingRecord.findById(orgId).lean<StandingRecordDoc>();
  expect(record, 'a standing record').to.not.equal(null);
  const { windowMonths } = await getCreditRules();
  expect(record!.completeAfter.getTime(), 'the record reaches back to the window start').to.be.at.most(addMonths(at, -windowMonths).getTime());
  return record!;
}

describe('credit: standing records', () => {
  it('give exactly the standing computed from the history: breaches, appeals, a void, bonuses, a repair, window edges and rule changes', async () => {
    let d = await buildTradingDistributor();
    const orgId = d.org.id;
    const op = await creditOperator();
    const t0 = testClock.now();
    const a = await breachAt(orgId, new Date(t0.getTime() - 330 * DAY), { points: 12 });
    const b = await breachAt(orgId, new Date(t0.getTime() - 200 * DAY), { code: 'VBP_SUPPLY_FAILURE' });
    const c = await breachAt(orgId, new Date(t0.getTime() - 100 * DAY), { severity: 'especially_serious', level: 2, points: 5 });
    const e = await breachAt(orgId, new Date(t0.getTime() - DAY), { points: 8 });
    const instants = () => [a, b, c, e].flatMap((x) => edgesOf(new Date(x.occurredAt), 12));
    await expectRecordServes(orgId);
    await expectSame(orgId, instants(), 'four breaches');
    expect((await standingsOf([orgId], t0)).get(orgId)).to.include({ deductedPoints: 55, worstSeverity: 'especially_serious', especiallySeriousLevel: 2 });

    const appealC = await d.api().post(`/api/v1/credit/breaches/${c.id}/appeal`, { statement: '该事项与我司无关。' }).expect(201);
    await expectSame(orgId, instants(), 'an appealed breach');
    await op.api().post(`/api/v1/credit/appeals/${appealC.body.id}/decision`, { decision: 'void', reason: '经复核，事项不属实。' }).expect(200);
    await expectSame(orgId, instants(), 'a voided breach');
    expect((await standingsOf([orgId])).get(orgId)).to.include({ deductedPoints: 50, worstSeverity: 'serious', especiallySeriousLevel: 1 });
    const appealE = await d.api().post(`/api/v1/credit/breaches/${e.id}/appeal`, { statement: '已按时送达。' }).expect(201);
    await op.api().post(`/api/v1/credit/appeals/${appealE.body.id}/decision`, { decision: 'uphold', reason: '证据不足。' }).expect(200);
    await expectSame(orgId, instants(), 'an upheld breach');

    for (const points of [4, 8]) await op.api().post('/api/v1/credit/bonuses', { orgId, points, reason: '保供表现突出。' }).expect(201);
    await expectSame(orgId, instants(), 'bonuses over the cap');
    expect((await standingsOf([orgId])).get(orgId)!.bonusPoints).to.equal(10);

    // the oldest breach leaves the window, then a new one is recorded (the record drops nothing yet)
    testClock.set(new Date(addMonths(new Date(a.occurredAt), 12).getTime() + DAY));
    await expectSame(orgId, instants(), 'the oldest breach out of the window');
    const f = await breachAt(orgId, testClock.now(), { points: 3 });
    await expectSame(orgId, [...instants(), ...edgesOf(new Date(f.occurredAt), 12)], 'a breach recorded later');

    // after the quiet period a repair is approved; the record now drops the oldest breach
    testClock.advance(91 * DAY);
    d = await signedIn(d);
    const repair = await d.api().post('/api/v1/credit/repairs', { report: '已完成整改。', apology: '公开致歉。' }).expect(201);
    await (await creditOperator()).api().post(`/api/v1/credit/repairs/${repair.body.id}/decision`, { decision: 'approve', reason: '整改到位。', pointsRestored: 6 }).expect(200);
    const record = await expectRecordServes(orgId);
    expect(record.completeAfter.getTime(), 'the record no longer holds the oldest breach').to.equal(new Date(a.occurredAt).getTime());
    expect(record.entries.map((x) => x.kind).sort()).to.deep.equal(['bonus', 'bonus', 'breach', 'breach', 'breach', 'repair']);
    await expectSame(orgId, [...instants(), ...edgesOf(new Date(f.occurredAt), 12), new Date(t0.getTime() - 400 * DAY)], 'a repair, and instants before the record');
    expect((await standingsOf([orgId])).get(orgId)).to.include({ restoredPoints: 6 });

    const operator = await creditOperator();
    try {
      await operator.api().patch('/api/v1/credit/rules', { gradeThresholds: { A: 95, B: 80, C: 70 } }).expect(200);
      await expectSame(orgId, instants(), 'other grade bands');
      await operator.api().patch('/api/v1/settings', { credit: { windowMonths: 6, bonusCap: 5 } }).expect(200);
      await expectSame(orgId, [...instants(), ...[a, b, e, f].flatMap((x) => edgesOf(new Date(x.occurredAt), 6))], 'a shorter window and a lower cap');
      await operator.api().patch('/api/v1/settings', { credit: { windowMonths: 24 } }).expect(200);
      // until the rebuild the longer window is read from the history; after it, from the record again
      await expectSame(orgId, [a, b, e, f].flatMap((x) => edgesOf(new Date(x.occurredAt), 24)), 'a longer window');
      await settled();
      await expectRecordServes(orgId);
      await expectSame(orgId, [...instants(), ...[a, b, e, f].flatMap((x) => edgesOf(new Date(x.occurredAt), 24))], 'a longer window, rebuilt');
      expect((await standingsOf([orgId])).get(orgId)!.deductedPoints, 'the oldest breach counts again').to.equal(12 + 30 + 8 + 3);
    } finally {
      await operator.api().patch('/api/v1/settings', { credit: { windowMonths: 12, bonusCap: 10 } }).expect(200);
      await operator.api().patch('/api/v1/credit/rules', { gradeThresholds: { A: 90, B: 75, C: 60 } }).expect(200);
    }
  });

  it('are what reads use: a record that says otherwise is believed, and a rebuild from the history puts it right', async () => {
    const d = await buildTradingDistributor();
    await breachAt(d.org.id, testClock.now(), { points: 20 });
    await expectRecordServes(d.org.id);
    await StandingRecord.updateOne({ _id: new Types.ObjectId(d.org.id) }, { $set: { entries: [] } });
    expect((await creditBadges([d.org.id])).get(d.org.id)!.score, 'read from the record').to.equal(100);
    await rebuildStandingRecords([d.org.id]);
    expect((await creditBadges([d.org.id])).get(d.org.id)!.score).to.equal(80);
  });

  it('a distributor with history from before records is read in full until its record is built; concurrent changes keep the record whole', async () => {
    const d = await buildTradingDistributor();
    const oid = new Types.ObjectId(d.org.id);
    const at = testClock.now();
    await Breach.collection.insertOne({
      orgId: oid, orgName: d.org.name, code: 'MANUAL', zh: '其他', en: 'Other', severity: 'shixin', points: 15, occurredAt: new Date(at.getTime() - 10 * DAY), recordedAt: at,
      source: 'manual', sourceKey: `legacy-${String(oid)}`, description: '迁移前的记录', evidence: [], status: 'active', appealDeadline: at,
    } as never);
    expect(await StandingRecord.exists({ _id: oid })).to.equal(null);
    expect((await standingsOf([d.org.id])).get(d.org.id)!.score, 'read from the history').to.equal(85);

    const op = await creditOperator();
    const awarded = await Promise.all([1, 2, 3].map((points) => op.api().post('/api/v1/credit/bonuses', { orgId: d.org.id, points, reason: '保供表现突出。' })));
    expect(awarded.map((r) => r.status)).to.deep.equal([201, 201, 201]);
    await expectRecordServes(d.org.id);
    await expectSame(d.org.id, [new Date(at.getTime() - 11 * DAY), new Date(at.getTime() + 400 * DAY)], 'concurrent bonuses on a legacy history');
    expect((await standingsOf([d.org.id])).get(d.org.id)!.score).to.equal(91);
  });

  it('the start-up backfill builds a record for each distributor whose history has none', async () => {
    const d = await buildTradingDistributor();
    const clean = await buildTradingDistributor();
    const oid = new Types.ObjectId(d.org.id);
    const at = testClock.now();
    await Breach.collection.insertOne({
      orgId: oid, orgName: d.org.name, code: 'MANUAL', zh: '其他', en: 'Other', severity: 'serious', points: 30, occurredAt: new Date(at.getTime() - 40 * DAY), recordedAt: at,
      source: 'manual', sourceKey: `legacy-backfill-${String(oid)}`, description: '迁移前的记录', evidence: [], status: 'active', appealDeadline: at,
    } as never);
    const logged: unknown[] = [];
    await backfillStandingRecords({ info: (...args: unknown[]) => logged.push(args) } as unknown as Logger);
    const record = await expectRecordServes(d.org.id);
    expect(record.entries).to.have.length(1);
    expect(await StandingRecord.exists({ _id: new Types.ObjectId(clean.org.id) }), 'no record without history').to.equal(null);
    await expectSame(d.org.id, edgesOf(new Date(at.getTime() - 40 * DAY), 12), 'a backfilled record');
    expect((await standingsOf([d.org.id])).get(d.org.id)).to.include({ score: 70, worstSeverity: 'serious' });
    expect(logged).to.have.length(1);
  });

  it('a standing examines as many documents after ten times the breaches (the full recomputation grows)', async () => {
    const d = await buildTradingDistributor();
    const oid = new Types.ObjectId(d.org.id);
    const at = testClock.now();
    const addBreaches = async (n: number, from: number) => {
      await Breach.collection.insertMany(
        Array.from({ length: n }, (_, i) => ({
          orgId: oid, orgName: d.org.name, code: 'MANUAL', zh: '其他', en: 'Other', severity: 'shixin', points: 0, occurredAt: new Date(at.getTime() - (from + i + 1) * 3600_000), recordedAt: at,
          source: 'manual', sourceKey: `growth-${String(oid)}-${from + i}`, description: '增长', evidence: [], status: 'active', appealDeadline: at,
        })) as never,
      );
      await rebuildStandingRecords([d.org.id]);
    };
    const scanned = async () => Number(((await mongoose.connection.db!.admin().command({ serverStatus: 1 })) as { metrics: { queryExecutor: { scannedObjects: unknown } } }).metrics.queryExecutor.scannedObjects);
    /** documents examined by one read: the least over a few tries (background work reads too) */
    const examined = async (read: () => Promise<unknown>) => {
      let least = Infinity;
      for (let i = 0; i < 5; i += 1) {
        const before = await scanned();
        await read();
        least = Math.min(least, (await scanned()) - before);
      }
      return least;
    };
    await addBreaches(5, 0);
    const small = { fast: await examined(() => standingsOf([d.org.id])), full: await examined(() => standingsFromHistory([d.org.id])) };
    await addBreaches(45, 5);
    const large = { fast: await examined(() => standingsOf([d.org.id])), full: await examined(() => standingsFromHistory([d.org.id])) };
    expect(large.full - small.full, 'the measurement sees the history').to.be.at.least(45);
    expect(large.fast, 'the record read').to.equal(small.fast);
    await expectSame(d.org.id, [], 'fifty breaches');
  });
});
