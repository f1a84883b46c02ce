// CSV/XLSX import of a hospital's demand declaration, and the pre-filled template to start from.
// The whole file is checked first; any bad row rejects the file (422) with a per-row report and
// nothing is stored.
import type { Actor } from '../../platform/auth';
import { ForbiddenError, RuleViolationError, ValidationError } from '../../platform/errors';
import { csvExport, headerMatcher, readTable, type ImportRowError } from '../../platform/tabular';
import { assertDeclarationOpen, checkEntries, loadDeclaration, myEntries, storeImportedEntries } from './vbp.declarations';
import type { DeclarationDoc } from './vbp.model';
import type { EntryInputValue } from './vbp.schemas';
import { msg, type Message } from '../../platform/messages';

/** Columns: key, Chinese header (used in the template), English header. */
export const DECLARATION_COLUMNS = [
  ['nhsaCode', '医保药品代码', 'NHSA drug code'],
  ['genericName', '通用名', 'Generic name'],
  ['specification', '规格', 'Specification'],
  ['quantity', '年度需求量', 'Annual demand'],
  ['lastYearQty', '上年采购量', 'Last-year volume'],
  ['reason', '低于下限的原因', 'Reason'],
] as const;
type ColumnKey = (typeof DECLARATION_COLUMNS)[number][0];

export const MAX_DECLARATION_ROWS = 2000;

const columnOf = headerMatcher(DECLARATION_COLUMNS);

export interface DeclarationImportReport {
  rows: number;
  imported: number;
  dryRun: boolean;
  errors: ImportRowError[];
}

/** Parses a whole-number cell ("1,200" allowed); undefined for an empty cell, a message when invalid. */
function wholeNumber(raw: string | undefined): number | undefined | Message {
  const text = (raw ?? '').replace(/[,，\s]/g, '');
  if (text === '') return undefined;
  if (!/^\d{1,10}$/.test(text)) return msg('errorCodes.NOT_WHOLE_NUMBER', { value: raw ?? '' });
  const n = Number(text);
  return n > 1_000_000_000 ? msg('errorCodes.NUMBER_TOO_LARGE', { value: raw ?? '' }) : n;
}

