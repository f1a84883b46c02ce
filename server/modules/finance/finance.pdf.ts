// Builds the plain data of the finance PDFs from the database and renders them in the PDF workers
// (layouts in finance.documents.ts). Callers have already checked who may see the line or statement.
import type { Lang } from '../../platform/i18n';
import { renderDocument } from '../../platform/pdf-pool';
import { getOrganisation } from '../identity';
import type { statement } from './finance.accounts';
import { AgreementDocument, StatementDocument, type AgreementPdfData, type StatementPdfData } from './finance.documents';
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

/** The plain data of one version of a line's agreement (reads the parties' names). */
export async function agreementPdfData(line: GuaranteeLineDoc, terms: AgreementVersionDoc): Promise<AgreementPdfData> {
  const [hospital, bank] = await Promise.all([getOrganisation(line.hospitalOrgId), getOrganisation(line.bankOrgId)]);
  return {
    agreementNo: line.agreementNo ?? '',
    version: terms.version,
    at: terms.at.toISOString(),
    byName: terms.byName,
    limitFen: terms.limitFen,
    annualRateBp: terms.annualRateBp,
    maxTenorDays: terms.maxTenorDays,
    expiresAt: terms.expiresAt.toISOString(),
    ...(hospital?.name ? { hospitalName: hospital.name } : {}),
    ...(hospital?.address ? { hospitalAddress: hospital.address } : {}),
    ...(bank?.name ? { bankName: bank.name } : {}),
  };
}

/**
 * The three-party guaranteed-payment agreement (hospital – bank – platform) of an approved line, in
 * the terms of one version as they were approved or changed. Deterministic: the same version gives
 * the same bytes, however the line changes later.
 */
export async function agreementPdf(line: GuaranteeLineDoc, terms: AgreementVersionDoc, lang: Lang): Promise<Buffer> {
  return renderDocument(AgreementDocument, await agreementPdfData(line, terms), lang);
}

/** The plain data of a financing statement. */
export function statementPdfData(s: Statement): StatementPdfData {
  return {
    from: s.from,
    to: s.to,
    generatedAt: s.generatedAt.toISOString(),
    hospitalName: s.summary.hospitalName,
    ...(s.summary.bankName ? { bankName: s.summary.bankName } : {}),
    ...(s.summary.line?.limitFen !== undefined ? { lineLimitFen: s.summary.line.limitFen } : {}),
    headroomFen: s.summary.headroomFen,
    overdueInvoicesFen: s.summary.overdueInvoicesFen,
    overduePrincipalFen: s.summary.overduePrincipalFen,
    opening: { ...s.opening },
    closing: { ...s.closing },
    rows: s.rows.map((r) => ({
      at: r.at.toISOString(),
      kind: r.kind,
      ...(r.reference ? { reference: r.reference } : {}),
      workingCapitalFen: r.workingCapitalFen,
      principalFen: r.principalFen,
      interestFen: r.interestFen,
      balanceAfterFen: r.balanceAfterFen,
    })),
  };
}

/** The hospital financing statement for a period: balances, movements, debt to the bank. */
export function statementPdf(s: Statement, lang: Lang): Promise<Buffer> {
  return renderDocument(StatementDocument, statementPdfData(s), lang);
}
