import type { Request } from 'express';
import { Types } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { downloadRoute, XLSX_CONTENT_TYPE, type ApiRouter } from '../../platform/http';
import { IdParams, z } from '../../platform/schemas';
import { organisationsByType } from '../identity';
import { assertHospitalVisible, requireOrg, resolveHospital } from './finance.access';
import { accountSummary, deposit, paymentSecurity, recordPrepayment, statement } from './finance.accounts';
import { advanceView, pageAdvances, pageRepayments, repay, repaymentView } from './finance.advances';
import { getInvoice, listInvoices, payInvoice } from './finance.invoices';
import { invoicesXlsx, statementXlsx } from './finance.exports';
import { checkLedger } from './finance.ledger';
import { applyForLine, approveLine, changeLine, getLine, lineView, listLines, reinstateLine, rejectLine, suspendLine } from './finance.lines';
import { bankSummary, hospitalPaymentRecords, hospitalReview, monthlyArrears } from './finance.reports';
import {
  ApplyLineBody,
  ApproveLineBody,
  ChangeLineBody,
  EmptyBody,
  HospitalParams,
  HistoryPageQuery,
  InvoiceQuery,
  LineQuery,
  MoneyInBody,
  MonthQuery,
  PeriodQuery,
  ReasonBody,
  RepayBody,
} from './finance.schemas';
import { orgNames, invoiceView } from './finance.views';
import { endOfBusinessDay, parseBusinessDay } from '../../platform/time';
import { Fen } from '../../platform/schemas';

const TAGS = ['finance'];
const FINANCE_ROLES = ['operator', 'hospital_finance', 'bank_officer'] as const;
const InvoiceExportQuery = InvoiceQuery.omit({ cursor: true, limit: true });

/** The caller's Idempotency-Key (when valid) doubles as the journal key of a money movement. */
function requestKey(req: Request): string {
  const key = req.get('idempotency-key');
  return key && /^[A-Za-z0-9_-]{8,100}$/.test(key) ? key : String(new Types.ObjectId());
}

