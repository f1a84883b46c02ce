import type { Request, Response, Router } from 'express';
import { assertRole, type Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { AppError, errorText, pageDetails } from '../../platform/errors';
import { t, type Lang } from '../../platform/i18n';
import { renderMessage } from '../../platform/messages';
import { issueMessage } from '../../platform/validation-messages';
import { safeParseYuanToFen } from '../../platform/money';
import { z } from '../../platform/schemas';
import { parse } from '../../platform/validate';
import { listDrugs } from '../catalogue';
import { replayRound } from './quotation.audit';
import { boardFor, loadVisibleRound } from './quotation.board';
import { browseListings, myListings, withdrawListing } from './quotation.listings';
import { VISIBILITY_MODES } from './quotation.model';
import { cancelRound, createRound, listRounds, reportOf, scheduleRound } from './quotation.rounds';
import { CancelRoundBody, CreateRoundBody, ListingQuery, RoundListQuery, WithdrawListingBody } from './quotation.schemas';

type Form = Record<string, string | string[] | undefined>;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** A `datetime-local` value ("2026-11-23T09:30") read as Asia/Shanghai wall-clock time. */
function shanghaiLocalToIso(value: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return undefined;
  const d = new Date(`${value.length === 16 ? `${value}:00` : value}+08:00`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** An instant as a `datetime-local` value in Asia/Shanghai. */
function toShanghaiLocal(d: Date): string {
  return new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 16);
}

function messages(lang: Lang, keys: string[]): Record<string, string> {
  return {
    ...Object.fromEntries(keys.map((k) => [k, t(lang, `quotation.client.${k}`)])),
    ...Object.fromEntries(['draft', 'scheduled', 'open', 'closed', 'published', 'expired', 'cancelled'].map((s) => [`status_${s}`, t(lang, `roundStatus.${s}`)])),
  };
}

const BOARD_MESSAGES = [
  'quoteAccepted', 'quoteFailed', 'withdrawn', 'extended', 'closed', 'published', 'opened', 'cancelled', 'rank', 'noQuote', 'sealed',
  'priceRequired', 'invalidPrice', 'confirmWithdraw', 'ended', 'opensIn', 'closesIn', 'days', 'withdrawnStatus', 'maxAllowed', 'missedWhileAway',
];

async function roundFormData(req: Request, lang: Lang, form: Form) {
  const q = str(form.drugSearch ?? req.query.drugSearch);
  const drugs = await listDrugs({ q: q || undefined, category: q ? undefined : 'shortage', active: 'true', limit: 200 });
  const selected = new Set(([] as string[]).concat(form.drugIds ?? []));
  return {
    drugs: drugs.data.map((d) => ({ ...d, selected: selected.has(d.id), override: str(form[`ref_${d.id}`]) })),
    drugSearch: q,
    visibilityOptions: VISIBILITY_MODES.map((v) => ({ value: v, label: t(lang, `quotation.visibility.${v}`), selected: (str(form.visibility) || 'rank') === v })),
  };
}

async function renderNew(req: Request, res: Response, form: Form, errors?: Record<string, string>, status = 200) {
  const lang = res.locals.lang as Lang;
  res.status(status).render('rounds/new', { title: t(lang, 'quotation.new.title'), values: form, errors, ...(await roundFormData(req, lang, form)) });
}

/** Reads the "new round" form into the API body; field errors for what cannot be read. */
function roundBodyFrom(form: Form, lang: Lang): { body: Record<string, unknown>; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const opensAt = shanghaiLocalToIso(str(form.opensAt));
  const closesAt = shanghaiLocalToIso(str(form.closesAt));
  if (!opensAt) errors.opensAt = 'required';
  if (!closesAt) errors.closesAt = 'required';
  const ids = ([] as string[]).concat(form.drugIds ?? []);
  if (ids.length === 0) errors.lines = 'required';
  const lines = ids.map((drugId) => {
    const override = str(form[`ref_${drugId}`]).trim();
    if (!override) return { drugId };
    const price = safeParseYuanToFen(override);
    if (!price.ok || price.fen < 1) {
      errors.lines = t(lang, price.ok ? 'validationIssues.minPrice' : 'validationIssues.amount');
      return { drugId };
    }
    return { drugId, referenceFen: price.fen };
  });
  const num = (name: string) => (str(form[name]).trim() === '' ? undefined : Number(str(form[name])));
  const anti = { windowSec: num('windowSec'), extendSec: num('extendSec'), maxExtensions: num('maxExtensions') };
  const body: Record<string, unknown> = {
    title: str(form.title),
    ...(str(form.description).trim() ? { description: str(form.description) } : {}),
    lines,
    opensAt,
    closesAt,
    visibility: str(form.visibility) || 'rank',
    ...(num('minDecrementBp') !== undefined ? { minDecrementBp: num('minDecrementBp') } : {}),
    ...(Object.values(anti).some((v) => v !== undefined) ? { antiSniping: Object.fromEntries(Object.entries(anti).filter(([, v]) => v !== undefined)) } : {}),
    ...(num('listingValidityDays') !== undefined ? { listingValidityDays: num('listingValidityDays') } : {}),
  };
  return { body, errors };
}

function fieldErrors(err: AppError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of pageDetails(err) as { path?: string; message?: string }[]) {
    if (d && typeof d.path === 'string' && d.path) out[d.path.split('.')[0]!] ??= err.status === 400 && d.message ? d.message : errorText(err);
  }
  if (Object.keys(out).length === 0) out._form = errorText(err);
  return out;
}

async function renderBoard(req: Request, res: Response, actor: Actor, id: string, extra: { errors?: Record<string, string>; flash?: string } = {}, status = 200) {
  const lang = res.locals.lang as Lang;
  const round = await loadVisibleRound(actor, id);
  const board = await boardFor(actor, round);
  const final = ['closed', 'published', 'expired'].includes(round.status);
  res.status(status).render('rounds/board', {
    title: round.title,
    board,
    role: actor.role,
    isOperator: actor.role === 'operator',
    isDistributor: actor.role === 'distributor',
    isHospital: actor.role === 'pharmacist' || actor.role === 'hospital_finance',
    final,
    live: round.status === 'scheduled' || round.status === 'open',
    published: round.status === 'published' || round.status === 'expired',
    canSchedule: actor.role === 'operator' && round.status === 'draft',
    canCancel: actor.role === 'operator' && ['draft', 'scheduled', 'open'].includes(round.status),
    showBest: round.visibility === 'best' || final,
    sealed: round.visibility === 'sealed' && !final,
    visibilityLabel: t(lang, `quotation.${actor.role === 'operator' ? 'visibilityOperator' : 'visibility'}.${round.visibility}`),
    boardMessages: messages(lang, BOARD_MESSAGES),
    errors: extra.errors,
    flash: extra.flash,
  });
}

export function quotationPages(router: Router): void {
  router.get('/rounds', async (req, res) => {
    assertRole(req.actor, 'any');
    const lang = res.locals.lang as Lang;
    const raw = Object.fromEntries(Object.entries(req.query).filter(([k, v]) => v !== '' && k !== 'lang'));
    const q = parse(RoundListQuery, raw, 'query');
    const page = await listRounds(req.actor, q);
    res.render('rounds/index', {
      title: t(lang, req.actor.role === 'distributor' ? 'quotation.list.titleDistributor' : 'quotation.list.title'),
      rounds: page.data,
      nextCursor: page.nextCursor,
      cursor: q.cursor,
      filters: { status: q.status },
      isOperator: req.actor.role === 'operator',
      roundsMessages: { opened: t(lang, 'quotation.client.newRound'), view: t(lang, 'quotation.list.enterBoard') },
      statusOptions: ['draft', 'scheduled', 'open', 'closed', 'published', 'expired', 'cancelled']
        .filter((s) => req.actor!.role === 'operator' || s !== 'draft')
        .map((s) => ({ value: s, label: t(lang, `roundStatus.${s}`), selected: q.status === s })),
    });
  });

  router.get('/rounds/new', async (req, res) => {
    assertRole(req.actor, ['operator']);
    const start = new Date(Math.ceil((now().getTime() + 15 * 60_000) / 300_000) * 300_000);
    await renderNew(req, res, { opensAt: toShanghaiLocal(start), closesAt: toShanghaiLocal(new Date(start.getTime() + 2 * 3600_000)), visibility: 'rank' });
  });

  router.post('/rounds/new', async (req, res) => {
    assertRole(req.actor, ['operator']);
    const form = (req.body ?? {}) as Form;
    if (form.action === 'search') {
      await renderNew(req, res, form);
      return;
    }
    const { body, errors } = roundBodyFrom(form, res.locals.lang);
    const parsed = CreateRoundBody.safeParse(body);
    if (!parsed.success) for (const i of parsed.error.issues) errors[String(i.path[0] ?? '_form')] ??= renderMessage(res.locals.lang, issueMessage(i));
    if (Object.keys(errors).length || !parsed.success) {
      await renderNew(req, res, form, errors, 400);
      return;
    }
    let roundId: string;
    try {
      roundId = String((await createRound(req.actor, parsed.data))._id);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      await renderNew(req, res, form, fieldErrors(err), err.status);
      return;
    }
    if (form.action === 'schedule') {
      try {
        await scheduleRound(req.actor, roundId);
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        res.redirect(303, `/rounds/${roundId}?flash=scheduleFailed`);
        return;
      }
    }
    res.redirect(303, `/rounds/${roundId}?flash=${form.action === 'schedule' ? 'scheduled' : 'created'}`);
  });

  router.get('/rounds/:id', async (req, res) => {
    assertRole(req.actor, 'any');
    const lang = res.locals.lang as Lang;
    const flash = typeof req.query.flash === 'string' && ['created', 'scheduled', 'cancelled', 'scheduleFailed'].includes(req.query.flash) ? t(lang, `quotation.flash.${req.query.flash}`) : undefined;
    await renderBoard(req, res, req.actor, str(req.params.id), { flash });
  });

  router.post('/rounds/:id/schedule', async (req, res) => {
    assertRole(req.actor, ['operator']);
    const id = str(req.params.id);
    try {
      await scheduleRound(req.actor, id);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      await renderBoard(req, res, req.actor, id, { errors: { schedule: errorText(err) } }, err.status);
      return;
    }
    res.redirect(303, `/rounds/${id}?flash=scheduled`);
  });

  router.post('/rounds/:id/cancel', async (req, res) => {
    assertRole(req.actor, ['operator']);
    const id = str(req.params.id);
    const parsed = CancelRoundBody.safeParse({ reason: str((req.body as Form)?.reason) });
    if (!parsed.success) {
      await renderBoard(req, res, req.actor, id, { errors: { reason: t(res.locals.lang, 'quotation.board.reasonRequired') } }, 400);
      return;
    }
    try {
      await cancelRound(req.actor, id, parsed.data.reason);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      await renderBoard(req, res, req.actor, id, { errors: { reason: errorText(err) } }, err.status);
      return;
    }
    res.redirect(303, `/rounds/${id}?flash=cancelled`);
  });

  router.get('/rounds/:id/report', async (req, res) => {
    assertRole(req.actor, ['operator', 'pharmacist', 'hospital_finance']);
    const lang = res.locals.lang as Lang;
    const report = await reportOf(req.actor, str(req.params.id));
    res.render('rounds/report', { title: t(lang, 'quotation.report.title'), report, clearlyBelow: report.overall.clearlyBelowBp });
  });

  router.get('/rounds/:id/replay', async (req, res) => {
    assertRole(req.actor, ['operator']);
    const lang = res.locals.lang as Lang;
    const lineId = z.string().regex(/^[a-f0-9]{24}$/).optional().safeParse(req.query.lineId || undefined);
    const replay = await replayRound(str(req.params.id), lineId.success ? lineId.data : undefined);
    res.render('rounds/replay', {
      title: t(lang, 'quotation.replay.title'),
      replay,
      lineId: lineId.success ? lineId.data : undefined,
      lineOptions: replay.round.lines.map((l) => ({ ...l, selected: lineId.success && lineId.data === l.lineId })),
      steps: replay.steps.map((s, i) => ({ ...s, index: i + 1, typeLabel: t(lang, `quotation.events.${s.type}`) })),
    });
  });

  router.get('/listings', async (req, res) => {
    assertRole(req.actor, ['pharmacist', 'hospital_finance', 'operator', 'distributor']);
    if (req.actor.role === 'distributor') {
      res.redirect(303, '/listings/mine');
      return;
    }
    const lang = res.locals.lang as Lang;
    const raw = Object.fromEntries(Object.entries(req.query).filter(([k, v]) => v !== '' && k !== 'lang'));
    const q = parse(ListingQuery, raw, 'query');
    const listing = await browseListings(req.actor, q);
    res.render('listings/index', { title: t(lang, 'quotation.listings.title'), groups: listing.data, nextCursor: listing.nextCursor, cursor: q.cursor, filters: { q: q.q, roundId: q.roundId, drugId: q.drugId } });
  });

  router.get('/listings/mine', async (req, res) => {
    assertRole(req.actor, ['distributor']);
    const lang = res.locals.lang as Lang;
    const mine = await myListings(req.actor);
    res.render('listings/mine', {
      title: t(lang, 'quotation.listings.mineTitle'),
      entries: mine.data.map((e) => ({ ...e, active: e.status === 'listed' })),
      flash: req.query.flash === 'withdrawn' ? t(lang, 'quotation.flash.listingWithdrawn') : undefined,
      errors: undefined,
    });
  });

  router.post('/listings/:id/withdraw', async (req, res) => {
    assertRole(req.actor, ['distributor']);
    const lang = res.locals.lang as Lang;
    const id = str(req.params.id);
    const parsed = WithdrawListingBody.safeParse({ reason: str((req.body as Form)?.reason) });
    const fail = async (message: string, status: number) => {
      const mine = await myListings(req.actor!);
      res.status(status).render('listings/mine', {
        title: t(lang, 'quotation.listings.mineTitle'),
        entries: mine.data.map((e) => ({ ...e, active: e.status === 'listed', error: e.listingId === id ? message : undefined })),
      });
    };
    if (!parsed.success) {
      await fail(t(lang, 'quotation.board.reasonRequired'), 400);
      return;
    }
    try {
      await withdrawListing(req.actor, id, parsed.data.reason);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      await fail(errorText(err), err.status);
      return;
    }
    res.redirect(303, '/listings/mine?flash=withdrawn');
  });
}
