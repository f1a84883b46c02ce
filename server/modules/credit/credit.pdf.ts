// The signed commitment letter as a PDF: the exact signed text, then the signature record and its hash.
import { renderPdf } from '../../platform/pdf';
import { formatDateTime } from '../../platform/view-helpers/formatters';

export interface SignedLetter {
  versionTitle: string;
  version: number;
  text: string;
  orgName: string;
  userName: string;
  userEmail: string;
  signedAt: string;
  ip: string;
  textSha256: string;
}

/** Deterministic for the same signature (the document date is the signing time). */
export function signedLetterPdf(s: SignedLetter): Promise<Buffer> {
  const signedAt = new Date(s.signedAt);
  return renderPdf({ title: `${s.versionTitle}（第 ${s.version} 版）— ${s.orgName}`, subject: 'signed credit commitment', author: s.orgName, date: signedAt }, (_doc, kit) => {
    const [first, ...rest] = s.text.split('\n');
    kit.heading(first?.trim() || s.versionTitle, 1);
    for (const para of rest.join('\n').split(/\n\s*\n/)) {
      const trimmed = para.trim();
      if (trimmed) kit.paragraph(trimmed);
    }
    kit.space();
    kit.rule();
    kit.heading('电子签署记录 / Electronic signature record', 2);
    kit.keyValues([
      ['承诺单位 / Distributor', s.orgName],
      ['签署人 / Signed by', `${s.userName} <${s.userEmail}>`],
      ['签署时间 / Signed at', `${formatDateTime(signedAt, true)}（北京时间）`],
      ['签署地址 / From IP', s.ip],
      ['承诺书版本 / Version', `第 ${s.version} 版`],
      ['全文 SHA-256 / Text SHA-256', s.textSha256],
    ], { labelWidth: 150 });
    kit.paragraph('SHA-256 摘要按 UTF-8 编码对上文承诺书全文计算，可用于核验文本未被改动。', { muted: true, size: 8.5 });
  });
}
