// What follows from the credit module's facts once they are committed: notifications (messages,
// deduplicated by the fact's key), live pushes, and the sanction expiry jobs (deterministic ids).
// All idempotent, so a fact delivered again (after a crash, by the outbox sweep) does no harm.
import {
  AppealDecided,
  AppealSubmitted,
  BonusAwarded,
  BreachRecorded,
  CommitmentPublished,
  RepairDecided,
  RepairSubmitted,
  SanctionEnded,
  SanctionExtended,
  SanctionOpened,
  StandingChanged,
} from '../../events/credit';
import { SettingsChanged } from '../../events/settings';
import { now, platform } from '../../platform/context';
import type { DomainEvent } from '../../platform/events';
import { dateTime, msg, renderMessage, type Message } from '../../platform/messages';
import { onEvent } from '../../platform/relay';
import { notifyOrganisation, notifyRoles } from '../notifications';
import { toBreachView } from './credit.breaches';
import { Breach, type BreachDoc } from './credit.model';
import { scheduleSanctionExpiry } from './credit.sanctions';
import { rebuildRecordsShorterThanWindow } from './credit.standing-record';

const MINE = '/credit/mine';

/** Tells a distributor organisation; the notification is stored once per user and fact. */
function tellOrg(e: DomainEvent, orgId: string, kind: string, title: Message, body: Message, link = MINE): Promise<number> {
  return notifyOrganisation(orgId, { kind, title, body, link, dedupeKey: e.key });
}

/** Tells every operator; the key is the fact's, so a redelivery is stored once per operator. */
function tellOperators(e: DomainEvent, kind: string, title: Message, body: Message, link: string): Promise<number> {
  return notifyRoles(['operator'], { kind, title, body, link, dedupeKey: `${e.key}:operator` });
}

const kindMsg = (kind: string) => ({ msg: `credit.sanction.kind.${kind}` });
const reasonMsg = (reason: string) => ({ msg: `credit.sanction.reason.${reason}` });
const nested = (m: Message) => ({ msg: m.key, ...(m.params ? { params: m.params } : {}) });
const at = (iso: string) => dateTime(new Date(iso));

