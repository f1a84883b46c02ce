import ExcelJS from 'exceljs';
import { expect } from 'chai';
import { RuleViolationError } from '../../server/platform/errors';
import { everyPage, xlsxSheet, type SheetSpec } from '../../server/platform/tabular';

interface Row {
  code: string;
  text: string;
  qty: number;
  fen: number;
  bp: number | null;
  at: string;
}

const spec: SheetSpec<Row> = {
  name: 'orders.export.sheet',
  columns: [
    { header: 'vbp.export.nhsaCode', kind: 'code', value: (r) => r.code },
    { header: 'orders.fields.note', kind: 'text', value: (r) => r.text },
    { header: 'orders.fields.quantity', kind: 'integer', value: (r) => r.qty },
    { header: 'orders.export.totalYuan', kind: 'money', value: (r) => r.fen },
    { header: 'orders.kpi.response', kind: 'percent', value: (r) => r.bp },
    { header: 'finance.fields.dueAt', kind: 'date', value: (r) => r.at },
    { header: 'orders.fields.placedAt', kind: 'datetime', value: (r) => r.at },
  ],
};

async function read(buffer: Buffer): Promise<ExcelJS.Worksheet> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buffer as never);
  return wb.worksheets[0]!;
}

describe('xlsxSheet: typed export columns', () => {
  it('writes codes as text, amounts in yuan, percentages, and Asia/Shanghai days and times as real dates', async () => {
    // 16:30 UTC on 28 February 2028 is 00:30 on the leap day in Shanghai.
    const rows: Row[] = [{ code: '00123456789012345678', text: '注射用尿激酶', qty: 12_000, fen: -289_000_05, bp: 9523, at: '2028-02-28T16:30:00.000Z' }];
    const sheet = await read(await xlsxSheet(spec, rows, 'zh'));
    expect(sheet.name).to.equal('订单');
    expect(sheet.getRow(1).values).to.deep.equal([undefined, '医保药品编码', '备注', '数量', '订单金额（元）', '订单响应率', '付款到期日', '下单时间']);
    const cells = [1, 2, 3, 4, 5, 6, 7].map((c) => sheet.getRow(2).getCell(c));
    expect(cells.map((c) => c.value)).to.deep.equal(['00123456789012345678', '注射用尿激酶', 12_000, -289_000.05, 0.9523, new Date('2028-02-29T00:00:00Z'), new Date('2028-02-29T00:30:00Z')]);
    expect(cells.map((c) => c.numFmt)).to.deep.equal(['@', '@', '#,##0', '#,##0.00', '0.00%', 'yyyy-mm-dd', 'yyyy-mm-dd hh:mm']);
    expect(sheet.getColumn(1).width).to.be.at.least(21);
  });

  it('neutralises text starting with =, +, -, @, tab or CR, keeps a plain negative number text, and leaves empty values empty', async () => {
    const texts = ['=1+1', '+cmd', '-2+3', '@SUM(A1)', '\t=1', '\r=1', '-12.50'];
    const rows = texts.map((text): Row => ({ code: `=${text}`, text, qty: 1, fen: 1, bp: null, at: 'not a date' }));
    const sheet = await read(await xlsxSheet(spec, rows, 'en'));
    expect(sheet.getRow(1).getCell(2).value).to.equal('Note');
    // NOTE: XML reads a raw CR back as LF; the leading apostrophe is what matters.
    const lf = (s: string) => s.replace(/\r/g, '\n');
    texts.forEach((text, i) => {
      const row = sheet.getRow(i + 2);
      expect(row.getCell(1).value).to.equal(lf(`'=${text}`));
      expect(row.getCell(2).value).to.equal(lf(text === '-12.50' ? text : `'${text}`));
      expect(row.getCell(2).type).to.equal(ExcelJS.ValueType.String);
      expect(row.getCell(5).value).to.equal(null);
      expect(row.getCell(6).value).to.equal(null);
    });
  });

  it('refuses more rows than the cap with EXPORT_TOO_LARGE, reading pages lazily', async () => {
    let pages = 0;
    const rows = everyPage(async (cursor) => {
      pages += 1;
      const n = Number(cursor ?? 0);
      return { data: [{ code: String(n), text: 'x', qty: n, fen: 0, bp: 0, at: '2028-01-01T00:00:00Z' }], nextCursor: n < 100 ? String(n + 1) : null };
    });
    const refused = await xlsxSheet(spec, rows, 'zh', 3).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).to.be.instanceOf(RuleViolationError);
    expect((refused as RuleViolationError).code).to.equal('EXPORT_TOO_LARGE');
    expect(pages).to.equal(4);
  });
});
