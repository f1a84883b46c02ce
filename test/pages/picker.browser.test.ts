import { expect } from 'chai';
import { nameSearchKeys } from '../../server/platform/search';
import { signIn, useBrowser } from '../support/browser';
import { recordManualBreach, signCommitment } from '../support/credit-factories';
import { buildOrg, buildUser } from '../support/factories';
import { buildPharmacist } from '../support/order-factories';
import { until } from '../support/wait';
import { buildDrug } from '../support/quotation-factories';

const POOL = '安白彩达鹅飞钢红吉康蓝莫宁欧潘秦荣森涛王希阳泽';
const randomName = (n = 6) => Array.from({ length: n }, () => POOL[Math.floor(Math.random() * POOL.length)]).join('');

describe('pages: the type-ahead picker', function () {
  this.timeout(90_000);
  const browser = useBrowser();

  it('a pharmacist finds a drug and a distributor by pinyin initials, chooses with the keyboard and places the order', async () => {
    const drugName = `${randomName()}注射液`;
    const distributorName = `${randomName()}医药有限公司`;
    const drug = await buildDrug({ genericNameZh: drugName, referencePriceFen: 12_345 });
    const org = await buildOrg({ type: 'distributor', name: distributorName });
    const distributor = await buildUser('distributor', { org: { id: org.id, name: org.name, type: 'distributor' } });
    await signCommitment(distributor);
    const pharmacist = await buildPharmacist();
    const { page, errors } = await browser.newPage();
    try {
      await signIn(page, pharmacist);
      await page.goto('/orders/new');
      // The drug search takes pinyin initials.
      await page.fill('[data-drug-q]', nameSearchKeys(drugName).nameInitials);
      await page.click('[data-drug-search] button[type=submit]');
      await page.click(`[data-drug-id="${drug.id}"]`);
      await page.waitForSelector('[data-catalogue-form]:visible');

      // The distributor picker: a labelled combobox; typing initials lists the match, the keys choose it.
      const input = page.locator('#catalogue-distributor');
      expect(await input.getAttribute('role')).to.equal('combobox');
      expect(await page.textContent('label[for="catalogue-distributor"]')).to.contain('配送企业');
      await input.click();
      await input.pressSequentially(nameSearchKeys(distributorName).nameInitials, { delay: 20 });
      const option = page.locator('#catalogue-distributor-listbox [role="option"]', { hasText: distributorName });
      await option.waitFor();
      // NOTE: on a loaded machine a search for the first letters may answer before the last one's.
      await until(async () => (await page.locator('#catalogue-distributor-listbox [role="option"]').count()) === 1, 8000, 'the answer to the whole input');
      expect(await input.getAttribute('aria-expanded')).to.equal('true');
      expect(await input.getAttribute('aria-activedescendant')).to.equal('catalogue-distributor-opt-0');
      // Each distributor shows its credit grade, as the listings table does.
      expect(await option.textContent()).to.contain('信用 A');
      expect(await option.getAttribute('aria-disabled')).to.equal(null);
      await input.press('Enter');
      expect(await input.inputValue()).to.equal(distributorName);
      expect(await page.textContent('[data-catalogue-grade]')).to.contain('信用 A');
      expect(await page.inputValue('[data-catalogue-form] input[type=hidden][name="distributorOrgId"]')).to.equal(org.id);
      expect(await page.locator('#catalogue-distributor-listbox').isHidden()).to.equal(true);
      expect(await page.textContent('[data-picker-status]')).to.contain(distributorName);

      await page.fill('[data-catalogue-qty]', '2');
      await page.click('[data-catalogue-form] button[type=submit]');
      expect(await page.textContent('[data-cart]')).to.contain(distributorName);
      expect(await page.textContent('[data-cart-total]')).to.equal('¥246.90');
      await Promise.all([page.waitForURL(/\/orders\/[a-f0-9]{24}$/), page.click('[data-place-order]')]);
      const orderId = page.url().split('/').pop()!;
      const order = await pharmacist.api().get(`/api/v1/orders/${orderId}`).expect(200);
      expect(order.body).to.include({ distributorOrgId: org.id, totalFen: 24_690 });
      expect(order.body.lines[0]).to.include({ drugId: drug.id, quantity: 2 });
      expect(errors).to.deep.equal([]);
    } finally {
      await page.context().close();
    }
  });

  it('the order form\'s distributor picker shows each grade and marks a suspended distributor, which cannot be chosen', async () => {
    const stem = randomName(7);
    const drug = await buildDrug({ genericNameZh: `${randomName()}胶囊`, referencePriceFen: 5_000 });
    const fairOrg = await buildOrg({ type: 'distributor', name: `${stem}甲医药公司` });
    const suspendedOrg = await buildOrg({ type: 'distributor', name: `${stem}乙医药公司` });
    for (const org of [fairOrg, suspendedOrg]) await signCommitment(await buildUser('distributor', { org: { id: org.id, name: org.name, type: 'distributor' } }));
    await recordManualBreach(fairOrg.id, { points: 20 });
    await recordManualBreach(suspendedOrg.id, { points: 45 });
    const pharmacist = await buildPharmacist();
    const { page, errors } = await browser.newPage({ locale: 'en-US' });
    try {
      await signIn(page, pharmacist);
      await page.goto(`/orders/new?drugId=${drug.id}&lang=en`);
      await page.waitForSelector('[data-catalogue-form]:visible');
      const input = page.locator('#catalogue-distributor');
      await input.click();
      await input.pressSequentially(nameSearchKeys(stem).nameInitials, { delay: 20 });
      const fair = page.locator('#catalogue-distributor-listbox [role="option"]', { hasText: fairOrg.name });
      const suspended = page.locator('#catalogue-distributor-listbox [role="option"]', { hasText: suspendedOrg.name });
      await until(async () => (await page.locator('#catalogue-distributor-listbox [role="option"]').count()) === 2 && (await fair.count()) === 1 && (await suspended.count()) === 1, 8000, 'both distributors listed');
      expect(await fair.textContent()).to.contain('Credit B');
      expect(await fair.getAttribute('aria-disabled')).to.equal(null);
      expect(await suspended.textContent()).to.contain('Credit D').and.contain('Suspended');
      expect(await suspended.getAttribute('aria-disabled')).to.equal('true');

      // Neither a click nor Enter chooses the suspended one; the status line says why.
      await suspended.click({ force: true });
      expect(await page.inputValue('[data-catalogue-form] input[type=hidden][name="distributorOrgId"]')).to.equal('');
      expect(await page.textContent('#catalogue-distributor ~ [data-picker-status]')).to.contain('cannot be chosen');
      const suspendedId = await suspended.getAttribute('id');
      for (let i = 0; i < 2 && (await input.getAttribute('aria-activedescendant')) !== suspendedId; i += 1) await input.press('ArrowDown');
      expect(await input.getAttribute('aria-activedescendant')).to.equal(suspendedId);
      await input.press('Enter');
      expect(await page.inputValue('[data-catalogue-form] input[type=hidden][name="distributorOrgId"]')).to.equal('');

      await fair.click();
      expect(await page.inputValue('[data-catalogue-form] input[type=hidden][name="distributorOrgId"]')).to.equal(fairOrg.id);
      expect(await page.textContent('[data-catalogue-grade]')).to.contain('Credit B');
      expect(errors).to.deep.equal([]);
    } finally {
      await page.context().close();
    }
  });

  it('the recall page picks a drug by search, in English too, and keeps it after the search', async () => {
    const drugName = `${randomName()}片`;
    const drug = await buildDrug({ genericNameZh: drugName });
    const pharmacist = await buildPharmacist();
    const { page, errors } = await browser.newPage({ locale: 'en-US' });
    try {
      await signIn(page, pharmacist);
      await page.goto('/orders/recall?lang=en');
      const input = page.locator('#recall-drug');
      expect(await page.textContent('#recall-drug-help')).to.contain('pinyin initials');
      await input.click();
      await input.pressSequentially(nameSearchKeys(drugName).namePinyin.slice(0, 10), { delay: 20 });
      await page.locator('#recall-drug-listbox [role="option"]', { hasText: drugName }).waitFor();
      await input.press('ArrowDown');
      await input.press('ArrowUp');
      const active = await input.getAttribute('aria-activedescendant');
      await page.locator(`#${active}`).waitFor();
      await page.locator('#recall-drug-listbox [role="option"]', { hasText: drugName }).click();
      expect(await page.inputValue('input[type=hidden][name="drugId"]')).to.equal(drug.id);
      await page.fill('#recall-batch', 'B1');
      await Promise.all([page.waitForURL(/drugId=/), page.click('[data-recall-form] button[type=submit]')]);
      expect(new URL(page.url()).searchParams.get('drugId')).to.equal(drug.id);
      expect(await page.inputValue('#recall-drug')).to.contain(drugName);
      expect(errors).to.deep.equal([]);
    } finally {
      await page.context().close();
    }
  });

  it('the operator picks the new user\'s organisation by pinyin; only the roles of its type stay choosable', async () => {
    const bankName = `${randomName(7)}银行`;
    const bank = await buildOrg({ type: 'bank', name: bankName });
    const operator = await buildUser('operator');
    const { page, errors } = await browser.newPage();
    try {
      await signIn(page, operator);
      await page.goto('/admin/organisations');
      // Nothing chosen: the browser refuses to submit the form.
      await page.fill('#user-name', '王行员');
      await page.fill('#user-email', `picker-${bank.id}@test.gpo`);
      await page.fill('#user-password', 'abcdefgh12345');
      await page.click('[data-user-form] button[type=submit]');
      expect(await page.evaluate(() => (document.querySelector('#user-org') as HTMLInputElement).validationMessage)).to.contain('请从列表中选择');
      expect(new URL(page.url()).pathname).to.equal('/admin/organisations');

      const input = page.locator('#user-org');
      await input.click();
      await input.pressSequentially(nameSearchKeys(bankName).nameInitials, { delay: 20 });
      await page.locator('#user-org-listbox [role="option"]', { hasText: bankName }).waitFor();
      await until(async () => (await page.locator('#user-org-listbox [role="option"]').count()) === 1, 8000, 'the answer to the whole input');
      await input.press('Enter');
      expect(await page.inputValue('[data-user-form] input[name="orgId"]')).to.equal(bank.id);
      expect(await page.inputValue('#user-role')).to.equal('bank_officer');
      const choosable = await page.$$eval('#user-role option', (os) => (os as HTMLOptionElement[]).filter((o) => o.value && !o.disabled).map((o) => o.value));
      expect(choosable).to.deep.equal(['bank_officer']);
      await Promise.all([page.waitForURL(/flash=userCreated/), page.click('[data-user-form] button[type=submit]')]);
      const users = await operator.api().get(`/api/v1/users?orgId=${bank.id}`).expect(200);
      expect(users.body.data.map((u: { email: string; role: string }) => [u.email, u.role])).to.deep.equal([[`picker-${bank.id}@test.gpo`, 'bank_officer']]);
      expect(errors).to.deep.equal([]);
    } finally {
      await page.context().close();
    }
  });

  it('without scripts, the recall page resolves the typed text to the first matching drug', async () => {
    const drugName = `${randomName(7)}颗粒`;
    const drug = await buildDrug({ genericNameZh: drugName });
    const pharmacist = await buildPharmacist();
    const res = await pharmacist.api().get(`/orders/recall?drugId=&drugIdText=${encodeURIComponent(nameSearchKeys(drugName).nameInitials)}&batchNo=B1`).expect(200);
    expect(res.text).to.contain(`value="${drug.id}"`);
  });
});
