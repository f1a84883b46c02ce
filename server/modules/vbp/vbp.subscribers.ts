// What follows from the vbp module's facts, after their commit: notifications (messages rendered in
// the reader's language, deduplicated by the fact's key), live pushes (read from the database when
// sent, so a repeat only repeats the current state) and scheduled jobs (deterministic ids). All
// idempotent, so a fact redelivered after a crash does no harm.
import {
  BackupPromoted,
  BidChanged,
  CompletionAlertRaised,
  ContractChecked,
  ContractCreated,
  DeclarationOpened,
  DeclarationReminderSent,
  SupplyFailureDeclared,
  TenderAwarded,
  TenderCreated,
  TenderOpened,
  vbpEventKeys,
} from '../../events/vbp';
import { platform } from '../../platform/context';
import type { DomainEvent } from '../../platform/events';
import { dateTime, day, fen, msg, type Message } from '../../platform/messages';
import { onEvent } from '../../platform/relay';
import type { Role } from '../../platform/schemas';
import { formatMoney, formatPercentBp } from '../../platform/view-helpers/formatters';
import { notifyOrganisation, notifyRoles } from '../notifications';
import { oid } from './vbp.common';
import { scheduleCheck } from './vbp.completion';
import { declarationReminderJob, finaliseTenderJob, jobIds, openTenderJob } from './vbp.jobs';
import { Contract, Tender, type ContractDoc, type TenderDoc } from './vbp.model';
import { pushBidUpdates } from './vbp.tenders';

/** The notification kinds of the module (what a reader filters on). */
export type VbpNoticeKind =
  | 'vbp.declaration_opened'
  | 'vbp.declaration_reminder'
  | 'vbp.tender_created'
  | 'vbp.follow_price_offer'
  | 'vbp.tender_opened'
  | 'vbp.awarded'
  | 'vbp.not_awarded'
  | 'vbp.contracts_created'
  | 'vbp.behind_pace'
  | 'vbp.under_checkpoint'
  | 'vbp.supply_failure'
  | 'vbp.backup_promoted';

interface Notice {
  kind: VbpNoticeKind;
  title: Message;
  body: Message;
  link: string;
}

/** Tells an organisation's users with the roles, once per fact. */
function tell(e: DomainEvent, orgId: string, roles: Role[], n: Notice): Promise<number> {
  return notifyOrganisation(orgId, { ...n, dedupeKey: `${e.key}:${roles.join(',')}` }, roles);
}

/** Tells every user with the roles, platform-wide, once per fact. */
function tellRoles(e: DomainEvent, roles: Role[], n: Notice): Promise<number> {
  return notifyRoles(roles, { ...n, dedupeKey: `${e.key}:${roles.join(',')}` });
}

