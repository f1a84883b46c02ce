// The VBP purchase agreement (带量采购协议) of one contract: parties, drug, agreed quantity, price,
// term and the completion rules, as a deterministic PDF with Chinese text.
import { t, type Lang } from '../../platform/i18n';
import { renderPdf } from '../../platform/pdf';
import type { ContractDoc } from './vbp.model';

const tr = (lang: Lang, key: string, vars?: Record<string, unknown>) => t(lang, `vbp.pdf.${key}`, vars);

export function contractPdf(c: ContractDoc, lang: Lang = 'zh'): Promise<Buffer> {
  const title = `${tr(lang, 'title')} ${c.contractNo}`;
  return renderPdf({ title, date: c.createdAt, lang, subject: tr(lang, 'title') }, (_doc, kit) => {
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
        { header: tr(lang, 'specification'), width: 96 },
        { header: tr(lang, 'declaredQty'), width: 64, align: 'right' },
        { header: tr(lang, 'agreedQty'), width: 64, align: 'right' },
        { header: tr(lang, 'price'), width: 64, align: 'right' },
        { header: tr(lang, 'amount'), width: 84, align: 'right' },
      ],
      rows: [[c.genericNameZh, c.specification, `${c.declaredQty} ${c.packUnit}`, `${c.agreedQty} ${c.packUnit}`, kit.money(c.priceFen), kit.money(c.priceFen * c.agreedQty)]],
    });
    kit.paragraph(tr(lang, 'clauseVolume', { share: c.shareBp / 100, years: c.termYears }));
    kit.paragraph(tr(lang, 'clauseCompletion', { share: c.checkpointShareBp / 100 }));
    kit.paragraph(tr(lang, 'clauseSupply'));
    kit.paragraph(tr(lang, 'clausePayment'));
    if (c.replacesContractId) kit.paragraph(tr(lang, 'clauseBackup'), { muted: true });
    kit.signatureBlock([
      { title: tr(lang, 'buyerParty'), name: c.hospitalName },
      { title: tr(lang, 'supplierParty'), name: c.distributorName },
      { title: tr(lang, 'platformParty'), name: tr(lang, 'platformName'), seal: true },
    ]);
  });
}
