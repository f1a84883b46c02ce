import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { Organisation } from '../../server/modules/identity';
import { Order } from '../../server/modules/orders';
import { nameSearchKeys } from '../../server/platform/search';
import { recordManualBreach, signCommitment } from '../support/credit-factories';
import { buildOrg, buildUser, type TestUser } from '../support/factories';
import { testApp } from '../support/global';
import { buildPharmacist } from '../support/order-factories';

const POOL = '安白彩达鹅飞钢红吉康蓝莫宁欧潘秦荣森涛王希阳泽';
const uniqueStem = (n = 7) => Array.from(randomBytes(n), (b) => POOL[b % POOL.length]).join('');

interface Choice {
  id: string;
  name: string;
  label: string;
  credit: { grade: string; score: number; riskWarning: boolean; suspended: boolean } | null;
  trading: string;
}

async function buildDistributor(name: string): Promise<TestUser> {
  const org = await buildOrg({ type: 'distributor', name });
  const user = await buildUser('distributor', { org: { id: org.id, name: org.name, type: 'distributor' } });
  await signCommitment(user);
  return user;
}

const search = (user: TestUser, q: string) => user.api().get(`/api/v1/orders/distributors/search?q=${encodeURIComponent(q)}&limit=50`);

describe('orders: searching distributors to order from', () => {
  it('finds distributors by pinyin initials, full pinyin or a name fragment, each with its credit grade and trading status', async () => {
    const stem = uniqueStem();
    const good = await buildDistributor(`${stem}甲医药有限公司`);
    const fair = await buildDistributor(`${stem}乙医药有限公司`);
    const suspended = await buildDistributor(`${stem}丙医药有限公司`);
    const hospital = await buildOrg({ type: 'hospital', name: `${stem}人民医院` });
    await recordManualBreach(fair.org.id, { points: 20 });
    await recordManualBreach(suspended.org.id, { points: 45 });
    const pharmacist = await buildPharmacist();

    const { nameInitials, namePinyin } = nameSearchKeys(stem);
    for (const q of [nameInitials, namePinyin, stem.slice(1)]) {
      const res = await search(pharmacist, q).expect(200);
      const found = res.body.data as Choice[];
      expect(found.map((c) => c.id), q).to.have.members([good.org.id, fair.org.id, suspended.org.id]).and.not.include(hospital.id);
    }
    const found = (await search(pharmacist, nameInitials).expect(200)).body.data as Choice[];
    const byId = new Map(found.map((c) => [c.id, c]));
    expect(byId.get(good.org.id)).to.deep.include({ name: `${stem}甲医药有限公司`, label: `${stem}甲医药有限公司`, trading: 'open' });
    expect(byId.get(good.org.id)!.credit).to.include({ grade: 'A', riskWarning: false, suspended: false });
    expect(byId.get(fair.org.id)!.credit).to.include({ grade: 'B', suspended: false });
    expect(byId.get(fair.org.id)!.trading).to.equal('open');
    expect(byId.get(suspended.org.id)!.credit).to.include({ grade: 'D', suspended: true });
    expect(byId.get(suspended.org.id)!.trading).to.equal('suspended');
  });

  it('lets the hospital side and the operator search, and answers 403 to a distributor or a bank and 401 without a session', async () => {
    const stem = uniqueStem();
    const distributor = await buildDistributor(`${stem}医药公司`);
    for (const role of ['pharmacist', 'hospital_finance', 'operator'] as const) {
      const user = await buildUser(role);
      const res = await search(user, nameSearchKeys(stem).nameInitials);
      expect(res.status, role).to.equal(200);
      expect((res.body.data as Choice[]).map((c) => c.id), role).to.include(distributor.org.id);
    }
    for (const role of ['distributor', 'bank_officer'] as const) {
      const user = await buildUser(role);
      const res = await search(user, stem);
      expect(res.status, role).to.equal(403);
      expect(res.body.error.code, role).to.be.a('string');
    }
    await request(testApp().url).get(`/api/v1/orders/distributors/search?q=${encodeURIComponent(stem)}`).expect(401);
  });

  it('refuses bad input with a 400 and stores nothing', async () => {
    const pharmacist = await buildPharmacist();
    const [orgs, orders] = await Promise.all([Organisation.countDocuments({}), Order.countDocuments({ hospitalOrgId: pharmacist.org.id })]);
    for (const path of ['?limit=0', '?limit=51', '?limit=abc', `?q=${'x'.repeat(101)}`, '?q=a&type=hospital', '?q[$regex]=.*', '?q=a&q=b']) {
      const res = await pharmacist.api().get(`/api/v1/orders/distributors/search${path}`);
      expect(res.status, path).to.equal(400);
      expect(res.body.error.code, path).to.be.a('string');
      expect(res.body.error.message, path).to.be.a('string').and.not.equal('');
    }
    expect(await Organisation.countDocuments({})).to.equal(orgs);
    expect(await Order.countDocuments({ hospitalOrgId: pharmacist.org.id })).to.equal(orders);
  });
});
