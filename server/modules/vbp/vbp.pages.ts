// The VBP pages: a hub per role, declarations (operator totals and reminders; hospital form and
// import), tenders (operator set-up, counts and explained results; distributor bids and the
// follow-price answer), contracts with completion bars, the operator's completion table and chart,
// and supply failure. Forms post here and call the same services as the JSON API.
import type { Request, Response, Router } from 'express';
import { assertRole, type Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { AppError, errorText, pageDetails } from '../../platform/errors';
import { t, type Lang } from '../../platform/i18n';
import { fenToYuanString, safeParseYuanToFen } from '../../platform/money';
import { ObjectIdString } from '../../platform/schemas';
import { formatDateTime } from '../../platform/view-helpers/formatters';
import { listDrugs } from '../catalogue';
import { organisationsByType } from '../identity';
import { finaliseTender, openTender, respondFollowPrice } from './vbp.award';
import { groupCompletion, type CompletionRow } from './vbp.completion';
import { allContracts, contractView, declareSupplyFailure, getContractView, loadContractFor, type ContractView } from './vbp.contracts';
import { createDeclaration, declarationSummary, listDeclarations, loadDeclaration, myEntries, remindMissing, submitEntries, toDeclarationView } from './vbp.declarations';
import { Contract, DeclarationEntry, type ContractDoc } from './vbp.model';
import { contractPdf } from './vbp.pdf';
import { CreateDeclarationBody, CreateTenderBody, EntryInput, type EntryInputValue } from './vbp.schemas';
import { getVbpSettings } from './vbp.settings';
import { vbpSettingsPages } from './vbp.settings-page';
import { createTender, listTenders, loadTender, placeBid, tenderView, type TenderView } from './vbp.tenders';
import { completionOf } from './vbp.completion';
import { oid } from './vbp.common';

type Form = Record<string, string | string[] | undefined>;
type Errors = Record<string, string>;
const str = (v: unknown) => (typeof v === 'string' ? v : '');
const langOf = (res: Response) => res.locals.lang as Lang;
const SHANGHAI_MS = 8 * 3_600_000;

/** A `datetime-local` value (Asia/Shanghai wall clock) for an instant. */
function toLocalInput(d: Date): string {
  return new Date(d.getTime() + SHANGHAI_MS).toISOString().slice(0, 16);
}

/** Parses a `datetime-local` value as Asia/Shanghai time. */
function fromLocalInput(v: string): Date | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(v)) return null;
  const d = new Date(`${v}:00+08:00`);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Field errors from an app error's details (`path` → message), else one form-level message. */
function errorsFrom(err: AppError, map: (path: string) => string = (p) => p): Errors {
  const out: Errors = {};
  for (const d of pageDetails(err) as { path?: string; message?: string }[]) {
    if (d && typeof d.path === 'string' && d.path) out[map(d.path)] ??= d.message ?? errorText(err);
  }
  if (Object.keys(out).length === 0) out._form = errorText(err);
  return out;
}

function isUserError(err: unknown): err is AppError {
  return err instanceof AppError && err.status < 500;
}

const TENDER_TONES: Record<string, string> = { bidding: 'info', awaiting_acceptance: 'warning', awarded: 'success' };
const OUTCOME_TONES: Record<string, string> = { won_direct: 'success', won_by_accepting: 'success', lost: 'neutral', invalid: 'danger' };
const CONTRACT_TONES: Record<string, string> = { active: 'success', supply_failed: 'danger' };

/** Progress bar geometry (0–100) of purchased against agreed, with the pro-rata target marker. */
function bar(purchased: number, agreed: number, target: number) {
  const pct = (n: number) => (agreed > 0 ? Math.min(100, Math.round((n / agreed) * 1000) / 10) : 0);
  return { pct: pct(purchased), targetPct: pct(target) };
}

function paceOf(c: { status: string; completion: { behindPace: boolean; underCheckpoint: boolean } }): { key: string; tone: string } {
  if (c.status !== 'active') return { key: 'ended', tone: 'neutral' };
  if (c.completion.underCheckpoint) return { key: 'underCheckpoint', tone: 'danger' };
  if (c.completion.behindPace) return { key: 'behind', tone: 'warning' };
  return { key: 'onPace', tone: 'success' };
}