/** Reads, checks and (unless a dry run) stores a hospital's declaration file: all rows or none. */
export async function importDeclaration(actor: Actor, declarationId: string, file: { buffer: Buffer; originalname: string }, dryRun: boolean): Promise<DeclarationImportReport> {
  if (actor.orgType !== 'hospital') throw new ForbiddenError({ code: 'HOSPITALS_ONLY', message: msg('errorCodes.HOSPITALS_ONLY') });
  const d = await loadDeclaration(declarationId);
  assertDeclarationOpen(d);
  const table = await readTable(file, DECLARATION_COLUMNS.length);
  const header = table[0];
  if (!header || header.every((h) => !h)) throw new ValidationError({ code: 'EMPTY_FILE', message: msg('errorCodes.EMPTY_FILE') });
  const keys = header.map((h) => columnOf(String(h ?? '')));
  const unknown = header.filter((h, i) => h && !keys[i]);
  if (unknown.length) {
    throw new ValidationError({ code: 'UNKNOWN_COLUMNS', message: msg('errorCodes.UNKNOWN_COLUMNS_2', { unknown: unknown.join(', ') }), details: unknown.map((h) => ({ column: h })) });
  }
  const missing = (['nhsaCode', 'quantity'] as const).filter((k) => !keys.includes(k));
  if (missing.length) {
    const names = missing.map((k) => DECLARATION_COLUMNS.find(([key]) => key === k)![1]);
    throw new ValidationError({ code: 'MISSING_COLUMNS', message: msg('errorCodes.MISSING_COLUMNS_2', { names: names.join('、') }), details: names.map((c) => ({ column: c })) });
  }

  if (table.length - 1 > MAX_DECLARATION_ROWS) throw new ValidationError({ code: 'TOO_MANY_ROWS', message: msg('errorCodes.TOO_MANY_ROWS_2', { MAX_DECLARATION_ROWS: MAX_DECLARATION_ROWS }) });
  const byCode = new Map(d.drugs.map((x) => [x.nhsaCode.toUpperCase(), String(x.drugId)]));
  const errors: ImportRowError[] = [];
  const entries: EntryInputValue[] = [];
  const rowOf: number[] = [];
  for (let i = 1; i < table.length; i += 1) {
    const cells = table[i] ?? [];
    const r: Partial<Record<ColumnKey, string>> = {};
    keys.forEach((k, c) => {
      if (k) r[k] = String(cells[c] ?? '').trim();
    });
    if (Object.values(r).every((v) => !v)) continue;
    const row = i + 1;
    const before = errors.length;
    const code = (r.nhsaCode ?? '').toUpperCase();
    const drugId = byCode.get(code);
    if (!code) errors.push({ row, field: 'nhsaCode', code: 'REQUIRED', message: msg('errorCodes.REQUIRED') });
    else if (!drugId) errors.push({ row, field: 'nhsaCode', code: 'DRUG_NOT_IN_DECLARATION', message: msg('errorCodes.DRUG_NOT_IN_DECLARATION', { code: code }) });
    const quantity = wholeNumber(r.quantity);
    if (quantity === undefined) errors.push({ row, field: 'quantity', code: 'REQUIRED', message: msg('errorCodes.REQUIRED_2') });
    else if (typeof quantity === 'object') errors.push({ row, field: 'quantity', code: 'INVALID_QUANTITY', message: quantity });
    const lastYear = wholeNumber(r.lastYearQty);
    if (typeof lastYear === 'object') errors.push({ row, field: 'lastYearQty', code: 'INVALID_QUANTITY', message: lastYear });
    if ((r.reason ?? '').length > 500) errors.push({ row, field: 'reason', code: 'TOO_LONG', message: msg('errorCodes.TOO_LONG') });
    if (errors.length > before) continue;
    entries.push({
      drugId: drugId!,
      quantity: quantity as number,
      ...(typeof lastYear === 'number' ? { lastYearQty: lastYear } : {}),
      ...(r.reason ? { reason: r.reason } : {}),
    });
    rowOf.push(row);
  }
  const rowCount = rowOf.length + new Set(errors.map((e) => e.row)).size;
  if (rowCount === 0) throw new ValidationError({ code: 'EMPTY_FILE', message: msg('errorCodes.EMPTY_FILE_3') });
  for (const p of await checkEntries(d, actor.orgId, entries)) {
    errors.push({ row: rowOf[p.index]!, field: p.field === 'drugId' ? 'nhsaCode' : p.field, code: p.code, message: p.message });
  }
  if (errors.length) {
    errors.sort((a, b) => a.row - b.row);
    throw new RuleViolationError({
      code: 'IMPORT_REJECTED',
      message: msg('errorCodes.IMPORT_REJECTED_3', { count: new Set(errors.map((e) => e.row)).size, rowCount: rowCount }),
      details: errors,
    });
  }
  if (!dryRun) await storeImportedEntries(actor, d, entries);
  return { rows: rowCount, imported: dryRun ? 0 : entries.length, dryRun, errors: [] };
}

/** The hospital's template: one row per drug with the pre-filled last-year volume and current entries. */
export async function declarationTemplateCsv(actor: Actor, d: DeclarationDoc): Promise<Buffer> {
  const mine = await myEntries(actor, d);
  const rows = d.drugs.map((drug, i) => {
    const e = mine[i]!;
    return [drug.nhsaCode, drug.genericNameZh, drug.specification, e.quantity, e.lastYearQty, e.reason ?? ''];
  });
  return csvExport(DECLARATION_COLUMNS.map(([, zh]) => zh), rows);
}
