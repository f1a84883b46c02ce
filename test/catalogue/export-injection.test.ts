import ExcelJS from 'exceljs';
import { expect } from 'chai';
import { parse as parseCsv } from 'csv-parse/sync';
import { safeCell } from '../../server/platform/tabular';
import { binaryBody } from '../support/binary';
import { buildDrug, catalogueOperator } from '../support/quotation-factories';

function download(path: string) {
  return catalogueOperator().then((op) =>
    op
      .api()
      .get(path)
      .buffer(true)
      .parse(binaryBody),
  );
}

describe('exports never hand a spreadsheet a live formula', () => {
  it('neutralises text cells that start with =, +, -, @ in the catalogue CSV and XLSX, and keeps numbers as numbers', async () => {
    const tag = `公式${process.pid}${Math.floor(Math.random() * 1e6)}`;
    const evil = `=HYPERLINK("http://evil.example/${tag}","x")`;
    const drug = await buildDrug({ genericNameZh: evil, genericNameEn: `+cmd|' /C calc'!A0 ${tag}`, manufacturer: '@SUM(1+1)', specification: '-2+3', referencePriceFen: 289_000 });
    expect(drug.genericNameZh).to.equal(evil);

    const csv = await download(`/api/v1/catalogue/export?format=csv&q=${encodeURIComponent(tag)}`);
    expect(csv.status).to.equal(200);
    const rows = parseCsv((csv.body as Buffer).toString('utf8').replace(/^\uFEFF/, '')) as string[][];
    const row = rows.find((r) => r.includes(drug.nhsaCode))!;
    expect(row, JSON.stringify(rows)).to.exist;
    expect(row[0]).to.equal(`'${evil}`);
    expect(row[1]!.startsWith("'+cmd")).to.equal(true);
    expect(row).to.include("'@SUM(1+1)").and.include("'-2+3").and.include('2890.00');
    for (const cell of rows.flat()) expect(cell, cell).not.to.match(/^[=+\-@\t\r]/);

    const xlsx = await download(`/api/v1/catalogue/export?format=xlsx&q=${encodeURIComponent(tag)}`);
    expect(xlsx.status).to.equal(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.body as never);
    const sheet = wb.worksheets[0]!;
    expect(sheet.getRow(2).getCell(1).value).to.equal(`'${evil}`);
    sheet.eachRow((r) => r.eachCell((c) => expect(String(c.value)).not.to.match(/^[=+\-@\t\r]/)));
    expect(sheet.getRow(1).getCell(8).value).to.equal('医保药品代码');
    expect(sheet.getRow(2).getCell(8).value).to.equal(drug.nhsaCode);
    expect(sheet.getRow(2).getCell(8).numFmt).to.equal('@');
    expect(sheet.getRow(2).getCell(13).value).to.equal(2890);
    expect(sheet.getRow(2).getCell(13).numFmt).to.equal('#,##0.00');

    const english = await (await catalogueOperator())
      .api()
      .get(`/api/v1/catalogue/export?format=xlsx&q=${encodeURIComponent(tag)}`)
      .set('Accept-Language', 'en')
      .buffer(true)
      .parse(binaryBody);
    const enBook = new ExcelJS.Workbook();
    await enBook.xlsx.load(english.body as never);
    expect(enBook.worksheets[0]!.getRow(1).getCell(8).value).to.equal('NHSA drug code');
  });

  it('leaves numbers and plain negative amounts alone', () => {
    expect(safeCell(-1250)).to.equal(-1250);
    expect(safeCell('-12.50')).to.equal('-12.50');
    expect(safeCell('-1+1')).to.equal("'-1+1");
    expect(safeCell('\tx')).to.equal("'\tx");
    expect(safeCell('\r=1')).to.equal("'\r=1");
    expect(safeCell(null)).to.equal('');
  });
});
