import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { useBrowser } from '../support/browser';
import type { TestUser } from '../support/factories';
import { buildDrug, buildOpenRound, catalogueOperator, tradingDistributors } from '../support/quotation-factories';

/** Waits until the page's socket has joined the round (the board answered its `round:watch`). */
async function boardReady(page: Page): Promise<void> {
  await page.waitForSelector('[data-board][data-live="true"]', { state: 'attached' });
}

describe('live board in the browser', function () {
  this.timeout(90_000);
  const browser = useBrowser();

  it('a distributor quotes on the live board and the operator board updates without a reload', async () => {
    const drug = await buildDrug({ genericNameZh: '注射用尿激酶', specification: '100,000 单位', referencePriceFen: 289_000 });
    const round = await buildOpenRound({ drugs: [drug], closesInMs: 10 * 60_000 });
    const [distributor, rival] = (await tradingDistributors(2)) as [TestUser, TestUser];
    const operator = await catalogueOperator();
    const op = await browser.pageAs(operator);
    const dist = await browser.pageAs(distributor);
    const other = await browser.pageAs(rival);
    try {
      await op.page.goto(`/rounds/${round.id}`);
      await dist.page.goto(`/rounds/${round.id}`);
      await other.page.goto(`/rounds/${round.id}`);
      for (const p of [op.page, dist.page, other.page]) await boardReady(p);
      await op.page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
      const line = round.lines[0]!.lineId;
      const form = `[data-quote-form][data-line-id="${line}"]`;

      // A price above the reference is refused next to the field and stores nothing.
      await dist.page.fill(`${form} [data-price-input]`, '3000');
      await dist.page.click(`${form} [data-quote-submit]`);
      await dist.page.waitForSelector(`${form} [data-quote-error]:not([hidden])`);
      expect(await dist.page.textContent(`${form} [data-quote-error]`)).to.match(/reference|参考价/);

      await dist.page.fill(`${form} [data-price-input]`, '1,950.00');
      await dist.page.click(`${form} [data-quote-submit]`);
      const opRanking = `tr[data-line-id="${line}"] [data-cell="ranking"]`;
      await op.page.waitForFunction((sel) => document.querySelector(sel)?.textContent?.includes('¥1,950.00'), opRanking);
      expect(await op.page.textContent(`tr[data-line-id="${line}"] [data-cell="best"]`)).to.equal('¥1,950.00');
      expect(await op.page.textContent(`tr[data-line-id="${line}"] [data-cell="count"]`)).to.equal('1');
      await dist.page.waitForFunction((sel) => document.querySelector(sel)?.textContent?.includes('¥1,950.00'), `tr[data-line-id="${line}"] [data-cell="own-price"]`);
      expect(await dist.page.textContent(`tr[data-line-id="${line}"] [data-cell="own-rank"]`)).to.include('1');

      // A rival undercuts: the first distributor's rank drops live, the operator sees both by alias.
      await other.page.fill(`${form} [data-price-input]`, '1900');
      await other.page.click(`${form} [data-quote-submit]`);
      await dist.page.waitForFunction((sel) => document.querySelector(sel)?.textContent?.includes('2'), `tr[data-line-id="${line}"] [data-cell="own-rank"]`);
      await op.page.waitForFunction((sel) => document.querySelectorAll(`${sel} li`).length === 2, opRanking);
      const ranking = await op.page.textContent(opRanking);
      expect(ranking).to.match(/¥1,900\.00[\s\S]*¥1,950\.00/);
      expect(ranking).to.not.include(distributor.org.name).and.not.include(rival.org.name);
      expect(await dist.page.textContent('body')).to.not.include(rival.org.name).and.not.include('1,900.00');
      expect(await op.page.evaluate(() => (window as unknown as { marker?: number }).marker)).to.equal(42);
      const countdown = await dist.page.textContent('[data-countdown]');
      expect(countdown).to.match(/^\d{2}:\d{2}:\d{2}$/);
      expect(op.errors).to.deep.equal([]);
      expect(dist.errors).to.deep.equal([]);
    } finally {
      await op.context.close();
      await dist.context.close();
      await other.context.close();
    }
  });
});
