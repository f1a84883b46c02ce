// What follows from the finance module's facts: the settlement, accrual and daily-run jobs, live
// pushes to the parties, and notifications. All idempotent — jobs with deterministic ids,
// notifications deduplicated by the fact's key, pushes of the current state — so a fact delivered
// again (the outbox sweep after a crash) does no harm.
import {
  AdvanceMade,
  AdvanceOverdue,
  DepositMade,
  InvoiceCreated,
  InvoiceOverdue,
  InvoicePaid,
  InvoiceSettled,
  LineApplied,
  LineChanged,
  LineDecided,
  PrepaymentRecorded,
  RepaymentMade,
} from '../../events/finance';
import { platform } from '../../platform/context';
import type { DomainEvent } from '../../platform/events';
import { day, fen, msg, type Message } from '../../platform/messages';
import type { AccountCreditedPayload, AdvanceMadePayload, RepaymentRecordedPayload } from '../../platform/realtime.events';
import { onEvent, onEvents } from '../../platform/relay';
import type { Role } from '../../platform/schemas';
import { businessDay } from '../../platform/time';
import { notifyOrganisation, notifyOrganisations } from '../notifications';
import { pushInvoices, scheduleSettlement } from './finance.invoices';
import { ensureDailyRun, scheduleAccruals } from './finance.jobs';
import { termsParams } from './finance.lines';
import { orgNames } from './finance.views';

/** Notifies the organisation's users with the roles, once per fact and role. */
function tell(e: DomainEvent, orgId: string, roles: Role[], notice: { kind: string; title: Message; body: Message; link: string }): Promise<number> {
  return notifyOrganisation(orgId, { ...notice, dedupeKey: `${e.key}:${roles.join(',')}` }, roles);
}

/** `tell` for the facts of one batch: one read of the users per organisation and role set, one insert. */
function tellMany(list: { e: DomainEvent; orgId: string; roles: Role[]; notice: { kind: string; title: Message; body: Message; link: string } }[]): Promise<number> {
  return notifyOrganisations(list.map(({ e, orgId, roles, notice }) => ({ orgId, roles, input: { ...notice, dedupeKey: `${e.key}:${roles.join(',')}` } })));
}

const lineNotice = { approved: 'lineApproved', rejected: 'lineRejected', suspended: 'lineSuspended', reinstated: 'lineReinstated', changed: 'lineChanged' } as const;

