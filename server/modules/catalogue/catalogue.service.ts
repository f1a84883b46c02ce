import { Types, type ClientSession } from 'mongoose';
import { DrugChanged } from '../../events/catalogue';
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { ConflictError, NotFoundError, RuleViolationError, ValidationError, problemsMessage } from '../../platform/errors';
import { dateTime, fen, msg, type Message } from '../../platform/messages';
import { trusted } from '../../platform/mongo';
import { escapeRegex, nameSearchKeys, searchFilter } from '../../platform/search';
import { withCommand, type UnitOfWork } from '../../platform/unit-of-work';
import { checkDrugStandardCode, checkGtin, checkNhsaDrugCode, checkSameEnterprise, checkTraceProductPrefix } from './catalogue.codes';
import { Drug, ReferencePrice, type DrugDoc, type FormClass, type ReferencePriceDoc } from './catalogue.model';
import type { CreateDrugInput, DrugListQueryInput, ReferencePriceInput, UpdateDrugInput } from './catalogue.schemas';

/** The fields of a drug every view shares. */
interface DrugFieldsShape {
  genericNameZh: string;
  genericNameEn: string;
  dosageForm: string;
  formClass: FormClass;
  specification: string;
  packUnit: string;
  manufacturer: string;
  nhsaCode: string;
  standardCode: string;
  gtin?: string;
  tracePrefix: string;
  categories: { shortage: boolean; vbp: boolean; regular: boolean };
}

/** The lean drug shape other modules receive (the catalogue contract). */
export interface DrugInfo extends DrugFieldsShape {
  _id: Types.ObjectId;
}

export const CONTRACT_FIELDS = {
  genericNameZh: 1,
  genericNameEn: 1,
  dosageForm: 1,
  formClass: 1,
  specification: 1,
  packUnit: 1,
  manufacturer: 1,
  nhsaCode: 1,
  standardCode: 1,
  gtin: 1,
  tracePrefix: 1,
  categories: 1,
} as const;

export interface FieldProblem {
  field: string;
  code: string;
  message: Message;
}

export interface CodeFields {
  nhsaCode: string;
  standardCode: string;
  gtin?: string;
  tracePrefix: string;
}

/** A code-format problem as a message (the check's own reason is a developer's explanation). */
function codeMessage(code: string): Message {
  return msg(`errorCodes.${code}`);
}

/** Every format problem of a drug's codes (NHSA code, 本位码, GTIN, traceability prefix), one per field. */
export function codeProblems(fields: CodeFields): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const nhsa = checkNhsaDrugCode(fields.nhsaCode);
  if (!nhsa.ok) problems.push({ field: 'nhsaCode', code: nhsa.code, message: codeMessage(nhsa.code) });
  const standard = checkDrugStandardCode(fields.standardCode);
  if (!standard.ok) problems.push({ field: 'standardCode', code: standard.code, message: codeMessage(standard.code) });
  if (nhsa.ok && standard.ok) {
    const same = checkSameEnterprise(fields.nhsaCode, fields.standardCode);
    if (!same.ok) problems.push({ field: 'standardCode', code: same.code, message: codeMessage(same.code) });
  }
  if (fields.gtin) {
    const gtin = checkGtin(fields.gtin);
    if (!gtin.ok) problems.push({ field: 'gtin', code: gtin.code, message: codeMessage(gtin.code) });
  }
  const prefix = checkTraceProductPrefix(fields.tracePrefix);
  if (!prefix.ok) problems.push({ field: 'tracePrefix', code: prefix.code, message: codeMessage(prefix.code) });
  return problems;
}

const UNIQUE_CODES = ['nhsaCode', 'standardCode', 'gtin', 'tracePrefix'] as const;

/** Problems for codes already used by another drug in the catalogue. */
export async function duplicateProblems(fields: Partial<CodeFields>, exceptId?: Types.ObjectId): Promise<FieldProblem[]> {
  const clauses = UNIQUE_CODES.filter((f) => fields[f]).map((f) => ({ [f]: fields[f] }));
  if (clauses.length === 0) return [];
  const filter: Record<string, unknown> = { $or: clauses };
  if (exceptId) filter._id = trusted({ $ne: exceptId });
  const clashes = await Drug.find(filter, { nhsaCode: 1, standardCode: 1, gtin: 1, tracePrefix: 1, genericNameZh: 1 }).lean<DrugDoc[]>();
  const problems: FieldProblem[] = [];
  for (const field of UNIQUE_CODES) {
    const value = fields[field];
    const clash = value ? clashes.find((d) => d[field] === value) : undefined;
    if (clash) problems.push({ field, code: 'DUPLICATE_CODE', message: msg('errorCodes.DUPLICATE_CODE', { value: value ?? '', genericNameZh: clash.genericNameZh }) });
  }
  return problems;
}

