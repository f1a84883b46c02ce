import type { Request, Response, Router } from 'express';
import { assertRole } from '../../platform/auth';
import { now } from '../../platform/context';
import { AppError, errorText, pageDetails } from '../../platform/errors';
import { t, type Lang } from '../../platform/i18n';
import { safeParseYuanToFen } from '../../platform/money';
import { businessDay, parseBusinessDay } from '../../platform/time';
import { parse } from '../../platform/validate';
import { FORM_CLASSES } from './catalogue.model';
import { sendCatalogueExport } from './catalogue.routes';
import { CreateDrugBody, DrugListQuery, ExportQuery, ReferencePriceBody } from './catalogue.schemas';
import { addReferencePrice, createDrug, dosageForms, getDrugView, listDrugs, listReferencePrices } from './catalogue.service';

type Form = Record<string, string | string[] | undefined>;

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Field errors keyed by field name from a zod parse or an app error's details. */
function errorsFrom(err: unknown, lang: Lang): Record<string, string> {
  const out: Record<string, string> = {};
  if (err instanceof AppError) {
    for (const d of pageDetails(err) as { path?: string; message?: string }[]) if (d && typeof d.path === 'string' && d.path) out[d.path] ??= d.message ?? errorText(err);
    if (Object.keys(out).length === 0) out._form = errorText(err);
    return out;
  }
  out._form = t(lang, 'catalogue.errors.generic');
  return out;
}

function formClassOptions(lang: Lang) {
  return FORM_CLASSES.map((value) => ({ value, label: t(lang, `catalogue.formClass.${value}`) }));
}

async function renderNew(res: Response, extra: { values?: Form; errors?: Record<string, string> } = {}, status = 200) {
  const lang = res.locals.lang as Lang;
  res.status(status).render('catalogue/new', {
    title: t(lang, 'catalogue.new.title'),
    formClassOptions: formClassOptions(lang),
    values: extra.values ?? { effectiveFrom: businessDay(now()) },
    checked: Object.fromEntries(([] as string[]).concat(extra.values?.categories ?? []).map((c) => [c, true])),
    errors: extra.errors,
  });
}

async function renderDrug(req: Request, res: Response, id: string, extra: { values?: Form; errors?: Record<string, string>; flash?: string } = {}, status = 200) {
  const lang = res.locals.lang as Lang;
  const [drug, prices] = await Promise.all([getDrugView(id), listReferencePrices(id)]);
  res.status(status).render('catalogue/drug', {
    title: drug.genericNameZh,
    drug,
    prices: prices.data,
    formClassLabel: t(lang, `catalogue.formClass.${drug.formClass}`),
    canEdit: req.actor?.role === 'operator',
    values: extra.values ?? { effectiveFrom: businessDay(now()) },
    errors: extra.errors,
    flash: extra.flash,
  });
}

/** Parses the "new drug" form (prices in yuan, dates as Shanghai days) into the API body, or field errors. */
function newDrugBody(form: Form): { body?: unknown; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const cats = ([] as string[]).concat(form.categories ?? []);
  const body: Record<string, unknown> = {
    genericNameZh: str(form.genericNameZh),
    genericNameEn: str(form.genericNameEn),
    dosageForm: str(form.dosageForm),
    formClass: str(form.formClass),
    specification: str(form.specification),
    packUnit: str(form.packUnit),
    manufacturer: str(form.manufacturer),
    nhsaCode: str(form.nhsaCode),
    standardCode: str(form.standardCode),
    tracePrefix: str(form.tracePrefix),
    categories: { shortage: cats.includes('shortage'), vbp: cats.includes('vbp'), regular: cats.includes('regular') },
  };
  if (str(form.gtin).trim()) body.gtin = str(form.gtin);
  if (str(form.referencePrice).trim()) {
    const price = safeParseYuanToFen(str(form.referencePrice));
    if (!price.ok) errors.referencePrice = price.message;
    else body.referencePriceFen = price.fen;
  }
  if (str(form.effectiveFrom).trim() && body.referencePriceFen !== undefined) {
    try {
      body.effectiveFrom = parseBusinessDay(str(form.effectiveFrom)).toISOString();
    } catch (err) {
      errors.effectiveFrom = (err as Error).message;
    }
  }
  return { body, errors };
}

