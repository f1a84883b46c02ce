// Bulk ordering from a CSV of lines: all or nothing, with a per-row report of every problem.
import { parse as parseCsv } from 'csv-parse/sync';
import { Types } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { RuleViolationError, ValidationError } from '../../platform/errors';
import { trusted } from '../../platform/mongo';
import { Drug } from '../catalogue';
import { Organisation } from '../identity';
import { SOURCE_KINDS, type SourceKind } from './orders.model';
import type { PlaceOrdersInput } from './orders.schemas';
import { placeOrders } from './orders.service';
import { msg, type Message } from '../../platform/messages';

const COLUMNS = ['drug', 'distributor', 'quantity', 'source', 'refId', 'expectedUnitPriceFen'] as const;
const REQUIRED = ['drug', 'distributor', 'quantity'] as const;
const MAX_ROWS = 200;

type Row = Partial<Record<(typeof COLUMNS)[number], string>>;

/** Header names accepted besides the canonical ones (the Chinese column titles of the template). */
const ALIASES: Record<string, (typeof COLUMNS)[number]> = {
  药品: 'drug',
  药品编码: 'drug',
  医保编码: 'drug',
  配送企业: 'distributor',
  数量: 'quantity',
  来源: 'source',
  挂网或合同: 'refId',
  预期单价分: 'expectedUnitPriceFen',
};

/** Parses the CSV and turns every row into a cart line, or reports every bad row (nothing is stored). */
export async function cartFromCsv(csv: string): Promise<PlaceOrdersInput['lines']> {
  let records: Row[];
  try {
    records = parseCsv(csv.replace(/^\uFEFF/, ''), {
      columns: (header: string[]) => header.map((h) => ALIASES[h.trim()] ?? h.trim()),
      skip_empty_lines: true,
      trim: true,
      relax_column_count: false,
    }) as Row[];
  } catch (err) {
    throw new ValidationError({ code: 'CSV_UNREADABLE', message: msg('errorCodes.CSV_UNREADABLE', { value: '' }) });
  }
  if (records.length === 0) throw new ValidationError({ code: 'CSV_EMPTY', message: msg('errorCodes.CSV_EMPTY') });
  if (records.length > MAX_ROWS) throw new ValidationError({ code: 'CSV_TOO_LONG', message: msg('errorCodes.CSV_TOO_LONG', { MAX_ROWS: MAX_ROWS }) });
  const header = Object.keys(records[0]!);
  const missing = REQUIRED.filter((c) => !header.includes(c));
  const unknown = header.filter((h) => !(COLUMNS as readonly string[]).includes(h));
  if (missing.length || unknown.length) {
    throw new ValidationError({
      code: 'CSV_COLUMNS',
      message: msg('errorCodes.CSV_COLUMNS', { REQUIRED: REQUIRED.join(', '), missing: missing.join(', ') || '-', unknown: unknown.join(', ') || '-' }),
    });
  }

  const drugKeys = [...new Set(records.map((r) => r.drug ?? ''))];
  const drugRows = await Drug.find(
    { $or: [{ nhsaCode: trusted({ $in: drugKeys }) }, { _id: trusted({ $in: drugKeys.filter((k) => /^[a-f0-9]{24}$/i.test(k)).map((k) => new Types.ObjectId(k)) }) }] },
    { nhsaCode: 1 },
  ).lean<{ _id: Types.ObjectId; nhsaCode: string }[]>();
  const drugByKey = new Map<string, string>();
  for (const d of drugRows) {
    drugByKey.set(d.nhsaCode, String(d._id));
    drugByKey.set(String(d._id), String(d._id));
  }
  const distKeys = [...new Set(records.map((r) => r.distributor ?? ''))];
  const distRows = await Organisation.find(
    { type: 'distributor', $or: [{ name: trusted({ $in: distKeys }) }, { _id: trusted({ $in: distKeys.filter((k) => /^[a-f0-9]{24}$/i.test(k)).map((k) => new Types.ObjectId(k)) }) }] },
    { name: 1 },
  ).lean<{ _id: Types.ObjectId; name: string }[]>();
  const distByKey = new Map<string, string>();
  for (const d of distRows) {
    distByKey.set(d.name, String(d._id));
    distByKey.set(String(d._id), String(d._id));
  }

  const problems: { row: number; field: string; code: string; message: Message }[] = [];
  const lines: PlaceOrdersInput['lines'] = [];
  records.forEach((r, i) => {
    const row = i + 2;
    const bad = (field: string, code: string, message: Message) => problems.push({ row, field, code, message: msg('errorCodes.ROW_PROBLEM', { row, problem: { msg: message.key, params: message.params } }) });
    const drugId = drugByKey.get(r.drug ?? '');
    if (!drugId) bad('drug', 'UNKNOWN_DRUG', msg('errorCodes.CSV_UNKNOWN_DRUG', { value: r.drug ?? '' }));
    const distributorOrgId = distByKey.get(r.distributor ?? '');
    if (!distributorOrgId) bad('distributor', 'UNKNOWN_DISTRIBUTOR', msg('errorCodes.CSV_UNKNOWN_DISTRIBUTOR', { value: r.distributor ?? '' }));
    const quantity = /^\d{1,7}$/.test(r.quantity ?? '') ? Number(r.quantity) : NaN;
    if (!(quantity >= 1 && quantity <= 1_000_000)) bad('quantity', 'INVALID_QUANTITY', msg('errorCodes.CSV_INVALID_QUANTITY', { value: r.quantity ?? '' }));
    const source = (r.source || 'listing') as SourceKind;
    if (!SOURCE_KINDS.includes(source)) bad('source', 'INVALID_SOURCE', msg('errorCodes.CSV_INVALID_SOURCE', { sources: SOURCE_KINDS.join(', ') }));
    let expected: number | undefined;
    if (r.expectedUnitPriceFen) {
      expected = /^\d{1,12}$/.test(r.expectedUnitPriceFen) ? Number(r.expectedUnitPriceFen) : NaN;
      if (!(expected! > 0)) bad('expectedUnitPriceFen', 'INVALID_PRICE', msg('errorCodes.CSV_INVALID_PRICE'));
    }
    if (drugId && distributorOrgId && quantity >= 1 && SOURCE_KINDS.includes(source)) {
      lines.push({ drugId, distributorOrgId, source, quantity, ...(r.refId ? { refId: r.refId } : {}), ...(expected && expected > 0 ? { expectedUnitPriceFen: expected } : {}) });
    }
  });
  if (problems.length) throw new RuleViolationError({ code: 'CSV_INVALID', message: problems.length === 1 ? problems[0]!.message : msg('errorCodes.CSV_INVALID', { count: problems.length }), details: problems });
  return lines;
}

/** Places the orders of a CSV cart (one order per distributor), or nothing at all. */
export async function importOrders(actor: Actor, input: { urgency: 'urgent' | 'regular'; note?: string; csv: string }) {
  const lines = await cartFromCsv(input.csv);
  return placeOrders(actor, { urgency: input.urgency, ...(input.note ? { note: input.note } : {}), lines });
}
