// Read models: a distributor's standing with its sanctions, the public credit list, the trend, and the
// operator's credit rules.
import { Types } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { NotFoundError } from '../../platform/errors';
import { trusted } from '../../platform/mongo';
import { recordAudit } from '../audit';
import { getOrganisation, organisationsByType } from '../identity';
import { CreditRulesDoc, Sanction, ScoreSnapshot, type SanctionDoc, type ScoreSnapshotDoc } from './credit.model';
import { activeSanctionsOf, CREDIT_RULES_KEY, getCreditRules, getCreditUploadLimits, standingsOf, type Standing } from './credit.standing';

export function sanctionView(s: SanctionDoc, at: Date = now()) {
  const state = s.liftedAt ? 'lifted' : s.endsAt.getTime() <= at.getTime() ? 'expired' : s.startsAt.getTime() > at.getTime() ? 'scheduled' : 'active';
  return {
    id: String(s._id),
    orgId: String(s.orgId),
    orgName: s.orgName,
    kind: s.kind,
    reason: s.reason,
    startsAt: s.startsAt.toISOString(),
    endsAt: s.endsAt.toISOString(),
    state: state as 'active' | 'expired' | 'lifted' | 'scheduled',
    liftedAt: s.liftedAt ? s.liftedAt.toISOString() : undefined,
    liftReason: s.liftReason ?? undefined,
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

async function standingViews(orgs: { _id: Types.ObjectId; name: string }[], at: Date): Promise<StandingView[]> {
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
      riskWarning: s.grade === 'C' || s.grade === 'D' || mine.some((x) => x.kind === 'risk_warning'),
      suspended: mine.some((x) => x.kind === 'suspension'),
      activeSanctions: mine.map((x) => sanctionView(x, at)),
    };
  });
}

/** One distributor's standing now (404 for an unknown or non-distributor organisation). */
export async function standingView(orgId: string): Promise<StandingView> {
  const org = (await getOrganisation(orgId)) as { _id: Types.ObjectId; name: string; type: string } | null;
  if (!org || org.type !== 'distributor') throw new NotFoundError({ code: 'DISTRIBUTOR_NOT_FOUND', message: 'No such distributor.' });
  return (await standingViews([org], now()))[0]!;
}

/** The public credit list: every active distributor with grade, score and sanctions in force. */
export async function publicCreditList(): Promise<StandingView[]> {
  const orgs = (await organisationsByType('distributor')) as { _id: Types.ObjectId; name: string }[];
  const views = await standingViews(orgs, now());
  return views.sort((a, b) => b.score - a.score || a.orgName.localeCompare(b.orgName, 'zh'));
}

/** Sanction history: a distributor its own; the operator everything (optionally only those in force). */
export async function listSanctions(actor: Actor | null, q: { orgId?: string; activeOnly?: boolean }): Promise<SanctionView[]> {
  const at = now();
  const filter: Record<string, unknown> = {};
  if (actor && actor.role !== 'operator') filter.orgId = new Types.ObjectId(actor.orgId);
  else if (q.orgId) filter.orgId = new Types.ObjectId(q.orgId);
  if (q.activeOnly) Object.assign(filter, { startsAt: trusted({ $lte: at }), endsAt: trusted({ $gt: at }), liftedAt: trusted({ $exists: false }) });
  const rows = await Sanction.find(filter).sort({ startsAt: -1 }).limit(300).lean<SanctionDoc[]>();
  return rows.map((s) => sanctionView(s, at));
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
export async function updateCreditRules(actor: Actor, patch: Record<string, unknown>) {
  const current = await CreditRulesDoc.findById(CREDIT_RULES_KEY).lean<{ value: Record<string, unknown> }>();
  const value = { ...(current?.value ?? {}), ...patch };
  await CreditRulesDoc.updateOne({ _id: CREDIT_RULES_KEY }, { $set: { value, updatedAt: now(), updatedByName: actor.name } }, { upsert: true });
  await recordAudit(actor, { action: 'credit.rules.update', targetType: 'credit_rules', targetId: CREDIT_RULES_KEY, summary: `changed ${Object.keys(patch).join(', ')}` });
  return creditRulesView();
}
