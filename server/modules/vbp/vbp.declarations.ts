// Demand declarations (报量): the operator opens one for a list of drugs with a deadline; each hospital
// declares its annual demand per drug, pre-filled with last year's platform purchases; a declaration
// under the floor share of last year's volume needs a reason. Every submission is checked whole and
// stored in one transaction, so a bad batch (form, API or file) stores nothing.
import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import { DeclarationOpened, DeclarationReminderSent, vbpEventKeys } from '../../events/vbp';
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { ForbiddenError, NotFoundError, RuleViolationError, ValidationError, problemsMessage } from '../../platform/errors';
import { dateTime, msg, type Message } from '../../platform/messages';
import { trusted } from '../../platform/mongo';
import { beforeCursor, pageOf } from '../../platform/pagination';
import { addSeconds, addYears, startOfBusinessDay, businessDay } from '../../platform/time';
import { withCommand } from '../../platform/unit-of-work';
import { formatDateTime } from '../../platform/view-helpers/formatters';
import { getDrugs } from '../catalogue';
import { getOrganisation, organisationsByType } from '../identity';
import { eachDue, oid } from './vbp.common';
import { lastYearPurchases } from './vbp.history';
import { Declaration, DeclarationEntry, type DeclarationDoc, type DeclarationDrug, type DeclarationEntryDoc } from './vbp.model';
import type { CreateDeclarationInput, EntryInputValue } from './vbp.schemas';
import { getVbpSettings } from './vbp.settings';

export interface DeclarationView {
  id: string;
  title: string;
  deadline: string;
  open: boolean;
  minShareOfLastYearBp: number;
  lastYearFrom: string;
  lastYearTo: string;
  createdAt: string;
  createdByName: string;
  drugs: {
    drugId: string;
    genericNameZh: string;
    genericNameEn: string;
    specification: string;
    packUnit: string;
    manufacturer: string;
    nhsaCode: string;
    formClass: string;
  }[];
}

export interface MyEntryView {
  drugId: string;
  quantity: number | null;
  lastYearQty: number | null;
  lastYearSource: 'platform' | 'hospital' | null;
  /** The smallest quantity that needs no reason (null when there is no last-year volume). */
  floorQty: number | null;
  reason: string | null;
  preferredDistributorOrgId: string | null;
  submittedAt: string | null;
}

export interface EntryProblem {
  index: number;
  field: string;
  code: string;
  message: Message;
  drugId?: string;
}

export function isOpen(d: Pick<DeclarationDoc, 'deadline'>, at: Date = now()): boolean {
  return at.getTime() < d.deadline.getTime();
}

export function toDeclarationView(d: DeclarationDoc): DeclarationView {
  return {
    id: String(d._id),
    title: d.title,
    deadline: d.deadline.toISOString(),
    open: isOpen(d),
    minShareOfLastYearBp: d.minShareOfLastYearBp,
    lastYearFrom: d.lastYearFrom.toISOString(),
    lastYearTo: d.lastYearTo.toISOString(),
    createdAt: d.createdAt.toISOString(),
    createdByName: d.createdByName,
    drugs: d.drugs.map((x) => ({
      drugId: String(x.drugId),
      genericNameZh: x.genericNameZh,
      genericNameEn: x.genericNameEn,
      specification: x.specification,
      packUnit: x.packUnit,
      manufacturer: x.manufacturer,
      nhsaCode: x.nhsaCode,
      formClass: x.formClass,
    })),
  };
}

/** The smallest whole quantity at or above `shareBp` of last year's volume. */
export function floorQuantity(lastYearQty: number | null, shareBp: number): number | null {
  if (lastYearQty === null || lastYearQty <= 0) return null;
  return Math.ceil((lastYearQty * shareBp) / 10_000);
}

/** Below the floor share of last year's volume (exact integer comparison). */
export function belowFloor(quantity: number, lastYearQty: number | null, shareBp: number): boolean {
  return lastYearQty !== null && lastYearQty > 0 && BigInt(quantity) * 10_000n < BigInt(lastYearQty) * BigInt(shareBp);
}

