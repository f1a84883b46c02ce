// Invoices and the financing statement as Excel downloads: the lists' own filters and access rules,
// headers and labels in the reader's language.
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import type { DownloadFile } from '../../platform/http';
import { t, type Lang } from '../../platform/i18n';
import { everyPage, xlsxSheet, type SheetSpec } from '../../platform/tabular';
import { businessDay } from '../../platform/time';
import { resolveHospital } from './finance.access';
import { statement } from './finance.accounts';
import { listInvoices } from './finance.invoices';
import type { EntryKind } from './finance.model';
import type { InvoiceQueryInput, PeriodQueryInput } from './finance.schemas';
import { invoiceView, orgNames } from './finance.views';

const PAGE = 200;

type InvoiceRow = ReturnType<typeof invoiceView>;

function invoiceSheet(lang: Lang): SheetSpec<InvoiceRow> {
  return {
    name: 'finance.export.invoiceSheet',
    columns: [
      { header: 'finance.fields.invoiceNo', kind: 'code', value: (i) => i.invoiceNo },
      { header: 'finance.fields.orderNo', kind: 'code', value: (i) => i.orderNo },
      { header: 'finance.fields.hospital', kind: 'text', value: (i) => i.hospitalName },
      { header: 'finance.fields.distributor', kind: 'text', value: (i) => i.distributorName },
      { header: 'finance.export.amountYuan', kind: 'money', value: (i) => i.amountFen },
      { header: 'finance.export.paidYuan', kind: 'money', value: (i) => i.paidFen },
      { header: 'finance.export.unpaidYuan', kind: 'money', value: (i) => i.unpaidFen },
      { header: 'finance.fields.acceptedAt', kind: 'datetime', value: (i) => i.acceptedAt },
      { header: 'finance.fields.dueAt', kind: 'date', value: (i) => i.dueAt },
      { header: 'finance.export.status', kind: 'text', value: (i) => t(lang, `finance.invoiceStatus.${i.status}`) },
      { header: 'finance.fields.paidAt', kind: 'datetime', value: (i) => i.paidAt },
      { header: 'finance.export.paidOnTime', kind: 'text', value: (i) => (i.paidOnTime === undefined ? '' : t(lang, i.paidOnTime ? 'common.yes' : 'common.no')) },
      { header: 'finance.export.settlement', kind: 'text', value: (i) => (i.settlement ? t(lang, `finance.outcome.${i.settlement.outcome}`) : '') },
      { header: 'finance.export.advancedYuan', kind: 'money', value: (i) => i.settlement?.advanceFen },
    ],
  };
}

/** Every invoice the caller may see under the list's filters, by due date, as an .xlsx. */
export async function invoicesXlsx(actor: Actor, q: Omit<InvoiceQueryInput, 'cursor' | 'limit'>, lang: Lang): Promise<DownloadFile> {
  const rows = everyPage(async (cursor) => {
    const page = await listInvoices(actor, { ...q, limit: PAGE, ...(cursor ? { cursor } : {}) });
    const names = await orgNames(page.rows.flatMap((r) => [r.hospitalOrgId, r.distributorOrgId]));
    return { data: page.rows.map((r) => invoiceView(r, names)), nextCursor: page.nextCursor };
  });
  return { filename: `invoices-${businessDay(now())}.xlsx`, body: await xlsxSheet(invoiceSheet(lang), rows, lang) };
}

interface StatementLine {
  at?: Date;
  label: string;
  reference?: string;
  workingCapitalFen?: number;
  principalFen?: number;
  interestFen?: number;
  invoicesFen?: number;
  balanceAfterFen: number;
}

const statementSheet: SheetSpec<StatementLine> = {
  name: 'finance.export.statementSheet',
  columns: [
    { header: 'finance.export.postedAt', kind: 'datetime', value: (r) => r.at },
    { header: 'finance.export.entryKind', kind: 'text', value: (r) => r.label },
    { header: 'finance.export.reference', kind: 'code', value: (r) => r.reference },
    { header: 'finance.export.workingCapitalYuan', kind: 'money', value: (r) => r.workingCapitalFen },
    { header: 'finance.export.principalYuan', kind: 'money', value: (r) => r.principalFen },
    { header: 'finance.export.interestYuan', kind: 'money', value: (r) => r.interestFen },
    { header: 'finance.export.invoicesYuan', kind: 'money', value: (r) => r.invoicesFen },
    { header: 'finance.export.balanceYuan', kind: 'money', value: (r) => r.balanceAfterFen },
  ],
};

/**
 * A hospital's financing statement for a period of Asia/Shanghai days as an .xlsx: the opening
 * balances, every journal entry with its movement per account and the working-capital balance after
 * it, and the closing balances. The hospital is resolved exactly as for GET /finance/statement.
 */
export async function statementXlsx(actor: Actor, q: PeriodQueryInput, lang: Lang): Promise<DownloadFile> {
  const hospital = await resolveHospital(actor, q.hospitalOrgId);
  const s = await statement(hospital, q.from, q.to);
  const balances = (label: string, b: typeof s.opening): StatementLine => ({ label, workingCapitalFen: b.wc, principalFen: b.principal, interestFen: b.interest, invoicesFen: b.invoices, balanceAfterFen: b.wc });
  const lines: StatementLine[] = [
    balances(t(lang, 'finance.export.opening'), s.opening),
    ...s.rows.map((r) => ({
      at: r.at,
      label: t(lang, `finance.entryKind.${r.kind satisfies EntryKind}`),
      reference: r.reference,
      workingCapitalFen: r.workingCapitalFen,
      principalFen: r.principalFen,
      interestFen: r.interestFen,
      invoicesFen: r.invoicesFen,
      balanceAfterFen: r.balanceAfterFen,
    })),
    balances(t(lang, 'finance.export.closing'), s.closing),
  ];
  return { filename: `statement-${q.from}-${q.to}.xlsx`, body: await xlsxSheet(statementSheet, lines, lang) };
}
