import { randomBytes } from 'node:crypto';
import type { Request, Response, Router } from 'express';
import { Types } from 'mongoose';
import { assertRole, type Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { AppError, NotFoundError, ValidationError, errorText, pageDetails } from '../../platform/errors';
import { catalogues, hasMessage, lookup, t, type Catalogue, type Lang } from '../../platform/i18n';
import { formatFen, safeParseYuanToFen } from '../../platform/money';
import type { Role } from '../../platform/schemas';
import { addDays, addMonths, businessDay } from '../../platform/time';
import { getOrganisation, listOrganisations, organisationsByType } from '../identity';
import { z } from '../../platform/schemas';
import { afterKeyCursor, isKeyCursor, pageByKey } from '../../platform/pagination';
import { assertHospitalVisible } from './finance.access';
import { accountSummary, bankTotals, deposit, recordPrepayment, statement } from './finance.accounts';
import { advanceView, listAdvances, listRepayments, repay, repaymentView } from './finance.advances';
import { getInvoice, listInvoices, payInvoice } from './finance.invoices';
import { checkLedger, shownBalance } from './finance.ledger';
import { applyForLine, approveLine, changeLine, getLine, lineView, listLines, reinstateLine, rejectLine, suspendLine } from './finance.lines';
import { LedgerAccount, type LedgerAccountDoc } from './finance.model';
import { agreementPdf, agreementTerms, statementPdf } from './finance.pdf';
import { bankSummary, hospitalPaymentRecords, hospitalReview, monthBounds, monthlyArrears } from './finance.reports';
import { ApplyLineBody, ApproveLineBody, BusinessDay, ChangeLineBody, Month, ReasonBody, RepayBody, MoneyInBody } from './finance.schemas';
import { invoiceView, orgNames } from './finance.views';
import { msg } from '../../platform/messages';

type Errors = Record<string, string>;
type Form = Record<string, string>;

const HOSPITAL: Role[] = ['hospital_finance', 'pharmacist'];

function langOf(res: Response): Lang {
  return res.locals.lang === 'en' ? 'en' : 'zh';
}

function formOf(req: Request): Form {
  const out: Form = {};
  for (const [k, v] of Object.entries((req.body ?? {}) as Record<string, unknown>)) if (typeof v === 'string' && k !== '_csrf') out[k] = v.trim();
  return out;
}

/** A fresh key per rendered money form, so a re-sent form moves money once. */
function newFormKey(): string {
  return randomBytes(12).toString('base64url');
}

function formKey(form: Form): string {
  return /^[A-Za-z0-9_-]{8,64}$/.test(form.requestKey ?? '') ? form.requestKey! : newFormKey();
}

/** Yuan text ("1,950.00") → fen, or an error under `field`. */
function moneyField(form: Form, field: string, errors: Errors, lang: Lang, required = true): number | undefined {
  const raw = form[field] ?? '';
  if (raw === '') {
    if (required) errors[field] = t(lang, 'finance.errors.amountRequired');
    return undefined;
  }
  const parsed = safeParseYuanToFen(raw);
  if (!parsed.ok) {
    errors[field] = t(lang, 'finance.errors.amountInvalid');
    return undefined;
  }
  if (parsed.fen <= 0) {
    errors[field] = t(lang, 'finance.errors.amountPositive');
    return undefined;
  }
  return parsed.fen;
}

/** Percent text ("4.35") → basis points (435), or an error under `field`. */
function rateField(form: Form, field: string, errors: Errors, lang: Lang, required = true): number | undefined {
  const raw = form[field] ?? '';
  if (raw === '') {
    if (required) errors[field] = t(lang, 'finance.errors.rateRequired');
    return undefined;
  }
  const m = /^(\d{1,2})(?:\.(\d{1,2}))?$/.exec(raw);
  if (!m) {
    errors[field] = t(lang, 'finance.errors.rateInvalid');
    return undefined;
  }
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

function intField(form: Form, field: string, errors: Errors, lang: Lang, required = true): number | undefined {
  const raw = form[field] ?? '';
  if (raw === '') {
    if (required) errors[field] = t(lang, 'finance.errors.required');
    return undefined;
  }
  if (!/^\d{1,6}$/.test(raw)) {
    errors[field] = t(lang, 'finance.errors.wholeNumber');
    return undefined;
  }
  return Number(raw);
}

const FORM_FIELD: Record<string, string> = { amountFen: 'amount', limitFen: 'limit', annualRateBp: 'ratePercent' };

/** The form field a request field is shown next to. */
function formField(path: unknown): string {
  const name = String(path ?? '');
  return FORM_FIELD[name] ?? name;
}

/** A refusal in the reader's language (by its code), else the service's own message. */
function refusalMessage(err: AppError, lang: Lang): string {
  const key = `finance.refusals.${err.code}`;
  if (!hasMessage(lang, key)) return errorText(err, lang);
  const detail = (err.details[0] ?? {}) as { debtFen?: number };
  return t(lang, key, { debt: detail.debtFen === undefined ? '' : formatFen(detail.debtFen, lang) });
}

/** What is wrong with a field, in the reader's language. */
function fieldMessage(field: string, lang: Lang): string {
  return hasMessage(lang, `finance.errors.fields.${field}`) ? t(lang, `finance.errors.fields.${field}`) : t(lang, 'finance.errors.invalid');
}

/** zod issues (per field) as messages next to their fields. */
function issuesToErrors(issues: readonly { path: readonly PropertyKey[] }[], lang: Lang, errors: Errors): Errors {
  for (const i of issues) {
    const field = formField(i.path[0]);
    errors[field || '_form'] ??= field ? fieldMessage(field, lang) : t(lang, 'finance.errors.invalid');
  }
  return errors;
}

/** A service refusal next to the field it names (validation details), else next to `field` or above the form. */
function errorsFrom(err: unknown, lang: Lang, field = '_form'): Errors {
  if (!(err instanceof AppError)) throw err;
  const errors: Errors = {};
  if (err.code === 'VALIDATION_FAILED') {
    for (const d of pageDetails(err) as { path?: string }[]) if (d && typeof d.path === 'string' && d.path) errors[formField(d.path.split('.')[0])] ??= fieldMessage(formField(d.path.split('.')[0]), lang);
  }
  if (Object.keys(errors).length === 0) errors[field] = refusalMessage(err, lang);
  return errors;
}

function refusal(err: unknown): boolean {
  return err instanceof AppError && err.status < 500;
}

function statusOf(err: unknown): number {
  return err instanceof AppError ? err.status : 500;
}

function flash(req: Request, lang: Lang): string | undefined {
  const key = typeof req.query.done === 'string' && /^\w{1,40}$/.test(req.query.done) ? req.query.done : undefined;
  return key ? t(lang, `finance.flash.${key}`) : undefined;
}

function title(lang: Lang, key: string): string {
  return t(lang, `finance.titles.${key}`);
}

function homeOf(actor: Actor): string {
  if (actor.role === 'operator') return '/finance';
  if (actor.role === 'bank_officer') return '/finance/hospitals';
  return '/finance/invoices';
}

/** A line chart of a bank's outstanding principal (SVG path data computed here, drawn by the template). */
function chartOf(series: { day: string; principalFen: number; interestFen: number }[]) {
  const width = 720;
  const height = 180;
  const pad = 8;
  const max = Math.max(1, ...series.map((s) => s.principalFen + s.interestFen));
  const x = (i: number) => pad + (i * (width - 2 * pad)) / Math.max(1, series.length - 1);
  const y = (v: number) => height - pad - (v * (height - 2 * pad)) / max;
  const line = (pick: (s: (typeof series)[number]) => number) => series.map((s, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(pick(s)).toFixed(1)}`).join(' ');
  return {
    width,
    height,
    principalPath: line((s) => s.principalFen),
    totalPath: line((s) => s.principalFen + s.interestFen),
    maxFen: max,
    firstDay: series[0]?.day,
    lastDay: series[series.length - 1]?.day,
    last: series[series.length - 1],
    empty: series.every((s) => s.principalFen === 0 && s.interestFen === 0),
  };
}

async function renderInvoices(req: Request, res: Response, extra: { errors?: Errors; values?: Form } = {}, status = 200) {
  const actor = req.actor!;
  const lang = langOf(res);
  const statusFilter = ['open', 'paid', 'overdue'].includes(String(req.query.status)) ? String(req.query.status) : undefined;
  const cursor = typeof req.query.cursor === 'string' && /^[A-Za-z0-9_-]{1,200}$/.test(req.query.cursor) ? req.query.cursor : undefined;
  const page = await listInvoices(actor, { status: statusFilter, cursor, limit: 50 });
  const names = await orgNames(page.rows.flatMap((r) => [r.hospitalOrgId, r.distributorOrgId]));
  const at = now().getTime();
  const invoices = page.rows.map((r) => ({ ...invoiceView(r, names), dueSoon: r.status === 'open' && r.dueAt.getTime() - at < 7 * 86_400_000 }));
  const summary = actor.orgType === 'hospital' ? await accountSummary(actor.orgId) : undefined;
  res.status(status).render('finance/invoices', {
    title: title(lang, 'invoices'),
    subtitleKey: actor.role === 'distributor' ? 'finance.invoices.subtitleDistributor' : actor.role === 'bank_officer' ? 'finance.invoices.subtitleBank' : 'finance.invoices.subtitle',
    invoices,
    summary,
    statusFilter,
    cursor,
    nextCursor: page.nextCursor,
    query: statusFilter ? { status: statusFilter } : {},
    canPay: actor.role === 'hospital_finance',
    isDistributor: actor.role === 'distributor',
    showHospital: actor.orgType !== 'hospital',
    showDistributor: actor.role !== 'distributor',
    flash: flash(req, lang),
    ...extra,
  });
}

async function renderLines(req: Request, res: Response, extra: { errors?: Errors; values?: Form } = {}, status = 200) {
  const actor = req.actor!;
  const lang = langOf(res);
  const lines = await Promise.all((await listLines(actor)).map((l) => lineView(l)));
  const banks = actor.role === 'hospital_finance' ? (await organisationsByType('bank')).map((b) => ({ id: String(b._id), name: b.name })) : [];
  const summary = actor.orgType === 'hospital' ? await accountSummary(actor.orgId) : undefined;
  res.status(status).render('finance/lines', {
    title: title(lang, actor.role === 'bank_officer' ? 'applications' : 'lines'),
    subtitleKey: actor.role === 'bank_officer' ? 'finance.lines.bankSubtitle' : actor.role === 'operator' ? 'finance.lines.operatorSubtitle' : 'finance.lines.subtitle',
    listTitleKey: actor.role === 'bank_officer' ? 'finance.lines.applicationsList' : 'finance.lines.list',
    emptyKey: actor.role === 'bank_officer' ? 'finance.lines.noApplications' : 'finance.lines.none',
    lines,
    pending: lines.filter((l) => l.status === 'pending'),
    banks,
    summary,
    canApply: actor.role === 'hospital_finance' && !lines.some((l) => l.effectiveStatus === 'pending' || l.effectiveStatus === 'active' || l.effectiveStatus === 'suspended'),
    isBank: actor.role === 'bank_officer',
    isHospital: actor.orgType === 'hospital',
    flash: flash(req, lang),
    ...extra,
  });
}

async function renderLine(req: Request, res: Response, extra: { errors?: Errors; values?: Form; activeForm?: string } = {}, status = 200) {
  const actor = req.actor!;
  const lang = langOf(res);
  const line = await getLine(actor, String(req.params.id));
  const summary = await accountSummary(String(line.hospitalOrgId));
  const view = await lineView(line, { usedFen: summary.bankOrgId === String(line.bankOrgId) ? summary.principalFen : 0 });
  const review = actor.role === 'bank_officer' || actor.role === 'operator' ? await hospitalReview(String(line.hospitalOrgId), String(line.bankOrgId)) : undefined;
  const maxMonth = review ? Math.max(1, ...review.months.map((m) => m.amountFen)) : 1;
  res.status(status).render('finance/line', {
    title: title(lang, 'line'),
    line: view,
    summary,
    review: review && { ...review, months: review.months.map((m) => ({ ...m, barPct: Math.round((m.amountFen * 100) / maxMonth) })) },
    isBank: actor.role === 'bank_officer',
    canDecide: actor.role === 'bank_officer' && view.status === 'pending',
    canManage: actor.role === 'bank_officer' && (view.status === 'active' || view.status === 'suspended'),
    defaults: { expiresOn: businessDay(addMonths(now(), view.requestedTermMonths)), limit: formatFen(view.requestedAmountFen).replace(/^[^\d]+/, '') },
    flash: flash(req, lang),
    ...extra,
  });
}

async function renderAccount(req: Request, res: Response, extra: { errors?: Errors; values?: Form; activeForm?: string } = {}, status = 200) {
  const actor = req.actor!;
  const lang = langOf(res);
  const hospital = actor.orgId;
  const summary = await accountSummary(hospital);
  const advances = (await listAdvances({ hospitalOrgId: hospital }, { latest: RECENT })).map(advanceView).reverse();
  const repayments = (await listRepayments({ hospitalOrgId: hospital }, { latest: RECENT })).map(repaymentView);
  const today = businessDay(now());
  res.status(status).render('finance/account', {
    title: title(lang, 'account'),
    summary,
    advances,
    repayments,
    canAct: actor.role === 'hospital_finance',
    depositKey: newFormKey(),
    repayKey: newFormKey(),
    statementFrom: businessDay(addDays(now(), -30)),
    statementTo: today,
    flash: flash(req, lang),
    ...extra,
  });
}

/** The operator's overview query: the hospital table pages by name and is searched like the pickers. */
const OverviewQuery = z.object({ q: z.string().trim().max(100).optional(), cursor: z.string().regex(/^[A-Za-z0-9_-]{1,800}$/).refine(isKeyCursor).optional() });
const OVERVIEW_PAGE = 25;
const LEDGER_PAGE = 100;
/** The advances and repayments a hospital's page lists (the newest; the statement holds the whole history). */
const RECENT = 50;

async function renderOverview(req: Request, res: Response, extra: { errors?: Errors; values?: Form } = {}, status = 200) {
  const lang = langOf(res);
  const parsed = req.method === 'GET' ? OverviewQuery.safeParse(Object.fromEntries(Object.entries(req.query).filter(([k, v]) => v !== '' && k !== 'lang' && k !== 'done'))) : undefined;
  const filters = parsed?.success ? parsed.data : {};
  // NOTE: one page of hospitals, each summarised; the bank totals come from grouped reads, not from every hospital.
  const page = await listOrganisations({ type: 'hospital', q: filters.q, cursor: filters.cursor, limit: OVERVIEW_PAGE });
  const rows: Awaited<ReturnType<typeof accountSummary>>[] = [];
  for (const h of page.data) rows.push(await accountSummary(h.id));
  const [banks, totals] = await Promise.all([organisationsByType('bank'), bankTotals()]);
  const bankRows = banks.map((b) => ({ id: String(b._id), name: b.name, ...(totals.get(String(b._id)) ?? { hospitals: 0, limitFen: 0, principalFen: 0, overduePrincipalFen: 0 }) }));
  const chosen = extra.values?.hospitalOrgId ? await getOrganisation(extra.values.hospitalOrgId) : null;
  res.status(status).render('finance/overview', {
    title: title(lang, 'overview'),
    hospitals: rows,
    hospitalsNextCursor: page.nextCursor,
    filters: { q: filters.q },
    cursor: filters.cursor,
    // NOTE: a link whose search or cursor is not valid (hand-edited, or a cursor from an older list) shows the first page, and says so.
    invalidLink: parsed?.success === false,
    chosenHospital: chosen ? { id: String(chosen._id), label: chosen.name } : null,
    banks: bankRows,
    prepayKey: newFormKey(),
    month: businessDay(now()).slice(0, 7),
    flash: flash(req, lang),
    ...extra,
  });
}

function sendPdf(res: Response, buffer: Buffer, filename: string): void {
  res.set('Content-Type', 'application/pdf');
  res.set('Content-Disposition', `inline; filename="${filename}"`);
  res.send(buffer);
}

/** The `finance.client` messages, flattened ("invoice.paid"), for the page script. */
function clientMessagesOf(lang: Lang): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (node: Catalogue | string | undefined, prefix: string) => {
    if (typeof node === 'string') out[prefix] = node;
    else if (node) for (const [k, v] of Object.entries(node)) walk(v, prefix ? `${prefix}.${k}` : k);
  };
  walk(lookup(catalogues[lang], 'finance.client'), '');
  return out;
}

export function financePages(router: Router): void {
  router.use('/finance', (_req, res, next) => {
    res.locals.financeClient = clientMessagesOf(langOf(res));
    next();
  });
  router.get('/finance', async (req, res) => {
    assertRole(req.actor, 'any');
    if (req.actor.role !== 'operator') {
      res.redirect(303, homeOf(req.actor));
      return;
    }
    await renderOverview(req, res);
  });

  router.post('/finance/prepayments', async (req, res) => {
    assertRole(req.actor, ['operator']);
    const lang = langOf(res);
    const form = formOf(req);
    const errors: Errors = {};
    const amountFen = moneyField(form, 'amount', errors, lang);
    if (!form.hospitalOrgId || !Types.ObjectId.isValid(form.hospitalOrgId)) errors.hospitalOrgId = t(lang, 'finance.errors.chooseHospital');
    const body = MoneyInBody.safeParse({ amountFen, ...(form.reference ? { reference: form.reference } : {}) });
    if (Object.keys(errors).length === 0 && !body.success) issuesToErrors(body.error.issues, lang, errors);
    if (Object.keys(errors).length > 0 || !body.success) {
      await renderOverview(req, res, { errors, values: form }, 400);
      return;
    }
    try {
      await recordPrepayment(req.actor, form.hospitalOrgId!, body.data, formKey(form));
      res.redirect(303, '/finance?done=prepaid');
    } catch (err) {
      if (!refusal(err)) throw err;
      await renderOverview(req, res, { errors: errorsFrom(err, lang, 'hospitalOrgId'), values: form }, statusOf(err));
    }
  });

  router.get('/finance/ledger', async (req, res) => {
    assertRole(req.actor, ['operator']);
    const lang = langOf(res);
    const check = await checkLedger();
    // NOTE: the accounts a page at a time, by key (the unique index), so the page's cost does not grow with the city.
    const cursor = typeof req.query.cursor === 'string' && /^[A-Za-z0-9_-]{1,800}$/.test(req.query.cursor) ? req.query.cursor : undefined;
    const rows = await LedgerAccount.find(afterKeyCursor('key', cursor)).sort({ key: 1, _id: 1 }).limit(LEDGER_PAGE + 1).lean<LedgerAccountDoc[]>();
    const page = pageByKey(rows, LEDGER_PAGE, (a) => a.key);
    const accounts = page.rows;
    const names = await orgNames(accounts.flatMap((a) => [a.ownerOrgId, a.bankOrgId]));
    res.render('finance/ledger', {
      title: title(lang, 'ledger'),
      check,
      cursor,
      nextCursor: page.nextCursor,
      accounts: accounts.map((a) => ({
        key: a.key,
        type: a.type,
        normalSide: a.normalSide,
        owner: a.ownerOrgId ? names.get(String(a.ownerOrgId))?.name : undefined,
        bank: a.bankOrgId && a.type !== 'bank_clearing' && a.type !== 'interest_income' ? names.get(String(a.bankOrgId))?.name : undefined,
        shownFen: shownBalance(a),
      })),
    });
  });

  router.get('/finance/reports', async (req, res) => {
    assertRole(req.actor, ['operator']);
    const lang = langOf(res);
    const month = Month.safeParse(req.query.month).success ? String(req.query.month) : businessDay(now()).slice(0, 7);
    const { start, end } = monthBounds(month);
    const arrears = await monthlyArrears(month);
    const records = await hospitalPaymentRecords({ from: start, to: end });
    const names = await orgNames(records.map((r) => r.hospitalOrgId));
    const levels = [3, 2, 1, 0]
      .map((level) => ({ level, rows: arrears.filter((r) => r.level === level) }))
      .filter((g) => g.rows.length > 0);
    res.render('finance/reports', {
      title: title(lang, 'reports'),
      month,
      levels,
      records: records.map((r) => ({ ...r, hospitalName: names.get(r.hospitalOrgId)?.name })),
    });
  });

  router.get('/finance/invoices', async (req, res) => {
    assertRole(req.actor, 'any');
    await renderInvoices(req, res);
  });

  router.get('/finance/invoices/:id', async (req, res) => {
    assertRole(req.actor, 'any');
    const lang = langOf(res);
    const inv = await getInvoice(req.actor, String(req.params.id));
    const view = invoiceView(inv, await orgNames([inv.hospitalOrgId, inv.distributorOrgId]));
    res.render('finance/invoice', {
      title: `${title(lang, 'invoice')} ${inv.invoiceNo}`,
      invoice: view,
      canPay: req.actor.role === 'hospital_finance' && inv.status !== 'paid',
      summary: req.actor.role === 'hospital_finance' ? await accountSummary(req.actor.orgId) : undefined,
      flash: flash(req, lang),
    });
  });

  router.post('/finance/invoices/:id/pay', async (req, res) => {
    assertRole(req.actor, ['hospital_finance']);
    const lang = langOf(res);
    try {
      await payInvoice(req.actor, String(req.params.id));
      res.redirect(303, `/finance/invoices/${String(req.params.id)}?done=invoicePaid`);
    } catch (err) {
      if (!refusal(err) || statusOf(err) === 404) throw err;
      await renderInvoices(req, res, { errors: errorsFrom(err, lang) }, statusOf(err));
    }
  });

  router.get('/finance/lines', async (req, res) => {
    assertRole(req.actor, ['hospital_finance', 'pharmacist', 'bank_officer', 'operator']);
    await renderLines(req, res);
  });

  router.post('/finance/lines', async (req, res) => {
    assertRole(req.actor, ['hospital_finance']);
    const lang = langOf(res);
    const form = formOf(req);
    const errors: Errors = {};
    const amountFen = moneyField(form, 'amount', errors, lang);
    const termMonths = intField(form, 'termMonths', errors, lang);
    if (!form.bankOrgId) errors.bankOrgId = t(lang, 'finance.errors.chooseBank');
    const body = ApplyLineBody.safeParse({ bankOrgId: form.bankOrgId, amountFen, termMonths, ...(form.note ? { note: form.note } : {}) });
    if (!body.success) issuesToErrors(body.error.issues, lang, errors);
    if (Object.keys(errors).length > 0 || !body.success) {
      await renderLines(req, res, { errors, values: form }, 400);
      return;
    }
    try {
      const line = await applyForLine(req.actor, body.data);
      res.redirect(303, `/finance/lines/${line.id}?done=applied`);
    } catch (err) {
      if (!refusal(err)) throw err;
      await renderLines(req, res, { errors: errorsFrom(err, lang, 'bankOrgId'), values: form }, statusOf(err));
    }
  });

  router.get('/finance/lines/:id', async (req, res) => {
    assertRole(req.actor, ['hospital_finance', 'pharmacist', 'bank_officer', 'operator']);
    await renderLine(req, res);
  });

  const decide = (
    action: 'approve' | 'reject' | 'suspend' | 'reinstate' | 'change',
    read: (form: Form, errors: Errors, lang: Lang) => unknown,
    run: (actor: Actor, id: string, body: never) => Promise<unknown>,
  ) => {
    router.post(`/finance/lines/:id/${action}`, async (req, res) => {
      assertRole(req.actor, ['bank_officer']);
      const lang = langOf(res);
      const form = formOf(req);
      const errors: Errors = {};
      const body = read(form, errors, lang);
      if (Object.keys(errors).length > 0) {
        await renderLine(req, res, { errors, values: form, activeForm: action }, 400);
        return;
      }
      try {
        await run(req.actor, String(req.params.id), body as never);
        res.redirect(303, `/finance/lines/${String(req.params.id)}?done=${action}`);
      } catch (err) {
        if (!refusal(err) || statusOf(err) === 404) throw err;
        await renderLine(req, res, { errors: errorsFrom(err, lang), values: form, activeForm: action }, statusOf(err));
      }
    });
  };
  const termsFrom = (form: Form, errors: Errors, lang: Lang, partial: boolean) => {
    const limitFen = moneyField(form, 'limit', errors, lang, !partial);
    const annualRateBp = rateField(form, 'ratePercent', errors, lang, !partial);
    const maxTenorDays = intField(form, 'maxTenorDays', errors, lang, !partial);
    const expiresOn = form.expiresOn || undefined;
    if (expiresOn !== undefined && !BusinessDay.safeParse(expiresOn).success) errors.expiresOn = t(lang, 'finance.errors.dateInvalid');
    else if (!partial && expiresOn === undefined) errors.expiresOn = t(lang, 'finance.errors.required');
    const raw = Object.fromEntries(Object.entries({ limitFen, annualRateBp, maxTenorDays, expiresOn }).filter(([, v]) => v !== undefined));
    const parsed = (partial ? ChangeLineBody : ApproveLineBody).safeParse(raw);
    if (!parsed.success && Object.keys(errors).length === 0) issuesToErrors(parsed.error.issues, lang, errors);
    return parsed.success ? parsed.data : undefined;
  };
  const reasonFrom = (form: Form, errors: Errors, lang: Lang) => {
    const parsed = ReasonBody.safeParse({ reason: form.reason ?? '' });
    if (!parsed.success) errors.reason = t(lang, 'finance.errors.reasonRequired');
    return parsed.success ? parsed.data.reason : undefined;
  };
  decide('approve', (f, e, l) => termsFrom(f, e, l, false), (a, id, body) => approveLine(a, id, body));
  decide('change', (f, e, l) => termsFrom(f, e, l, true), (a, id, body) => changeLine(a, id, body));
  decide('reject', reasonFrom, (a, id, reason) => rejectLine(a, id, reason));
  decide('suspend', reasonFrom, (a, id, reason) => suspendLine(a, id, reason));
  decide('reinstate', () => undefined, (a, id) => reinstateLine(a, id));

  router.get('/finance/lines/:id/agreement.pdf', async (req, res) => {
    assertRole(req.actor, ['hospital_finance', 'pharmacist', 'bank_officer', 'operator']);
    const line = await getLine(req.actor, String(req.params.id));
    const asked = typeof req.query.version === 'string' && /^\d{1,4}$/.test(req.query.version) ? Number(req.query.version) : undefined;
    const terms = line.agreementNo ? agreementTerms(line, asked) : null;
    if (!terms) throw new NotFoundError({ code: 'AGREEMENT_NOT_FOUND', message: msg('errorCodes.AGREEMENT_NOT_FOUND') });
    sendPdf(res, await agreementPdf(line, terms, langOf(res)), `${line.agreementNo}-v${terms.version}.pdf`);
  });

  router.get('/finance/account', async (req, res) => {
    assertRole(req.actor, HOSPITAL);
    await renderAccount(req, res);
  });

  router.post('/finance/account/deposit', async (req, res) => {
    assertRole(req.actor, ['hospital_finance']);
    const lang = langOf(res);
    const form = formOf(req);
    const errors: Errors = {};
    const amountFen = moneyField(form, 'amount', errors, lang);
    const body = MoneyInBody.safeParse({ amountFen, ...(form.reference ? { reference: form.reference } : {}) });
    if (Object.keys(errors).length === 0 && !body.success) issuesToErrors(body.error.issues, lang, errors);
    if (Object.keys(errors).length > 0 || !body.success) {
      await renderAccount(req, res, { errors, values: form, activeForm: 'deposit' }, 400);
      return;
    }
    try {
      await deposit(req.actor, body.data, formKey(form));
      res.redirect(303, '/finance/account?done=deposited');
    } catch (err) {
      if (!refusal(err)) throw err;
      await renderAccount(req, res, { errors: errorsFrom(err, lang, 'amount'), values: form, activeForm: 'deposit' }, statusOf(err));
    }
  });

  router.post('/finance/account/repay', async (req, res) => {
    assertRole(req.actor, ['hospital_finance']);
    const lang = langOf(res);
    const form = formOf(req);
    const errors: Errors = {};
    const amountFen = moneyField(form, 'amount', errors, lang);
    const body = RepayBody.safeParse({ amountFen, source: form.source, ...(form.reference ? { reference: form.reference } : {}) });
    if (!body.success && Object.keys(errors).length === 0) issuesToErrors(body.error.issues, lang, errors);
    if (Object.keys(errors).length > 0 || !body.success) {
      await renderAccount(req, res, { errors, values: form, activeForm: 'repay' }, 400);
      return;
    }
    try {
      await repay(req.actor, body.data, formKey(form));
      res.redirect(303, '/finance/account?done=repaid');
    } catch (err) {
      if (!refusal(err)) throw err;
      await renderAccount(req, res, { errors: errorsFrom(err, lang, 'amount'), values: form, activeForm: 'repay' }, statusOf(err));
    }
  });

  router.get('/finance/statement.pdf', async (req, res) => {
    assertRole(req.actor, ['hospital_finance', 'pharmacist', 'bank_officer', 'operator']);
    const lang = langOf(res);
    const from = BusinessDay.safeParse(req.query.from);
    const to = BusinessDay.safeParse(req.query.to);
    if (!from.success || !to.success || from.data > to.data) {
      throw new ValidationError({ code: 'PERIOD_INVALID', message: msg('finance.errors.periodInvalid'), details: [{ path: 'from', message: 'YYYY-MM-DD, not after `to`' }] });
    }
    let hospital = req.actor.orgId;
    if (req.actor.orgType !== 'hospital') {
      hospital = String(req.query.hospitalOrgId ?? '');
      await assertHospitalVisible(req.actor, hospital);
    }
    const s = await statement(hospital, from.data, to.data);
    sendPdf(res, await statementPdf(s, lang), `statement-${from.data}-${to.data}.pdf`);
  });

  router.get('/finance/hospitals', async (req, res) => {
    assertRole(req.actor, ['bank_officer', 'operator']);
    if (req.actor.role === 'operator') {
      res.redirect(303, '/finance');
      return;
    }
    const lang = langOf(res);
    const summary = await bankSummary(req.actor.orgId);
    res.render('finance/hospitals', { title: title(lang, 'hospitals'), summary, chart: chartOf(summary.series) });
  });

  router.get('/finance/hospitals/:id', async (req, res) => {
    assertRole(req.actor, ['bank_officer', 'operator']);
    const lang = langOf(res);
    const hospital = String(req.params.id);
    await assertHospitalVisible(req.actor, hospital);
    const summary = await accountSummary(hospital);
    const bankScope = req.actor.role === 'bank_officer' ? req.actor.orgId : undefined;
    const lines = await Promise.all((await listLines(req.actor, { hospitalOrgId: hospital })).map((l) => lineView(l)));
    const advances = (await listAdvances({ hospitalOrgId: hospital, bankOrgId: bankScope }, { latest: RECENT })).map(advanceView).reverse();
    const repayments = (await listRepayments({ hospitalOrgId: hospital, bankOrgId: bankScope }, { latest: RECENT })).map(repaymentView);
    const page = await listInvoices(req.actor, { hospitalOrgId: hospital, limit: 200 });
    const names = await orgNames(page.rows.map((r) => r.distributorOrgId));
    const from = businessDay(addDays(now(), -90));
    const to = businessDay(now());
    const history = await statement(hospital, from, to);
    res.render('finance/hospital', {
      title: summary.hospitalName,
      summary,
      lines,
      advances,
      repayments,
      invoices: page.rows.map((r) => invoiceView(r, names)),
      history: { ...history, rows: [...history.rows].reverse() },
      from,
      to,
    });
  });

}
