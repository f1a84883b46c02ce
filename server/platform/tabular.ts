// Reading uploaded CSV/XLSX tables for imports (catalogue, demand declarations, order lines …):
// the file becomes rows of trimmed cell text; each importer maps headers and checks the rows.
// Writing exports: every CSV and XLSX the app hands out is built here, so no cell becomes a formula.
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import ExcelJS from 'exceljs';
import { ValidationError } from './errors';
import { businessDay } from './time';
import { hasBadText } from './validate';
import { msg, type Message } from './messages';

/** One bad row (or cell) of an import, reported back to the user; row numbers are the file's. */
export interface ImportRowError {
  row: number;
  field?: string;
  code: string;
  message: Message;
}

/** An importer's columns: key, Chinese header, English header. */
export type ColumnSpec = readonly (readonly [key: string, zh: string, en: string])[];

/** Header text compared without BOM, spaces, brackets or case ("参考价（元）" ≈ "参考价(元)"). */
export function normaliseHeader(h: string): string {
  return h.replace(/^\uFEFF/, '').replace(/[\s（）()]/g, '').toLowerCase();
}

/** Maps a header cell to its column key by key, Chinese or English header, or an extra alias. */
export function headerMatcher<K extends string>(columns: readonly (readonly [K, string, string])[], aliases: Record<string, K> = {}): (header: string) => K | undefined {
  const map = new Map<string, K>();
  for (const [key, zh, en] of columns) for (const h of [key, zh, en]) map.set(normaliseHeader(h), key);
  for (const [alias, key] of Object.entries(aliases)) map.set(normaliseHeader(alias), key);
  return (header) => map.get(normaliseHeader(header));
}

/** The text of an XLSX cell: dates as Asia/Shanghai days, formulas by their result, rich text joined. */
export function cellText(value: ExcelJS.CellValue): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return businessDay(value);
  if (typeof value === 'object') {
    if ('text' in value && typeof value.text === 'string') return value.text;
    if ('result' in value) return cellText(value.result as ExcelJS.CellValue);
    if ('richText' in value) return value.richText.map((r) => r.text).join('');
    return '';
  }
  return String(value);
}

/**
 * Reads an uploaded .csv (UTF-8, BOM allowed) or .xlsx (first sheet) into rows of trimmed cell
 * text, the header row first; refuses other or unreadable files with a clear 400.
 */
export async function readTable(file: { buffer: Buffer; originalname: string }, minColumns = 0): Promise<string[][]> {
  const table = await readCells(file, minColumns);
  const bad = table.flatMap((row, r) => row.flatMap((cell, c) => (hasBadText(cell) ? [{ in: 'file', path: `row ${r + 1}, column ${c + 1}`, message: 'contains a NUL character or a broken Unicode character', code: 'invalid_characters' }] : [])));
  if (bad.length > 0) throw new ValidationError({ details: bad.slice(0, 50) });
  return table;
}

async function readCells(file: { buffer: Buffer; originalname: string }, minColumns: number): Promise<string[][]> {
  const name = file.originalname.toLowerCase();
  if (name.endsWith('.xlsx')) {
    const workbook = new ExcelJS.Workbook();
    try {
      await workbook.xlsx.load(file.buffer as unknown as ArrayBuffer);
    } catch {
      throw new ValidationError({ code: 'UNREADABLE_FILE', message: msg('errorCodes.UNREADABLE_FILE') });
    }
    const sheet = workbook.worksheets[0];
    if (!sheet) throw new ValidationError({ code: 'EMPTY_FILE', message: msg('errorCodes.EMPTY_FILE_4') });
    const table: string[][] = [];
    sheet.eachRow({ includeEmpty: true }, (row, rowNumber) => {
      const cells: string[] = [];
      for (let c = 1; c <= Math.max(row.cellCount, minColumns); c += 1) cells.push(cellText(row.getCell(c).value).trim());
      table[rowNumber - 1] = cells;
    });
    return Array.from(table, (r) => r ?? []);
  }
  if (name.endsWith('.csv') || name.endsWith('.txt')) {
    try {
      return parseCsv(file.buffer.toString('utf8').replace(/^\uFEFF/, ''), { relax_column_count: true, skip_empty_lines: false, trim: true }) as string[][];
    } catch (err) {
      throw new ValidationError({ code: 'UNREADABLE_FILE', message: msg('errorCodes.UNREADABLE_FILE_2', { value: '' }) });
    }
  }
  throw new ValidationError({ code: 'UNSUPPORTED_FILE', message: msg('errorCodes.UNSUPPORTED_FILE') });
}

/** A cell of an export: text, a number, or empty. */
export type ExportCell = string | number | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?\d+(\.\d+)?$/;

/**
 * A cell as it may be written: text that a spreadsheet would run as a formula (it starts with =, +,
 * -, @, tab or CR; OWASP "CSV injection") gets a leading apostrophe; numbers, and text that is just a
 * number such as "-12.50", stay as they are.
 */
export function safeCell(value: ExportCell): string | number {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return value;
  return FORMULA_START.test(value) && !PLAIN_NUMBER.test(value) ? `'${value}` : value;
}

/** A CSV download: UTF-8 with a BOM (spreadsheet programs then read the Chinese), every cell made safe. */
export function csvExport(header: readonly string[], rows: readonly (readonly ExportCell[])[]): Buffer {
  const text = stringify([header.map(safeCell), ...rows.map((r) => r.map(safeCell))]);
  return Buffer.concat([Buffer.from('\uFEFF', 'utf8'), Buffer.from(text, 'utf8')]);
}

/** An XLSX download of one sheet, bold header, every cell made safe; `textKeys` columns are text cells (leading zeros survive). */
export async function xlsxExport(
  sheetName: string,
  columns: readonly { key: string; header: string; width?: number; text?: boolean }[],
  rows: readonly (readonly ExportCell[])[],
): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.created = new Date(0);
  workbook.modified = new Date(0);
  const sheet = workbook.addWorksheet(sheetName);
  sheet.columns = columns.map((c) => ({ header: String(safeCell(c.header)), key: c.key, width: c.width ?? 18, ...(c.text ? { style: { numFmt: '@' } } : {}) }));
  for (const r of rows) sheet.addRow(r.map(safeCell));
  sheet.getRow(1).font = { bold: true };
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