function contractRow(c: ContractView, lang: Lang) {
  const pace = paceOf(c);
  return {
    ...c,
    drugName: lang === 'en' ? c.genericNameEn : c.genericNameZh,
    statusTone: CONTRACT_TONES[c.status],
    pace: { label: t(lang, `vbp.pace.${pace.key}`), tone: pace.tone },
    bar: bar(c.purchasedQty, c.agreedQty, c.completion.proRataTargetQty),
    basisLabel: t(lang, `vbp.basis.${c.basis}`),
  };
}

/** The chart rows of the completion SVG: one horizontal bar per row. */
function chartOf(rows: CompletionRow[]) {
  const max = Math.max(1, ...rows.map((r) => Math.max(r.agreedQty, r.purchasedQty)));
  const width = 500;
  const scale = (n: number) => Math.round((n / max) * width * 10) / 10;
  return {
    height: rows.length * 34 + 30,
    rows: rows.slice(0, 40).map((r, i) => ({
      y: i * 34 + 4,
      labelY: i * 34 + 17,
      label: r.label.length > 22 ? `${r.label.slice(0, 21)}…` : r.label,
      agreedW: scale(r.agreedQty),
      purchasedW: scale(r.purchasedQty),
      targetX: 180 + scale(r.targetQty),
      fill: r.underCheckpoint ? '#c0392b' : r.behindPace ? '#d68910' : '#1e8449',
      text: `${r.purchasedQty} / ${r.agreedQty}`,
      textX: 180 + Math.max(scale(r.agreedQty), scale(r.purchasedQty)) + 6,
    })),
  };
}

function tenderHeader(tv: TenderView, lang: Lang) {
  return { ...tv, statusTone: TENDER_TONES[tv.status], visibilityLabel: t(lang, `vbp.visibility.${tv.visibility}`) };
}

async function renderDeclaration(req: Request, res: Response, id: string, extra: { errors?: Errors; values?: Form; flash?: string; importOpen?: boolean } = {}, status = 200) {
  const lang = langOf(res);
  const actor = req.actor!;
  const d = await loadDeclaration(id);
  const view = toDeclarationView(d);
  const drugName = (x: { genericNameZh: string; genericNameEn: string }) => (lang === 'en' ? x.genericNameEn : x.genericNameZh);
  if (actor.role === 'operator') {
    const summary = await declarationSummary(d);
    const names = new Map(view.drugs.map((x) => [x.drugId, drugName(x)]));
    res.status(status).render('vbp/declaration', {
      title: view.title,
      d: view,
      isOperator: true,
      statusKey: view.open ? 'open' : 'closed',
      summary: {
        ...summary,
        drugs: summary.drugs.map((x) => ({ ...x, name: drugName(x) })),
        entries: summary.entries.map((e) => ({ ...e, drugName: names.get(e.drugId) ?? '' })),
        missingCount: summary.missing.length,
        partialCount: summary.partial.length,
      },
      canRemind: view.open && summary.missing.length + summary.partial.length > 0,
      canTender: !view.open,
      flash: extra.flash,
      errors: extra.errors,
    });
    return;
  }
  const mine = await myEntries(actor, d);
  const distributors = (await organisationsByType('distributor')).map((o) => ({ id: String(o._id), name: o.name }));
  const values = extra.values ?? {};
  const rows = view.drugs.map((drug, i) => {
    const e = mine[i]!;
    const v = (field: string, fallback: unknown) => (values[`${drug.drugId}.${field}`] !== undefined ? str(values[`${drug.drugId}.${field}`]) : fallback === null || fallback === undefined ? '' : String(fallback));
    const preferred = v('preferredDistributorOrgId', e.preferredDistributorOrgId);
    return {
      ...drug,
      name: drugName(drug),
      formClassLabel: t(lang, `catalogue.formClass.${drug.formClass}`),
      entry: e,
      fromPlatform: e.lastYearSource === 'platform',
      quantity: v('quantity', e.quantity),
      lastYearQty: v('lastYearQty', e.lastYearQty),
      reason: v('reason', e.reason),
      floorLabel: e.floorQty === null ? '' : t(lang, 'vbp.declaration.floorHint', { floor: e.floorQty, share: d.minShareOfLastYearBp / 100 }),
      distributors: distributors.map((o) => ({ ...o, selected: o.id === preferred })),
      errors: Object.fromEntries(['quantity', 'lastYearQty', 'reason', 'preferredDistributorOrgId', 'drugId'].map((f) => [f, extra.errors?.[`${drug.drugId}.${f}`]])),
      declared: e.submittedAt !== null,
    };
  });
  res.status(status).render('vbp/declaration', {
    title: view.title,
    d: view,
    isHospital: true,
    canEdit: view.open && actor.role === 'pharmacist',
    statusKey: view.open ? 'open' : 'closed',
    rows,
    declaredCount: rows.filter((r) => r.declared).length,
    flash: extra.flash,
    errors: extra.errors,
    formError: extra.errors?._form,
    importMessages: Object.fromEntries(['checked', 'imported', 'rejected', 'row', 'field', 'problem', 'chooseFile', 'failed'].map((k) => [k, t(lang, `vbp.import.${k}`)])),
  });
}

