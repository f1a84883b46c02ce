import { expect } from 'chai';
import { signIn, useBrowser } from '../support/browser';
import type { TestUser } from '../support/factories';
import { buildListing, buildOrderParties, buildPharmacist, confirm, nextYear, placeCatalogueOrder, shipAll, track, traceCodes } from '../support/order-factories';

describe('orders: in the browser, order → confirm → ship → accept across two roles', function () {
  this.timeout(90_000);
  const browser = useBrowser();

  it('a pharmacist orders from the cheapest listing, the distributor confirms and ships with codes, the pharmacist sees it live and accepts by scanning', async () => {
    const { drug, distributors } = await buildListing([210_000, 199_000]);
    const [dear, cheap] = distributors as [TestUser, TestUser];
    const pharmacist = await buildPharmacist();
    const ph = await browser.newPage();
    const di = await browser.newPage();
    try {
      // Pharmacist: find the drug, see the distributors cheapest first with credit grades, add the cheapest.
      await signIn(ph.page, pharmacist);
      await ph.page.goto('/orders/new');
      await ph.page.fill('[data-drug-q]', drug.genericNameZh);
      await ph.page.click('[data-drug-search] button[type=submit]');
      await ph.page.click(`[data-drug-id="${drug.id}"]`);
      await ph.page.waitForSelector('[data-listings] tbody tr');
      const order = await ph.page.$$eval('[data-listings] tbody tr', (rows) => rows.map((r) => r.getAttribute('data-listing-distributor')));
      expect(order).to.deep.equal([cheap.org.id, dear.org.id]);
      expect(await ph.page.textContent('[data-listings] tbody tr:first-child')).to.contain('¥1,990.00').and.contain('信用 A');
      await ph.page.fill('[data-listings] tbody tr:first-child input', '2');
      await ph.page.click(`[data-add-listing="${cheap.org.id}"]`);
      expect(await ph.page.textContent('[data-cart-total]')).to.equal('¥3,980.00');
      await ph.page.check('input[name="urgency"][value="urgent"]');
      await Promise.all([ph.page.waitForURL(/\/orders\/[a-f0-9]{24}$/), ph.page.click('[data-place-order]')]);
      const orderUrl = ph.page.url();
      expect(await ph.page.textContent('[data-order-status]')).to.contain('已下单');

      // Distributor: sees the incoming order, the payment-security panel, and confirms it.
      await signIn(di.page, cheap);
      await di.page.goto('/orders');
      const row = di.page.locator('[data-orders-table] tbody tr', { hasText: pharmacist.org.name });
      await Promise.all([di.page.waitForURL(orderUrl), row.locator('a').click()]);
      expect(await di.page.textContent('[data-payment-security]')).to.contain('付款');
      await Promise.all([di.page.waitForLoadState('load'), di.page.click('[data-confirm-submit]')]);
      await di.page.waitForSelector('[data-ship-form]');
      expect(await di.page.textContent('[data-order-status]')).to.contain('已确认');

      // The pharmacist's open page follows live.
      await ph.page.waitForFunction(() => document.querySelector('[data-order-status]')?.textContent?.includes('已确认'));

      // Distributor ships: a wrong code is shown next to the line, then the right codes go through.
      const codes = traceCodes(drug.tracePrefix, 2);
      await di.page.fill('#ship-carrier', '顺丰医药');
      await di.page.fill('#ship-tracking', 'SF0001');
      await di.page.fill('#ship-batch-1', 'B20260101');
      await di.page.fill('#ship-expiry-1', nextYear());
      await di.page.fill('#ship-codes-1', `${codes[0]}\n12345`);
      await di.page.click('[data-ship-submit]');
      await di.page.waitForSelector('[data-ship-form] [data-error-for="line-1"]:not([hidden])');
      expect(await di.page.textContent('[data-ship-form] [data-form-error]')).to.contain('20');
      await di.page.fill('#ship-codes-1', codes.join('\n'));
      await Promise.all([di.page.waitForLoadState('load'), di.page.click('[data-ship-submit]')]);
      await di.page.waitForSelector('[data-track-form]');

      // Tracking updates reach the pharmacist live.
      await di.page.selectOption('#track-kind', 'departed');
      await di.page.fill('#track-location', '广州白云仓');
      await Promise.all([di.page.waitForLoadState('load'), di.page.click('[data-track-submit]')]);
      await ph.page.waitForFunction(() => document.querySelector('[data-order-status]')?.textContent?.includes('运输中'), undefined, { timeout: 10_000 });
      await ph.page.waitForSelector('[data-tracking-list] li');
      expect(await ph.page.textContent('[data-tracking-list]')).to.contain('广州白云仓');
      await di.page.waitForSelector('[data-track-form]');
      await di.page.selectOption('#track-kind', 'delivered');
      await Promise.all([di.page.waitForLoadState('load'), di.page.click('[data-track-submit]')]);

      // Pharmacist accepts: the scanner "types" each code and Enter; an unknown code is flagged.
      await ph.page.waitForSelector('[data-accept-form]', { timeout: 10_000 });
      await ph.page.fill('[data-scan-input]', traceCodes(drug.tracePrefix, 1)[0]!);
      await ph.page.press('[data-scan-input]', 'Enter');
      expect(await ph.page.textContent('[data-scan-error]')).to.contain('不在本次发货中');
      for (const code of codes) {
        await ph.page.fill('[data-scan-input]', code);
        await ph.page.press('[data-scan-input]', 'Enter');
      }
      expect(await ph.page.textContent('[data-accept-line="1"] [data-accepted-qty]')).to.equal('2');
      await Promise.all([ph.page.waitForLoadState('load'), ph.page.click('[data-accept-submit]')]);
      await ph.page.waitForFunction(() => document.querySelector('[data-order-status]')?.textContent?.includes('已验收'));
      expect(await ph.page.textContent('[data-order-lines]')).to.contain('¥3,980.00');
      expect(ph.errors).to.deep.equal([]);
      expect(di.errors).to.deep.equal([]);
    } finally {
      await ph.context.close();
      await di.context.close();
    }
  });
});