export async function loadDeclaration(id: string): Promise<DeclarationDoc> {
  const d = Types.ObjectId.isValid(id) ? await Declaration.findById(id).lean<DeclarationDoc>() : null;
  if (!d) throw new NotFoundError({ code: 'DECLARATION_NOT_FOUND', message: msg('errorCodes.DECLARATION_NOT_FOUND') });
  return d;
}

function assertHospital(actor: Actor): void {
  if (actor.orgType !== 'hospital') throw new ForbiddenError({ code: 'HOSPITALS_ONLY', message: msg('errorCodes.HOSPITALS_ONLY') });
}

/** Operator: opens a declaration for a list of catalogue drugs with a deadline. */
export async function createDeclaration(actor: Actor, input: CreateDeclarationInput): Promise<DeclarationView> {
  const at = now();
  const settings = await getVbpSettings();
  const details: { path: string; code: string; message: Message }[] = [];
  const deadline = new Date(input.deadline);
  if (deadline.getTime() <= at.getTime()) details.push({ path: 'deadline', code: 'DEADLINE_IN_PAST', message: msg('errorCodes.DEADLINE_IN_PAST') });
  const seen = new Set<string>();
  input.drugIds.forEach((id, i) => {
    if (seen.has(id.toLowerCase())) details.push({ path: `drugIds.${i}`, code: 'DUPLICATE_DRUG', message: msg('errorCodes.DUPLICATE_DRUG') });
    seen.add(id.toLowerCase());
  });
  const drugs = await getDrugs(input.drugIds);
  const byId = new Map(drugs.map((d) => [String(d._id), d]));
  input.drugIds.forEach((id, i) => {
    if (!byId.has(id.toLowerCase())) details.push({ path: `drugIds.${i}`, code: 'DRUG_NOT_FOUND', message: msg('errorCodes.DRUG_NOT_FOUND_3', { id: id }) });
  });
  const lastYearTo = input.lastYearTo ? new Date(input.lastYearTo) : startOfBusinessDay(at);
  const lastYearFrom = input.lastYearFrom ? new Date(input.lastYearFrom) : addYears(lastYearTo, -1);
  if (lastYearFrom.getTime() >= lastYearTo.getTime()) details.push({ path: 'lastYearFrom', code: 'INVALID_PERIOD', message: msg('errorCodes.INVALID_PERIOD_3') });
  if (details.length) throw new ValidationError({ code: details[0]!.code, message: problemsMessage(details.map((d) => d.message)), details });

  const remindBeforeDeadlineSec = input.remindBeforeDeadlineSec ?? settings.declaration.remindBeforeDeadlineSec;
  const remindAt = remindBeforeDeadlineSec > 0 ? addSeconds(deadline, -remindBeforeDeadlineSec) : null;
  const d: DeclarationDoc = {
    _id: new Types.ObjectId(),
    title: input.title,
    drugs: [...seen].map((id) => {
      const drug = byId.get(id)!;
      return {
        drugId: drug._id,
        genericNameZh: drug.genericNameZh,
        genericNameEn: drug.genericNameEn,
        specification: drug.specification,
        packUnit: drug.packUnit,
        manufacturer: drug.manufacturer,
        nhsaCode: drug.nhsaCode,
        formClass: drug.formClass,
      } satisfies DeclarationDrug;
    }),
    deadline,
    minShareOfLastYearBp: input.minShareOfLastYearBp ?? settings.declaration.minShareOfLastYearBp,
    remindBeforeDeadlineSec,
    // NOTE: a reminder that would fall before now is not scheduled at all.
    remindAt: remindAt && remindAt.getTime() > at.getTime() ? remindAt : null,
    autoRemindedAt: null,
    lastYearFrom,
    lastYearTo,
    createdAt: at,
    createdById: oid(actor.id),
    createdByName: actor.name,
  };
  const id = String(d._id);
  return withCommand(actor, async (uow) => {
    await Declaration.create([d], { session: uow.session });
    uow.audit({
      action: 'vbp.declaration.create',
      targetType: 'vbp_declaration',
      targetId: id,
      summary: msg('vbp.audit.declarationCreated', { title: d.title, drugs: d.drugs.length, deadline: dateTime(d.deadline) }),
    });
    uow.emit(
      DeclarationOpened,
      { declarationId: id, title: d.title, deadline: d.deadline.toISOString(), drugCount: d.drugs.length, remindAt: d.remindAt ? d.remindAt.toISOString() : null },
      { key: vbpEventKeys.declarationOpened(id) },
    );
    return toDeclarationView(d);
  });
}

