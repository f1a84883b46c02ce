// The VBP purchase agreement (带量采购协议) of one contract: parties, drug, agreed quantity, price,
// term and the completion rules. A pure layout from plain data, rendered in a PDF worker.
import { t, type Lang } from '../../platform/i18n';
import { definePdf } from '../../platform/pdf-documents';

export interface ContractPdfData {
  contractNo: string;
  tenderNo: string;
  hospitalName: string;
  distributorName: string;
  genericNameZh: string;
  specification: string;
  packUnit: string;
  /** ISO instants */
  termStart: string;
  termEnd: string;
  createdAt: string;
  basis: string;
  rank: number;
  declaredQty: number;
  agreedQty: number;
  priceFen: number;
  shareBp: number;
  termYears: number;
  checkpointShareBp: number;
  /** a backup supplier's contract replacing a failed one */
  replacesAnother: boolean;
}

const tr = (lang: Lang, key: string, vars?: Record<string, unknown>) => t(lang, `vbp.pdf.${key}`, vars);

export const ContractDocument = definePdf<ContractPdfData>('vbp.contract', (c, lang) => ({
  meta: { title: `${tr(lang, 'title')} ${c.contractNo}`, date: new Date(c.createdAt), subject: tr(lang, 'title') },
  draw(kit) {
    kit.heading(tr(lang, 'title'));
    kit.keyValues(
      [
        [tr(lang, 'contractNo'), c.contractNo],
        [tr(lang, 'tenderNo'), c.tenderNo],
        [tr(lang, 'buyer'), c.hospitalName],
        [tr(lang, 'supplier'), c.distributorName],
        [tr(lang, 'termStart'), kit.date(c.termStart)],
        [tr(lang, 'termEnd'), kit.date(c.termEnd)],
        [tr(lang, 'basis'), t(lang, `vbp.basis.${c.basis}`)],
        [tr(lang, 'rank'), String(c.rank)],
      ],
      { columns: 2 },
    );
    kit.table({
      columns: [
        { header: tr(lang, 'drug') },
        { header: tr(lang, 'specification') },
        { header: tr(lang, 'declaredQty'), align: 'right' },
        { header: tr(lang, 'agreedQty'), align: 'right' },
        { header: tr(lang, 'price'), align: 'right' },
        { header: tr(lang, 'amount'), align: 'right' },
      ],
      rows: [[c.genericNameZh, c.specification, `${c.declaredQty} ${c.packUnit}`, `${c.agreedQty} ${c.packUnit}`, kit.money(c.priceFen), kit.money(c.priceFen * c.agreedQty)]],
    });
    kit.paragraph(tr(lang, 'clauseVolume', { share: c.shareBp / 100, years: c.termYears }));
    kit.paragraph(tr(lang, 'clauseCompletion', { share: c.checkpointShareBp / 100 }));
    kit.paragraph(tr(lang, 'clauseSupply'));
    kit.paragraph(tr(lang, 'clausePayment'));
    if (c.replacesAnother) kit.paragraph(tr(lang, 'clauseBackup'), { muted: true });
    kit.signatureBlock([
      { title: tr(lang, 'buyerParty'), name: c.hospitalName },
      { title: tr(lang, 'supplierParty'), name: c.distributorName },
      { title: tr(lang, 'platformParty'), name: tr(lang, 'platformName'), seal: true },
    ]);
  },
}));
