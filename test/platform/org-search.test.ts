import { expect } from 'chai';
import request from 'supertest';
import { Organisation } from '../../server/modules/identity';
import { nameSearchKeys } from '../../server/platform/search';
import { buildOrg, buildUser } from '../support/factories';
import { testApp } from '../support/global';

const POOL = '安白彩达鹅飞钢红吉康蓝莫宁欧潘秦荣森涛王希阳泽';
const randomName = (n = 6) => Array.from({ length: n }, () => POOL[Math.floor(Math.random() * POOL.length)]).join('');

interface Hit {
  id: string;
  name: string;
  type: string;
  label: string;
}
const ids = (body: { data: Hit[] }) => body.data.map((h) => h.id);

describe('organisations: type-ahead search and paged lists', () => {
  it('stores the pinyin keys of a new organisation and lets the operator find any type by initials, full pinyin or a fragment', async () => {
    const stem = randomName();
    const hospital = await buildOrg({ type: 'hospital', name: `${stem}人民医院` });
    const bank = await buildOrg({ type: 'bank', name: `${stem}银行` });
    const stored = await Organisation.findById(bank.id, { nameInitials: 1, namePinyin: 1 }).lean<{ nameInitials: string }>();
    expect(stored).to.include(nameSearchKeys(`${stem}银行`));
    const op = await buildUser('operator');
    const { nameInitials, namePinyin } = nameSearchKeys(stem);
    for (const q of [nameInitials, namePinyin, stem.slice(2), `${nameInitials}rmyy`]) {
      const res = await op.api().get(`/api/v1/organisations/search?q=${encodeURIComponent(q)}&limit=50`).expect(200);
      expect(ids(res.body), q).to.include(hospital.id);
    }
    const banks = await op.api().get(`/api/v1/organisations/search?q=${nameInitials}&type=bank&limit=50`).expect(200);
    expect(ids(banks.body)).to.include(bank.id).and.not.include(hospital.id);
    expect(banks.body.data.find((h: Hit) => h.id === bank.id)).to.deep.include({ name: `${stem}银行`, type: 'bank', label: `${stem}银行` });
  });

  it('lets a hospital find distributors and banks, never other hospitals', async () => {
    const stem = randomName();
    const distributor = await buildOrg({ type: 'distributor', name: `${stem}医药公司` });
    const otherHospital = await buildOrg({ type: 'hospital', name: `${stem}中心医院` });
    const pharmacist = await buildUser('pharmacist');
    const q = nameSearchKeys(stem).nameInitials;
    const any = await pharmacist.api().get(`/api/v1/organisations/search?q=${q}&limit=50`).expect(200);
    expect(ids(any.body)).to.include(distributor.id).and.not.include(otherHospital.id);
    expect(any.body.data.every((h: Hit) => h.type === 'distributor' || h.type === 'bank')).to.equal(true);
    const refused = await pharmacist.api().get(`/api/v1/organisations/search?q=${q}&type=hospital`);
    expect(refused.status).to.equal(403);
    expect(refused.body.error.code).to.equal('ORG_TYPE_NOT_SEARCHABLE');
  });

  it('lets a distributor find hospitals only, and a bank nobody', async () => {
    const stem = randomName();
    const hospital = await buildOrg({ type: 'hospital', name: `${stem}妇幼保健院` });
    const distributor = await buildUser('distributor');
    const found = await distributor.api().get(`/api/v1/organisations/search?q=${encodeURIComponent(stem)}&type=hospital`).expect(200);
    expect(ids(found.body)).to.deep.equal([hospital.id]);
    expect(found.body.data[0].label).to.contain(`${stem}妇幼保健院`).and.contain('二级医院');
    expect((await distributor.api().get('/api/v1/organisations/search?type=distributor')).status).to.equal(403);
    const bank = await buildUser('bank_officer');
    expect((await bank.api().get(`/api/v1/organisations/search?q=${encodeURIComponent(stem)}`)).status).to.equal(403);
    await request(testApp().url).get('/api/v1/organisations/search?q=a').expect(401);
  });

  it('refuses bad input with a 400 and stores nothing', async () => {
    const op = await buildUser('operator');
    const before = await Organisation.countDocuments({});
    for (const path of ['?type=pharmacy', '?limit=0', '?limit=51', `?q=${'x'.repeat(101)}`, '?q=a&name=b', '?q[$regex]=.*', '?type[$ne]=bank']) {
      const res = await op.api().get(`/api/v1/organisations/search${path}`);
      expect(res.status, path).to.equal(400);
      expect(res.body.error.code, path).to.be.a('string');
    }
    expect(await Organisation.countDocuments({})).to.equal(before);
  });

  it('pages the operator list by name and the user list by time, each with its own search', async () => {
    const stem = randomName(7);
    const made = [];
    for (const suffix of ['甲', '乙', '丙']) made.push(await buildOrg({ type: 'bank', name: `${stem}${suffix}银行` }));
    const op = await buildUser('operator');
    const first = await op.api().get(`/api/v1/organisations?q=${encodeURIComponent(stem)}&limit=2`).expect(200);
    expect(first.body.data).to.have.length(2);
    expect(first.body.nextCursor).to.be.a('string');
    const second = await op.api().get(`/api/v1/organisations?q=${encodeURIComponent(stem)}&limit=2&cursor=${first.body.nextCursor}`).expect(200);
    expect(second.body.data).to.have.length(1);
    expect(second.body.nextCursor).to.equal(null);
    const all = [...first.body.data, ...second.body.data].map((o: { id: string }) => o.id);
    expect(all.sort()).to.deep.equal(made.map((o) => o.id).sort());

    const hospital = await buildOrg({ type: 'hospital' });
    const u1 = await buildUser('pharmacist', { org: { id: hospital.id, name: hospital.name, type: 'hospital' } });
    const u2 = await buildUser('hospital_finance', { org: { id: hospital.id, name: hospital.name, type: 'hospital' } });
    const page1 = await op.api().get(`/api/v1/users?orgId=${hospital.id}&limit=1`).expect(200);
    expect(page1.body.data).to.have.length(1);
    const page2 = await op.api().get(`/api/v1/users?orgId=${hospital.id}&limit=1&cursor=${page1.body.nextCursor}`).expect(200);
    expect([page1.body.data[0].id, page2.body.data[0].id].sort()).to.deep.equal([u1.id, u2.id].sort());
    expect(page2.body.data[0].orgName).to.equal(hospital.name);
    const byEmail = await op.api().get(`/api/v1/users?q=${encodeURIComponent(u2.email.toUpperCase())}`).expect(200);
    expect(byEmail.body.data.map((u: { id: string }) => u.id)).to.deep.equal([u2.id]);

    // A Chinese name is found by its pinyin initials, its full pinyin and a fragment, in either case.
    const created = await op.api().post('/api/v1/users', { orgId: hospital.id, name: '欧阳娜娜', email: `oyn-${Date.now()}@test.gpo`, role: 'pharmacist', password: 'pw-ouyang-12345' }).expect(201);
    for (const q of ['oynn', 'OYN', 'ouyangna', '阳娜']) {
      const found = await op.api().get(`/api/v1/users?orgId=${hospital.id}&q=${encodeURIComponent(q)}`).expect(200);
      expect(found.body.data.map((u: { id: string }) => u.id), q).to.deep.equal([created.body.id]);
    }
    const none = await op.api().get(`/api/v1/users?orgId=${hospital.id}&q=${encodeURIComponent('.*')}`).expect(200);
    expect(none.body.data).to.deep.equal([]);
  });
});