/** Declarations, newest first (operator and hospitals). */
export async function listDeclarations(q: { cursor?: string; limit: number }) {
  const rows = await Declaration.find(beforeCursor('createdAt', q.cursor)).sort({ createdAt: -1, _id: -1 }).limit(q.limit + 1).lean<DeclarationDoc[]>();
  const page = pageOf(rows, q.limit, (r) => r.createdAt);
  return { data: page.rows.map(toDeclarationView), nextCursor: page.nextCursor };
}

/** A hospital's own entries for a declaration, one per drug, with the platform pre-fill. */
export async function myEntries(actor: Actor, d: DeclarationDoc): Promise<MyEntryView[]> {
  assertHospital(actor);
  const [entries, history] = await Promise.all([
    DeclarationEntry.find({ declarationId: d._id, hospitalOrgId: oid(actor.orgId) }).lean<DeclarationEntryDoc[]>(),
    lastYearPurchases(actor.orgId, d.drugs.map((x) => x.drugId), d.lastYearFrom, d.lastYearTo),
  ]);
  const byDrug = new Map(entries.map((e) => [String(e.drugId), e]));
  return d.drugs.map((drug) => {
    const key = String(drug.drugId);
    const e = byDrug.get(key);
    const platformQty = history.get(key);
    const lastYearQty = platformQty ?? e?.lastYearQty ?? null;
    return {
      drugId: key,
      quantity: e?.quantity ?? null,
      lastYearQty,
      lastYearSource: platformQty !== undefined ? 'platform' : (e?.lastYearSource ?? null),
      floorQty: floorQuantity(lastYearQty, d.minShareOfLastYearBp),
      reason: e?.reason ?? null,
      preferredDistributorOrgId: e?.preferredDistributorOrgId ? String(e.preferredDistributorOrgId) : null,
      submittedAt: e?.submittedAt ? e.submittedAt.toISOString() : null,
    };
  });
}