function searchTextOf(d: { genericNameZh: string; genericNameEn: string; manufacturer: string; dosageForm: string }): string {
  return [d.genericNameZh, d.genericNameEn, d.manufacturer, d.dosageForm].join(' ').toLowerCase();
}

function rejectProblems(problems: FieldProblem[]): void {
  if (problems.length === 0) return;
  const duplicate = problems.every((p) => p.code === 'DUPLICATE_CODE');
  const options = {
    code: duplicate ? 'DUPLICATE_CODE' : problems[0]!.code,
    message: problemsMessage(problems.map((p) => p.message)),
    details: problems.map((p) => ({ path: p.field, code: p.code, message: p.message })),
  };
  if (duplicate) throw new ConflictError(options);
  throw new ValidationError(options);
}

function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number }).code === 11000;
}

function duplicateKeyError(err: unknown): ConflictError {
  const field = Object.keys((err as { keyPattern?: Record<string, unknown> }).keyPattern ?? {})[0] ?? 'code';
  return new ConflictError({ code: 'DUPLICATE_CODE', message: msg('errorCodes.DUPLICATE_CODE_2', { field: field }), details: [{ path: field, code: 'DUPLICATE_CODE', message: msg('errorCodes.DUPLICATE_CODE_2', { field: field }) }] });
}

/** Operator: adds a drug (every code checked, duplicates refused), optionally with its first reference price. */
export async function createDrug(actor: Actor, input: CreateDrugInput): Promise<DrugView> {
  const { referencePriceFen, effectiveFrom, ...fields } = input;
  const gtin = fields.gtin || undefined;
  rejectProblems(codeProblems({ ...fields, gtin }));
  rejectProblems(await duplicateProblems({ ...fields, gtin }));
  try {
    return await withCommand(actor, async (uow) => {
      const session = uow.session;
      const drugId = new Types.ObjectId();
      await Drug.create([{ _id: drugId, ...fields, gtin, searchText: searchTextOf(fields), ...nameSearchKeys(fields.genericNameZh), active: true }], { session });
      if (referencePriceFen !== undefined) {
        await ReferencePrice.create([{ drugId, priceFen: referencePriceFen, effectiveFrom: effectiveFrom ? new Date(effectiveFrom) : uow.at, createdAt: uow.at, createdBy: new Types.ObjectId(actor.id) }], { session });
      }
      uow.audit({
        action: 'catalogue.drug.create',
        targetType: 'drug',
        targetId: String(drugId),
        summary: msg('catalogue.audit.drugCreated', { name: fields.genericNameZh, nameEn: fields.genericNameEn, specification: fields.specification, nhsaCode: fields.nhsaCode }),
      });
      return getDrugView(String(drugId), session);
    });
  } catch (err) {
    if (isDuplicateKey(err)) throw duplicateKeyError(err);
    throw err;
  }
}

/** Operator: changes a drug's fields; codes are re-checked and must stay unique. */
export async function updateDrug(actor: Actor, id: string, patch: UpdateDrugInput): Promise<DrugView> {
  const current = await Drug.findById(id).lean<DrugDoc>();
  if (!current) throw new NotFoundError({ code: 'DRUG_NOT_FOUND', message: msg('errorCodes.DRUG_NOT_FOUND') });
  const merged = {
    nhsaCode: patch.nhsaCode ?? current.nhsaCode,
    standardCode: patch.standardCode ?? current.standardCode,
    gtin: patch.gtin === undefined ? (current.gtin ?? undefined) : patch.gtin || undefined,
    tracePrefix: patch.tracePrefix ?? current.tracePrefix,
  };
  rejectProblems(codeProblems(merged));
  rejectProblems(await duplicateProblems(merged, current._id));
  const names = {
    genericNameZh: patch.genericNameZh ?? current.genericNameZh,
    genericNameEn: patch.genericNameEn ?? current.genericNameEn,
    manufacturer: patch.manufacturer ?? current.manufacturer,
    dosageForm: patch.dosageForm ?? current.dosageForm,
  };
  const { gtin: _gtin, ...rest } = patch;
  void _gtin;
  const update: Record<string, unknown> = { $set: { ...rest, searchText: searchTextOf(names), ...nameSearchKeys(names.genericNameZh), ...(merged.gtin ? { gtin: merged.gtin } : {}) } };
  if (!merged.gtin && current.gtin) update.$unset = { gtin: 1 };
  try {
    return await withCommand(actor, async (uow) => {
      await Drug.updateOne({ _id: current._id }, update, { session: uow.session });
      uow.emit(DrugChanged, { drugId: String(current._id), what: 'fields' });
      uow.audit({ action: 'catalogue.drug.update', targetType: 'drug', targetId: id, summary: msg('catalogue.audit.drugUpdated', { name: names.genericNameZh, nameEn: names.genericNameEn, fields: { list: Object.keys(patch) } }) });
      return getDrugView(id, uow.session);
    });
  } catch (err) {
    if (isDuplicateKey(err)) throw duplicateKeyError(err);
    throw err;
  }
}

