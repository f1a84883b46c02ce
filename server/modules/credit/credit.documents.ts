// The signed commitment letter as a PDF: the exact signed text, then the signature record and its
// hash. A pure layout from the signature's plain data, rendered in a PDF worker.
import { definePdf } from '../../platform/pdf-documents';
import { formatDateTime } from '../../platform/view-helpers/formatters';

export interface SignedLetter {
  versionTitle: string;
  version: number;
  text: string;
  orgName: string;
  userName: string;
  userEmail: string;
  /** ISO instant; it is the document date, so the same signature gives the same bytes. */
  signedAt: string;
  ip: string;
  textSha256: string;
}

export const SignedLetterDocument = definePdf<SignedLetter>('credit.signed-commitment', (s) => ({
  meta: { title: `${s.versionTitle}（第 ${s.version} 版）— ${s.orgName}`, subject: 'signed credit commitment', author: s.orgName, date: new Date(s.signedAt) },
  draw(kit) {
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
      ['签署时间 / Signed at', `${formatDateTime(s.signedAt, true)}（北京时间）`],
      ['签署地址 / From IP', s.ip],
      ['承诺书版本 / Version', `第 ${s.version} 版`],
      ['全文 SHA-256 / Text SHA-256', s.textSha256],
    ], { labelWidth: 150 });
    kit.paragraph('SHA-256 摘要按 UTF-8 编码对上文承诺书全文计算，可用于核验文本未被改动。', { muted: true, size: 8.5 });
  },
}));