export const vbpSubscribers = [
  // Declarations
  onEvent(DeclarationOpened, 'vbp.notify-declaration-opened', async (e) => {
    const p = e.payload;
    await tellRoles(e, ['pharmacist'], {
      kind: 'vbp.declaration_opened',
      title: msg('vbp.notice.declarationOpened.title', { title: p.title }),
      body: msg('vbp.notice.declarationOpened.body', { deadline: dateTime(new Date(p.deadline)), drugs: p.drugCount }),
      link: `/vbp/declarations/${p.declarationId}`,
    });
  }),
  onEvent(DeclarationOpened, 'vbp.schedule-declaration-reminder', async (e) => {
    const p = e.payload;
    if (p.remindAt) await platform().queues.enqueue(declarationReminderJob, { declarationId: p.declarationId }, { jobId: jobIds.remind(p.declarationId), runAt: new Date(p.remindAt) });
  }),
  onEvent(DeclarationReminderSent, 'vbp.notify-declaration-reminder', async (e) => {
    const p = e.payload;
    // NOTE: deduplicated by the day (the fact's key without its set of hospitals): once a day per hospital.
    const dedupeKey = vbpEventKeys.declarationReminderDay(p.declarationId, p.day);
    const notice = {
      kind: 'vbp.declaration_reminder' as const,
      title: msg('vbp.notice.declarationReminder.title', { title: p.title }),
      body: msg('vbp.notice.declarationReminder.body', { deadline: dateTime(new Date(p.deadline)), drugs: p.drugCount }),
      link: `/vbp/declarations/${p.declarationId}`,
      dedupeKey,
    };
    for (const orgId of p.hospitalOrgIds) await notifyOrganisation(orgId, notice, ['pharmacist']);
  }),

  // Tenders
  onEvent(TenderCreated, 'vbp.notify-tender-created', async (e) => {
    const p = e.payload;
    await tellRoles(e, ['distributor'], {
      kind: 'vbp.tender_created',
      title: msg('vbp.notice.tenderCreated.title', { title: p.title }),
      body: msg('vbp.notice.tenderCreated.body', { tenderNo: p.tenderNo, lines: p.lineCount, closesAt: dateTime(new Date(p.closesAt)) }),
      link: `/vbp/tenders/${p.tenderId}`,
    });
  }),
  onEvent(TenderCreated, 'vbp.schedule-tender-opening', async (e) => {
    const p = e.payload;
    await platform().queues.enqueue(openTenderJob, { tenderId: p.tenderId }, { jobId: jobIds.open(p.tenderId), runAt: new Date(p.closesAt) });
  }),
  onEvent(BidChanged, 'vbp.push-bid-change', (e) => pushBidUpdates(e.payload.tenderId, e.payload.lineId)),
  onEvent(TenderOpened, 'vbp.push-tender-opened', async (e) => {
    const p = e.payload;
    const t = await Tender.findById(oid(p.tenderId), { status: 1 }).lean<Pick<TenderDoc, 'status'>>();
    const status = t?.status ?? 'awaiting_acceptance';
    const { broadcaster } = platform();
    broadcaster.toRole('operator', 'vbp:tender_opened', { tenderId: p.tenderId, status });
    for (const b of p.bidders) broadcaster.toOrg(b.distributorOrgId, 'vbp:tender_opened', { tenderId: p.tenderId, status });
  }),
  onEvent(TenderOpened, 'vbp.notify-tender-opened', async (e) => {
    const p = e.payload;
    const link = `/vbp/tenders/${p.tenderId}`;
    for (const b of p.bidders) {
      const notice: Notice = b.followOffers.length
        ? {
            kind: 'vbp.follow_price_offer',
            title: msg('vbp.notice.followOffer.title', { title: p.title }),
            body: msg('vbp.notice.followOffer.body', {
              offers: { list: b.followOffers.map((o) => `${o.drugName} ${formatMoney(o.followPriceFen)}`) },
              deadline: dateTime(new Date(p.acceptanceDeadline)),
            }),
            link,
          }
        : { kind: 'vbp.tender_opened', title: msg('vbp.notice.tenderOpened.title', { title: p.title }), body: msg('vbp.notice.tenderOpened.body', { tenderNo: p.tenderNo }), link };
      await tell(e, b.distributorOrgId, ['distributor'], notice);
    }
  }),
  onEvent(TenderOpened, 'vbp.schedule-tender-finalise', async (e) => {
    const p = e.payload;
    // NOTE: a tender where nobody may accept the follow price was finalised with its opening.
    if (!p.bidders.some((b) => b.followOffers.length > 0)) return;
    await platform().queues.enqueue(finaliseTenderJob, { tenderId: p.tenderId }, { jobId: jobIds.finalise(p.tenderId), runAt: new Date(p.acceptanceDeadline) });
  }),
  onEvent(TenderAwarded, 'vbp.push-tender-awarded', (e) => {
    const p = e.payload;
    const { broadcaster } = platform();
    broadcaster.toRole('operator', 'vbp:tender_awarded', { tenderId: p.tenderId, contracts: p.contractCount });
    for (const orgId of p.bidderOrgIds) broadcaster.toOrg(orgId, 'vbp:tender_awarded', { tenderId: p.tenderId });
  }),
  onEvent(TenderAwarded, 'vbp.notify-tender-awarded', async (e) => {
    const p = e.payload;
    const contracts = await Contract.find({ tenderId: oid(p.tenderId), replacesContractId: null }).sort({ contractNo: 1 }).lean<ContractDoc[]>();
    for (const orgId of p.bidderOrgIds) {
      const mine = contracts.filter((c) => String(c.distributorOrgId) === orgId);
      await tell(
        e,
        orgId,
        ['distributor'],
        mine.length
          ? {
              kind: 'vbp.awarded',
              title: msg('vbp.notice.awarded.title', { title: p.title }),
              body: msg('vbp.notice.awarded.body', { contracts: mine.length, drugs: { list: [...new Set(mine.map((c) => c.genericNameZh))] } }),
              link: '/vbp/contracts',
            }
          : { kind: 'vbp.not_awarded', title: msg('vbp.notice.notAwarded.title', { title: p.title }), body: msg('vbp.notice.notAwarded.body', { tenderNo: p.tenderNo }), link: `/vbp/tenders/${p.tenderId}` },
      );
    }
    for (const h of [...new Set(contracts.map((c) => String(c.hospitalOrgId)))]) {
      const mine = contracts.filter((c) => String(c.hospitalOrgId) === h);
      await tell(e, h, ['pharmacist'], {
        kind: 'vbp.contracts_created',
        title: msg('vbp.notice.contractsCreated.title', { title: p.title }),
        body: msg('vbp.notice.contractsCreated.body', { contracts: { list: mine.map((c) => `${c.genericNameZh} ${c.agreedQty}${c.packUnit} · ${c.distributorName} · ${formatMoney(c.priceFen)}`) } }),
        link: '/vbp/contracts',
      });
    }
  }),

  // Contracts and their completion
  onEvent(ContractCreated, 'vbp.schedule-first-checks', async (e) => {
    for (const c of e.payload.firstChecks) await scheduleCheck(e.payload.contractId, c.kind, c.index, new Date(c.dueAt));
  }),
  onEvent(ContractChecked, 'vbp.schedule-next-check', async (e) => {
    const p = e.payload;
    if (p.next) await scheduleCheck(p.contractId, p.kind, p.next.index, new Date(p.next.dueAt));
  }),
  onEvent(CompletionAlertRaised, 'vbp.notify-completion-alert', async (e) => {
    const p = e.payload;
    const params = {
      drug: p.drugName,
      contractNo: p.contractNo,
      checkAt: day(new Date(p.checkAt)),
      purchased: p.purchasedQty,
      proRata: p.proRataTargetQty,
      target: p.targetQty,
      agreed: p.agreedQty,
      unit: p.packUnit,
      ratio: formatPercentBp(p.ratioBp),
      share: formatPercentBp(p.checkpointShareBp),
    };
    const which = p.kind === 'behind_pace' ? 'behindPace' : 'underCheckpoint';
    await tell(e, p.hospitalOrgId, ['pharmacist'], {
      kind: p.kind === 'behind_pace' ? 'vbp.behind_pace' : 'vbp.under_checkpoint',
      title: msg(`vbp.notice.${which}.title`, params),
      body: msg(`vbp.notice.${which}.body`, params),
      link: `/vbp/contracts/${p.contractId}`,
    });
  }),
  onEvent(CompletionAlertRaised, 'vbp.push-completion-alert', (e) => {
    const p = e.payload;
    platform().broadcaster.toRole('operator', 'vbp:alert', { contractId: p.contractId, kind: p.kind, checkKind: p.checkKind, index: p.index });
  }),
  onEvent(SupplyFailureDeclared, 'vbp.notify-supply-failure', async (e) => {
    const p = e.payload;
    await tell(e, p.distributorOrgId, ['distributor'], {
      kind: 'vbp.supply_failure',
      title: msg('vbp.notice.supplyFailure.title', { drug: p.drugName }),
      body: msg('vbp.notice.supplyFailure.body', { contractNo: p.contractNo, hospital: p.hospitalName ?? '', remaining: p.remainingQty, unit: p.packUnit ?? '', reason: p.reason }),
      link: `/vbp/contracts/${p.contractId}`,
    });
  }),
  onEvent(BackupPromoted, 'vbp.notify-backup-promoted', async (e) => {
    const p = e.payload;
    const params = {
      drug: p.drugName,
      contractNo: p.contractNo,
      hospital: p.hospitalName,
      distributor: p.distributorName,
      previous: p.previousDistributorName,
      quantity: p.agreedQty,
      unit: p.packUnit,
      price: fen(p.priceFen),
    };
    const link = `/vbp/contracts/${p.contractId}`;
    await tell(e, p.distributorOrgId, ['distributor'], { kind: 'vbp.backup_promoted', title: msg('vbp.notice.promotedDistributor.title', params), body: msg('vbp.notice.promotedDistributor.body', params), link });
    await tell(e, p.hospitalOrgId, ['pharmacist'], { kind: 'vbp.backup_promoted', title: msg('vbp.notice.promotedHospital.title', params), body: msg('vbp.notice.promotedHospital.body', params), link });
  }),
  onEvent(BackupPromoted, 'vbp.push-backup-promoted', (e) => {
    platform().broadcaster.toRole('operator', 'vbp:backup_promoted', { contractId: e.payload.failedContractId, promotedContractId: e.payload.contractId });
  }),
];
