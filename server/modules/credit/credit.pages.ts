import type { Request, Response, Router } from 'express';
import { Types } from 'mongoose';
import { assertRole, type Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { AppError } from '../../platform/errors';
import { lookup, catalogues, t, type Lang } from '../../platform/i18n';
import { ObjectIdString, z } from '../../platform/schemas';
import { formatDateTime } from '../../platform/view-helpers/formatters';
import { parse } from '../../platform/validate';
import { organisationsByType } from '../identity';
import { listAppeals, listRepairs, type AppealView, type RepairView } from './credit.appeals';
import { listBreaches, listBreachTypes, recentBreaches, type BreachView } from './credit.breaches';
import { assertMayTrade, commitmentPreview, defaultCommitmentBody, listCommitmentVersions, listSignatures, scheduledVersions } from './credit.commitment';
import { CommitmentSignature } from './credit.model';
import { listSanctions, publicCreditList, scoreTrend, standingView, type SanctionView } from './credit.overview';
import { arrearsRanking, paymentRecord, previousMonth } from './credit.payments';
import { repairEligible } from './credit.score';
import { getCreditRules } from './credit.standing';

const GRADE_TONE = { A: 'success', B: 'info', C: 'warning', D: 'danger' } as const;
const SEVERITY_TONE = { shixin: 'warning', serious: 'danger', especially_serious: 'danger' } as const;
type Tone = 'success' | 'info' | 'warning' | 'danger' | 'neutral';
const BREACH_TONE: Record<BreachView['status'], Tone> = { active: 'danger', appealed: 'warning', upheld: 'danger', voided: 'neutral' };
const APPEAL_TONE: Record<AppealView['status'], Tone> = { pending: 'warning', upheld: 'danger', voided: 'success' };
const REPAIR_TONE: Record<RepairView['status'], Tone> = { pending: 'warning', approved: 'success', rejected: 'danger' };
const SANCTION_TONE: Record<SanctionView['state'], Tone> = { active: 'danger', expired: 'neutral', lifted: 'success', scheduled: 'neutral' };

/** The messages the credit page scripts need (the layout embeds only the shared `client` ones). */
function clientText(lang: Lang): unknown {
  return lookup(catalogues[lang], 'credit.client') ?? lookup(catalogues.zh, 'credit.client') ?? {};
}

/** The gate as a sentence for the page, in the page's language. */
async function gateFor(orgId: string, lang: Lang): Promise<{ mayTrade: boolean; code?: string; message?: string }> {
  try {
    await assertMayTrade(orgId, 'quote');
    return { mayTrade: true };
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    const d = (err.details[0] ?? {}) as { version?: number; until?: string };
    const message =
      err.code === 'DISTRIBUTOR_SUSPENDED'
        ? t(lang, 'credit.gate.suspended', { until: formatDateTime(d.until) })
        : d.version
          ? t(lang, 'credit.gate.notSigned', { version: d.version })
          : t(lang, 'credit.gate.noVersion');
    return { mayTrade: false, code: err.code, message };
  }
}

interface ChartPoint {
  x: number;
  y: number;
  score: number;
  label: string;
}

/** An inline SVG line chart of the score after each change (0–100, grade bands as guides). */
export function trendChart(points: { at: string; score: number }[], thresholds: { A: number; B: number; C: number }, lang: Lang) {
  const width = 640;
  const height = 220;
  const pad = { left: 40, right: 16, top: 16, bottom: 28 };
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const y = (score: number) => Math.round((pad.top + ((100 - score) * innerH) / 100) * 10) / 10;
  const series = [{ at: '', score: 100 }, ...points];
  const step = series.length > 1 ? innerW / (series.length - 1) : 0;
  const dots: ChartPoint[] = series.map((p, i) => ({
    x: Math.round((pad.left + i * step) * 10) / 10,
    y: y(p.score),
    score: p.score,
    label: p.at ? formatDateTime(p.at) : t(lang, 'credit.mine.trendStart'),
  }));
  const every = Math.max(1, Math.ceil(dots.length / 8));
  const xLabels = dots
    .map((d, i) => ({ x: d.x, y: height - 8, text: i === 0 ? d.label : (series[i]!.at ? formatDateTime(series[i]!.at).slice(5, 10) : '') }))
    .filter((_, i) => i === 0 || i === dots.length - 1 || i % every === 0);
  return {
    width,
    height,
    xLabels,
    polyline: dots.map((d) => `${d.x},${d.y}`).join(' '),
    dots,
    guides: (['A', 'B', 'C'] as const).map((g) => ({ grade: g, score: thresholds[g], y: y(thresholds[g]), x1: pad.left, x2: width - pad.right })),
    axisX: pad.left - 6,
    empty: points.length === 0,
  };
}

async function renderCommitment(req: Request, res: Response) {
  assertRole(req.actor, ['distributor']);
  const lang = res.locals.lang as Lang;
  const q = parse(z.object({ versionId: ObjectIdString.optional(), lang: z.string().optional() }).strict(), req.query, 'query');
  const actor = req.actor as Actor;
  let preview = null;
  try {
    preview = await commitmentPreview(actor, q.versionId);
  } catch (err) {
    if (!(err instanceof AppError) || err.status !== 404 || q.versionId) throw err;
  }
  const upcoming = await scheduledVersions(now());
  const signedIds = new Set(
    (await CommitmentSignature.find({ orgId: new Types.ObjectId(actor.orgId) }, { versionId: 1 }).lean<{ versionId: Types.ObjectId }[]>()).map((s) => String(s.versionId)),
  );
  res.render('credit/commitment', {
    title: t(lang, 'credit.commitment.title'),
    preview,
    gate: await gateFor(actor.orgId, lang),
    upcoming: upcoming.map((v) => ({ id: String(v._id), version: v.version, title: v.title, effectiveAt: v.effectiveAt, signed: signedIds.has(String(v._id)) })),
    signatures: await listSignatures(actor, {}),
    versions: (await listCommitmentVersions()).map((v) => ({ id: v.id, version: v.version, title: v.title, effectiveAt: v.effectiveAt, state: v.state, signed: signedIds.has(v.id) })),
    clientText: clientText(lang),
  });
}

async function renderMine(req: Request, res: Response) {
  assertRole(req.actor, ['distributor']);
  const lang = res.locals.lang as Lang;
  const actor = req.actor as Actor;
  const at = now();
  const [standing, rules, breaches, appeals, repairs, sanctions, trend, gate] = await Promise.all([
    standingView(actor.orgId, lang),
    getCreditRules(),
    listBreaches(actor, {}),
    listAppeals(actor, {}),
    listRepairs(actor, {}),
    listSanctions(actor, {}, lang),
    scoreTrend(actor.orgId),
    gateFor(actor.orgId, lang),
  ]);
  const counting = breaches.filter((b) => b.status !== 'voided').map((b) => new Date(b.occurredAt));
  const lastBreachAt = counting.length ? new Date(Math.max(...counting.map((d) => d.getTime()))) : null;
  const quiet = repairEligible({ lastBreachAt, quietDays: rules.repairQuietDays, at });
  const pendingRepair = repairs.some((r) => r.status === 'pending');
  res.render('credit/mine', {
    title: t(lang, 'credit.mine.title'),
    standing: { ...standing, gradeTone: GRADE_TONE[standing.grade] },
    gate,
    rules,
    chart: trendChart(trend, rules.gradeThresholds, lang),
    breaches: breaches.map((b) => ({
      ...b,
      severityTone: SEVERITY_TONE[b.severity],
      statusTone: BREACH_TONE[b.status],
      canAppeal: b.status === 'active' && at.getTime() <= new Date(b.appealDeadline).getTime(),
      appealClosed: b.status === 'active' && at.getTime() > new Date(b.appealDeadline).getTime(),
    })),
    appeals: appeals.map((a) => ({ ...a, statusTone: APPEAL_TONE[a.status] })),
    repairs: repairs.map((r) => ({ ...r, statusTone: REPAIR_TONE[r.status] })),
    sanctions: sanctions.map((s) => ({ ...s, statusTone: SANCTION_TONE[s.state] })),
    repair: {
      restorable: standing.deductedPoints - standing.restoredPoints,
      canApply: standing.deductedPoints - standing.restoredPoints > 0 && !pendingRepair,
      pending: pendingRepair,
      eligibleFrom: quiet.eligibleFrom,
      quietOver: quiet.eligible,
    },
    clientText: clientText(lang),
  });
}

async function renderAdmin(req: Request, res: Response) {
  assertRole(req.actor, ['operator']);
  const lang = res.locals.lang as Lang;
  const actor = req.actor as Actor;
  const at = now();
  const [standings, rules, appeals, repairs, types, versions, recent, active, distributors] = await Promise.all([
    publicCreditList(lang),
    getCreditRules(),
    listAppeals(actor, { status: 'pending' }),
    listRepairs(actor, { status: 'pending' }),
    listBreachTypes(),
    listCommitmentVersions(),
    recentBreaches(30),
    listSanctions(actor, { activeOnly: true }, lang),
    organisationsByType('distributor'),
  ]);
  const standingByOrg = new Map(standings.map((s) => [s.orgId, s]));
  const repairRows = await Promise.all(
    repairs.map(async (r) => {
      const s = standingByOrg.get(r.orgId);
      const mine = await listBreaches(actor, { orgId: r.orgId });
      const counting = mine.filter((b) => b.status !== 'voided').map((b) => new Date(b.occurredAt).getTime());
      const quiet = repairEligible({ lastBreachAt: counting.length ? new Date(Math.max(...counting)) : null, quietDays: rules.repairQuietDays, at });
      return { ...r, restorable: s ? s.deductedPoints - s.restoredPoints : 0, quietOver: quiet.eligible, eligibleFromNow: quiet.eligibleFrom };
    }),
  );
  const appealRows = await Promise.all(
    appeals.map(async (a) => {
      const b = (await listBreaches(actor, { orgId: a.orgId })).find((x) => x.id === a.breachId);
      return { ...a, breachDetail: b };
    }),
  );
  const signatureCounts = new Map<string, number>();
  for (const v of versions) signatureCounts.set(v.id, await CommitmentSignature.countDocuments({ versionId: new Types.ObjectId(v.id) }));
  res.render('credit/admin', {
    title: t(lang, 'credit.admin.title'),
    standings: standings.map((s) => ({ ...s, gradeTone: GRADE_TONE[s.grade] })),
    appeals: appealRows,
    repairs: repairRows,
    types: types.map((x) => ({ ...x, severityTone: SEVERITY_TONE[x.severity] })),
    manualTypes: types.filter((x) => !x.automatic && x.active),
    versions: versions.map((v) => ({ ...v, signatures: signatureCounts.get(v.id) ?? 0, canWithdraw: v.state === 'scheduled' })),
    recent: recent.map((b) => ({ ...b, statusTone: BREACH_TONE[b.status], severityTone: SEVERITY_TONE[b.severity] })),
    active: active.map((s) => ({ ...s, statusTone: SANCTION_TONE[s.state] })),
    distributors: distributors.map((d) => ({ id: String(d._id), name: d.name })),
    rules,
    defaultBody: versions[0]?.body ?? defaultCommitmentBody(),
    clientText: clientText(lang),
  });
}

async function renderPublic(req: Request, res: Response) {
  const lang = res.locals.lang as Lang;
  const q = parse(z.object({ month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/).optional(), lang: z.string().optional() }).strict(), req.query, 'query');
  const month = q.month ?? previousMonth();
  const [standings, payments, ranking, rules] = await Promise.all([publicCreditList(lang), paymentRecord(12), arrearsRanking(month), getCreditRules()]);
  res.render('credit/public', {
    title: t(lang, 'credit.public.title'),
    standings: standings.map((s) => ({ ...s, gradeTone: GRADE_TONE[s.grade] })),
    sanctioned: standings.filter((s) => s.activeSanctions.length > 0),
    payments,
    ranking,
    month,
    rules,
  });
}

export function creditPages(router: Router): void {
  router.get('/credit/public', renderPublic);
  router.get('/credit/commitment', renderCommitment);
  router.get('/credit/mine', renderMine);
  router.get('/credit', renderAdmin);
}
