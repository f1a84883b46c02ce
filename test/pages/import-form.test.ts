import { expect } from 'chai';
import { Drug } from '../../server/modules/catalogue';
import { signIn, useBrowser } from '../support/browser';
import { catalogueOperator, uniqueDrugCodes } from '../support/quotation-factories';

const header = '通用名,英文名,剂型,剂型类别,规格,包装单位,生产企业,医保药品代码,本位码,GTIN,追溯码前缀,类别,参考价（元）,生效日期';
const row = (name: string, price: string) => {
  const c = uniqueDrugCodes();
  return [name, `${name} EN`, '片剂', '口服固体', '10mg×50片', '盒', '页面导入制药', c.nhsaCode, c.standardCode, c.gtin, c.tracePrefix, '常规', price, '2026-01-01'].join(',');
};

describe('pages: CSV import with a per-row error report', function () {
  this.timeout(60_000);
  const browser = useBrowser();

  it('an operator uploads a file with one bad row: the report names the row and nothing is imported; a good file imports', async () => {
    const op = await catalogueOperator();
    const tag = `页面导入${Date.now().toString(36)}`;
    const { page, context, errors } = await browser.newPage();
    try {
      await signIn(page, op);
      await page.goto('/catalogue');
      const bad = [header, row(`${tag}甲`, '12.50'), row(`${tag}乙`, '-3')].join('\n');
      await page.setInputFiles('#import-file', { name: 'drugs.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
      await page.click('[data-import-form] button[value="false"]');
      await page.waitForSelector('[data-import-errors] tr[data-row="3"]');
      expect(await Drug.countDocuments({ genericNameZh: new RegExp(`^${tag}`) })).to.equal(0);

      const good = [header, row(`${tag}丙`, '12.50'), row(`${tag}丁`, '8.00')].join('\n');
      await page.setInputFiles('#import-file', { name: 'drugs.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
      await page.click('[data-import-form] button[value="false"]');
      await page.waitForSelector('[data-import-result] .alert--success');
      expect(await Drug.countDocuments({ genericNameZh: new RegExp(`^${tag}`) })).to.equal(2);
      expect(errors).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
