import { expect } from 'chai';
import { useBrowser } from '../support/browser';
import { creditOperator, recordManualBreach, buildTradingDistributor } from '../support/credit-factories';
import { buildUser } from '../support/factories';
import { buildOpenRound } from '../support/quotation-factories';

describe('credit: in the browser', function () {
  this.timeout(60_000);
  const browser = useBrowser();

  it('a distributor is refused a quote on the live board, reads and signs the commitment letter, and then quotes there', async () => {
    const round = await buildOpenRound({ referenceFen: 289_000, closesInMs: 10 * 60_000 });
    const d = await buildUser('distributor');
    await buildTradingDistributor(); // a version is in force
    const line = round.lines[0]!.lineId;
    const form = `[data-quote-form][data-line-id="${line}"]`;

    const { page, context, errors } = await browser.pageAs(d);
    try {
      await page.goto(`/rounds/${round.id}`);
      await page.waitForSelector('[data-board][data-live="true"]', { state: 'attached' });
      await page.fill(`${form} [data-price-input]`, '2500');
      await page.click(`${form} [data-quote-submit]`);
      await page.waitForSelector(`${form} [data-quote-error]:not([hidden])`);
      expect(await page.textContent(`${form} [data-quote-error]`)).to.match(/未签署第 \d+ 版违约惩戒承诺书/);

      await page.goto('/credit/commitment');
      expect(await page.getAttribute('[data-gate]', 'data-gate')).to.equal('closed');
      const letter = await page.textContent('[data-letter-text]');
      expect(letter).to.contain('违约惩戒承诺书');
      expect(letter).to.contain(d.org.name);
      expect(await page.isDisabled('[data-action="commitment-sign"]')).to.equal(true);
      await page.check('[data-agree]');
      await Promise.all([page.waitForSelector('[data-signed]'), page.click('[data-action="commitment-sign"]')]);
      expect(await page.getAttribute('[data-gate]', 'data-gate')).to.equal('open');
      const hash = (await page.textContent('[data-signed-hash]'))!.trim();
      expect(hash).to.match(/^[a-f0-9]{64}$/);
      expect(await page.getAttribute('[data-signed] a', 'href')).to.match(/\/pdf$/);

      await page.goto(`/rounds/${round.id}`);
      await page.waitForSelector('[data-board][data-live="true"]', { state: 'attached' });
      await page.fill(`${form} [data-price-input]`, '2500');
      await page.click(`${form} [data-quote-submit]`);
      await page.waitForFunction((sel) => document.querySelector(sel)?.textContent?.includes('¥2,500.00'), `tr[data-line-id="${line}"] [data-cell="own-price"]`);
      expect(errors).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });

  it('a distributor appeals with a file, sees a field error first, and the operator voids the breach from the management page', async () => {
    const d = await buildTradingDistributor();
    const op = await creditOperator();
    const breach = await recordManualBreach(d.org.id, { points: 10, description: '浏览器测试：投诉配送延误。' });

    const mine = await browser.pageAs(d);
    try {
      await mine.page.goto('/credit/mine');
      expect(await mine.page.textContent('[data-score]')).to.equal('90');
      const row = `#breach-${breach.id}`;
      await mine.page.click(`${row} details summary`);
      await mine.page.click(`${row} form button[type=submit]`);
      const fieldError = mine.page.locator(`${row} [data-error-for="statement"]`);
      await fieldError.waitFor({ state: 'visible' });
      expect(await fieldError.textContent()).to.equal('请填写此项');
      await mine.page.fill(`${row} textarea[name=statement]`, '订单已按时送达，附签收单。');
      await mine.page.setInputFiles(`${row} input[type=file]`, { name: '签收单.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n%signed\n%%EOF\n', 'latin1') });
      await Promise.all([mine.page.waitForEvent('load'), mine.page.click(`${row} form button[type=submit]`)]);
      const appealRow = mine.page.locator('#appeals tr[data-appeal-id]');
      expect(await appealRow.count()).to.equal(1);
      expect(await appealRow.textContent()).to.contain('签收单.pdf');
      expect(mine.errors).to.deep.equal([]);
    } finally {
      await mine.context.close();
    }

    const admin = await browser.pageAs(op);
    try {
      await admin.page.goto('/credit');
      const row = admin.page.locator('#appeals tr', { hasText: '订单已按时送达，附签收单。' });
      await row.locator('textarea[name=reason]').fill('签收单证明按时送达，撤销记录。');
      await Promise.all([admin.page.waitForEvent('load'), row.locator('button[value=void]').click()]);
      expect(admin.errors).to.deep.equal([]);
    } finally {
      await admin.context.close();
    }
    const standing = await d.api().get('/api/v1/credit/standing').expect(200);
    expect(standing.body.score).to.equal(100);
  });

  it('the operator records a manual breach with evidence from the management page, with errors shown next to the fields first', async () => {
    const d = await buildTradingDistributor();
    const op = await creditOperator();
    const admin = await browser.pageAs(op);
    try {
      await admin.page.goto('/credit');
      const form = admin.page.locator('#record form');
      await form.locator('button[type=submit]').click();
      await form.locator('[data-error-for="orgId"]').waitFor({ state: 'visible' });
      expect(await form.locator('[data-error-for="description"]').textContent()).to.equal('请填写此项');
      await form.locator('select[name=orgId]').selectOption(d.org.id);
      await form.locator('select[name=code]').selectOption('MANUAL');
      await form.locator('textarea[name=description]').fill('浏览器录入：医院投诉多次延误配送，经核实。');
      await form.locator('input[name=points]').fill('12');
      await form.locator('input[type=file]').setInputFiles({ name: '投诉核查记录.txt', mimeType: 'text/plain', buffer: Buffer.from('核查记录：三次延误。', 'utf8') });
      await Promise.all([admin.page.waitForEvent('load'), form.locator('button[type=submit]').click()]);
      // Back on the management page with no field errors. Its table holds the 30 most recently
      // recorded breaches of all distributors, which other tests that moved the clock forward can
      // fill, so the new breach is looked for on its distributor's own page.
      expect(new URL(admin.page.url()).pathname).to.equal('/credit');
      expect(await admin.page.locator('[data-error-for]:visible').count()).to.equal(0);
      expect(admin.errors).to.deep.equal([]);
    } finally {
      await admin.context.close();
    }
    const mine = await browser.pageAs(d);
    try {
      await mine.page.goto('/credit/mine');
      expect(await mine.page.locator('section[aria-labelledby="breaches-title"] tbody tr', { hasText: '浏览器录入' }).count()).to.equal(1);
      expect(mine.errors).to.deep.equal([]);
    } finally {
      await mine.context.close();
    }
    const breaches = await d.api().get('/api/v1/credit/breaches').expect(200);
    expect(breaches.body.data[0]).to.include({ points: 12, code: 'MANUAL' });
    expect(breaches.body.data[0].evidence[0].name).to.equal('投诉核查记录.txt');
  });
});
