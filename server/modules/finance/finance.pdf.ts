import { t, type Lang } from '../../platform/i18n';
import { formatPercentBp } from '../../platform/view-helpers/formatters';
import { renderPdf } from '../../platform/pdf';
import { getOrganisation } from '../identity';
import type { statement } from './finance.accounts';
import type { AgreementVersionDoc, GuaranteeLineDoc } from './finance.model';

type Statement = Awaited<ReturnType<typeof statement>>;

/** The terms of one agreement version (the latest when `version` is not given), or null. */
export function agreementTerms(line: GuaranteeLineDoc, version?: number): AgreementVersionDoc | null {
  const versions = line.agreements ?? [];
  if (versions.length === 0) {
    // Lines approved before versions were kept: only the current terms exist.
    if (!line.agreementNo || (version !== undefined && version !== line.agreementVersion)) return null;
    const approved = line.history.find((h) => h.action === 'approved');
    return { version: line.agreementVersion, at: line.agreementAt ?? line.decidedAt ?? line.appliedAt, byName: approved?.byName ?? '', limitFen: line.limitFen!, annualRateBp: line.annualRateBp!, maxTenorDays: line.maxTenorDays!, expiresAt: line.expiresAt! };
  }
  return (version === undefined ? versions[versions.length - 1] : versions.find((v) => v.version === version)) ?? null;
}

/**
 * The three-party guaranteed-payment agreement (hospital – bank – platform) of an approved line, in
 * the terms of one version as they were approved or changed. Deterministic: the same version gives
 * the same bytes, however the line changes later.
 */
export async function agreementPdf(line: GuaranteeLineDoc, terms: AgreementVersionDoc, lang: Lang): Promise<Buffer> {
  const tr = (key: string, vars?: Record<string, unknown>) => t(lang, `finance.pdf.agreement.${key}`, vars);
  const [hospital, bank] = await Promise.all([getOrganisation(line.hospitalOrgId), getOrganisation(line.bankOrgId)]);
  const platformName = t(lang, 'app.name');
  const at = terms.at;
  return renderPdf({ title: `${tr('title')} ${line.agreementNo ?? ''} v${terms.version}`, date: at, lang }, (_doc, kit) => {
    kit.heading(tr('title'));
    kit.keyValues(
      [
        [tr('number'), `${line.agreementNo ?? ''}`],
        [tr('version'), `v${terms.version}`],
        [tr('date'), kit.date(at)],
        [tr('approvedBy'), terms.byName],
      ],
      { columns: 2 },
    );
    kit.heading(tr('parties'), 2);
    kit.keyValues([
      [tr('partyA'), `${hospital?.name ?? ''}${hospital?.address ? `（${hospital.address}）` : ''}`],
      [tr('partyB'), bank?.name ?? ''],
      [tr('partyC'), platformName],
    ]);
    kit.heading(tr('terms'), 2);
    kit.keyValues(
      [
        [tr('limit'), kit.money(terms.limitFen)],
        [tr('rate'), formatPercentBp(terms.annualRateBp)],
        [tr('tenor'), tr('days', { days: terms.maxTenorDays })],
        [tr('expires'), kit.date(terms.expiresAt)],
      ],
      { columns: 2 },
    );
    kit.heading(tr('clausesTitle'), 2);
    const clauses = ['account', 'settlement', 'advance', 'interest', 'repayment', 'overdue', 'platform', 'changes'];
    clauses.forEach((c, i) => kit.paragraph(`${i + 1}. ${tr(`clauses.${c}`, { rate: formatPercentBp(terms.annualRateBp), tenor: terms.maxTenorDays, limit: kit.money(terms.limitFen) })}`));
    kit.space();
    kit.signatureBlock([
      { title: tr('signA'), name: hospital?.name },
      { title: tr('signB'), name: bank?.name, signedBy: terms.byName || undefined, signedAt: terms.at },
      { title: tr('signC'), name: platformName },
    ]);
  });
}

/** The hospital financing statement for a period: balances, movements, debt to the bank. */
export async function statementPdf(s: Statement, lang: Lang): Promise<Buffer> {
  const tr = (key: string, vars?: Record<string, unknown>) => t(lang, `finance.pdf.statement.${key}`, vars);
  const signed = (kit: { money(v: unknown): string }, fen: number) => (fen === 0 ? '' : `${fen > 0 ? '+' : '−'}${kit.money(Math.abs(fen))}`);
  return renderPdf({ title: `${tr('title')} ${s.from} – ${s.to}`, date: s.generatedAt, lang }, (_doc, kit) => {
    kit.heading(tr('title'));
    kit.keyValues(
      [
        [tr('hospital'), s.summary.hospitalName],
        [tr('bank'), s.summary.bankName ?? '—'],
        [tr('period'), `${s.from} – ${s.to}`],
        [tr('generatedAt'), kit.datetime(s.generatedAt)],
      ],
      { columns: 2 },
    );
    kit.heading(tr('balances'), 2);
    kit.table({
      columns: [{ header: tr('item') }, { header: tr('opening'), align: 'right', width: 120 }, { header: tr('closing'), align: 'right', width: 120 }],
      rows: [
        [tr('workingCapital'), kit.money(s.opening.wc), kit.money(s.closing.wc)],
        [tr('principal'), kit.money(s.opening.principal), kit.money(s.closing.principal)],
        [tr('interest'), kit.money(s.opening.interest), kit.money(s.closing.interest)],
        [tr('invoices'), kit.money(s.opening.invoices), kit.money(s.closing.invoices)],
      ],
    });
    kit.keyValues(
      [
        [tr('lineLimit'), s.summary.line?.limitFen !== undefined ? kit.money(s.summary.line.limitFen) : '—'],
        [tr('headroom'), kit.money(s.summary.headroomFen)],
        [tr('overdueInvoices'), kit.money(s.summary.overdueInvoicesFen)],
        [tr('overduePrincipal'), kit.money(s.summary.overduePrincipalFen)],
      ],
      { columns: 2 },
    );
    kit.heading(tr('movements'), 2);
    if (s.rows.length === 0) kit.paragraph(tr('none'), { muted: true });
    else {
      kit.table({
        columns: [
          { header: tr('date'), width: 70 },
          { header: tr('kind'), width: 70 },
          { header: tr('reference') },
          { header: tr('workingCapital'), align: 'right', width: 78 },
          { header: tr('principal'), align: 'right', width: 72 },
          { header: tr('interest'), align: 'right', width: 60 },
          { header: tr('balanceAfter'), align: 'right', width: 78 },
        ],
        rows: s.rows.map((r) => [kit.date(r.at), t(lang, `finance.entryKind.${r.kind}`), r.reference ?? '', signed(kit, r.workingCapitalFen), signed(kit, r.principalFen), signed(kit, r.interestFen), kit.money(r.balanceAfterFen)]),
      });
    }
    kit.paragraph(tr('footnote'), { muted: true, size: 8.5 });
  });
}