/** Operator: adds an effective-dated reference price; one price per drug and start time. */
export async function addReferencePrice(actor: Actor, drugId: string, input: ReferencePriceInput) {
  const drug = await Drug.findById(drugId, { genericNameZh: 1, genericNameEn: 1 }).lean<DrugDoc>();
  if (!drug) throw new NotFoundError({ code: 'DRUG_NOT_FOUND', message: msg('errorCodes.DRUG_NOT_FOUND') });
  const effectiveFrom = new Date(input.effectiveFrom);
  try {
    return await withCommand(actor, async (uow) => {
      await ReferencePrice.create([{ drugId: drug._id, priceFen: input.priceFen, effectiveFrom, ...(input.note ? { note: input.note } : {}), createdAt: uow.at, createdBy: new Types.ObjectId(actor.id) }], { session: uow.session });
      uow.emit(DrugChanged, { drugId: String(drug._id), what: 'reference_price' });
      uow.audit({
        action: 'catalogue.reference_price.add',
        targetType: 'drug',
        targetId: drugId,
        summary: msg('catalogue.audit.referencePriceAdded', { name: drug.genericNameZh, nameEn: drug.genericNameEn, price: fen(input.priceFen), from: dateTime(effectiveFrom) }),
      });
      return listReferencePrices(drugId, uow.session);
    });
  } catch (err) {
    if (isDuplicateKey(err)) {
      throw new ConflictError({ code: 'DUPLICATE_REFERENCE_PRICE', message: msg('errorCodes.DUPLICATE_REFERENCE_PRICE') });
    }
    throw err;
  }
}

/** A drug's reference prices, newest start first, each with the end of its validity. */
export async function listReferencePrices(drugId: string, session?: ClientSession) {
  if (!(await Drug.exists({ _id: new Types.ObjectId(drugId) }).session(session ?? null))) throw new NotFoundError({ code: 'DRUG_NOT_FOUND', message: msg('errorCodes.DRUG_NOT_FOUND') });
  const rows = await ReferencePrice.find({ drugId: new Types.ObjectId(drugId) }, null, { session }).sort({ effectiveFrom: -1 }).lean<ReferencePriceDoc[]>();
  return {
    data: rows.map((r, i) => ({
      id: String(r._id),
      drugId,
      priceFen: r.priceFen,
      effectiveFrom: r.effectiveFrom.toISOString(),
      effectiveTo: i === 0 ? null : rows[i - 1]!.effectiveFrom.toISOString(),
      note: r.note ?? undefined,
    })),
  };
}

/** The reference price in force for a drug at an instant, or null when none has started yet. */
export async function currentReferencePriceFen(drugId: string | Types.ObjectId, at: Date): Promise<number | null> {
  const row = await ReferencePrice.findOne({ drugId: new Types.ObjectId(String(drugId)), effectiveFrom: trusted({ $lte: at }) }, { priceFen: 1 })
    .sort({ effectiveFrom: -1 })
    .lean<{ priceFen: number }>();
  return row?.priceFen ?? null;
}

/** Reference prices in force at `at` for many drugs at once (drugs without one are absent). */
export async function currentReferencePrices(drugIds: (string | Types.ObjectId)[], at: Date, session?: ClientSession): Promise<Map<string, { priceFen: number; effectiveFrom: Date }>> {
  const ids = drugIds.map((id) => new Types.ObjectId(String(id)));
  const result = new Map<string, { priceFen: number; effectiveFrom: Date }>();
  if (ids.length === 0) return result;
  const rows = await ReferencePrice.find({ drugId: trusted({ $in: ids }), effectiveFrom: trusted({ $lte: at }) }, { drugId: 1, priceFen: 1, effectiveFrom: 1 }, { session })
    .sort({ effectiveFrom: -1 })
    .lean<ReferencePriceDoc[]>();
  for (const r of rows) if (!result.has(String(r.drugId))) result.set(String(r.drugId), { priceFen: r.priceFen, effectiveFrom: r.effectiveFrom });
  return result;
}

