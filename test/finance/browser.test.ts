import { expect } from 'chai';
import { signIn, useBrowser } from '../support/browser';
import { buildUser } from '../support/factories';
import { financeHooks } from '../support/finance-factories';

describe('finance: in the browser, a bank officer approves a line and the hospital sees its headroom', function () {
  this.timeout(90_000);
  financeHooks();
  const browser = useBrowser();

  it('hospital applies, bank reviews and approves with terms, hospital sees the available line and the agreement', async () => {
    const hospital = await buildUser('hospital_finance');
    const bank = await buildUser('bank_officer');

    const h = await browser.newPage();
    const b = await browser.newPage();
    try {
      // The hospital applies through the form; a bad amount is shown next to the field first.
      await signIn(h.page, hospital);
      await h.page.goto('/finance/lines');
      await h.page.selectOption('#apply-bank', bank.org.id);
      await h.page.fill('#apply-amount', '-100');
      await h.page.fill('#apply-term', '12');
      await Promise.all([h.page.waitForLoadState('load'), h.page.click('[data-apply-form] button[type=submit]')]);
      expect(await h.page.textContent('#apply-amount-error')).to.be.a('string').and.not.equal('');
      await h.page.fill('#apply-amount', '2,000,000.00');
      await Promise.all([h.page.waitForURL(/\/finance\/lines\/[a-f0-9]{24}/), h.page.click('[data-apply-form] button[type=submit]')]);
      expect(await h.page.textContent('[data-flash]')).to.contain('等待银行审批');

      // The bank officer finds the application, reviews and approves it.
      await signIn(b.page, bank);
      await b.page.goto('/finance/lines');
      const row = b.page.locator('[data-lines] tr[data-status="pending"]', { hasText: hospital.org.name });
      await Promise.all([b.page.waitForURL(/\/finance\/lines\/[a-f0-9]{24}/), row.locator('a').click()]);
      expect(await b.page.textContent('[data-review]')).to.contain('近 12 个月采购额');
      await b.page.fill('#approve-limit', '1,500,000.00');
      await b.page.fill('#approve-rate', '4.35');
      await b.page.fill('#approve-tenor', '90');
      await Promise.all([b.page.waitForLoadState('load'), b.page.click('[data-approve]')]);
      expect(await b.page.textContent('[data-flash]')).to.contain('三方担保支付协议');
      expect(await b.page.getAttribute('[data-line]', 'data-status')).to.equal('active');
      expect(await b.page.textContent('[data-limit]')).to.contain('¥1,500,000.00');

      // The hospital sees its headroom on the account page and can open the agreement.
      await h.page.goto('/finance/account');
      expect((await h.page.textContent('[data-headroom]'))?.trim()).to.equal('¥1,500,000.00');
      await h.page.goto('/finance/lines');
      expect((await h.page.textContent('[data-current-line] [data-headroom]'))?.trim()).to.equal('¥1,500,000.00');
      const pdf = await h.page.request.get(`/finance/lines/${await h.page.getAttribute('[data-current-line]', 'data-current-line')}/agreement.pdf`);
      expect(pdf.status()).to.equal(200);
      expect(pdf.headers()['content-type']).to.contain('application/pdf');

      // The bank's book lists the hospital with its line.
      await b.page.goto('/finance/hospitals');
      expect(await b.page.textContent('[data-bank-hospitals]')).to.contain(hospital.org.name);
      expect(h.errors).to.deep.equal([]);
      expect(b.errors).to.deep.equal([]);
    } finally {
      await h.context.close();
      await b.context.close();
    }
  });
});
