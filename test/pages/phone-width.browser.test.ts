import { expect } from 'chai';
import { overflowing, signIn, useBrowser } from '../support/browser';
import { buildOrderParties, deliveredOrder } from '../support/order-factories';

describe('order pages on a phone (390 px, browser)', function () {
  this.timeout(180_000);
  const browser = useBrowser();

  it('fits the order list, the new-order page and the order detail with its acceptance form into 390 px', async () => {
    const parties = await buildOrderParties({ drugs: 2 });
    const { order } = await deliveredOrder(parties, { quantity: 3 });
    const failures: string[] = [];
    for (const [user, paths] of [
      [parties.pharmacist, ['/orders', '/orders/new', `/orders/${order.id}`]],
      [parties.distributor, ['/orders', `/orders/${order.id}`]],
    ] as const) {
      const { context, page, errors } = await browser.newPage();
      try {
        await signIn(page, user);
        await page.setViewportSize({ width: 390, height: 844 });
        for (const p of paths) {
          for (const lang of ['zh', 'en']) {
            const res = await page.goto(`${p}?lang=${lang}`, { waitUntil: 'networkidle' });
            expect(res?.status(), p).to.be.below(400);
            const wide = await overflowing(page);
            if (wide.length) failures.push(`${user.role} ${p} ${lang}: ${wide.join('; ')}`);
          }
        }
        if (user === parties.pharmacist) {
          await page.goto(`/orders/${order.id}?lang=zh`);
          expect(await page.locator('form[data-accept-form], [data-acceptance], form[action*="accept"]').count(), 'the acceptance form is on the page').to.be.greaterThan(0);
        }
        expect(errors).to.deep.equal([]);
      } finally {
        await context.close();
      }
    }
    expect(failures, failures.join('\n')).to.deep.equal([]);
  });
});
