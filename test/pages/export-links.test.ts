import ExcelJS from 'exceljs';
import { expect } from 'chai';
import request from 'supertest';
import { takeMissingKeys } from '../../server/platform/i18n';
import { businessDay } from '../../server/platform/time';
import { binaryBody } from '../support/binary';
import { buildUser, type TestUser } from '../support/factories';
import { buildGuaranteedHospital, financeHooks } from '../support/finance-factories';
import { testApp, testClock } from '../support/global';

function get(user: TestUser, path: string, lang: 'zh' | 'en') {
  return request(testApp().url)
    .get(path)
    .set('Cookie', `gpo_session=${user.token}; lang=${lang}`)
    .buffer(true)
    .parse(binaryBody);
}

/** The export link or button of a page: its URL and its label. */
function exportControl(html: string): { url: string; label: string } {
  const m = /<(?:a|button)[^>]*(?:href|formaction)="([^"]+)"[^>]*data-export-xlsx[^>]*>([^<]+)</.exec(html);
  expect(m, 'an export link on the page').to.exist;
  return { url: m![1]!.replace(/&amp;/g, '&'), label: m![2]!.trim() };
}

describe('pages: every list links to its Excel download, which opens for the signed-in user', () => {
  financeHooks();

  it('offers the download on the orders, KPI, invoices, statement, declarations and contracts pages, in the reader’s language', async () => {
    const g = await buildGuaranteedHospital();
    const pharmacist = await buildUser('pharmacist', { org: g.hospital.org });
    const today = businessDay(testClock.now());
    const cases: [TestUser, string, string, string][] = [
      [pharmacist, '/orders', '/api/v1/orders/export.xlsx', '订单号'],
      [pharmacist, '/orders/kpis', '/api/v1/orders/kpis/distributors/export.xlsx', '配送企业'],
      [g.hospital, '/finance/invoices', '/api/v1/finance/invoices/export.xlsx', '发票号'],
      [g.hospital, '/finance/account', '/api/v1/finance/statement.xlsx', '记账时间'],
      [g.operator, `/finance/hospitals/${g.hospital.org.id}`, '/api/v1/finance/statement.xlsx', '记账时间'],
      [pharmacist, '/vbp', '/api/v1/vbp/declarations/export.xlsx', '名称'],
      [pharmacist, '/vbp/contracts', '/api/v1/vbp/contracts/export.xlsx', '协议编号'],
    ];
    for (const [user, path, exportPath, firstHeader] of cases) {
      for (const lang of ['zh', 'en'] as const) {
        const pageRes = await get(user, path, lang);
        expect(pageRes.status, path).to.equal(200);
        const control = exportControl((pageRes.body as Buffer).toString('utf8'));
        expect(control.url.startsWith(exportPath), `${path}: ${control.url}`).to.equal(true);
        expect(control.label, path).to.match(lang === 'zh' ? /^(导出|下载).*Excel/ : /^(Export|Download).*Excel/);
        // NOTE: a form's button sends the form's fields; the statement form's are the period.
        const url = control.url.includes('?') || !exportPath.includes('statement') ? control.url : `${control.url}?from=${today}&to=${today}`;
        const file = await get(user, url, lang);
        expect(file.status, `${url}: ${String(file.body)}`).to.equal(200);
        const wb = new ExcelJS.Workbook();
        await wb.xlsx.load(file.body as never);
        const first = String(wb.worksheets[0]!.getRow(1).getCell(1).value);
        if (lang === 'zh') expect(first, url).to.equal(firstHeader);
        else expect(first, url).to.match(/^[\x20-\x7e]+$/);
      }
    }
    expect(takeMissingKeys()).to.deep.equal([]);
  });
});
