// Downloading an .xlsx export over HTTP and reading it back with exceljs.
import ExcelJS from 'exceljs';
import { expect } from 'chai';
import { t, type Lang } from '../../server/platform/i18n';
import { binaryBody } from './binary';
import type { TestUser } from './factories';

export interface Sheet {
  sheet: ExcelJS.Worksheet;
  /** the header row's texts */
  headers: string[];
  /** data rows (header row excluded), as exceljs cells by header text */
  rows: Map<string, ExcelJS.Cell>[];
}

/** GETs an export as `user` and returns the first sheet; fails unless it answers 200 with an .xlsx. */
export async function downloadXlsx(user: TestUser, path: string): Promise<Sheet> {
  const res = await user
    .api()
    .get(path)
    .buffer(true)
    .parse(binaryBody);
  expect(res.status, String(res.body)).to.equal(200);
  expect(res.headers['content-type']).to.match(/spreadsheetml/);
  expect(res.headers['content-disposition']).to.match(/^attachment; filename="[A-Za-z0-9._-]+\.xlsx"$/);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(res.body as never);
  const sheet = wb.worksheets[0]!;
  const headers: string[] = [];
  sheet.getRow(1).eachCell({ includeEmpty: true }, (c, n) => (headers[n - 1] = String(c.value ?? '')));
  const rows: Map<string, ExcelJS.Cell>[] = [];
  for (let r = 2; r <= sheet.rowCount; r += 1) {
    const row = sheet.getRow(r);
    rows.push(new Map(headers.map((h, i) => [h, row.getCell(i + 1)])));
  }
  return { sheet, headers, rows };
}

/** The header text of a catalogue key in a language. */
export const header = (lang: Lang, key: string): string => t(lang, key);

/** The sheet is laid out for reading: frozen bold header row with an autofilter over every column. */
export function expectReadableLayout(s: Sheet): void {
  expect(s.sheet.views[0]).to.include({ state: 'frozen', ySplit: 1 });
  expect(s.sheet.getRow(1).font?.bold).to.equal(true);
  expect(s.sheet.autoFilter).to.exist;
  s.headers.forEach((_, i) => expect(s.sheet.getColumn(i + 1).width ?? 0).to.be.greaterThan(7));
}

/** The wall-clock time an instant shows in Asia/Shanghai, as the UTC fields of a Date (how a cell holds it). */
export function shanghaiCell(iso: string): Date {
  return new Date(new Date(iso).getTime() + 8 * 3600_000);
}

/** A cell holds plain text (never a formula) equal to `text`. */
export function expectPlainText(cell: ExcelJS.Cell, text: string): void {
  expect(cell.type, `cell ${cell.address}`).to.equal(ExcelJS.ValueType.String);
  expect(cell.formula).to.equal(undefined);
  expect(cell.value).to.equal(text);
}
