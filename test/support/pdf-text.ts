import { extractText, getDocumentProxy } from 'unpdf';

/** The text of every page of a PDF, pages joined by newlines (decoded through the fonts' ToUnicode maps). */
export async function extractPdfText(buf: Buffer | Uint8Array): Promise<string> {
  // NOTE: pdf.js may transfer the buffer it is given, so it gets a copy.
  const pdf = await getDocumentProxy(new Uint8Array(buf));
  try {
    const { text } = await extractText(pdf, { mergePages: false });
    return text.join('\n');
  } finally {
    await pdf.destroy();
  }
}

/** The number of pages of a PDF. */
export async function pdfPageCount(buf: Buffer | Uint8Array): Promise<number> {
  const pdf = await getDocumentProxy(new Uint8Array(buf));
  try {
    return pdf.numPages;
  } finally {
    await pdf.destroy();
  }
}