/** Parses the hospital's declaration form into entries; only rows with a quantity are submitted. */
function entriesFromForm(drugIds: string[], form: Form, lang: Lang): { entries: EntryInputValue[]; errors: Errors } {
  const errors: Errors = {};
  const entries: EntryInputValue[] = [];
  for (const drugId of drugIds) {
    const field = (f: string) => str(form[`${drugId}.${f}`]).trim();
    const qtyText = field('quantity').replace(/[,，\s]/g, '');
    if (qtyText === '') continue;
    const entry: Record<string, unknown> = { drugId };
    if (!/^\d{1,10}$/.test(qtyText)) errors[`${drugId}.quantity`] = t(lang, 'validationIssues.wholeNumber');
    else entry.quantity = Number(qtyText);
    const lastText = field('lastYearQty').replace(/[,，\s]/g, '');
    if (lastText !== '' && form[`${drugId}.lastYearQty`] !== undefined) {
      if (!/^\d{1,10}$/.test(lastText)) errors[`${drugId}.lastYearQty`] = t(lang, 'validationIssues.wholeNumber');
      else entry.lastYearQty = Number(lastText);
    }
    if (field('reason')) entry.reason = field('reason');
    if (field('preferredDistributorOrgId')) entry.preferredDistributorOrgId = field('preferredDistributorOrgId');
    const parsed = EntryInput.safeParse(entry);
    if (!parsed.success) for (const issue of parsed.error.issues) errors[`${drugId}.${String(issue.path[0] ?? 'quantity')}`] ??= issue.message;
    else entries.push(parsed.data);
  }
  return { entries, errors };
}

async function vbpDrugOptions(lang: Lang) {
  const page = await listDrugs({ category: 'vbp', active: 'true', limit: 200 });
  return page.data.map((d) => ({ id: d.id, name: lang === 'en' ? d.genericNameEn : d.genericNameZh, spec: `${d.specification} · ${d.packUnit}`, maker: d.manufacturer, formClassLabel: t(lang, `catalogue.formClass.${d.formClass}`) }));
}

async function renderNewDeclaration(res: Response, extra: { values?: Form; errors?: Errors } = {}, status = 200) {
  const lang = langOf(res);
  const settings = await getVbpSettings();
  const values = extra.values ?? {
    deadline: toLocalInput(new Date(now().getTime() + 14 * 86_400_000)),
    minSharePercent: String(settings.declaration.minShareOfLastYearBp / 100),
    remindHours: String(settings.declaration.remindBeforeDeadlineSec / 3600),
  };
  const chosen = new Set(([] as string[]).concat(values.drugIds ?? []));
  res.status(status).render('vbp/declaration-new', {
    title: t(lang, 'vbp.newDeclaration.title'),
    drugs: (await vbpDrugOptions(lang)).map((d) => ({ ...d, checked: chosen.has(d.id) })),
    values,
    errors: extra.errors,
  });
}