/** Checks a batch of entries against the declaration; returns every problem, by entry index. */
export async function checkEntries(d: DeclarationDoc, hospitalOrgId: string, entries: EntryInputValue[]): Promise<EntryProblem[]> {
  const problems: EntryProblem[] = [];
  const drugIds = new Set(d.drugs.map((x) => String(x.drugId)));
  const history = await lastYearPurchases(hospitalOrgId, d.drugs.map((x) => x.drugId), d.lastYearFrom, d.lastYearTo);
  const seen = new Map<string, number>();
  const distributorIds = [...new Set(entries.map((e) => e.preferredDistributorOrgId).filter((x): x is string => !!x))];
  const distributors = new Map<string, boolean>();
  for (const id of distributorIds) distributors.set(id.toLowerCase(), (await getOrganisation(id))?.type === 'distributor');
  entries.forEach((e, index) => {
    const drugId = e.drugId.toLowerCase();
    const at = (field: string, code: string, message: Message) => problems.push({ index, field, code, message, drugId });
    if (!drugIds.has(drugId)) {
      at('drugId', 'DRUG_NOT_IN_DECLARATION', msg('errorCodes.DRUG_NOT_IN_DECLARATION_2'));
      return;
    }
    const earlier = seen.get(drugId);
    if (earlier !== undefined) at('drugId', 'DUPLICATE_DRUG', msg('errorCodes.DUPLICATE_DECLARED', { entry: earlier + 1 }));
    else seen.set(drugId, index);
    const platformQty = history.get(drugId);
    if (platformQty !== undefined && e.lastYearQty !== undefined && e.lastYearQty !== null && e.lastYearQty !== platformQty) {
      at('lastYearQty', 'LAST_YEAR_FROM_PLATFORM', msg('errorCodes.LAST_YEAR_FROM_PLATFORM', { quantity: platformQty }));
    }
    const lastYear = platformQty ?? e.lastYearQty ?? null;
    if (belowFloor(e.quantity, lastYear, d.minShareOfLastYearBp) && !e.reason) {
      const floorQty = floorQuantity(lastYear, d.minShareOfLastYearBp)!;
      at('reason', 'REASON_REQUIRED', msg('errorCodes.DECLARATION_REASON_REQUIRED', { quantity: e.quantity, percent: d.minShareOfLastYearBp / 100, lastYear: lastYear ?? 0, floor: floorQty }));
    }
    if (e.preferredDistributorOrgId && !distributors.get(e.preferredDistributorOrgId.toLowerCase())) {
      at('preferredDistributorOrgId', 'NOT_A_DISTRIBUTOR', msg('errorCodes.PREFERRED_NOT_DISTRIBUTOR'));
    }
  });
  return problems;
}

const SOURCE_LABEL: Record<DeclarationEntryDoc['source'], string> = { form: 'vbp.audit.source.form', api: 'vbp.audit.source.api', import: 'vbp.audit.source.import' };

/** Stores a checked batch (upserts) with its audit entry, in one unit of work. */
async function storeEntries(actor: Actor, d: DeclarationDoc, entries: EntryInputValue[], source: DeclarationEntryDoc['source']): Promise<void> {
  const history = await lastYearPurchases(actor.orgId, d.drugs.map((x) => x.drugId), d.lastYearFrom, d.lastYearTo);
  await withCommand(actor, async (uow) => {
    for (const e of entries) {
      const drugId = e.drugId.toLowerCase();
      const platformQty = history.get(drugId);
      const lastYearQty = platformQty ?? e.lastYearQty ?? null;
      await DeclarationEntry.updateOne(
        { declarationId: d._id, hospitalOrgId: oid(actor.orgId), drugId: oid(drugId) },
        {
          $set: {
            hospitalName: actor.orgName,
            quantity: e.quantity,
            lastYearQty,
            lastYearSource: platformQty !== undefined ? 'platform' : lastYearQty === null ? null : 'hospital',
            preferredDistributorOrgId: e.preferredDistributorOrgId ? oid(e.preferredDistributorOrgId.toLowerCase()) : null,
            source,
            submittedAt: uow.at,
            submittedById: oid(actor.id),
            submittedByName: actor.name,
            ...(e.reason ? { reason: e.reason } : {}),
          },
          ...(e.reason ? {} : { $unset: { reason: 1 } }),
        },
        { upsert: true, session: uow.session },
      );
    }
    uow.audit(
      source === 'import'
        ? { action: 'vbp.declaration.import', targetType: 'vbp_declaration', targetId: String(d._id), summary: msg('vbp.audit.declarationImported', { hospital: actor.orgName, drugs: entries.length, title: d.title }) }
        : {
            action: 'vbp.declaration.submit',
            targetType: 'vbp_declaration',
            targetId: String(d._id),
            summary: msg('vbp.audit.declarationSubmitted', { hospital: actor.orgName, drugs: entries.length, title: d.title, source: { msg: SOURCE_LABEL[source] } }),
          },
    );
  });
}