export const financeSubscribers = [
  // Jobs (deterministic ids: a fact delivered twice schedules one job).
  onEvent(InvoiceCreated, 'finance.schedule-settlement', (e) => scheduleSettlement(e.payload.invoiceId)),
  onEvents(AdvanceMade, 'finance.schedule-accrual', async (events) => {
    await scheduleAccruals(events.map((e) => ({ advanceId: e.payload.advanceId, day: businessDay(new Date(e.payload.advancedAt)) })));
    await ensureDailyRun();
  }),

  // Live pushes (the invoice's current state, so a late redelivery never shows an older one).
  onEvents(InvoiceSettled, 'finance.push-invoice-settled', (events) => pushInvoices(events.map((e) => ({ invoiceId: e.payload.invoiceId, bankOrgId: e.payload.bankOrgId })))),
  onEvents(InvoicePaid, 'finance.push-invoice-paid', (events) => pushInvoices(events.map((e) => ({ invoiceId: e.payload.invoiceId, bankOrgId: e.payload.bankOrgId })))),
  onEvents(AdvanceMade, 'finance.push-advance-made', (events) => {
    for (const { payload: p } of events) {
      const payload: AdvanceMadePayload = { advanceId: p.advanceId, invoiceId: p.invoiceId, invoiceNo: p.invoiceNo, principalFen: p.principalFen, hospitalOrgId: p.hospitalOrgId };
      platform().broadcaster.toOrg(p.hospitalOrgId, 'advance:made', payload);
      platform().broadcaster.toOrg(p.bankOrgId, 'advance:made', payload);
    }
  }),
  onEvent(RepaymentMade, 'finance.push-repayment', (e) => {
    const p = e.payload;
    const payload: RepaymentRecordedPayload = { repaymentId: p.repaymentId, hospitalOrgId: p.hospitalOrgId, amountFen: p.amountFen, interestFen: p.interestFen, principalFen: p.principalFen };
    platform().broadcaster.toOrg(p.bankOrgId, 'repayment:recorded', payload);
    platform().broadcaster.toOrg(p.hospitalOrgId, 'repayment:recorded', payload);
  }),
  onEvent(PrepaymentRecorded, 'finance.push-prepayment', (e) => {
    const payload: AccountCreditedPayload = { kind: 'prepayment', amountFen: e.payload.amountFen, balanceFen: e.payload.balanceFen };
    platform().broadcaster.toOrg(e.payload.hospitalOrgId, 'account:credited', payload);
  }),
  onEvent(DepositMade, 'finance.push-deposit', (e) => {
    const payload: AccountCreditedPayload = { kind: 'deposit', amountFen: e.payload.amountFen, balanceFen: e.payload.balanceFen };
    platform().broadcaster.toOrg(e.payload.hospitalOrgId, 'account:credited', payload);
  }),

  // Notifications (rendered in each reader's language when read).
  onEvents(InvoiceOverdue, 'finance.notify-invoice-overdue', async (events) => {
    const names = await orgNames(events.flatMap((e) => [e.payload.hospitalOrgId, e.payload.distributorOrgId]));
    await tellMany(
      events.flatMap((e) => {
        const p = e.payload;
        const params = { invoiceNo: p.invoiceNo, hospital: names.get(p.hospitalOrgId)?.name ?? '', distributor: names.get(p.distributorOrgId)?.name ?? '', amount: fen(p.amountFen), unpaid: fen(p.unpaidFen) };
        const notice = { kind: 'finance.invoice_overdue', title: msg('finance.notify.invoiceOverdue.title', params), body: msg('finance.notify.invoiceOverdue.body', params), link: `/finance/invoices/${p.invoiceId}` };
        return [
          { e, orgId: p.hospitalOrgId, roles: ['hospital_finance'] as Role[], notice },
          { e, orgId: p.distributorOrgId, roles: ['distributor'] as Role[], notice },
          ...(p.bankOrgId ? [{ e, orgId: p.bankOrgId, roles: ['bank_officer'] as Role[], notice: { ...notice, link: `/finance/hospitals/${p.hospitalOrgId}` } }] : []),
        ];
      }),
    );
  }),
  onEvents(AdvanceMade, 'finance.notify-advance-made', async (events) => {
    await tellMany(
      events.flatMap((e) => {
        const p = e.payload;
        const params = { invoiceNo: p.invoiceNo, advance: fen(p.principalFen) };
        const notice = { kind: 'finance.advance_made', title: msg('finance.notify.advanceMade.title', params), body: msg('finance.notify.advanceMade.body', params) };
        return [
          { e, orgId: p.hospitalOrgId, roles: ['hospital_finance'] as Role[], notice: { ...notice, link: '/finance/account' } },
          { e, orgId: p.bankOrgId, roles: ['bank_officer'] as Role[], notice: { ...notice, link: `/finance/hospitals/${p.hospitalOrgId}` } },
        ];
      }),
    );
  }),
  onEvent(AdvanceOverdue, 'finance.notify-advance-overdue', async (e) => {
    const p = e.payload;
    const names = await orgNames([p.hospitalOrgId]);
    const params = { invoiceNo: p.invoiceNo, hospital: names.get(p.hospitalOrgId)?.name ?? '', principal: fen(p.principalOutstandingFen), dueAt: day(new Date(p.dueAt)) };
    const notice = { kind: 'finance.advance_overdue', title: msg('finance.notify.advanceOverdue.title', params), body: msg('finance.notify.advanceOverdue.body', params) };
    await tell(e, p.hospitalOrgId, ['hospital_finance'], { ...notice, link: '/finance/account' });
    await tell(e, p.bankOrgId, ['bank_officer'], { ...notice, link: `/finance/hospitals/${p.hospitalOrgId}` });
  }),
  onEvent(RepaymentMade, 'finance.notify-repayment', async (e) => {
    const p = e.payload;
    const params = { hospital: p.hospitalName, amount: fen(p.amountFen), interest: fen(p.interestFen), principal: fen(p.principalFen) };
    await tell(e, p.bankOrgId, ['bank_officer'], { kind: 'finance.repayment', title: msg('finance.notify.repayment.title', params), body: msg('finance.notify.repayment.body', params), link: `/finance/hospitals/${p.hospitalOrgId}` });
  }),
  onEvent(PrepaymentRecorded, 'finance.notify-prepayment', async (e) => {
    const p = e.payload;
    const params = { amount: fen(p.amountFen), balance: fen(p.balanceFen) };
    await tell(e, p.hospitalOrgId, ['hospital_finance'], { kind: 'finance.prepayment', title: msg('finance.notify.prepayment.title', params), body: msg('finance.notify.prepayment.body', params), link: '/finance/account' });
  }),
  onEvent(LineApplied, 'finance.notify-line-applied', async (e) => {
    const p = e.payload;
    const params = { hospital: p.hospitalName, amount: fen(p.amountFen), months: p.termMonths };
    await tell(e, p.bankOrgId, ['bank_officer'], { kind: 'finance.line_applied', title: msg('finance.notify.lineApplied.title', params), body: msg('finance.notify.lineApplied.body', params), link: `/finance/lines/${p.lineId}` });
  }),
  onEvent(LineDecided, 'finance.notify-line-decided', async (e) => {
    const p = e.payload;
    const key = lineNotice[p.decision];
    const params = { bank: p.bankName, reason: p.reason ?? '', ...(p.terms ? termsParams(p.terms) : {}) };
    await tell(e, p.hospitalOrgId, ['hospital_finance'], { kind: `finance.line_${p.decision}`, title: msg(`finance.notify.${key}.title`, params), body: msg(`finance.notify.${key}.body`, params), link: '/finance/lines' });
  }),
  onEvent(LineChanged, 'finance.notify-line-changed', async (e) => {
    const p = e.payload;
    const key = lineNotice[p.action];
    const params = { bank: p.bankName, reason: p.reason ?? '', ...(p.terms ? termsParams(p.terms) : {}) };
    await tell(e, p.hospitalOrgId, ['hospital_finance'], { kind: `finance.line_${p.action}`, title: msg(`finance.notify.${key}.title`, params), body: msg(`finance.notify.${key}.body`, params), link: '/finance/lines' });
  }),
];