async function renderNewTender(res: Response, declarationId: string, extra: { values?: Form; errors?: Errors } = {}, status = 200) {
  const lang = langOf(res);
  const settings = await getVbpSettings();
  const d = await loadDeclaration(declarationId);
  const summary = await declarationSummary(d);
  const values = extra.values ?? {
    title: d.title,
    closesAt: toLocalInput(new Date(now().getTime() + 7 * 86_400_000)),
    visibility: settings.tender.visibility,
    followWindowHours: String(Math.round((settings.tender.followWindowSec / 3600) * 100) / 100),
  };
  res.status(status).render('vbp/tender-new', {
    title: t(lang, 'vbp.newTender.title'),
    declaration: toDeclarationView(d),
    declarationOpen: now().getTime() < d.deadline.getTime(),
    lines: summary.drugs.map((x) => ({
      ...x,
      name: lang === 'en' ? x.genericNameEn : x.genericNameZh,
      include: extra.values ? str(values[`${x.drugId}.include`]) === 'on' : x.totalQty > 0,
      ceiling: str(values[`${x.drugId}.ceiling`]),
      error: extra.errors?.[`${x.drugId}.ceiling`] ?? extra.errors?.[`${x.drugId}.drugId`],
    })),
    values,
    errors: extra.errors,
    rules: settings.tender.selection,
  });
}

async function renderTender(req: Request, res: Response, id: string, extra: { errors?: Errors; flash?: string; values?: Form } = {}, status = 200) {
  const lang = langOf(res);
  const actor = req.actor!;
  const tv = await tenderView(actor, await loadTender(id), lang);
  const isOperator = actor.role === 'operator';
  const isDistributor = actor.role === 'distributor';
  const bidding = tv.status === 'bidding' && now().getTime() < new Date(tv.closesAt).getTime();
  const outcomeLabel = (o: string) => t(lang, `vbp.outcome.${o}`);
  const lines = tv.lines.map((l) => ({
    ...l,
    name: lang === 'en' ? l.genericNameEn : l.genericNameZh,
    formClassLabel: t(lang, `catalogue.formClass.${l.formClass}`),
    bids: l.bids?.map((b) => ({ ...b, outcomeLabel: outcomeLabel(b.outcome), tone: OUTCOME_TONES[b.outcome] })),
    myOutcome: l.myOutcome ? { ...l.myOutcome, outcomeLabel: outcomeLabel(l.myOutcome.outcome), tone: OUTCOME_TONES[l.myOutcome.outcome] } : null,
    canBid: isDistributor && bidding,
    bidValue: extra.values?.lineId === l.id ? str(extra.values.price) : l.myBid ? fenToYuanString(l.myBid.priceFen) : '',
    bidError: extra.values?.lineId === l.id ? extra.errors?.price : undefined,
    followError: extra.values?.lineId === l.id ? extra.errors?.follow : undefined,
  }));
  res.status(status).render('vbp/tender', {
    title: tv.title,
    tv: tenderHeader(tv, lang),
    lines,
    isOperator,
    isDistributor,
    bidding,
    canOpen: isOperator && tv.status === 'bidding' && !bidding,
    canFinalise: isOperator && tv.status === 'awaiting_acceptance' && !!tv.acceptanceDeadline && now().getTime() >= new Date(tv.acceptanceDeadline).getTime(),
    awarded: tv.status === 'awarded',
    flash: extra.flash,
    formError: extra.errors?._form,
    liveRank: isDistributor && tv.visibility === 'rank' && bidding,
    pageData: { tenderId: tv.id, rankLabel: t(lang, 'vbp.tender.liveRank'), countLabel: t(lang, 'vbp.tender.bidCount') },
  });
}

function flashOf(req: Request, lang: Lang): string | undefined {
  const key = typeof req.query.flash === 'string' && /^[a-zA-Z]{1,30}$/.test(req.query.flash) ? req.query.flash : undefined;
  return key ? t(lang, `vbp.flash.${key}`) : undefined;
}

function validId(id: unknown): string {
  const parsed = ObjectIdString.safeParse(id);
  return parsed.success ? parsed.data.toLowerCase() : '000000000000000000000000';
}