const notifications = [
  onEvent(BreachRecorded, 'credit.notify-breach-recorded', async (e) => {
    const p = e.payload;
    const names = { name: p.name, nameEn: p.nameEn };
    await tellOrg(
      e,
      p.orgId,
      'credit.breach_recorded',
      msg('credit.notice.breachRecorded.title', names),
      msg('credit.notice.breachRecorded.body', { severity: { msg: `credit.severity.${p.severity}` }, points: p.points, description: p.description, deadline: at(p.appealDeadline) }),
      `${MINE}#breach-${p.breachId}`,
    );
  }),
  onEvent(StandingChanged, 'credit.notify-grade-changed', async (e) => {
    const p = e.payload;
    if (p.previousGrade === p.grade) return;
    const params = { from: p.previousGrade, to: p.grade, score: p.score, cause: nested(p.label) };
    await tellOrg(e, p.orgId, 'credit.grade_changed', msg('credit.notice.gradeChanged.title', params), msg('credit.notice.gradeChanged.body', params));
  }),
  onEvent(SanctionOpened, 'credit.notify-sanction-opened', async (e) => {
    const p = e.payload;
    const params = { org: p.orgName, kind: kindMsg(p.kind), reason: reasonMsg(p.reason), cause: nested(p.label), from: at(p.startsAt), until: at(p.endsAt) };
    const body = msg('credit.notice.sanctionApplied.body', params);
    await tellOrg(e, p.orgId, 'credit.sanction_applied', msg('credit.notice.sanctionApplied.title', params), body);
    await tellOperators(e, 'credit.sanction_applied', msg('credit.notice.sanctionApplied.operatorTitle', params), body, '/credit');
  }),
  onEvent(SanctionExtended, 'credit.notify-sanction-extended', async (e) => {
    const p = e.payload;
    const params = { kind: kindMsg(p.kind), reason: reasonMsg(p.reason), cause: nested(p.label), until: at(p.endsAt) };
    await tellOrg(e, p.orgId, 'credit.sanction_extended', msg('credit.notice.sanctionExtended.title', params), msg('credit.notice.sanctionExtended.body', params));
  }),
  onEvent(SanctionEnded, 'credit.notify-sanction-ended', async (e) => {
    const p = e.payload;
    if (p.how === 'lifted') {
      const params = { kind: kindMsg(p.kind), at: at(p.at), cause: p.label ? nested(p.label) : { msg: 'credit.change.unknown' } };
      await tellOrg(e, p.orgId, 'credit.sanction_lifted', msg('credit.notice.sanctionLifted.title', params), msg('credit.notice.sanctionLifted.body', params));
    } else {
      const params = { kind: kindMsg(p.kind), at: at(p.endsAt) };
      await tellOrg(e, p.orgId, 'credit.sanction_expired', msg('credit.notice.sanctionExpired.title', params), msg('credit.notice.sanctionExpired.body', params));
    }
  }),
  onEvent(AppealSubmitted, 'credit.notify-appeal-submitted', async (e) => {
    const p = e.payload;
    const params = { org: p.orgName, name: p.name, nameEn: p.nameEn, points: p.points };
    // NOTE: the key alone: operators are the only recipients, and the appeal's notice is known by it.
    await notifyRoles(['operator'], { kind: 'credit.appeal_submitted', title: msg('credit.notice.appealSubmitted.title', params), body: msg('credit.notice.appealSubmitted.body', params), link: '/credit#appeals', dedupeKey: e.key });
  }),
  onEvent(AppealDecided, 'credit.notify-appeal-decided', async (e) => {
    const p = e.payload;
    const params = { name: p.name, nameEn: p.nameEn, reason: p.reason };
    const which = p.decision === 'void' ? 'appealVoided' : 'appealUpheld';
    await tellOrg(e, p.orgId, 'credit.appeal_decided', msg(`credit.notice.${which}.title`, params), msg(`credit.notice.${which}.body`, params), `${MINE}#appeals`);
  }),
  onEvent(RepairSubmitted, 'credit.notify-repair-submitted', async (e) => {
    const p = e.payload;
    const params = { org: p.orgName, ...(p.eligibleFrom ? { eligibleFrom: at(p.eligibleFrom) } : {}) };
    await tellOperators(e, 'credit.repair_submitted', msg('credit.notice.repairSubmitted.title', params), msg(p.eligibleFrom ? 'credit.notice.repairSubmitted.bodyQuiet' : 'credit.notice.repairSubmitted.body', params), '/credit#repairs');
  }),
  onEvent(RepairDecided, 'credit.notify-repair-decided', async (e) => {
    const p = e.payload;
    const params = { points: p.pointsRestored ?? 0, reason: p.reason };
    const which = p.decision === 'approve' ? 'repairApproved' : 'repairRejected';
    await tellOrg(e, p.orgId, 'credit.repair_decided', msg(`credit.notice.${which}.title`, params), msg(`credit.notice.${which}.body`, params), `${MINE}#repairs`);
  }),
  onEvent(BonusAwarded, 'credit.notify-bonus-awarded', async (e) => {
    const p = e.payload;
    const params = { points: p.points, reason: p.reason };
    await tellOrg(e, p.orgId, 'credit.bonus_awarded', msg('credit.notice.bonusAwarded.title', params), msg('credit.notice.bonusAwarded.body', params));
  }),
  onEvent(CommitmentPublished, 'credit.notify-commitment-published', async (e) => {
    const p = e.payload;
    const params = { version: p.version, title: p.title, effectiveAt: at(p.effectiveAt) };
    await notifyRoles(['distributor'], { kind: 'credit.commitment_published', title: msg('credit.notice.commitmentPublished.title', params), body: msg('credit.notice.commitmentPublished.body', params), link: '/credit/commitment', dedupeKey: e.key });
  }),
];

const pushes = [
  onEvent(BreachRecorded, 'credit.push-breach-recorded', async (e) => {
    const b = await Breach.findById(e.payload.breachId).lean<BreachDoc>();
    if (!b) return;
    const view = toBreachView(b);
    platform().broadcaster.toOrg(e.payload.orgId, 'credit:breach_recorded', view);
    platform().broadcaster.toRole('operator', 'credit:breach_recorded', view);
  }),
  onEvent(StandingChanged, 'credit.push-standing-changed', (e) => {
    const p = e.payload;
    // NOTE: the organisation's room is shared by its users, so the cause goes out in the default language.
    platform().broadcaster.toOrg(p.orgId, 'credit:standing_changed', { orgId: p.orgId, score: p.score, grade: p.grade, riskWarning: p.riskWarning, suspended: p.suspended, cause: renderMessage('zh', p.label) });
  }),
];

const scheduling = [
  onEvent(SanctionOpened, 'credit.schedule-sanction-expiry', (e) => scheduleSanctionExpiry(e.payload.sanctionId, new Date(e.payload.endsAt))),
  onEvent(SanctionExtended, 'credit.schedule-extended-sanction-expiry', (e) => scheduleSanctionExpiry(e.payload.sanctionId, new Date(e.payload.endsAt))),
];

export const creditFollowUps = [...notifications, ...pushes, ...scheduling];

/**
 * A longer credit window needs older history than the standing records keep: they are rebuilt (until
 * then the standings are read from the history in full, so nothing is ever computed from too little).
 */
export const standingRecordRebuilds = [
  onEvent(SettingsChanged, 'credit.rebuild-standing-records-on-window', async (e) => {
    if (!e.payload.sections.includes('credit')) return;
    const rebuilt = await rebuildRecordsShorterThanWindow(now());
    if (rebuilt > 0) platform().logger.info({ rebuilt }, 'credit: standing records rebuilt for a longer window');
  }),
];
