import { expect } from 'chai';
import { useBrowser } from '../support/browser';
import { buildPharmacist } from '../support/order-factories';

describe('pages: a form that only its page script sends never submits natively', function () {
  this.timeout(60_000);
  const browser = useBrowser();

  it('keeps the page where it is when Enter is pressed before the script ran, and the script still sends it after', async () => {
    const pharmacist = await buildPharmacist();
    const opened = await browser.pageAs(pharmacist);
    const { page } = opened;
    try {
      // The page script is held back, as on a slow connection: the form is there, its handler is not.
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      await page.route('**/static/pages/order-new.js', async (route) => {
        await held;
        await route.continue();
      });
      // NOTE: the held module script also holds DOMContentLoaded back, so the wait is for the form itself.
      await page.goto('/orders/new', { waitUntil: 'commit' });
      await page.waitForSelector('[data-drug-q]');
      let navigations = 0;
      page.on('framenavigated', (frame) => {
        if (frame === page.mainFrame()) navigations += 1;
      });
      await page.fill('[data-drug-q]', '尿激酶');
      await page.press('[data-drug-q]', 'Enter');
      await page.click('[data-drug-search] button[type=submit]');
      // A native submission would have gone to /orders/new?q=… by now; give it the time a reload takes.
      await page.waitForTimeout(500);
      expect(new URL(page.url()).search).to.equal('');
      expect(navigations).to.equal(0);

      release();
      await page.waitForLoadState('load');
      const searched = page.waitForResponse((r) => r.url().includes('/api/v1/') && r.request().method() === 'GET' && r.url().includes(encodeURIComponent('尿激酶')));
      await page.press('[data-drug-q]', 'Enter');
      expect((await searched).status()).to.equal(200);
      expect(new URL(page.url()).search).to.equal('');
    } finally {
      await opened.context.close();
    }
  });
});
