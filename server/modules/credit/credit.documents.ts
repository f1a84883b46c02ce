// The signed commitment letter as a PDF: the exact signed text, then the signature record and its
// hash. A pure layout from the signature's plain data, rendered in a PDF worker.
import { t } from '../../platform/i18n';
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

export const SignedLetterDocument = definePdf<SignedLetter>('credit.signed-commitment', (s, lang) => {
  const tr = (key: string, vars?: Record<string, unknown>) => t(lang, `credit.pdf.${key}`, vars);
  return {
    meta: { title: tr('title', { title: s.versionTitle, version: s.version, org: s.orgName }), subject: tr('subject'), author: s.orgName, date: new Date(s.signedAt) },
    draw(kit) {
      // NOTE: the letter is printed exactly as signed, in the language it was signed in.
      const [first, ...rest] = s.text.split('\n');
      kit.heading(first?.trim() || s.versionTitle, 1);
      for (const para of rest.join('\n').split(/\n\s*\n/)) {
        const trimmed = para.trim();
        if (trimmed) kit.paragraph(trimmed);
      }
      kit.space();
      kit.rule();
      kit.heading(tr('record'), 2);
      kit.keyValues([
        [tr('distributor'), s.orgName],
        [tr('signedBy'), `${s.userName} <${s.userEmail}>`],
        [tr('signedAt'), tr('signedAtValue', { at: formatDateTime(s.signedAt, true) })],
        [tr('ip'), s.ip],
        [tr('version'), tr('versionValue', { version: s.version })],
        [tr('sha256'), s.textSha256],
      ]);
      kit.paragraph(tr('sha256Note'), { muted: true, size: 8.5 });
    },
  };
});
