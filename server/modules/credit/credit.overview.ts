// Read models: a distributor's standing with its sanctions, the public credit list, the trend, and the
// operator's credit rules.
import { Types } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { NotFoundError } from '../../platform/errors';
import { trusted } from '../../platform/mongo';
import { getOrganisation, organisationsByType } from '../identity';
import { DEFAULT_LANG, type Lang } from '../../platform/i18n';
import { msg, renderMessage } from '../../platform/messages';
import { withCommand } from '../../platform/unit-of-work';
import { CreditRulesDoc, Sanction, ScoreSnapshot, type CreditRulesRecord, type SanctionDoc, type ScoreSnapshotDoc } from './credit.model';
import type { CreditRulesPatchInput } from './credit.schemas';
import { activeSanctionsOf, CREDIT_RULES_KEY, flagsOf, getCreditRules, getCreditUploadLimits, standingsOf, type Standing } from './credit.standing';

type SanctionState = 'active' | 'expired' | 'lifted' | 'scheduled';

function sanctionState(s: Pick<SanctionDoc, 'liftedAt' | 'startsAt' | 'endsAt'>, at: Date): SanctionState {
  if (s.liftedAt) return 'lifted';
  if (s.endsAt.getTime() <= at.getTime()) return 'expired';
  return s.startsAt.getTime() > at.getTime() ? 'scheduled' : 'active';
}

/** A sanction as the API and pages show it; the lift reason in `lang`. */
export function sanctionView(s: SanctionDoc, at: Date = now(), lang: Lang = DEFAULT_LANG) {
  return {
    id: String(s._id),
    orgId: String(s.orgId),
    orgName: s.orgName,
    kind: s.kind,
    reason: s.reason,
    startsAt: s.startsAt.toISOString(),
    endsAt: s.endsAt.toISOString(),
    state: sanctionState(s, at),
    liftedAt: s.liftedAt ? s.liftedAt.toISOString() : undefined,
    liftReason: !s.liftReason ? undefined : typeof s.liftReason === 'string' ? s.liftReason : renderMessage(lang, s.liftReason),
  };
}
export type SanctionView = ReturnType<typeof sanctionView>;

export interface StandingView {
  orgId: string;
  orgName: string;
  score: number;
  grade: Standing['grade'];
  deductedPoints: number;
  restoredPoints: number;
  bonusPoints: number;
  windowStart: string;
  worstSeverity: Standing['worstSeverity'];
  riskWarning: boolean;
  suspended: boolean;
  activeSanctions: SanctionView[];
}

async function standingViews(orgs: { _id: Types.ObjectId; name: string }[], at: Date, lang: Lang): Promise<StandingView[]> {
  const ids = orgs.map((o) => String(o._id));
  const [standings, sanctions] = await Promise.all([standingsOf(ids, at), activeSanctionsOf(ids, at)]);
  return orgs.map((o) => {
    const s = standings.get(String(o._id))!;
    const mine = sanctions.filter((x) => x.orgId.equals(o._id));
    return {
      orgId: String(o._id),
      orgName: o.name,
      score: s.score,
      grade: s.grade,
      deductedPoints: s.deductedPoints,
      restoredPoints: s.restoredPoints,
      bonusPoints: s.bonusPoints,
      windowStart: s.windowStart.toISOString(),
      worstSeverity: s.worstSeverity,
      ...flagsOf(s, mine),
      activeSanctions: mine.map((x) => sanctionView(x, at, lang)),
    };
  });
}

/** One distributor's standing now (404 for an unknown or non-distributor organisation). */
export async function standingView(orgId: string, lang: Lang = DEFAULT_LANG): Promise<StandingView> {
  const org = await getOrganisation(orgId);
  if (!org || org.type !== 'distributor') throw new NotFoundError({ code: 'DISTRIBUTOR_NOT_FOUND', message: msg('errorCodes.DISTRIBUTOR_NOT_FOUND') });
  return (await standingViews([org], now(), lang))[0]!;
}

/** The public credit list: every active distributor with grade, score and sanctions in force. */
export async function publicCreditList(lang: Lang = DEFAULT_LANG): Promise<StandingView[]> {
  const orgs = await organisationsByType('distributor');
  const views = await standingViews(orgs, now(), lang);
  return views.sort((a, b) => b.score - a.score || a.orgName.localeCompare(b.orgName, 'zh'));
}

/** Sanction history: a distributor its own; the operator everything (optionally only those in force). */
export async function listSanctions(actor: Actor | null, q: { orgId?: string; activeOnly?: boolean }, lang: Lang = DEFAULT_LANG): Promise<SanctionView[]> {
  const at = now();
  const filter: Record<string, unknown> = {};
  if (actor && actor.role !== 'operator') filter.orgId = new Types.ObjectId(actor.orgId);
  else if (q.orgId) filter.orgId = new Types.ObjectId(q.orgId);
  if (q.activeOnly) Object.assign(filter, { startsAt: trusted({ $lte: at }), endsAt: trusted({ $gt: at }), liftedAt: trusted({ $exists: false }) });
  const rows = await Sanction.find(filter).sort({ startsAt: -1 }).limit(300).lean<SanctionDoc[]>();
  return rows.map((s) => sanctionView(s, at, lang));
}

/** Score after each change, oldest first, for the trend chart. */
export async function scoreTrend(orgId: string, limit = 60): Promise<{ at: string; score: number; grade: string; cause: string }[]> {
  const rows = await ScoreSnapshot.find({ orgId: new Types.ObjectId(orgId) }).sort({ at: -1 }).limit(limit).lean<ScoreSnapshotDoc[]>();
  return rows.reverse().map((r) => ({ at: r.at.toISOString(), score: r.score, grade: r.grade, cause: r.cause }));
}

export async function creditRulesView() {
  const [rules, uploads] = await Promise.all([getCreditRules(), getCreditUploadLimits()]);
  return { ...rules, uploads };
}

/** Operator: changes the grade bands, sanction periods or upload limits. */
export async function updateCreditRules(actor: Actor, patch: CreditRulesPatchInput) {
  await withCommand(actor, async (uow) => {
    const current = await CreditRulesDoc.findById(CREDIT_RULES_KEY, null, { session: uow.session }).lean<CreditRulesRecord>();
    const value = { ...(current?.value ?? {}), ...patch };
    await CreditRulesDoc.updateOne({ _id: CREDIT_RULES_KEY }, { $set: { value, updatedAt: uow.at, updatedByName: actor.name } }, { upsert: true, session: uow.session });
    uow.audit({ action: 'credit.rules.update', targetType: 'credit_rules', targetId: CREDIT_RULES_KEY, summary: msg('credit.audit.rulesUpdated', { fields: { list: Object.keys(patch) } }) });
  });
  return creditRulesView();
}