describe('orders: in the browser, an order page catches up on changes made before its socket joined', function () {
  this.timeout(90_000);
  const browser = useBrowser();

  it('reloads when the state or the tracking changed between drawing the page and watching the order', async () => {
    const p = await buildOrderParties();
    const order = await placeCatalogueOrder(p);
    await confirm(p.distributor, order.id);
    await shipAll(p.distributor, await (await p.pharmacist.api().get(`/api/v1/orders/${order.id}`)).body, p.drugs);
    const ph = await browser.pageAs(p.pharmacist);
    // The page's live connection waits until the test lets it through.
    let letThrough!: () => void;
    const held = new Promise<void>((resolve) => {
      letThrough = resolve;
    });
    let connections = 0;
    await ph.page.routeWebSocket(/\/socket\.io\//, async (ws) => {
      connections += 1;
      await held;
      ws.connectToServer();
    });
    try {
      await ph.page.goto(`/orders/${order.id}`);
      expect(await ph.page.textContent('[data-order-status]')).to.contain('已发货');
      // A change the page never gets a push for: it happens before the page watches the order.
      await track(p.distributor, order.id, 'departed', { location: '广州白云仓' });
      letThrough();
      await ph.page.waitForFunction(() => document.querySelector('[data-order-status]')?.textContent?.includes('运输中'));
      await ph.page.waitForSelector('[data-tracking-list] li');
      expect(await ph.page.textContent('[data-tracking-list]')).to.contain('广州白云仓');

      // A tracking entry that leaves the state as it is (still in transit) is caught up the same way.
      const before = connections;
      let letThroughAgain!: () => void;
      const heldAgain = new Promise<void>((resolve) => {
        letThroughAgain = resolve;
      });
      await ph.page.routeWebSocket(/\/socket\.io\//, async (ws) => {
        connections += 1;
        await heldAgain;
        ws.connectToServer();
      });
      await ph.page.reload();
      await track(p.distributor, order.id, 'location', { location: '清远中转站' });
      letThroughAgain();
      await ph.page.waitForFunction(() => document.querySelector('[data-tracking-list]')?.textContent?.includes('清远中转站'));
      expect(connections).to.be.greaterThan(before);
      expect(await ph.page.textContent('[data-order-status]')).to.contain('运输中');
      expect(ph.errors).to.deep.equal([]);
    } finally {
      await ph.context.close();
    }
  });
});