/** The problems as one refusal: the first code, every problem in the details. */
export function entriesRefusal(problems: EntryProblem[], where = 'entries'): RuleViolationError {
  return new RuleViolationError({
    code: problems[0]!.code,
    message: problemsMessage(problems.map((p) => p.message)),
    details: problems.map((p) => ({ path: `${where}.${p.index}.${p.field}`, index: p.index, field: p.field, code: p.code, message: p.message, drugId: p.drugId })),
  });
}

export function assertDeclarationOpen(d: DeclarationDoc): void {
  if (!isOpen(d)) {
    throw new RuleViolationError({ code: 'DECLARATION_CLOSED', message: msg('errorCodes.DECLARATION_CLOSED', { deadline: dateTime(d.deadline) }) });
  }
}

/** Hospital: declares (or revises) annual demand for some drugs; all or nothing. */
export async function submitEntries(actor: Actor, declarationId: string, entries: EntryInputValue[], source: DeclarationEntryDoc['source'] = 'api'): Promise<{ entries: MyEntryView[] }> {
  assertHospital(actor);
  const d = await loadDeclaration(declarationId);
  assertDeclarationOpen(d);
  const problems = await checkEntries(d, actor.orgId, entries);
  if (problems.length) throw entriesRefusal(problems);
  await storeEntries(actor, d, entries, source);
  return { entries: await myEntries(actor, d) };
}

/** Stores an already-checked batch from an import. */
export async function storeImportedEntries(actor: Actor, d: DeclarationDoc, entries: EntryInputValue[]): Promise<void> {
  await storeEntries(actor, d, entries, 'import');
}

export interface DeclarationSummary {
  hospitalsTotal: number;
  hospitalsComplete: number;
  drugs: {
    drugId: string;
    genericNameZh: string;
    genericNameEn: string;
    specification: string;
    packUnit: string;
    hospitals: number;
    totalQty: number;
    lastYearQty: number;
    belowFloor: number;
  }[];
  missing: { orgId: string; name: string; hospitalLevel: number | null }[];
  partial: { orgId: string; name: string; hospitalLevel: number | null; declared: number }[];
  entries: { hospitalOrgId: string; hospitalName: string; drugId: string; quantity: number; lastYearQty: number | null; reason: string | null; belowFloor: boolean }[];
}

/** Operator: totals per drug, and the hospitals that have not declared (or only in part). */
export async function declarationSummary(d: DeclarationDoc): Promise<DeclarationSummary> {
  const [entries, hospitals] = await Promise.all([
    DeclarationEntry.find({ declarationId: d._id }).sort({ hospitalName: 1 }).lean<DeclarationEntryDoc[]>(),
    organisationsByType('hospital'),
  ]);
  const drugCount = d.drugs.length;
  const perHospital = new Map<string, number>();
  for (const e of entries) perHospital.set(String(e.hospitalOrgId), (perHospital.get(String(e.hospitalOrgId)) ?? 0) + 1);
  const drugs = d.drugs.map((drug) => {
    const mine = entries.filter((e) => String(e.drugId) === String(drug.drugId));
    return {
      drugId: String(drug.drugId),
      genericNameZh: drug.genericNameZh,
      genericNameEn: drug.genericNameEn,
      specification: drug.specification,
      packUnit: drug.packUnit,
      hospitals: mine.filter((e) => e.quantity > 0).length,
      totalQty: mine.reduce((s, e) => s + e.quantity, 0),
      lastYearQty: mine.reduce((s, e) => s + (e.lastYearQty ?? 0), 0),
      belowFloor: mine.filter((e) => belowFloor(e.quantity, e.lastYearQty, d.minShareOfLastYearBp)).length,
    };
  });
  const level = (h: { hospitalLevel?: number | null }) => h.hospitalLevel ?? null;
  return {
    hospitalsTotal: hospitals.length,
    hospitalsComplete: hospitals.filter((h) => (perHospital.get(String(h._id)) ?? 0) >= drugCount).length,
    drugs,
    missing: hospitals.filter((h) => !perHospital.has(String(h._id))).map((h) => ({ orgId: String(h._id), name: h.name, hospitalLevel: level(h) })),
    partial: hospitals
      .filter((h) => {
        const n = perHospital.get(String(h._id)) ?? 0;
        return n > 0 && n < drugCount;
      })
      .map((h) => ({ orgId: String(h._id), name: h.name, hospitalLevel: level(h), declared: perHospital.get(String(h._id))! })),
    entries: entries.map((e) => ({
      hospitalOrgId: String(e.hospitalOrgId),
      hospitalName: e.hospitalName,
      drugId: String(e.drugId),
      quantity: e.quantity,
      lastYearQty: e.lastYearQty ?? null,
      reason: e.reason ?? null,
      belowFloor: belowFloor(e.quantity, e.lastYearQty, d.minShareOfLastYearBp),
    })),
  };
}

