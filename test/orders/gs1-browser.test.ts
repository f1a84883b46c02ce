import { expect } from 'chai';
import { signIn, useBrowser } from '../support/browser';
import { buildOrderParties, confirm, nextYear, placeCatalogueOrder, traceCodes } from '../support/order-factories';

const yymmdd = (isoDate: string) => isoDate.slice(2, 4) + isoDate.slice(5, 7) + isoDate.slice(8, 10);

describe('orders: the shipping form in the browser — prefix, count, a mark on every code, GS1 scans', function () {
  this.timeout(90_000);
  const browser = useBrowser();

  it('shows the product prefix and packs to scan, marks each code as it is typed, fills batch and expiry from a DataMatrix scan, and ships', async () => {
    const p = await buildOrderParties();
    const drug = p.drugs[0]!;
    const order = await confirm(p.distributor, (await placeCatalogueOrder(p, { quantity: 3 })).id);
    const di = await browser.newPage();
    try {
      await signIn(di.page, p.distributor);
      await di.page.goto(`/orders/${order.id}`);
      await di.page.waitForSelector('[data-ship-form]');
      const help = await di.page.textContent('[data-ship-line="1"] [data-ship-prefix]');
      expect(help).to.contain(drug.tracePrefix).and.contain('应扫 3 盒');
      expect(await di.page.inputValue('#ship-expiry-1')).to.equal(''); // no invented expiry

      const [a, b, c] = traceCodes(drug.tracePrefix, 3) as [string, string, string];
      const wrongPrefix = `9${a.slice(1)}`;
      await di.page.fill('#ship-codes-1', `${a}\n${wrongPrefix}\n123\n${a}`);
      const marks = () => di.page.$$eval('[data-ship-line="1"] [data-code-marks] li', (lis) => lis.map((li) => [li.getAttribute('data-code-mark'), li.textContent]));
      const m1 = await marks();
      expect(m1.map((x) => x[0])).to.deep.equal(['bad', 'bad', 'bad', 'bad']);
      expect(m1[0]![1]).to.contain('重复');
      expect(m1[1]![1]).to.contain(`前缀不是 ${drug.tracePrefix}`);
      expect(m1[2]![1]).to.contain('应为 20 位数字');
      expect(await di.page.textContent('[data-ship-line="1"] [data-codes-count]')).to.contain('0 / 3');

      // A DataMatrix scan: the serial is the code; batch and expiry come from the symbol.
      const expiry = nextYear();
      const scan = (serial: string) => `(01)0${drug.gtin!}(17)${yymmdd(expiry)}(10)LOT-DM(21)${serial}`;
      await di.page.fill('#ship-codes-1', [a, scan(b), scan(c)].join('\n'));
      const m2 = await marks();
      expect(m2.map((x) => x[0])).to.deep.equal(['ok', 'ok', 'ok']);
      expect(m2[1]![1]).to.contain(b).and.contain('LOT-DM').and.contain(expiry);
      expect(await di.page.inputValue('#ship-batch-1')).to.equal('LOT-DM');
      expect(await di.page.inputValue('#ship-expiry-1')).to.equal(expiry);
      expect(await di.page.textContent('[data-ship-line="1"] [data-filled-batch]')).to.contain('已按扫描填写');
      expect(await di.page.textContent('[data-ship-line="1"] [data-codes-count]')).to.contain('3 / 3');

      await di.page.fill('#ship-carrier', '国药物流');
      await di.page.fill('#ship-tracking', 'GY-DM-1');
      await Promise.all([di.page.waitForLoadState('load'), di.page.click('[data-ship-submit]')]);
      await di.page.waitForSelector('[data-track-form]');
      const shipment = await p.distributor.api().get(`/api/v1/orders/${order.id}/shipment`);
      expect(shipment.body.lines[0]).to.deep.include({ batchNo: 'LOT-DM', expiryDate: expiry, codes: [a, b, c] });
      expect(di.errors).to.deep.equal([]);
    } finally {
      await di.context.close();
    }
  });

  it('in English, the prefix line and the marks are English', async () => {
    const p = await buildOrderParties();
    const drug = p.drugs[0]!;
    const order = await confirm(p.distributor, (await placeCatalogueOrder(p, { quantity: 2 })).id);
    const di = await browser.newPage();
    try {
      await signIn(di.page, p.distributor);
      await di.page.goto(`/orders/${order.id}?lang=en`);
      await di.page.waitForSelector('[data-ship-form]');
      expect(await di.page.textContent('[data-ship-line="1"] [data-ship-prefix]')).to.contain(`Product prefix ${drug.tracePrefix}`).and.contain('2 packs to scan');
      await di.page.fill('#ship-codes-1', `${traceCodes(drug.tracePrefix, 1)[0]}\n(01)06901234567892(10)B1`);
      const texts = await di.page.$$eval('[data-ship-line="1"] [data-code-marks] li', (lis) => lis.map((li) => li.textContent ?? ''));
      expect(texts[0]).to.contain('valid');
      expect(texts[1]).to.contain('unreadable GS1 scan');
      expect(di.errors).to.deep.equal([]);
    } finally {
      await di.context.close();
    }
  });
});
