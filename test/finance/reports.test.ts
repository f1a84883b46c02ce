import { expect } from 'chai';
import { createInvoiceFromAcceptance, hospitalPaymentRecords, monthlyArrears, payInvoice, settleInvoice } from '../../server/modules/finance';
import type { Actor } from '../../server/platform/auth';
import { addDays, addMonths, businessDay, parseBusinessDay } from '../../server/platform/time';
import { buildUser, type TestUser } from '../support/factories';
import { testClock } from '../support/global';
import { acceptanceInput, buildDistributorOrg, buildGuaranteedHospital, financeHooks } from '../support/finance-factories';

function actorOf(user: TestUser): Actor {
  return { id: user.id, sessionId: 'test', email: user.email, name: user.email, role: user.role, orgId: user.org.id, orgType: user.org.type, orgName: user.org.name };
}

describe('finance: reports for credit (on-time payment rate, monthly arrears)', function () {
  financeHooks();

  it('counts on-time payments and arrears per hospital, and ranks arrears within a hospital level', async () => {
    // A month at least 30 days ahead, so every invoice here falls due inside it.
    const monthStart = parseBusinessDay(`${businessDay(addMonths(testClock.now(), 2)).slice(0, 7)}-01`);
    const month = businessDay(monthStart).slice(0, 7);
    const dueOn2nd = addDays(monthStart, 1 - 30);
    const distributor = await buildDistributorOrg();

    const a = await buildGuaranteedHospital({ balanceFen: 30_000, limitFen: 1, hospitalLevel: 3 });
    const b = await buildGuaranteedHospital({ balanceFen: 0, limitFen: 1, hospitalLevel: 3 });
    const c = await buildUser('hospital_finance', { hospitalLevel: 2 });
    const invoice = async (hospital: string, amountFen: number) => (await createInvoiceFromAcceptance(acceptanceInput(hospital, distributor.id, amountFen, dueOn2nd))).invoiceId;

    const early = await invoice(a.hospital.org.id, 10_000);
    const covered = await invoice(a.hospital.org.id, 20_000);
    const short = await invoice(a.hospital.org.id, 15_000);
    const bOverdue = await invoice(b.hospital.org.id, 8_000);
    const cOverdue = await invoice(c.org.id, 4_000);
    await payInvoice(actorOf(a.hospital), early);

    testClock.advance(monthStart.getTime() + 3 * 86_400_000 - testClock.now().getTime());
    for (const id of [covered, short, bOverdue, cOverdue]) expect((await settleInvoice(id)).state).to.equal('settled');

    const hospitals = [a.hospital.org.id, b.hospital.org.id, c.org.id];
    const records = await hospitalPaymentRecords({ from: monthStart, to: testClock.now() }, hospitals);
    const ra = records.find((r) => r.hospitalOrgId === a.hospital.org.id)!;
    // The early payment and the fully covered settlement are on time; the third found the account empty
    // and the line too small, so all 15,000 went overdue.
    expect(ra).to.include({ invoicesDue: 3, paidOnTime: 2, onTimeRateBp: 6_667, dueFen: 45_000, arrearsFen: 15_000, arrearsRatioBp: 3_333 });
    expect(ra.onTimeRate).to.be.closeTo(0.6667, 1e-9);
    expect(records.find((r) => r.hospitalOrgId === b.hospital.org.id)).to.include({ invoicesDue: 1, paidOnTime: 0, arrearsFen: 8_000, arrearsRatioBp: 10_000 });

    const ranking = await monthlyArrears(month, hospitals);
    const byId = new Map(ranking.map((r) => [r.hospitalOrgId, r]));
    // The early payment was made before the month started, so it was never payable in the month.
    expect(byId.get(a.hospital.org.id)).to.include({ level: 3, payableFen: 35_000, arrearsFen: 15_000, arrearsRatioBp: 4_286, rankByAmount: 1, rankByRatio: 2 });
    expect(byId.get(b.hospital.org.id)).to.include({ level: 3, payableFen: 8_000, arrearsFen: 8_000, arrearsRatioBp: 10_000, rankByAmount: 2, rankByRatio: 1 });
    expect(byId.get(c.org.id)).to.include({ level: 2, arrearsFen: 4_000, rankByAmount: 1, rankByRatio: 1 });
    expect(ranking.map((r) => r.level)).to.deep.equal([3, 3, 2]);

    // The operator's report API says the same.
    const operator = await buildUser('operator');
    const api = await operator.api().get(`/api/v1/finance/reports/arrears?month=${month}`);
    expect(api.status).to.equal(200);
    expect(api.body.data.find((r: { hospitalOrgId: string }) => r.hospitalOrgId === b.hospital.org.id)).to.include({ arrearsFen: 8_000 });
    expect((await operator.api().get('/api/v1/finance/reports/arrears?month=2026-13')).status).to.equal(400);
    expect((await a.hospital.api().get(`/api/v1/finance/reports/arrears?month=${month}`)).status).to.be.oneOf([401, 403]);
  });

  it('counts an invoice due on the last day of a month and settled by the job just after midnight as paid in that month, not in its arrears', async () => {
    // The last day of a month two months ahead, in Asia/Shanghai; the invoice falls due at its end.
    const nextMonthStart = parseBusinessDay(`${businessDay(addMonths(testClock.now(), 3)).slice(0, 7)}-01`);
    const lastDay = addDays(nextMonthStart, -1);
    const month = businessDay(lastDay).slice(0, 7);
    const distributor = await buildDistributorOrg();
    const h = await buildGuaranteedHospital({ balanceFen: 50_000, limitFen: 1, hospitalLevel: 2 });
    const { invoiceId, dueAt } = await createInvoiceFromAcceptance(acceptanceInput(h.hospital.org.id, distributor.id, 12_000, addDays(lastDay, -30)));
    expect(businessDay(dueAt)).to.equal(businessDay(lastDay));

    // The job runs a few hundred milliseconds after the due instant, already in the next month.
    testClock.advance(dueAt.getTime() + 300 - testClock.now().getTime());
    expect(businessDay(testClock.now()).slice(0, 7)).to.not.equal(month);
    expect((await settleInvoice(invoiceId)).state).to.equal('settled');

    const [record] = await hospitalPaymentRecords({ from: addDays(lastDay, -40), to: testClock.now() }, [h.hospital.org.id]);
    expect(record).to.include({ invoicesDue: 1, paidOnTime: 1, arrearsFen: 0 });
    const [row] = await monthlyArrears(month, [h.hospital.org.id]);
    expect(row).to.include({ payableFen: 12_000, arrearsFen: 0, arrearsRatioBp: 0 });
  });
});
