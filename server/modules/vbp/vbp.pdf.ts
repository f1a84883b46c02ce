// Renders a VBP contract's agreement PDF from the stored contract (layout in vbp.documents.ts).
// Callers have already checked who may see the contract.
import type { Lang } from '../../platform/i18n';
import { renderDocument } from '../../platform/pdf-pool';
import { ContractDocument, type ContractPdfData } from './vbp.documents';
import type { ContractDoc } from './vbp.model';

/** The plain data of a contract's agreement. */
export function contractPdfData(c: ContractDoc): ContractPdfData {
  return {
    contractNo: c.contractNo,
    tenderNo: c.tenderNo,
    hospitalName: c.hospitalName,
    distributorName: c.distributorName,
    genericNameZh: c.genericNameZh,
    specification: c.specification,
    packUnit: c.packUnit,
    termStart: c.termStart.toISOString(),
    termEnd: c.termEnd.toISOString(),
    createdAt: c.createdAt.toISOString(),
    basis: c.basis,
    rank: c.rank,
    declaredQty: c.declaredQty,
    agreedQty: c.agreedQty,
    priceFen: c.priceFen,
    shareBp: c.shareBp,
    termYears: c.termYears,
    checkpointShareBp: c.checkpointShareBp,
    replacesAnother: Boolean(c.replacesContractId),
  };
}

export function contractPdf(c: ContractDoc, lang: Lang = 'zh'): Promise<Buffer> {
  return renderDocument(ContractDocument, contractPdfData(c), lang);
}
