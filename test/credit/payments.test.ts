import { expect } from 'chai';
import request from 'supertest';
import { businessDay } from '../../server/platform/time';
import { buildTradingDistributor } from '../support/credit-factories';
import { buildUser } from '../support/factories';
import { buildGuaranteedHospital, createInvoice, settled } from '../support/finance-factories';
import { testApp } from '../support/global';

// NOTE: amounts are huge so this run's hospitals top the rankings whatever other tests left behind.
const HUGE = 400_000_000_000;

describe('credit: hospital payment record', () => {
  it('shows on-time payment rates and ranks a month\'s arrears by hospital level, top 3 by amount and by ratio', async () => {
    const distributor = await buildTradingDistributor();
    const punctual = await buildGuaranteedHospital({ hospitalLevel: 3, balanceFen: 2_000_000, limitFen: 1_000_000 });
    const late3 = await buildUser('hospital_finance', { hospitalLevel: 3 });
    const later3 = await buildUser('hospital_finance', { hospitalLevel: 3 });
    const late2 = await buildUser('hospital_finance', { hospitalLevel: 2 });

    const paid = await createInvoice(punctual.hospital.org.id, distributor.org.id, 1_000_000, { dueInDays: -1 });
    await settled(String(paid._id));
    const a = await createInvoice(late3.org.id, distributor.org.id, HUGE, { dueInDays: -1 });
    await createInvoice(later3.org.id, distributor.org.id, HUGE + 1000, { dueInDays: -1 });
    await createInvoice(later3.org.id, distributor.org.id, HUGE, { dueInDays: 40 });
    await createInvoice(late2.org.id, distributor.org.id, HUGE / 2, { dueInDays: -1 });

    const record = await request(testApp().url).get('/api/v1/credit/hospital-payments').expect(200);
    const row = (id: string) => record.body.data.find((r: { hospitalOrgId: string }) => r.hospitalOrgId === id);
    expect(row(punctual.hospital.org.id)).to.include({ invoicesDue: 1, paidOnTime: 1, onTimeRateBp: 10_000, arrearsFen: 0, level: 3 });
    expect(row(late3.org.id)).to.include({ invoicesDue: 1, paidOnTime: 0, onTimeRateBp: 0, arrearsFen: HUGE, arrearsRatioBp: 10_000 });

    const month = businessDay(a.dueAt).slice(0, 7);
    const ranking = await request(testApp().url).get(`/api/v1/credit/arrears-ranking?month=${month}`).expect(200);
    const level3 = ranking.body.levels.find((l: { level: number }) => l.level === 3);
    expect(level3.byAmount.length).to.be.at.most(3);
    expect(level3.byAmount.slice(0, 2).map((r: { hospitalOrgId: string }) => r.hospitalOrgId)).to.deep.equal([later3.org.id, late3.org.id]);
    expect(level3.byAmount.some((r: { hospitalOrgId: string }) => r.hospitalOrgId === punctual.hospital.org.id)).to.equal(false);
    expect(level3.byRatio.length).to.be.at.most(3);
    const level2 = ranking.body.levels.find((l: { level: number }) => l.level === 2);
    expect(level2.byAmount[0].hospitalOrgId).to.equal(late2.org.id);

    await request(testApp().url).get('/api/v1/credit/arrears-ranking?month=2026-13').expect(400);
    await request(testApp().url).get('/api/v1/credit/hospital-payments?months=0').expect(400);

    const page = await request(testApp().url).get(`/credit/public?month=${month}`).expect(200);
    expect(page.text).to.contain(later3.org.name);
    expect(page.text).to.contain('三级医院');
  });
});
