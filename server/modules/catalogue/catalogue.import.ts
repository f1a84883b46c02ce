// CSV/XLSX import and export of the catalogue. An import is checked whole first (formats, codes,
// duplicates inside the file and against the catalogue) and then stored in one unit of work with one
// audit entry, so a file with any bad row imports nothing and the report names every bad row.
import type { Actor } from '../../platform/auth';
import { RuleViolationError, ValidationError } from '../../platform/errors';
import { fenToYuanString, safeParseYuanToFen } from '../../platform/money';
import { t, type Lang } from '../../platform/i18n';
import { csvExport, headerMatcher, readTable, xlsxSheet, type ImportRowError, type SheetColumnKind, type SheetSpec } from '../../platform/tabular';
import { msg, type Message } from '../../platform/messages';
import { businessDay, parseBusinessDay } from '../../platform/time';
import { withCommand } from '../../platform/unit-of-work';
import { FORM_CLASSES, type FormClass } from './catalogue.model';
import { DrugFields } from './catalogue.schemas';
import { codeProblems, duplicateProblems, importRaceError, insertDrugs, type DrugView, type ImportableDrug } from './catalogue.service';

const COLUMN_KEYS = ['genericNameZh', 'genericNameEn', 'dosageForm', 'formClass', 'specification', 'packUnit', 'manufacturer', 'nhsaCode', 'standardCode', 'gtin', 'tracePrefix', 'categories', 'referencePrice', 'effectiveFrom'] as const;

type ColumnKey = (typeof COLUMN_KEYS)[number];

/** The file columns, in export order: key, Chinese header, English header (from the message catalogues). */
export const COLUMNS: readonly (readonly [ColumnKey, string, string])[] = COLUMN_KEYS.map((k) => [k, t('zh', `catalogue.columns.${k}`), t('en', `catalogue.columns.${k}`)] as const);


const FORM_CLASS_ZH: Record<FormClass, string> = {
  oral_solid: '口服固体',
  small_volume_injection: '小容量注射剂',
  large_volume_injection: '大容量注射剂',
  other: '其他',
};
const CATEGORY_ZH = { shortage: '短缺', vbp: '集采', regular: '常规' } as const;

export const MAX_IMPORT_ROWS = 5000;

const columnOf = headerMatcher(COLUMNS, { 参考价: 'referencePrice' });

export interface ImportReport {
  rows: number;
  imported: number;
  dryRun: boolean;
  errors: ImportRowError[];
}

/** Reads the uploaded file (CSV in UTF-8, or XLSX first sheet) into header-keyed rows with their file row numbers. */
export async function readImportFile(file: { buffer: Buffer; originalname: string; mimetype?: string }): Promise<{ rows: Record<string, string>[]; firstRow: number }> {
  const table = await readTable(file, COLUMNS.length);
  const header = table[0];
  if (!header || header.every((h) => !h)) throw new ValidationError({ code: 'EMPTY_FILE', message: msg('errorCodes.EMPTY_FILE') });
  const keys = header.map((h) => columnOf(String(h ?? '')));
  const unknown = header.filter((h, i) => h && !keys[i]);
  if (unknown.length) {
    throw new ValidationError({ code: 'UNKNOWN_COLUMNS', message: msg('errorCodes.UNKNOWN_COLUMNS', { unknown: unknown.join(', ') }), details: unknown.map((h) => ({ column: h })) });
  }
  const missing = COLUMNS.filter(([k]) => !['gtin', 'referencePrice', 'effectiveFrom'].includes(k) && !keys.includes(k)).map(([, zh]) => zh);
  if (missing.length) throw new ValidationError({ code: 'MISSING_COLUMNS', message: msg('errorCodes.MISSING_COLUMNS', { missing: missing.join('、') }), details: missing.map((c) => ({ column: c })) });
  const rows: Record<string, string>[] = [];
  for (let i = 1; i < table.length; i += 1) {
    const cells = table[i] ?? [];
    const record: Record<string, string> = { __row: String(i + 1) };
    keys.forEach((k, c) => {
      if (k) record[k] = String(cells[c] ?? '').trim();
    });
    if (COLUMNS.every(([k]) => !record[k])) continue;
    rows.push(record);
  }
  if (rows.length === 0) throw new ValidationError({ code: 'EMPTY_FILE', message: msg('errorCodes.EMPTY_FILE_2') });
  if (rows.length > MAX_IMPORT_ROWS) throw new ValidationError({ code: 'TOO_MANY_ROWS', message: msg('errorCodes.TOO_MANY_ROWS', { MAX_IMPORT_ROWS: MAX_IMPORT_ROWS }) });
  return { rows, firstRow: 2 };
}

