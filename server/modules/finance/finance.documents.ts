// The three-party guaranteed-payment agreement and the hospital financing statement: pure layouts
// from plain data, rendered in a PDF worker. Same data → same bytes.
import { t, type Lang } from '../../platform/i18n';
import type { PdfTable } from '../../platform/pdf';
import { definePdf } from '../../platform/pdf-documents';
import { formatDate, formatMoney, formatPercentBp } from '../../platform/view-helpers/formatters';

export interface AgreementPdfData {
  agreementNo: string;
  version: number;
  /** ISO instant of the approval or change that fixed these terms (the document date). */
  at: string;
  byName: string;
  limitFen: number;
  annualRateBp: number;
  maxTenorDays: number;
  expiresAt: string;
  hospitalName?: string;
  hospitalAddress?: string;
  bankName?: string;
}

export interface StatementPdfData {
  from: string;
  to: string;
  /** ISO instant */
  generatedAt: string;
  hospitalName: string;
  bankName?: string;
  lineLimitFen?: number;
  headroomFen: number;
  overdueInvoicesFen: number;
  overduePrincipalFen: number;
  opening: { wc: number; principal: number; interest: number; invoices: number };
  closing: { wc: number; principal: number; interest: number; invoices: number };
  rows: { at: string; kind: string; reference?: string; workingCapitalFen: number; principalFen: number; interestFen: number; balanceAfterFen: number }[];
}

export const AgreementDocument = definePdf<AgreementPdfData>('finance.agreement', (a, lang) => {
  const tr = (key: string, vars?: Record<string, unknown>) => t(lang, `finance.pdf.agreement.${key}`, vars);
  const platformName = t(lang, 'app.name');
  return {
    meta: { title: `${tr('title')} ${a.agreementNo} v${a.version}`, date: new Date(a.at) },
    draw(kit) {
      kit.heading(tr('title'));
      kit.keyValues(
        [
          [tr('number'), a.agreementNo],
          [tr('version'), `v${a.version}`],
          [tr('date'), kit.date(a.at)],
          [tr('approvedBy'), a.byName],
        ],
        { columns: 2 },
      );
      kit.heading(tr('parties'), 2);
      kit.keyValues([
        [tr('partyA'), `${a.hospitalName ?? ''}${a.hospitalAddress ? `（${a.hospitalAddress}）` : ''}`],
        [tr('partyB'), a.bankName ?? ''],
        [tr('partyC'), platformName],
      ]);
      kit.heading(tr('terms'), 2);
      kit.keyValues(
        [
          [tr('limit'), kit.money(a.limitFen)],
          [tr('rate'), formatPercentBp(a.annualRateBp)],
          [tr('tenor'), tr('days', { days: a.maxTenorDays })],
          [tr('expires'), kit.date(a.expiresAt)],
        ],
        { columns: 2 },
      );
      kit.heading(tr('clausesTitle'), 2);
      const clauses = ['account', 'settlement', 'advance', 'interest', 'repayment', 'overdue', 'platform', 'changes'];
      clauses.forEach((c, i) => kit.paragraph(`${i + 1}. ${tr(`clauses.${c}`, { rate: formatPercentBp(a.annualRateBp), tenor: a.maxTenorDays, limit: kit.money(a.limitFen) })}`));
      kit.space();
      kit.signatureBlock([
        { title: tr('signA'), name: a.hospitalName },
        { title: tr('signB'), name: a.bankName, signedBy: a.byName || undefined, signedAt: a.at },
        { title: tr('signC'), name: platformName },
      ]);
    },
  };
});

/** The statement's table of movements (voucher and invoice codes are kept on one line). */
export function statementMovementsTable(s: StatementPdfData, lang: Lang): PdfTable {
  const tr = (key: string) => t(lang, `finance.pdf.statement.${key}`);
  const money = (fen: number) => formatMoney(fen, lang);
  const signed = (fen: number) => (fen === 0 ? '' : `${fen > 0 ? '+' : '−'}${money(Math.abs(fen))}`);
  return {
    columns: [
      { header: tr('date') },
      { header: tr('kind') },
      { header: tr('reference') },
      { header: tr('workingCapital'), align: 'right' },
      { header: tr('principal'), align: 'right' },
      { header: tr('interest'), align: 'right' },
      { header: tr('balanceAfter'), align: 'right' },
    ],
    rows: s.rows.map((r) => [formatDate(r.at), t(lang, `finance.entryKind.${r.kind}`), r.reference ?? '', signed(r.workingCapitalFen), signed(r.principalFen), signed(r.interestFen), money(r.balanceAfterFen)]),
  };
}

/** The hospital financing statement for a period: balances, movements, debt to the bank. */
export const StatementDocument = definePdf<StatementPdfData>('finance.statement', (s, lang) => {
  const tr = (key: string, vars?: Record<string, unknown>) => t(lang, `finance.pdf.statement.${key}`, vars);
  return {
    meta: { title: `${tr('title')} ${s.from} – ${s.to}`, date: new Date(s.generatedAt) },
    draw(kit) {
      kit.heading(tr('title'));
      kit.keyValues(
        [
          [tr('hospital'), s.hospitalName],
          [tr('bank'), s.bankName ?? '—'],
          [tr('period'), `${s.from} – ${s.to}`],
          [tr('generatedAt'), kit.datetime(s.generatedAt)],
        ],
        { columns: 2 },
      );
      kit.heading(tr('balances'), 2);
      kit.table({
        columns: [{ header: tr('item') }, { header: tr('opening'), align: 'right' }, { header: tr('closing'), align: 'right' }],
        rows: [
          [tr('workingCapital'), kit.money(s.opening.wc), kit.money(s.closing.wc)],
          [tr('principal'), kit.money(s.opening.principal), kit.money(s.closing.principal)],
          [tr('interest'), kit.money(s.opening.interest), kit.money(s.closing.interest)],
          [tr('invoices'), kit.money(s.opening.invoices), kit.money(s.closing.invoices)],
        ],
      });
      kit.keyValues(
        [
          [tr('lineLimit'), s.lineLimitFen !== undefined ? kit.money(s.lineLimitFen) : '—'],
          [tr('headroom'), kit.money(s.headroomFen)],
          [tr('overdueInvoices'), kit.money(s.overdueInvoicesFen)],
          [tr('overduePrincipal'), kit.money(s.overduePrincipalFen)],
        ],
        { columns: 2 },
      );
      kit.heading(tr('movements'), 2);
      if (s.rows.length === 0) kit.paragraph(tr('none'), { muted: true });
      else kit.table(statementMovementsTable(s, lang));
      kit.paragraph(tr('footnote'), { muted: true, size: 8.5 });
    },
  };
});