/** One drug in the contract shape, or null. Invalid ids are simply not found. */
export async function getDrug(id: string | Types.ObjectId): Promise<DrugInfo | null> {
  if (!Types.ObjectId.isValid(String(id))) return null;
  return Drug.findById(String(id), CONTRACT_FIELDS).lean<DrugInfo>();
}

/** Several drugs in the contract shape, in no particular order; unknown ids are skipped. */
export async function getDrugs(ids: (string | Types.ObjectId)[], session?: ClientSession): Promise<DrugInfo[]> {
  const valid = ids.filter((id) => Types.ObjectId.isValid(String(id))).map((id) => new Types.ObjectId(String(id)));
  if (valid.length === 0) return [];
  return Drug.find({ _id: trusted({ $in: valid }) }, CONTRACT_FIELDS, { session }).lean<DrugInfo[]>();
}

export interface DrugView extends DrugFieldsShape {
  id: string;
  active: boolean;
  referencePriceFen: number | null;
  referencePriceFrom: string | null;
}

function toView(d: DrugDoc, ref?: { priceFen: number; effectiveFrom: Date }): DrugView {
  return {
    id: String(d._id),
    genericNameZh: d.genericNameZh,
    genericNameEn: d.genericNameEn,
    dosageForm: d.dosageForm,
    formClass: d.formClass as FormClass,
    specification: d.specification,
    packUnit: d.packUnit,
    manufacturer: d.manufacturer,
    nhsaCode: d.nhsaCode,
    standardCode: d.standardCode,
    gtin: d.gtin ?? undefined,
    tracePrefix: d.tracePrefix,
    categories: { shortage: !!d.categories?.shortage, vbp: !!d.categories?.vbp, regular: !!d.categories?.regular },
    active: d.active,
    referencePriceFen: ref?.priceFen ?? null,
    referencePriceFrom: ref ? ref.effectiveFrom.toISOString() : null,
  };
}

export async function getDrugView(id: string, session?: ClientSession): Promise<DrugView> {
  const d = Types.ObjectId.isValid(id) ? await Drug.findById(id, null, { session }).lean<DrugDoc>() : null;
  if (!d) throw new NotFoundError({ code: 'DRUG_NOT_FOUND', message: msg('errorCodes.DRUG_NOT_FOUND') });
  const refs = await currentReferencePrices([d._id], now(), session);
  return toView(d, refs.get(String(d._id)));
}

/** A drug is found by a fragment of any of its names or its maker, its pinyin initials or full pinyin, or a code prefix. */
const DRUG_SEARCH = { name: 'searchText', text: 'searchText', codes: ['nhsaCode', 'standardCode', 'gtin', 'tracePrefix'] };

function drugFilter(q: Omit<DrugListQueryInput, 'cursor' | 'limit'>): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  const and: Record<string, unknown>[] = [];
  const search = searchFilter(q.q, DRUG_SEARCH);
  if (search) and.push(search);
  if (q.code) {
    const code = q.code.toUpperCase();
    const prefix = trusted({ $regex: `^${escapeRegex(code)}` });
    and.push({ $or: [{ nhsaCode: prefix }, { standardCode: prefix }, { gtin: prefix }, { tracePrefix: prefix }] });
  }
  if (q.dosageForm) filter.dosageForm = q.dosageForm;
  if (q.formClass) filter.formClass = q.formClass;
  if (q.category) filter[`categories.${q.category}`] = true;
  if (q.active !== 'all') filter.active = q.active === 'true';
  if (and.length) filter.$and = and;
  return filter;
}

/** Catalogue search: name substring (Chinese or English, any case), code prefix, dosage form, category; by name. */
export async function listDrugs(q: DrugListQueryInput): Promise<{ data: DrugView[]; nextCursor: string | null }> {
  const filter = drugFilter(q);
  if (q.cursor) {
    const after = decodeNameCursor(q.cursor);
    filter.$or = [{ genericNameZh: trusted({ $gt: after.name }) }, { genericNameZh: after.name, _id: trusted({ $gt: after.id }) }];
  }
  const rows = await Drug.find(filter).sort({ genericNameZh: 1, _id: 1 }).limit(q.limit + 1).lean<DrugDoc[]>();
  const page = rows.slice(0, q.limit);
  const refs = await currentReferencePrices(page.map((d) => d._id), now());
  const last = page.at(-1);
  return {
    data: page.map((d) => toView(d, refs.get(String(d._id)))),
    nextCursor: rows.length > q.limit && last ? Buffer.from(`${last.genericNameZh}\u0000${String(last._id)}`).toString('base64url') : null,
  };
}