function parseFormClass(v: string): FormClass | undefined {
  if ((FORM_CLASSES as readonly string[]).includes(v)) return v as FormClass;
  return (Object.entries(FORM_CLASS_ZH).find(([, zh]) => zh === v)?.[0] as FormClass | undefined) ?? undefined;
}

function parseCategories(v: string): { shortage: boolean; vbp: boolean; regular: boolean } | Message {
  const parts = v.split(/[;,，、；\s|]+/).map((p) => p.trim()).filter(Boolean);
  const out = { shortage: false, vbp: false, regular: false };
  for (const p of parts) {
    const key = (Object.keys(CATEGORY_ZH) as (keyof typeof CATEGORY_ZH)[]).find((k) => k === p.toLowerCase() || CATEGORY_ZH[k] === p);
    if (!key) return msg('errorCodes.INVALID_CATEGORY', { value: p });
    out[key] = true;
  }
  return out;
}

/** Checks every row; returns the drugs to insert and one error per problem, with the file row number. */
export async function validateImportRows(rows: Record<string, string>[]): Promise<{ drugs: ImportableDrug[]; errors: ImportRowError[] }> {
  const errors: ImportRowError[] = [];
  const drugs: ImportableDrug[] = [];
  const seen = new Map<string, number>();
  for (const r of rows) {
    const row = Number(r.__row);
    const rowErrors: ImportRowError[] = [];
    const formClass = parseFormClass(r.formClass ?? '');
    if (!formClass) rowErrors.push({ row, field: 'formClass', code: 'INVALID_FORM_CLASS', message: msg('errorCodes.INVALID_FORM_CLASS', { value: r.formClass ?? '', FORM_CLASSES: FORM_CLASSES.join(', ') }) });
    const categories = parseCategories(r.categories ?? '');
    if ('key' in categories) rowErrors.push({ row, field: 'categories', code: 'INVALID_CATEGORY', message: categories });
    const parsed = DrugFields.safeParse({
      genericNameZh: r.genericNameZh ?? '',
      genericNameEn: r.genericNameEn ?? '',
      dosageForm: r.dosageForm ?? '',
      formClass: formClass ?? 'other',
      specification: r.specification ?? '',
      packUnit: r.packUnit ?? '',
      manufacturer: r.manufacturer ?? '',
      nhsaCode: r.nhsaCode ?? '',
      standardCode: r.standardCode ?? '',
      gtin: r.gtin || undefined,
      tracePrefix: r.tracePrefix ?? '',
      categories: typeof categories === 'string' ? { regular: true } : categories,
    });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) rowErrors.push({ row, field: issue.path.join('.') || undefined, code: 'INVALID_FIELD', message: msg('errorCodes.INVALID_FIELD', { path: issue.path.join('.'), message: issue.message }) });
    }
    let referencePriceFen: number | undefined;
    if (r.referencePrice) {
      const price = safeParseYuanToFen(r.referencePrice);
      if (!price.ok) rowErrors.push({ row, field: 'referencePrice', code: 'INVALID_AMOUNT', message: msg('errorCodes.INVALID_AMOUNT_TEXT', { value: r.referencePrice }) });
      else if (price.fen < 1) rowErrors.push({ row, field: 'referencePrice', code: 'INVALID_AMOUNT', message: msg('errorCodes.INVALID_AMOUNT') });
      else referencePriceFen = price.fen;
    }
    let effectiveFrom: Date | undefined;
    if (r.effectiveFrom) {
      try {
        effectiveFrom = parseBusinessDay(r.effectiveFrom);
      } catch {
        rowErrors.push({ row, field: 'effectiveFrom', code: 'INVALID_DATE', message: msg('errorCodes.INVALID_DATE', { effectiveFrom: r.effectiveFrom }) });
      }
      if (!r.referencePrice) rowErrors.push({ row, field: 'effectiveFrom', code: 'INVALID_FIELD', message: msg('errorCodes.INVALID_FIELD_2') });
    }
    if (parsed.success) {
      const fields = parsed.data;
      for (const p of codeProblems({ ...fields, gtin: fields.gtin || undefined })) rowErrors.push({ row, field: p.field, code: p.code, message: p.message });
      for (const field of ['nhsaCode', 'standardCode', 'gtin', 'tracePrefix'] as const) {
        const value = fields[field];
        if (!value) continue;
        const earlier = seen.get(`${field}:${value}`);
        if (earlier !== undefined) rowErrors.push({ row, field, code: 'DUPLICATE_IN_FILE', message: msg('errorCodes.DUPLICATE_IN_FILE', { value: value, earlier: earlier }) });
        else seen.set(`${field}:${value}`, row);
      }
      if (rowErrors.length === 0) {
        const dup = await duplicateProblems({ ...fields, gtin: fields.gtin || undefined });
        for (const p of dup) rowErrors.push({ row, field: p.field, code: p.code, message: p.message });
      }
      if (rowErrors.length === 0) drugs.push({ ...fields, gtin: fields.gtin || undefined, formClass: fields.formClass, referencePriceFen, effectiveFrom });
    }
    errors.push(...rowErrors);
  }
  return { drugs, errors };
}

