// Reading uploaded CSV/XLSX tables for imports (catalogue, demand declarations, order lines …):
// the file becomes rows of trimmed cell text; each importer maps headers and checks the rows.
import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { ValidationError } from './errors';
import { businessDay } from './time';
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