/**
 * Reminds the pharmacists of every hospital that has not declared every drug, once a business day
 * per hospital: the reminder is a fact keyed by the day and the hospitals, the notifications follow
 * it. The scheduled reminder (`auto`) runs once per declaration.
 */
export async function remindMissing(actor: Actor | null, declarationId: string, opts: { auto?: boolean } = {}): Promise<{ hospitals: number }> {
  const d = await loadDeclaration(declarationId);
  assertDeclarationOpen(d);
  const summary = await declarationSummary(d);
  const hospitalOrgIds = [...summary.missing, ...summary.partial].map((h) => h.orgId).sort();
  return withCommand(actor, async (uow) => {
    if (opts.auto) {
      const first = await Declaration.updateOne({ _id: d._id, autoRemindedAt: null }, { $set: { autoRemindedAt: uow.at } }, { session: uow.session });
      if (first.modifiedCount === 0) return { hospitals: 0 };
    }
    if (hospitalOrgIds.length > 0) {
      const day = businessDay(uow.at);
      const hash = createHash('sha256').update(hospitalOrgIds.join(',')).digest('hex').slice(0, 16);
      uow.emit(
        DeclarationReminderSent,
        { declarationId, title: d.title, deadline: d.deadline.toISOString(), drugCount: d.drugs.length, day, hospitalOrgIds },
        { key: vbpEventKeys.declarationReminder(declarationId, day, hash) },
      );
    }
    uow.audit({ action: 'vbp.declaration.remind', targetType: 'vbp_declaration', targetId: declarationId, summary: msg(opts.auto ? 'vbp.audit.remindedAuto' : 'vbp.audit.reminded', { title: d.title, hospitals: hospitalOrgIds.length }) });
    return { hospitals: hospitalOrgIds.length };
  });
}

/** Job (and sweep): the automatic reminder before the deadline, once; skipped once the declaration has closed. */
export async function runDeclarationReminder(declarationId: string): Promise<void> {
  const d = await Declaration.findById(declarationId).lean<DeclarationDoc>();
  if (!d || !isOpen(d) || d.autoRemindedAt) return;
  await remindMissing(null, declarationId, { auto: true });
}

/** Sweep: automatic reminders that are due but did not run (their job was lost). */
export async function sweepDeclarationReminders(limit = 100): Promise<number> {
  const at = now();
  const due = await Declaration.find({ remindAt: trusted({ $lte: at }), deadline: trusted({ $gt: at }), autoRemindedAt: null }, { _id: 1 })
    .limit(limit)
    .lean<Pick<DeclarationDoc, '_id'>[]>();
  return eachDue('vbp.declaration-reminders', due.map((d) => String(d._id)), async (id) => {
    await runDeclarationReminder(id);
    return true;
  });
}

/** Hospital demand per drug for the tender: entries with a positive quantity. */
export async function demandsFor(declarationId: Types.ObjectId, drugId: Types.ObjectId): Promise<DeclarationEntryDoc[]> {
  return DeclarationEntry.find({ declarationId, drugId, quantity: trusted({ $gt: 0 }) }).sort({ hospitalName: 1 }).lean<DeclarationEntryDoc[]>();
}