/** Operator: imports a file; any bad row rejects the whole file (422) with the per-row report. */
export async function importCatalogue(actor: Actor, file: { buffer: Buffer; originalname: string }, dryRun: boolean): Promise<ImportReport> {
  const { rows } = await readImportFile(file);
  const { drugs, errors } = await validateImportRows(rows);
  if (errors.length) {
    throw new RuleViolationError({
      code: 'IMPORT_REJECTED',
      message: msg('errorCodes.IMPORT_REJECTED', { count: new Set(errors.map((e) => e.row)).size, count2: rows.length }),
      details: errors,
    });
  }
  if (dryRun) return { rows: rows.length, imported: 0, dryRun: true, errors: [] };
  try {
    return await withCommand(actor, async (uow) => {
      const imported = await insertDrugs(uow, drugs);
      // NOTE: multipart file names arrive as latin1-decoded UTF-8 bytes; the entry shows the name as typed.
      const fileName = Buffer.from(file.originalname, 'latin1').toString('utf8').replace(/[\u0000-\u001f]/g, '_');
      uow.audit({ action: 'catalogue.import', targetType: 'drug', summary: msg('catalogue.audit.imported', { count: imported, file: fileName }) });
      return { rows: rows.length, imported, dryRun: false, errors: [] };
    });
  } catch (err) {
    throw importRaceError(err);
  }
}

function exportRow(d: DrugView): string[] {
  const cats = (Object.keys(CATEGORY_ZH) as (keyof typeof CATEGORY_ZH)[]).filter((k) => d.categories[k]).map((k) => CATEGORY_ZH[k]);
  return [
    d.genericNameZh,
    d.genericNameEn,
    d.dosageForm,
    FORM_CLASS_ZH[d.formClass],
    d.specification,
    d.packUnit,
    d.manufacturer,
    d.nhsaCode,
    d.standardCode,
    d.gtin ?? '',
    d.tracePrefix,
    cats.join('、'),
    d.referencePriceFen === null ? '' : fenToYuanString(d.referencePriceFen),
    d.referencePriceFrom ? businessDay(new Date(d.referencePriceFrom)) : '',
  ];
}

/** The catalogue as CSV (UTF-8 with BOM so spreadsheet programs read the Chinese) with Chinese headers. */
export function catalogueCsv(drugs: DrugView[]): Buffer {
  return csvExport(COLUMNS.map(([, zh]) => zh), drugs.map(exportRow));
}

const XLSX_KIND: Partial<Record<ColumnKey, SheetColumnKind>> = { nhsaCode: 'code', standardCode: 'code', gtin: 'code', tracePrefix: 'code', referencePrice: 'money', effectiveFrom: 'date' };

/** The catalogue sheet: the import's columns, codes as text, the reference price in yuan, its start as a date. */
const catalogueSheet: SheetSpec<DrugView> = {
  name: 'catalogue.title',
  columns: COLUMN_KEYS.map((key, i) => ({
    header: `catalogue.columns.${key}`,
    kind: XLSX_KIND[key] ?? 'text',
    value: (d: DrugView) => (key === 'referencePrice' ? d.referencePriceFen : key === 'effectiveFrom' ? d.referencePriceFrom : exportRow(d)[i]),
  })),
};

/** The catalogue as an XLSX workbook with headers in `lang`; it imports back as it is. */
export function catalogueXlsx(drugs: DrugView[], lang: Lang): Promise<Buffer> {
  return xlsxSheet(catalogueSheet, drugs, lang);
}
