import { expect } from 'chai';
import { Drug } from '../../server/modules/catalogue';
import { nameSearchKeys } from '../../server/platform/search';
import { buildDrug, catalogueOperator } from '../support/quotation-factories';
import { buildUser } from '../support/factories';

// NOTE: the database is shared by the run; a random Chinese name keeps this test's initials its own.
const POOL = '安白彩达鹅飞钢红吉康蓝莫宁欧潘秦荣森涛王希阳泽';
const randomName = (n = 6) => Array.from({ length: n }, () => POOL[Math.floor(Math.random() * POOL.length)]).join('');

describe('catalogue search by pinyin', () => {
  it('stores the pinyin keys of a new drug and finds it by initials, full pinyin, a Chinese fragment or a code prefix', async () => {
    const name = `${randomName()}注射液`;
    const drug = await buildDrug({ genericNameZh: name });
    const stored = await Drug.findById(drug.id, { nameInitials: 1, namePinyin: 1 }).lean<{ nameInitials: string; namePinyin: string }>();
    expect(stored).to.include(nameSearchKeys(name));
    const pharmacist = await buildUser('pharmacist');
    const { nameInitials, namePinyin } = nameSearchKeys(name);
    for (const q of [nameInitials, nameInitials.toUpperCase(), namePinyin.slice(0, 12), name.slice(1, 5), drug.nhsaCode.slice(0, 24)]) {
      const res = await pharmacist.api().get(`/api/v1/catalogue/drugs?q=${encodeURIComponent(q)}&limit=200`);
      expect(res.status, q).to.equal(200);
      expect(res.body.data.map((d: { id: string }) => d.id), q).to.include(drug.id);
    }
  });

  it('renews the pinyin keys when a drug is renamed', async () => {
    const drug = await buildDrug({ genericNameZh: `${randomName()}片` });
    const op = await catalogueOperator();
    const renamed = `${randomName()}胶囊`;
    await op.api().patch(`/api/v1/catalogue/drugs/${drug.id}`, { genericNameZh: renamed }).expect(200);
    const stored = await Drug.findById(drug.id, { nameInitials: 1, namePinyin: 1 }).lean<{ nameInitials: string; namePinyin: string }>();
    expect(stored).to.include(nameSearchKeys(renamed));
    const res = await op.api().get(`/api/v1/catalogue/drugs?q=${nameSearchKeys(renamed).nameInitials}&limit=200`).expect(200);
    expect(res.body.data.map((d: { id: string }) => d.id)).to.include(drug.id);
  });

  it('treats a pattern typed into the search as literal text', async () => {
    const drug = await buildDrug({ genericNameZh: `${randomName()}滴眼液` });
    const pharmacist = await buildUser('pharmacist');
    for (const q of ['.*', '(', '[a-z]+', '\\', '^$']) {
      const res = await pharmacist.api().get(`/api/v1/catalogue/drugs?q=${encodeURIComponent(q)}&limit=200`);
      expect(res.status, q).to.equal(200);
      expect(res.body.data.map((d: { id: string }) => d.id), q).not.to.include(drug.id);
    }
  });

  it('refuses a search that is too long or carries unknown fields with a 400', async () => {
    const pharmacist = await buildUser('pharmacist');
    const long = await pharmacist.api().get(`/api/v1/catalogue/drugs?q=${'尿'.repeat(101)}`);
    expect(long.status).to.equal(400);
    const unknown = await pharmacist.api().get('/api/v1/catalogue/drugs?q=njm&nameInitials=njm');
    expect(unknown.status).to.equal(400);
    const operator = await pharmacist.api().get('/api/v1/catalogue/drugs?q[$regex]=.*');
    expect(operator.status).to.equal(400);
  });
});
