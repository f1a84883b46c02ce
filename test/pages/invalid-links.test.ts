import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { encodeCursor, encodeKeyCursor } from '../../server/platform/pagination';
import { buildOrg, buildUser, type TestUser } from '../support/factories';
import { testApp } from '../support/global';

const POOL = '安白彩达鹅飞钢红吉康蓝莫宁欧潘秦荣森涛王希阳泽';
const uniqueStem = (n = 7) => Array.from(randomBytes(n), (b) => POOL[b % POOL.length]).join('');

const NOTICE_ZH = '链接中的查找条件或翻页位置无效，下面显示的是第一页。';
const NOTICE_EN = 'The search or page in the link was not valid, so the first page is shown.';

/** GET a page with the user's session cookie (pages use the cookie, not the bearer token). */
function page(user: TestUser, path: string, lang: 'zh' | 'en' = 'zh') {
  return request(testApp().url).get(path).set('Cookie', `gpo_session=${user.token}; lang=${lang}`);
}

const rowIds = (html: string, attr: string) => [...html.matchAll(new RegExp(`<tr ${attr}="([a-f0-9]{24})"`, 'g'))].map((m) => m[1]);
/** A cursor that passes the shape check but does not decode (hand-edited or cut short). */
const BROKEN_CURSOR = Buffer.from('not-a-cursor').toString('base64url');

describe('pages: a link with a search or page that is not valid', () => {
  it('the admin organisations page shows the first unfiltered page and says the link was not valid', async () => {
    const stem = uniqueStem();
    const bank = await buildOrg({ type: 'bank', name: `${stem}银行` });
    const operator = await buildUser('operator');
    const first = await page(operator, '/admin/organisations').expect(200);
    expect(first.text).not.to.contain('data-invalid-link');

    for (const query of [`orgCursor=${BROKEN_CURSOR}`, `userCursor=${BROKEN_CURSOR}`, 'orgCursor=%24%24%24', 'orgType=pharmacy', `orgQ=${stem}&orgType=pharmacy`, `orgQ=${'x'.repeat(101)}`, `userQ=${'y'.repeat(101)}`]) {
      const res = await page(operator, `/admin/organisations?${query}`);
      expect(res.status, query).to.equal(200);
      expect(res.text, query).to.contain('data-invalid-link').and.contain(NOTICE_ZH);
      expect(rowIds(res.text, 'data-org-id'), query).to.deep.equal(rowIds(first.text, 'data-org-id'));
      expect(rowIds(res.text, 'data-user-id'), query).to.deep.equal(rowIds(first.text, 'data-user-id'));
      expect(res.text, query).to.contain('name="orgQ" maxlength="100" value=""');
    }
    const english = await page(operator, `/admin/organisations?orgCursor=${BROKEN_CURSOR}`, 'en').expect(200);
    expect(english.text).to.contain(NOTICE_EN);

    // Valid links say nothing: a search, and cursors that decode.
    const found = await page(operator, `/admin/organisations?orgQ=${encodeURIComponent(stem)}&orgType=bank`).expect(200);
    expect(found.text).not.to.contain('data-invalid-link');
    expect(rowIds(found.text, 'data-org-id')).to.deep.equal([bank.id]);
    const after = await page(operator, `/admin/organisations?orgQ=${encodeURIComponent(stem)}&orgCursor=${encodeKeyCursor(bank.name, bank.id)}&userCursor=${encodeCursor(new Date('2026-01-01T00:00:00Z'), bank.id)}`).expect(200);
    expect(after.text).not.to.contain('data-invalid-link');
    expect(rowIds(after.text, 'data-org-id')).to.deep.equal([]);
  });

  it('the finance overview shows the first unfiltered page of hospitals and says the link was not valid', async () => {
    const stem = uniqueStem();
    const hospital = await buildOrg({ type: 'hospital', name: `${stem}人民医院` });
    const operator = await buildUser('operator');
    const first = await page(operator, '/finance').expect(200);
    expect(first.text).not.to.contain('data-invalid-link');

    for (const query of [`cursor=${BROKEN_CURSOR}`, 'cursor=%2F%2F', `q=${encodeURIComponent(stem)}&cursor=${BROKEN_CURSOR}`, `q=${'x'.repeat(101)}`]) {
      const res = await page(operator, `/finance?${query}`);
      expect(res.status, query).to.equal(200);
      expect(res.text, query).to.contain('data-invalid-link').and.contain(NOTICE_ZH);
      expect(rowIds(res.text, 'data-hospital-id'), query).to.deep.equal(rowIds(first.text, 'data-hospital-id'));
      expect(res.text, query).to.contain('name="q" maxlength="100" value=""');
    }
    const english = await page(operator, `/finance?cursor=${BROKEN_CURSOR}`, 'en').expect(200);
    expect(english.text).to.contain(NOTICE_EN);

    const found = await page(operator, `/finance?q=${encodeURIComponent(stem)}`).expect(200);
    expect(found.text).not.to.contain('data-invalid-link');
    expect(rowIds(found.text, 'data-hospital-id')).to.deep.equal([hospital.id]);
    const after = await page(operator, `/finance?q=${encodeURIComponent(stem)}&cursor=${encodeKeyCursor(hospital.name, hospital.id)}`).expect(200);
    expect(after.text).not.to.contain('data-invalid-link');
    expect(rowIds(after.text, 'data-hospital-id')).to.deep.equal([]);
  });
});
