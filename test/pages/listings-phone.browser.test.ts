// The listings page at phone width with real listings on it: nothing sticks out past the screen.
import { expect } from 'chai';
import { buildUser } from '../support/factories';
import { overflowing, signIn, useBrowser } from '../support/browser';
import { publishRoundWithQuotes } from '../support/quotation-factories';

describe('listings at 390 px (browser)', function () {
  this.timeout(90_000);
  const browser = useBrowser();

  it('shows published listings with their order buttons without scrolling sideways, in both languages', async () => {
    const published = await publishRoundWithQuotes({ lines: 2, prices: [[195_000, 180_000], [190_000, null]] });
    const pharmacist = await buildUser('pharmacist');
    const { context, page, errors } = await browser.newPage();
    try {
      await page.setViewportSize({ width: 390, height: 844 });
      await signIn(page, pharmacist);
      for (const lang of ['zh', 'en']) {
        await page.goto(`/listings?roundId=${published.id}&lang=${lang}`);
        expect(await page.locator('[data-order-link]').count(), `${lang}: an order button per listing`).to.be.at.least(3);
        expect(await overflowing(page), `${lang}: elements past the right edge`).to.deep.equal([]);
        const sideways = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
        expect(sideways, `${lang}: the page scrolls sideways`).to.be.at.most(1);
      }
      expect(errors).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