function decodeNameCursor(cursor: string): { name: string; id: Types.ObjectId } {
  const [name, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('\u0000');
  if (!name || !id || !/^[a-f0-9]{24}$/.test(id)) throw new ValidationError({ code: 'INVALID_CURSOR', message: msg('errorCodes.INVALID_CURSOR') });
  return { name, id: new Types.ObjectId(id) };
}

/** Every drug matching the filters (for export), by name. */
export async function allDrugs(q: Omit<DrugListQueryInput, 'cursor' | 'limit'>): Promise<DrugView[]> {
  const rows = await Drug.find(drugFilter(q)).sort({ genericNameZh: 1, _id: 1 }).lean<DrugDoc[]>();
  const refs = await currentReferencePrices(rows.map((d) => d._id), now());
  return rows.map((d) => toView(d, refs.get(String(d._id))));
}

/** Distinct dosage forms in the catalogue (for the filter). */
export async function dosageForms(): Promise<string[]> {
  const forms = (await Drug.distinct('dosageForm')) as string[];
  return forms.sort((a, b) => a.localeCompare(b, 'zh-CN'));
}

export interface ImportableDrug extends CodeFields {
  genericNameZh: string;
  genericNameEn: string;
  dosageForm: string;
  formClass: FormClass;
  specification: string;
  packUnit: string;
  manufacturer: string;
  categories: { shortage: boolean; vbp: boolean; regular: boolean };
  referencePriceFen?: number;
  effectiveFrom?: Date;
}

/** Inserts validated drugs and their reference prices in the caller's unit of work (all together or not at all). */
export async function insertDrugs(uow: UnitOfWork, drugs: ImportableDrug[], extra: Record<string, unknown>[] = []): Promise<number> {
  if (drugs.length === 0) return 0;
  const session = uow.session;
  const docs = drugs.map(({ referencePriceFen: _p, effectiveFrom: _e, ...fields }, i) => ({
    _id: new Types.ObjectId(),
    ...fields,
    gtin: fields.gtin || undefined,
    searchText: searchTextOf(fields),
    ...nameSearchKeys(fields.genericNameZh),
    active: true,
    ...(extra[i] ?? {}),
  }));
  await Drug.insertMany(docs, { session });
  const createdBy = uow.actor ? new Types.ObjectId(uow.actor.id) : undefined;
  const prices = drugs.flatMap((d, i) =>
    d.referencePriceFen === undefined ? [] : [{ drugId: docs[i]!._id, priceFen: d.referencePriceFen, effectiveFrom: d.effectiveFrom ?? uow.at, createdAt: uow.at, ...(createdBy ? { createdBy } : {}) }],
  );
  if (prices.length) await ReferencePrice.insertMany(prices, { session });
  return drugs.length;
}

/** A duplicate code that another import added meanwhile: nothing of this import was stored. */
export function importRaceError(err: unknown): unknown {
  return isDuplicateKey(err) ? new RuleViolationError({ code: 'IMPORT_REJECTED', message: msg('errorCodes.IMPORT_REJECTED_2') }) : err;
}

/** How a picker shows a drug: name, specification and maker. */
export function drugLabel(d: { genericNameZh: string; specification: string; manufacturer: string }): string {
  return `${d.genericNameZh} ${d.specification}（${d.manufacturer}）`;
}

/**
 * The drug a picker field stands for: the chosen id, or (where scripts did not run and only text was
 * typed) the first drug the text finds; null when neither names one.
 */
export async function drugChoice(id: string | undefined, text?: string): Promise<{ id: string; label: string } | null> {
  const fields = { genericNameZh: 1, specification: 1, manufacturer: 1 };
  let d: DrugDoc | null = null;
  if (id && Types.ObjectId.isValid(id)) d = await Drug.findById(id, fields).lean<DrugDoc>();
  else if (text?.trim()) d = await Drug.findOne(drugFilter({ q: text, active: 'all' }), fields).sort({ genericNameZh: 1, _id: 1 }).lean<DrugDoc>();
  return d ? { id: String(d._id), label: drugLabel(d) } : null;
}