export function vbpPages(router: Router): void {
  vbpSettingsPages(router);
  router.get('/vbp', async (req, res) => {
    assertRole(req.actor, ['operator', 'pharmacist', 'hospital_finance', 'distributor']);
    const lang = langOf(res);
    const actor = req.actor;
    const [declarations, tenders] = await Promise.all([
      actor.role === 'distributor' || actor.role === 'hospital_finance' ? Promise.resolve({ data: [], nextCursor: null }) : listDeclarations({ limit: 20 }),
      actor.role === 'pharmacist' || actor.role === 'hospital_finance' ? Promise.resolve({ rows: [], nextCursor: null }) : listTenders({ limit: 20 }),
    ]);
    let mineCounts = new Map<string, number>();
    if (actor.orgType === 'hospital' && declarations.data.length) {
      const rows = await DeclarationEntry.aggregate<{ _id: unknown; n: number }>([
        { $match: { hospitalOrgId: oid(actor.orgId), declarationId: { $in: declarations.data.map((d) => oid(d.id)) } } },
        { $group: { _id: '$declarationId', n: { $sum: 1 } } },
      ]);
      mineCounts = new Map(rows.map((r) => [String(r._id), r.n]));
    }
    const contracts = actor.role === 'operator' ? [] : (await allContracts(actor)).map((r) => contractRow(contractView(r), lang));
    res.render('vbp/index', {
      title: t(lang, 'vbp.title'),
      isOperator: actor.role === 'operator',
      isHospital: actor.orgType === 'hospital',
      isPharmacist: actor.role === 'pharmacist',
      isDistributor: actor.role === 'distributor',
      declarations: declarations.data.map((d) => ({ ...d, statusKey: d.open ? 'open' : 'closed', tone: d.open ? 'success' : 'neutral', mine: mineCounts.get(d.id) ?? 0, drugCount: d.drugs.length })),
      tenders: tenders.rows.map((tdoc) => ({ id: String(tdoc._id), tenderNo: tdoc.tenderNo, title: tdoc.title, status: tdoc.status, tone: TENDER_TONES[tdoc.status], closesAt: tdoc.closesAt, lines: tdoc.lines.length })),
      contracts: contracts.slice(0, 50),
      contractCount: contracts.length,
    });
  });

  router.get('/vbp/declarations/new', async (req, res) => {
    assertRole(req.actor, ['operator']);
    await renderNewDeclaration(res);
  });

  router.post('/vbp/declarations/new', async (req, res) => {
    assertRole(req.actor, ['operator']);
    const form = (req.body ?? {}) as Form;
    const errors: Errors = {};
    const deadline = fromLocalInput(str(form.deadline));
    if (!deadline) errors.deadline = t(langOf(res), 'vbp.errors.dateTime');
    const share = Number(str(form.minSharePercent));
    const hours = Number(str(form.remindHours));
    const body = {
      title: str(form.title),
      drugIds: ([] as string[]).concat(form.drugIds ?? []),
      deadline: deadline?.toISOString() ?? '',
      ...(str(form.minSharePercent) !== '' ? { minShareOfLastYearBp: Math.round(share * 100) } : {}),
      ...(str(form.remindHours) !== '' ? { remindBeforeDeadlineSec: Math.round(hours * 3600) } : {}),
    };
    const parsed = CreateDeclarationBody.safeParse(body);
    const fieldOf = (p: string) => (p.startsWith('drugIds') ? 'drugIds' : p === 'minShareOfLastYearBp' ? 'minSharePercent' : p === 'remindBeforeDeadlineSec' ? 'remindHours' : p);
    if (!parsed.success) for (const i of parsed.error.issues) errors[fieldOf(String(i.path[0] ?? '_form'))] ??= i.message;
    if (Object.keys(errors).length || !parsed.success) return renderNewDeclaration(res, { values: form, errors }, 400);
    try {
      const d = await createDeclaration(req.actor, parsed.data);
      res.redirect(303, `/vbp/declarations/${d.id}?flash=declarationCreated`);
    } catch (err) {
      if (!isUserError(err)) throw err;
      await renderNewDeclaration(res, { values: form, errors: errorsFrom(err, (p) => fieldOf(p)) }, err.status);
    }
  });

  router.get('/vbp/declarations/:id', async (req, res) => {
    assertRole(req.actor, ['operator', 'pharmacist', 'hospital_finance']);
    await renderDeclaration(req, res, validId(req.params.id), { flash: flashOf(req, langOf(res)) });
  });

  router.post('/vbp/declarations/:id', async (req, res) => {
    assertRole(req.actor, ['pharmacist']);
    const id = validId(req.params.id);
    const d = await loadDeclaration(id);
    const form = (req.body ?? {}) as Form;
    const drugIds = d.drugs.map((x) => String(x.drugId));
    const { entries, errors } = entriesFromForm(drugIds, form, langOf(res));
    if (entries.length === 0 && Object.keys(errors).length === 0) errors._form = t(langOf(res), 'vbp.declaration.nothingToSave');
    if (Object.keys(errors).length) return renderDeclaration(req, res, id, { errors, values: form }, 400);
    try {
      await submitEntries(req.actor, id, entries, 'form');
      res.redirect(303, `/vbp/declarations/${id}?flash=declarationSaved`);
    } catch (err) {
      if (!isUserError(err)) throw err;
      const mapped: Errors = {};
      for (const det of pageDetails(err) as { index?: number; field?: string; message?: string }[]) {
        const entry = typeof det.index === 'number' ? entries[det.index] : undefined;
        if (entry && det.field) mapped[`${entry.drugId}.${det.field}`] ??= det.message ?? errorText(err);
      }
      if (Object.keys(mapped).length === 0) mapped._form = errorText(err);
      await renderDeclaration(req, res, id, { errors: mapped, values: form }, err.status);
    }
  });

  router.post('/vbp/declarations/:id/remind', async (req, res) => {
    assertRole(req.actor, ['operator']);
    const id = validId(req.params.id);
    try {
      await remindMissing(req.actor, id);
      res.redirect(303, `/vbp/declarations/${id}?flash=reminded`);
    } catch (err) {
      if (!isUserError(err)) throw err;
      await renderDeclaration(req, res, id, { errors: { _form: errorText(err) } }, err.status);
    }
  });

  router.get('/vbp/tenders/new', async (req, res) => {
    assertRole(req.actor, ['operator']);
    await renderNewTender(res, validId(req.query.declarationId));
  });

  router.post('/vbp/tenders/new', async (req, res) => {
    assertRole(req.actor, ['operator']);
    const lang = langOf(res);
    const form = (req.body ?? {}) as Form;
    const declarationId = validId(form.declarationId);
    const d = await loadDeclaration(declarationId);
    const errors: Errors = {};
    const closesAt = fromLocalInput(str(form.closesAt));
    if (!closesAt) errors.closesAt = t(lang, 'vbp.errors.dateTime');
    const lines: { drugId: string; ceilingFen: number }[] = [];
    for (const drug of d.drugs) {
      const key = String(drug.drugId);
      if (str(form[`${key}.include`]) !== 'on') continue;
      const price = safeParseYuanToFen(str(form[`${key}.ceiling`]));
      if (!price.ok) errors[`${key}.ceiling`] = price.message;
      else if (price.fen < 1) errors[`${key}.ceiling`] = t(lang, 'vbp.errors.positivePrice');
      else lines.push({ drugId: key, ceilingFen: price.fen });
    }
    if (lines.length === 0 && !Object.keys(errors).some((k) => k.endsWith('.ceiling'))) errors._form = t(lang, 'vbp.newTender.noLines');
    const windowHours = Number(str(form.followWindowHours));
    const body = {
      title: str(form.title),
      declarationId,
      closesAt: closesAt?.toISOString() ?? '',
      visibility: str(form.visibility) || undefined,
      ...(str(form.followWindowHours) !== '' ? { followWindowSec: Math.round(windowHours * 3600) } : {}),
      lines,
    };
    const parsed = CreateTenderBody.safeParse(body);
    if (!parsed.success) for (const i of parsed.error.issues) errors[i.path[0] === 'followWindowSec' ? 'followWindowHours' : i.path[0] === 'lines' ? '_form' : String(i.path[0] ?? '_form')] ??= i.message;
    if (Object.keys(errors).length || !parsed.success) return renderNewTender(res, declarationId, { values: form, errors }, 400);
    try {
      const created = await createTender(req.actor, parsed.data, langOf(res));
      res.redirect(303, `/vbp/tenders/${created.id}?flash=tenderCreated`);
    } catch (err) {
      if (!isUserError(err)) throw err;
      const mapped = errorsFrom(err, (p) => {
        const m = /^lines\.(\d+)\.(\w+)$/.exec(p);
        return m ? `${lines[Number(m[1])]?.drugId}.ceiling` : p;
      });
      await renderNewTender(res, declarationId, { values: form, errors: mapped }, err.status);
    }
  });

  router.get('/vbp/tenders/:id', async (req, res) => {
    assertRole(req.actor, ['operator', 'pharmacist', 'hospital_finance', 'distributor']);
    await renderTender(req, res, validId(req.params.id), { flash: flashOf(req, langOf(res)) });
  });

  router.post('/vbp/tenders/:id/bids', async (req, res) => {
    assertRole(req.actor, ['distributor']);
    const id = validId(req.params.id);
    const form = (req.body ?? {}) as Form;
    const price = safeParseYuanToFen(str(form.price));
    const lineId = validId(form.lineId);
    if (!price.ok || price.fen < 1) return renderTender(req, res, id, { errors: { price: price.ok ? t(langOf(res), 'vbp.errors.positivePrice') : price.message }, values: { ...form, lineId } }, 400);
    try {
      await placeBid(req.actor, id, { lineId, priceFen: price.fen });
      res.redirect(303, `/vbp/tenders/${id}?flash=bidSaved`);
    } catch (err) {
      if (!isUserError(err)) throw err;
      await renderTender(req, res, id, { errors: { price: errorText(err) }, values: { ...form, lineId } }, err.status);
    }
  });

  router.post('/vbp/tenders/:id/follow', async (req, res) => {
    assertRole(req.actor, ['distributor']);
    const id = validId(req.params.id);
    const form = (req.body ?? {}) as Form;
    const lineId = validId(form.lineId);
    try {
      await respondFollowPrice(req.actor, id, lineId, str(form.accept) === 'true');
      res.redirect(303, `/vbp/tenders/${id}?flash=${str(form.accept) === 'true' ? 'followAccepted' : 'followDeclined'}`);
    } catch (err) {
      if (!isUserError(err)) throw err;
      await renderTender(req, res, id, { errors: { follow: errorText(err) }, values: { lineId } }, err.status);
    }
  });

  for (const [action, run, flash] of [
    ['open', (a: Actor, id: string) => openTender(id, a), 'opened'],
    ['finalise', (a: Actor, id: string) => finaliseTender(id, a), 'finalised'],
  ] as const) {
    router.post(`/vbp/tenders/:id/${action}`, async (req, res) => {
      assertRole(req.actor, ['operator']);
      const id = validId(req.params.id);
      try {
        await run(req.actor, id);
        res.redirect(303, `/vbp/tenders/${id}?flash=${flash}`);
      } catch (err) {
        if (!isUserError(err)) throw err;
        await renderTender(req, res, id, { errors: { _form: errorText(err) } }, err.status);
      }
    });
  }

  router.get('/vbp/contracts', async (req, res) => {
    assertRole(req.actor, ['operator', 'pharmacist', 'hospital_finance', 'distributor']);
    const lang = langOf(res);
    const tenderId = ObjectIdString.safeParse(req.query.tenderId).success ? String(req.query.tenderId) : undefined;
    const all = await allContracts(req.actor, { tenderId });
    const rows = all.map((r) => contractRow(contractView(r), lang));
    const totals = groupCompletion(all.filter((r) => r.contract.status === 'active'), 'drug');
    res.render('vbp/contracts', {
      title: t(lang, req.actor.orgType === 'hospital' ? 'vbp.contracts.hospitalTitle' : 'vbp.contracts.title'),
      rows,
      byDrug: totals.map((g) => ({ ...g, bar: bar(g.purchasedQty, g.agreedQty, g.targetQty) })),
      isHospital: req.actor.orgType === 'hospital',
      isOperator: req.actor.role === 'operator',
      tenderId,
    });
  });

  router.get('/vbp/completion', async (req, res) => {
    assertRole(req.actor, ['operator']);
    const lang = langOf(res);
    const by = (['contract', 'hospital', 'drug', 'winner'] as const).find((b) => b === req.query.by) ?? 'hospital';
    const tenderId = ObjectIdString.safeParse(req.query.tenderId).success ? String(req.query.tenderId) : undefined;
    const rows = groupCompletion(await allContracts(req.actor, { tenderId }), by).map((r) => ({
      ...r,
      bar: bar(r.purchasedQty, r.agreedQty, r.targetQty),
      pace: r.underCheckpoint ? { key: 'underCheckpoint', tone: 'danger' } : r.behindPace ? { key: 'behind', tone: 'warning' } : { key: 'onPace', tone: 'success' },
    }));
    res.render('vbp/completion', {
      title: t(lang, 'vbp.completion.title'),
      by,
      byLabel: t(lang, `vbp.completion.by.${by}`),
      tabs: (['hospital', 'drug', 'winner', 'contract'] as const).map((b) => ({ by: b, label: t(lang, `vbp.completion.by.${b}`), active: b === by })),
      rows: rows.map((r) => ({ ...r, paceLabel: t(lang, `vbp.pace.${r.pace.key}`) })),
      chart: chartOf(rows),
      tenderId,
    });
  });

  router.get('/vbp/contracts/:id', async (req, res) => {
    assertRole(req.actor, ['operator', 'pharmacist', 'hospital_finance', 'distributor']);
    await renderContract(req, res, validId(req.params.id), { flash: flashOf(req, langOf(res)) });
  });

  router.get('/vbp/contracts/:id/contract.pdf', async (req, res) => {
    assertRole(req.actor, ['operator', 'pharmacist', 'hospital_finance', 'distributor']);
    const c = await loadContractFor(req.actor, validId(req.params.id));
    res.set('Content-Type', 'application/pdf');
    res.set('Content-Disposition', `inline; filename="${c.contractNo}.pdf"`);
    res.send(await contractPdf(c, langOf(res)));
  });

  router.post('/vbp/contracts/:id/supply-failure', async (req, res) => {
    assertRole(req.actor, ['operator']);
    const id = validId(req.params.id);
    const reason = str((req.body as Form | undefined)?.reason).trim();
    if (!reason) return renderContract(req, res, id, { errors: { reason: t(langOf(res), 'vbp.errors.reasonRequired') } }, 400);
    try {
      const result = await declareSupplyFailure(req.actor, id, reason.slice(0, 500));
      res.redirect(303, result.promotion.promotedContractId ? `/vbp/contracts/${result.promotion.promotedContractId}?flash=promoted` : `/vbp/contracts/${id}?flash=failedNoBackup`);
    } catch (err) {
      if (!isUserError(err)) throw err;
      await renderContract(req, res, id, { errors: { reason: errorText(err) } }, err.status);
    }
  });
}