export function financeRoutes(api: ApiRouter): void {
  api.route({ method: 'get', path: '/finance/banks', summary: 'Guarantee banks a hospital can apply to', tags: TAGS, auth: 'any' }, async () => {
    const banks = await organisationsByType('bank');
    return { data: banks.map((b) => ({ id: String(b._id), name: b.name })) };
  });

  api.route(
    { method: 'post', path: '/finance/lines', summary: 'Apply to a bank for a guarantee line', tags: TAGS, auth: ['hospital_finance'], body: ApplyLineBody, status: 201, idempotent: true },
    async ({ actor, body }) => applyForLine(actor, body),
  );

  api.route({ method: 'get', path: '/finance/lines', summary: 'Guarantee lines the caller may see', tags: TAGS, auth: FINANCE_ROLES, query: LineQuery }, async ({ actor, query }) => {
    const lines = await listLines(actor, { status: query.status });
    return { data: await Promise.all(lines.map((l) => lineView(l))), nextCursor: null };
  });

  api.route({ method: 'get', path: '/finance/lines/:id', summary: 'One guarantee line', tags: TAGS, auth: FINANCE_ROLES, params: IdParams }, async ({ actor, params }) =>
    lineView(await getLine(actor, params.id)),
  );

  api.route(
    { method: 'get', path: '/finance/lines/:id/review', summary: "The hospital's purchases, payment record and arrears, for the bank's decision", tags: TAGS, auth: ['bank_officer', 'operator'], params: IdParams },
    async ({ actor, params }) => {
      const line = await getLine(actor, params.id);
      return hospitalReview(String(line.hospitalOrgId), String(line.bankOrgId));
    },
  );

  api.route(
    { method: 'post', path: '/finance/lines/:id/approve', summary: 'Approve a line: limit, annual rate (bp), longest tenor, expiry', tags: TAGS, auth: ['bank_officer'], params: IdParams, body: ApproveLineBody },
    async ({ actor, params, body }) => lineView(await approveLine(actor, params.id, body)),
  );
  api.route(
    { method: 'post', path: '/finance/lines/:id/reject', summary: 'Reject a line application with a reason', tags: TAGS, auth: ['bank_officer'], params: IdParams, body: ReasonBody },
    async ({ actor, params, body }) => lineView(await rejectLine(actor, params.id, body.reason)),
  );
  api.route(
    { method: 'post', path: '/finance/lines/:id/suspend', summary: 'Suspend an active line', tags: TAGS, auth: ['bank_officer'], params: IdParams, body: ReasonBody },
    async ({ actor, params, body }) => lineView(await suspendLine(actor, params.id, body.reason)),
  );
  api.route(
    { method: 'post', path: '/finance/lines/:id/reinstate', summary: 'Lift a suspension', tags: TAGS, auth: ['bank_officer'], params: IdParams, body: EmptyBody },
    async ({ actor, params }) => lineView(await reinstateLine(actor, params.id)),
  );
  api.route(
    { method: 'post', path: '/finance/lines/:id/change', summary: "Change a line's terms", tags: TAGS, auth: ['bank_officer'], params: IdParams, body: ChangeLineBody },
    async ({ actor, params, body }) => lineView(await changeLine(actor, params.id, body)),
  );

  api.route(
    {
      method: 'post',
      path: '/finance/accounts/:hospitalOrgId/prepayments',
      summary: "Record a medical-insurance prepayment into a hospital's working-capital account",
      tags: TAGS,
      auth: ['operator'],
      params: HospitalParams,
      body: MoneyInBody,
      status: 201,
      idempotent: true,
    },
    async ({ actor, params, body, req }) => recordPrepayment(actor, params.hospitalOrgId, body, requestKey(req)),
  );
  api.route(
    { method: 'post', path: '/finance/account/deposits', summary: 'Deposit into the hospital working-capital account', tags: TAGS, auth: ['hospital_finance'], body: MoneyInBody, status: 201, idempotent: true },
    async ({ actor, body, req }) => deposit(actor, body, requestKey(req)),
  );

  api.route({ method: 'get', path: '/finance/account', summary: "The caller's hospital account, line, headroom and debt", tags: TAGS, auth: ['hospital_finance', 'pharmacist'] }, async ({ actor }) =>
    accountSummary(actor.orgId),
  );
  api.route(
    { method: 'get', path: '/finance/accounts/:hospitalOrgId', summary: "A hospital's account, line, headroom and debt", tags: TAGS, auth: FINANCE_ROLES, params: HospitalParams },
    async ({ actor, params }) => {
      await assertHospitalVisible(actor, params.hospitalOrgId);
      return accountSummary(params.hospitalOrgId);
    },
  );
  api.route({ method: 'get', path: '/finance/statement', summary: 'Financing statement of a hospital for a period', tags: TAGS, auth: FINANCE_ROLES, query: PeriodQuery }, async ({ actor, query }) => {
    const hospital = await resolveHospital(actor, query.hospitalOrgId);
    const s = await statement(hospital, query.from, query.to);
    return { ...s, generatedAt: s.generatedAt.toISOString(), rows: s.rows.map((r) => ({ ...r, at: r.at.toISOString() })) };
  });

  downloadRoute(
    api,
    { path: '/finance/statement.xlsx', summary: 'The financing statement of a hospital for a period as Excel (same access as GET /finance/statement)', tags: TAGS, auth: FINANCE_ROLES, query: PeriodQuery, contentType: XLSX_CONTENT_TYPE },
    ({ actor, query, lang }) => statementXlsx(actor, query, lang),
  );

  api.route({ method: 'get', path: '/finance/invoices', summary: 'Invoices the caller may see, by due date', tags: TAGS, auth: 'any', query: InvoiceQuery }, async ({ actor, query }) => {
    const page = await listInvoices(actor, query);
    const names = await orgNames(page.rows.flatMap((r) => [r.hospitalOrgId, r.distributorOrgId]));
    return { data: page.rows.map((r) => invoiceView(r, names)), nextCursor: page.nextCursor };
  });
  downloadRoute(
    api,
    { path: '/finance/invoices/export.xlsx', summary: 'The invoices list as Excel: every invoice under the same filters and access as GET /finance/invoices', tags: TAGS, auth: 'any', query: InvoiceExportQuery, contentType: XLSX_CONTENT_TYPE },
    ({ actor, query, lang }) => invoicesXlsx(actor, query, lang),
  );
  api.route({ method: 'get', path: '/finance/invoices/:id', summary: 'One invoice', tags: TAGS, auth: 'any', params: IdParams }, async ({ actor, params }) => {
    const inv = await getInvoice(actor, params.id);
    return invoiceView(inv, await orgNames([inv.hospitalOrgId, inv.distributorOrgId]));
  });
  api.route(
    { method: 'post', path: '/finance/invoices/:id/pay', summary: 'Pay an invoice in full from the working-capital account', tags: TAGS, auth: ['hospital_finance'], params: IdParams, body: EmptyBody, idempotent: true },
    async ({ actor, params }) => payInvoice(actor, params.id),
  );

  /** Whose advances or repayments the actor asks for: a bank its hospitals', the operator all, else one hospital's. */
  async function historyScope(actor: Actor, hospitalOrgId: string | undefined): Promise<{ hospitalOrgId?: string; bankOrgId?: string }> {
    if (actor.role === 'bank_officer' && !hospitalOrgId) return { bankOrgId: actor.orgId };
    if (actor.role === 'operator' && !hospitalOrgId) return {};
    const hospital = await resolveHospital(actor, hospitalOrgId);
    return { hospitalOrgId: hospital, bankOrgId: actor.role === 'bank_officer' ? actor.orgId : undefined };
  }
  api.route(
    { method: 'get', path: '/finance/advances', summary: 'Advances of a hospital (a bank: of its hospitals; the operator: all), newest first, a page at a time', tags: TAGS, auth: FINANCE_ROLES, query: HistoryPageQuery },
    async ({ actor, query }) => {
      const page = await pageAdvances(await historyScope(actor, query.hospitalOrgId), query);
      return { data: page.rows.map(advanceView), nextCursor: page.nextCursor };
    },
  );
  api.route(
    { method: 'get', path: '/finance/repayments', summary: 'Repayments of a hospital (a bank: to it; the operator: all), newest first, a page at a time', tags: TAGS, auth: FINANCE_ROLES, query: HistoryPageQuery },
    async ({ actor, query }) => {
      const page = await pageRepayments(await historyScope(actor, query.hospitalOrgId), query);
      return { data: page.rows.map(repaymentView), nextCursor: page.nextCursor };
    },
  );
  api.route(
    { method: 'post', path: '/finance/repayments', summary: 'Repay the bank: interest first, then the oldest principal', tags: TAGS, auth: ['hospital_finance'], body: RepayBody, status: 201, idempotent: true },
    async ({ actor, body, req }) => repay(actor, body, requestKey(req)),
  );

  api.route(
    {
      method: 'get',
      path: '/finance/payment-security/:hospitalOrgId',
      summary: "Whether a hospital's payment is secured, with its balance, headroom and shortfall (operator; a distributor asks per order: /orders/{id}/payment-security)",
      tags: TAGS,
      auth: ['operator'],
      params: HospitalParams,
      query: z.object({ amountFen: z.coerce.number().pipe(Fen).optional() }).strict(),
    },
    async ({ params, query }) => {
      await requireOrg(params.hospitalOrgId, 'hospital', 'hospitalOrgId');
      return paymentSecurity(params.hospitalOrgId, query.amountFen);
    },
  );

  api.route({ method: 'get', path: '/finance/bank/summary', summary: "The bank's book: utilisation, outstanding, interest, overdue, a daily series", tags: TAGS, auth: ['bank_officer'] }, async ({ actor }) =>
    bankSummary(actor.orgId),
  );

  api.route({ method: 'get', path: '/finance/ledger/check', summary: 'Recompute every balance from the journal and compare', tags: TAGS, auth: ['operator'] }, async () => {
    const c = await checkLedger();
    return { ...c, checkedAt: c.checkedAt.toISOString() };
  });

  api.route(
    { method: 'get', path: '/finance/reports/payment-records', summary: 'Per hospital on-time payment rate and arrears for invoices due in a period', tags: TAGS, auth: ['operator'], query: PeriodQuery },
    async ({ query }) => {
      const rows = await hospitalPaymentRecords({ from: parseBusinessDay(query.from), to: endOfBusinessDay(parseBusinessDay(query.to)) }, query.hospitalOrgId ? [query.hospitalOrgId] : undefined);
      const names = await orgNames(rows.map((r) => r.hospitalOrgId));
      return { data: rows.map((r) => ({ ...r, hospitalName: names.get(r.hospitalOrgId)?.name })) };
    },
  );
  api.route({ method: 'get', path: '/finance/reports/arrears', summary: 'Monthly arrears ranking by hospital level', tags: TAGS, auth: ['operator'], query: MonthQuery }, async ({ query }) => ({
    data: await monthlyArrears(query.month),
  }));
}
