// Reading uploaded CSV/XLSX tables for imports (catalogue, demand declarations, order lines …):
// the file becomes rows of trimmed cell text; each importer maps headers and checks the rows.
// Writing exports: every CSV and XLSX the app hands out is built here, so no cell becomes a formula.
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import ExcelJS from 'exceljs';
import { RuleViolationError, ValidationError } from './errors';
import { t, type Lang } from './i18n';
import { businessDay, shanghaiWallClock } from './time';
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

/**
 * How a column of a sheet is written: `text` and `code` are text cells (a code keeps its leading
 * zeros and all 20 digits), `integer` a whole number, `money` integer fen shown as yuan, `percent`
 * basis points shown as a percentage, `date` an Asia/Shanghai calendar day and `datetime` an
 * Asia/Shanghai date and time — the last two as real Excel dates.
 */
export type SheetColumnKind = 'text' | 'code' | 'integer' | 'money' | 'percent' | 'date' | 'datetime';

/** A cell value as a row gives it: an instant may be a Date or an ISO string. */
export type SheetValue = string | number | Date | null | undefined;

/** One column of an exported sheet; `header` is a message key, read in the reader's language. */
export interface SheetColumn<R> {
  header: string;
  kind: SheetColumnKind;
  value: (row: R) => SheetValue;
  width?: number;
}

/** A sheet: its name (a message key) and its columns. */
export interface SheetSpec<R> {
  name: string;
  columns: readonly SheetColumn<R>[];
}

/** The most rows one export holds; a larger list is refused and the reader narrows the filters. */
export const MAX_EXPORT_ROWS = 20_000;

const NUMBER_FORMAT: Record<SheetColumnKind, string> = {
  text: '@',
  code: '@',
  integer: '#,##0',
  money: '#,##0.00',
  percent: '0.00%',
  date: 'yyyy-mm-dd',
  datetime: 'yyyy-mm-dd hh:mm',
};

const MIN_WIDTH: Record<SheetColumnKind, number> = { text: 8, code: 10, integer: 8, money: 12, percent: 9, date: 12, datetime: 17 };
const MAX_WIDTH = 60;

function asInstant(value: Date | string): Date | null {
  const at = value instanceof Date ? value : new Date(value);
  return Number.isNaN(at.getTime()) ? null : at;
}

/** The value written to a cell of a column of this kind. */
function sheetCell(kind: SheetColumnKind, value: SheetValue): string | number | Date | null {
  if (value === null || value === undefined || value === '') return null;
  switch (kind) {
    case 'text':
    case 'code':
      return safeCell(value instanceof Date ? value.toISOString() : String(value));
    case 'integer':
      return typeof value === 'number' ? value : null;
    // NOTE: fen / 100 is exact to the two decimals the #,##0.00 format shows; nothing is rounded.
    case 'money':
      return typeof value === 'number' ? value / 100 : null;
    case 'percent':
      return typeof value === 'number' ? value / 10_000 : null;
    case 'date': {
      const at = typeof value === 'number' ? null : asInstant(value);
      return at ? new Date(`${businessDay(at)}T00:00:00Z`) : null;
    }
    case 'datetime': {
      const at = typeof value === 'number' ? null : asInstant(value);
      return at ? shanghaiWallClock(at) : null;
    }
  }
}

/** Display width of text in spreadsheet character units: CJK and full-width characters count twice. */
function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += /[\u1100-\u115F\u2E80-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]/u.test(ch) ? 2 : 1;
  return w;
}

function widthOf(kind: SheetColumnKind, cell: string | number | Date | null): number {
  if (cell === null) return 0;
  if (cell instanceof Date) return MIN_WIDTH[kind];
  if (typeof cell === 'number') return kind === 'money' ? cell.toFixed(2).length + Math.floor(Math.abs(Math.trunc(cell)).toString().length / 3) + 1 : String(cell).length + 2;
  return displayWidth(cell);
}

/**
 * Builds an .xlsx of one sheet: headers in `lang` from the message catalogues, a frozen bold header
 * row with an autofilter, number and date formats per column kind, widths from the content, and
 * every text cell made safe from formula injection. Rows may come from a cursor (an async
 * iterable); more than `maxRows` is refused with EXPORT_TOO_LARGE before anything is sent.
 */
export async function xlsxSheet<R>(spec: SheetSpec<R>, rows: AsyncIterable<R> | Iterable<R>, lang: Lang, maxRows = MAX_EXPORT_ROWS): Promise<Buffer> {
  return xlsxWorkbook([sheetOf(spec, rows)], lang, maxRows);
}

/** One sheet of a workbook, its rows' type checked against its columns by `sheetOf`. */
export interface SheetOf {
  spec: SheetSpec<unknown>;
  rows: AsyncIterable<unknown> | Iterable<unknown>;
}

/** A sheet for `xlsxWorkbook`: the columns read the rows they are given. */
export function sheetOf<R>(spec: SheetSpec<R>, rows: AsyncIterable<R> | Iterable<R>): SheetOf {
  return { spec, rows } as SheetOf;
}

/** Several sheets in one .xlsx (e.g. a report's tables), each written as `xlsxSheet` writes one; `maxRows` counts per sheet. */
export async function xlsxWorkbook(sheets: readonly SheetOf[], lang: Lang, maxRows = MAX_EXPORT_ROWS): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.created = new Date(0);
  workbook.modified = new Date(0);
  for (const { spec, rows } of sheets) await addSheet(workbook, spec, rows, lang, maxRows);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

async function addSheet<R>(workbook: ExcelJS.Workbook, spec: SheetSpec<R>, rows: AsyncIterable<R> | Iterable<R>, lang: Lang, maxRows: number): Promise<void> {
  const sheet = workbook.addWorksheet(t(lang, spec.name).slice(0, 31), { views: [{ state: 'frozen', ySplit: 1 }] });
  const headers = spec.columns.map((c) => String(safeCell(t(lang, c.header))));
  const widths = spec.columns.map((c, i) => Math.max(MIN_WIDTH[c.kind], displayWidth(headers[i]!) + 2));
  sheet.columns = spec.columns.map((c, i) => ({ header: headers[i], key: String(i), style: { numFmt: NUMBER_FORMAT[c.kind] } }));
  let count = 0;
  for await (const row of rows) {
    count += 1;
    if (count > maxRows) throw new RuleViolationError({ code: 'EXPORT_TOO_LARGE', message: msg('errorCodes.EXPORT_TOO_LARGE', { max: maxRows }) });
    const cells = spec.columns.map((c) => sheetCell(c.kind, c.value(row)));
    cells.forEach((cell, i) => {
      widths[i] = Math.max(widths[i]!, widthOf(spec.columns[i]!.kind, cell) + 1);
    });
    sheet.addRow(cells);
  }
  const header = sheet.getRow(1);
  header.font = { bold: true };
  header.alignment = { vertical: 'middle' };
  header.eachCell((cell) => {
    cell.numFmt = '@';
  });
  spec.columns.forEach((c, i) => {
    sheet.getColumn(i + 1).width = Math.min(MAX_WIDTH, c.width ?? widths[i]!);
  });
  sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: spec.columns.length } };
}

/** Every row of a cursor-paged list, one page at a time (the list's own filters and scope). */
export async function* everyPage<R>(page: (cursor: string | undefined) => Promise<{ data: R[]; nextCursor: string | null }>): AsyncIterable<R> {
  let cursor: string | undefined;
  do {
    const p = await page(cursor);
    yield* p.data;
    cursor = p.nextCursor ?? undefined;
  } while (cursor);
}