async function renderContract(req: Request, res: Response, id: string, extra: { errors?: Errors; flash?: string } = {}, status = 200) {
  const lang = langOf(res);
  const view = await getContractView(req.actor!, id);
  const related = await Contract.find({ $or: [{ _id: view.replacesContractId ? oid(view.replacesContractId) : oid('000000000000000000000000') }, { replacesContractId: oid(view.id) }] }).lean<ContractDoc[]>();
  const alerts = (await completionOf([await loadContractFor(req.actor!, id)]))[0]!;
  const row = contractRow(view, lang);
  res.status(status).render('vbp/contract', {
    title: `${view.contractNo} · ${row.drugName}`,
    c: row,
    noBackupLabel: view.supplyFailure?.noBackup ? t(lang, `vbp.noBackup.${view.supplyFailure.noBackup}`) : undefined,
    replaces: related.find((r) => String(r._id) === view.replacesContractId),
    replacedBy: related.find((r) => String(r.replacesContractId) === view.id),
    isOperator: req.actor!.role === 'operator',
    canOrder: req.actor!.role === 'pharmacist' && view.status === 'active' && now().getTime() < new Date(view.termEnd).getTime(),
    canFail: req.actor!.role === 'operator' && view.status === 'active',
    alertCount: alerts.alerts,
    lastAlertLabel: view.lastAlert ? t(lang, `vbp.alertKind.${view.lastAlert.kind}`) : undefined,
    flash: extra.flash,
    errors: extra.errors,
    termEndLabel: formatDateTime(view.termEnd),
    pageData: { contractId: view.id, drugId: view.drugId, distributorOrgId: view.distributorOrgId, priceFen: view.priceFen, placed: t(lang, 'vbp.contract.orderPlaced') },
  });
}
