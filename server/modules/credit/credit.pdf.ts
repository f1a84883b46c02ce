// Renders the signed commitment letter in the PDF workers (layout in credit.documents.ts).
import type { Lang } from '../../platform/i18n';
import { renderDocument } from '../../platform/pdf-pool';
import { SignedLetterDocument, type SignedLetter } from './credit.documents';

export type { SignedLetter } from './credit.documents';

/** Deterministic for the same signature (the document date is the signing time). */
export function signedLetterPdf(s: SignedLetter, lang: Lang = 'zh'): Promise<Buffer> {
  return renderDocument(SignedLetterDocument, {
    versionTitle: s.versionTitle,
    version: s.version,
    text: s.text,
    orgName: s.orgName,
    userName: s.userName,
    userEmail: s.userEmail,
    signedAt: s.signedAt,
    ip: s.ip,
    textSha256: s.textSha256,
  }, lang);
}