export function cataloguePages(router: Router): void {
  router.get('/catalogue', async (req, res) => {
    assertRole(req.actor, 'any');
    const lang = res.locals.lang as Lang;
    const raw = Object.fromEntries(Object.entries(req.query).filter(([k, v]) => v !== '' && k !== 'lang'));
    const filters = parse(DrugListQuery, raw, 'query');
    const [page, forms] = await Promise.all([listDrugs(filters), dosageForms()]);
    const exportQuery = new URLSearchParams(Object.entries(raw).filter(([k]) => !['cursor', 'limit'].includes(k)).map(([k, v]) => [k, String(v)])).toString();
    res.render('catalogue/index', {
      title: t(lang, 'catalogue.title'),
      drugs: page.data.map((d) => ({ ...d, formClassLabel: t(lang, `catalogue.formClass.${d.formClass}`) })),
      nextCursor: page.nextCursor,
      cursor: filters.cursor,
      filters: { ...raw, cursor: undefined },
      dosageForms: forms,
      formClassOptions: formClassOptions(lang),
      canEdit: req.actor.role === 'operator',
      exportQuery,
      flash: req.query.flash === 'created' ? t(lang, 'catalogue.flash.created') : undefined,
      importMessages: Object.fromEntries(
        ['checked', 'imported', 'rejected', 'row', 'field', 'problem', 'chooseFile', 'failed'].map((k) => [k, t(lang, `catalogue.import.${k}`)]),
      ),
    });
  });

  for (const format of ['csv', 'xlsx'] as const) {
    router.get(`/catalogue/export.${format}`, async (req, res) => {
      assertRole(req.actor, 'any');
      const raw = Object.fromEntries(Object.entries(req.query).filter(([k, v]) => v !== '' && k !== 'lang'));
      await sendCatalogueExport(res, parse(ExportQuery, { ...raw, format }, 'query'));
    });
  }

  router.get('/catalogue/new', async (req, res) => {
    assertRole(req.actor, ['operator']);
    await renderNew(res);
  });

  router.post('/catalogue/new', async (req, res) => {
    assertRole(req.actor, ['operator']);
    const lang = res.locals.lang as Lang;
    const form = (req.body ?? {}) as Form;
    const { body, errors } = newDrugBody(form);
    const parsed = CreateDrugBody.safeParse(body);
    if (!parsed.success) for (const i of parsed.error.issues) errors[String(i.path[0] ?? '_form')] ??= i.message;
    if (Object.keys(errors).length || !parsed.success) {
      await renderNew(res, { values: form, errors }, 400);
      return;
    }
    try {
      const drug = await createDrug(req.actor, parsed.data);
      res.redirect(303, `/catalogue/${drug.id}?flash=created`);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      await renderNew(res, { values: form, errors: errorsFrom(err, lang) }, err.status);
    }
  });

  router.get('/catalogue/:id', async (req, res) => {
    assertRole(req.actor, 'any');
    const lang = res.locals.lang as Lang;
    const flash = req.query.flash === 'created' ? t(lang, 'catalogue.flash.created') : req.query.flash === 'price' ? t(lang, 'catalogue.flash.priceAdded') : undefined;
    await renderDrug(req, res, str(req.params.id), { flash });
  });

  router.post('/catalogue/:id/reference-prices', async (req, res) => {
    assertRole(req.actor, ['operator']);
    const lang = res.locals.lang as Lang;
    const id = str(req.params.id);
    const form = (req.body ?? {}) as Form;
    const errors: Record<string, string> = {};
    const price = safeParseYuanToFen(str(form.price));
    if (!price.ok) errors.price = price.message;
    let effectiveFrom: string | undefined;
    try {
      effectiveFrom = parseBusinessDay(str(form.effectiveFrom)).toISOString();
    } catch (err) {
      errors.effectiveFrom = (err as Error).message;
    }
    const parsed = ReferencePriceBody.safeParse({ priceFen: price.ok ? price.fen : undefined, effectiveFrom, ...(str(form.note).trim() ? { note: str(form.note) } : {}) });
    if (!parsed.success) for (const i of parsed.error.issues) errors[i.path[0] === 'priceFen' ? 'price' : String(i.path[0] ?? '_form')] ??= i.message;
    if (Object.keys(errors).length || !parsed.success) {
      await renderDrug(req, res, id, { values: form, errors }, 400);
      return;
    }
    try {
      await addReferencePrice(req.actor, id, parsed.data);
      res.redirect(303, `/catalogue/${id}?flash=price`);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      const mapped = errorsFrom(err, lang);
      await renderDrug(req, res, id, { values: form, errors: mapped._form ? { effectiveFrom: mapped._form } : mapped }, err.status);
    }
  });
}

