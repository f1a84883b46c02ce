import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { create as createFont } from 'fontkit';
import PDFDocument from 'pdfkit';
import { t, type Lang } from './i18n';
import { formatDate, formatDateTime, formatMoney } from './view-helpers/formatters';

export interface PdfMeta {
  title: string;
  author?: string;
  subject?: string;
  /** The document's own date (issue, signature, statement date): it becomes CreationDate/ModDate. */
  date: Date;
  lang?: Lang;
}

export type PdfAlign = 'left' | 'center' | 'right';

export interface PdfTableColumn {
  header: string;
  align?: PdfAlign;
}

export interface PdfTable {
  columns: PdfTableColumn[];
  rows: string[][];
}

export interface SignatureParty {
  /** The party's role in the document, e.g. "甲方（医院）". */
  title: string;
  /** The organisation's name. */
  name?: string;
  /** Who signed, when already signed (otherwise a blank line to sign on). */
  signedBy?: string;
  signedAt?: Date | string;
  /** Show the "(seal)" mark; default true. */
  seal?: boolean;
}

/** Drawing helpers shared by every document; they flow from the current position and break pages. */
export interface PdfKit {
  readonly lang: Lang;
  /** Width between the left and right margins, in points. */
  readonly contentWidth: number;
  heading(text: string, level?: 1 | 2 | 3): void;
  paragraph(text: string, options?: { align?: PdfAlign | 'justify'; muted?: boolean; size?: number }): void;
  keyValues(pairs: ReadonlyArray<readonly [label: string, value: string]>, options?: { labelWidth?: number; columns?: 1 | 2 }): void;
  table(table: PdfTable): void;
  signatureBlock(parties: SignatureParty[]): void;
  rule(): void;
  space(lines?: number): void;
  /** Starts a new page unless `height` points still fit above the bottom margin. */
  ensureSpace(height: number): void;
  money(fen: unknown): string;
  date(value: unknown): string;
  datetime(value: unknown): string;
}

const COLOR = { text: '#1f2933', muted: '#5f6b7a', border: '#cdd5df', headerFill: '#eef2f6', zebra: '#f8fafc', accent: '#0f6cbd' };
const FONT = { regular: 'cjk', bold: 'cjk-bold' } as const;
const SIZE = { body: 10.5, small: 8.5, table: 9.5 } as const;
const MARGINS = { top: 56, bottom: 64, left: 56, right: 56 };
const CELL_PAD = 5;

const require = createRequire(import.meta.url);
let fontData: { regular: ParsedFont; bold: ParsedFont } | undefined;

// NOTE: Noto Sans SC (OFL) ships as static TTFs in an npm package, so `npm ci` alone gives every
// machine the same CJK font; pdfkit embeds only the glyphs a document uses.
// NOTE: pdfkit parses a font given as bytes again for every document (a large share of a render);
// given the parsed font it only makes the document's subset, so each thread parses them once.
function fonts(): { regular: ParsedFont; bold: ParsedFont } {
  fontData ??= {
    regular: parseFont(readFileSync(require.resolve('@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf'))),
    bold: parseFont(readFileSync(require.resolve('@expo-google-fonts/noto-sans-sc/700Bold/NotoSansSC_700Bold.ttf'))),
  };
  return fontData;
}

/** A font parsed by fontkit: pdfkit takes it in place of the font file (its types only name the file forms). */
type ParsedFont = PDFKit.Mixins.PDFFontSource;

function parseFont(bytes: Buffer): ParsedFont {
  return createFont(bytes) as unknown as ParsedFont;
}

/** Reads the embedded fonts now (a PDF worker does it once when it starts) instead of on the first render. */
export function preloadFonts(): void {
  fonts();
}

/** Width in points of `text` on one line, in the table font (bold for headers). */
export type MeasureText = (text: string, bold: boolean) => number;

// NOTE: pdfkit (through the Unicode line-breaking rules) may break between any two CJK characters
// but not inside a run of Latin letters, digits and punctuation such as a code or an amount.
const BREAKABLE_CHAR = /[\u2E80-\u9FFF\uF900-\uFAFF\uFF00-\uFFEF\u3000-\u303F]/u;

/** The pieces a line of text can never be broken inside: runs without spaces or CJK characters, and single CJK characters. */
export function unbreakableTokens(text: string): string[] {
  const tokens: string[] = [];
  let run = '';
  for (const ch of text) {
    if (/\s/u.test(ch) || BREAKABLE_CHAR.test(ch)) {
      if (run) tokens.push(run);
      run = '';
      if (!/\s/u.test(ch)) tokens.push(ch);
    } else run += ch;
  }
  if (run) tokens.push(run);
  return tokens;
}

/**
 * Column widths (points) for a table `available` points wide, from measured text: each column gets
 * at least its header's longest word (a CJK header whole) and its longest unbreakable token (a code,
 * an amount), plus `padding` on both sides; what is left is shared out in proportion to how much
 * wider each column's content is than that minimum. Only when the minimums alone do not fit are
 * they scaled down.
 */
export function columnWidths(columns: readonly PdfTableColumn[], rows: readonly (readonly string[])[], measure: MeasureText, available: number, padding = CELL_PAD): number[] {
  const lines = (text: string) => text.split('\n');
  const minimum = columns.map((column, i) => {
    // NOTE: a header may wrap between words ("Working capital after"), never inside one or inside a CJK header (序号).
    let widest = Math.max(...column.header.split(/\s+/u).map((word) => measure(word, true)));
    for (const row of rows) {
      for (const token of unbreakableTokens(row[i] ?? '')) widest = Math.max(widest, measure(token, false));
    }
    // NOTE: the extra point keeps a token that fills the cell exactly from wrapping on rounding.
    return widest + 2 * padding + 1;
  });
  const preferred = columns.map((column, i) => {
    let widest = Math.max(...lines(column.header).map((line) => measure(line, true)));
    for (const row of rows) for (const line of lines(row[i] ?? '')) widest = Math.max(widest, measure(line, false));
    return Math.max(widest + 2 * padding + 1, minimum[i]!);
  });
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const minTotal = sum(minimum);
  if (minTotal >= available) return minimum.map((w) => (w * available) / minTotal);
  const prefTotal = sum(preferred);
  if (prefTotal <= available) {
    // NOTE: everything fits on one line; the spare width goes to the columns with the most text.
    return preferred.map((w) => w + ((available - prefTotal) * w) / prefTotal);
  }
  const wants = preferred.map((w, i) => w - minimum[i]!);
  const wantTotal = sum(wants);
  return minimum.map((w, i) => w + ((available - minTotal) * wants[i]!) / wantTotal);
}

/** Measures table text with the embedded fonts, as the table in a rendered document does. */
export function tableTextMeasure(): MeasureText {
  const doc = new PDFDocument({ size: 'A4', margins: MARGINS, autoFirstPage: true });
  const { regular, bold } = fonts();
  doc.registerFont(FONT.regular, regular);
  doc.registerFont(FONT.bold, bold);
  return measureIn(doc);
}

function measureIn(doc: PDFKit.PDFDocument): MeasureText {
  return (text, bold) => {
    doc.font(bold ? FONT.bold : FONT.regular).fontSize(SIZE.table);
    return doc.widthOfString(text);
  };
}

/** The content width of every document's page (A4 between the margins), in points. */
export const CONTENT_WIDTH = 595.28 - MARGINS.left - MARGINS.right;

function createKit(doc: PDFKit.PDFDocument, lang: Lang): PdfKit {
  const left = () => doc.page.margins.left;
  const contentWidth = doc.page.width - MARGINS.left - MARGINS.right;
  const bottom = () => doc.page.height - doc.page.margins.bottom;

  const ensureSpace = (height: number) => {
    if (doc.y + height > bottom()) doc.addPage();
  };

  const textHeight = (text: string, width: number, font: string, size: number) => {
    doc.font(font).fontSize(size);
    return doc.heightOfString(text || ' ', { width });
  };

  const kit: PdfKit = {
    lang,
    contentWidth,

    heading(text, level = 1) {
      const size = level === 1 ? 18 : level === 2 ? 13 : 11.5;
      const height = textHeight(text, contentWidth, FONT.bold, size);
      ensureSpace(height + (level === 1 ? 16 : 24));
      if (level > 1) doc.moveDown(0.6);
      doc.font(FONT.bold).fontSize(size).fillColor(COLOR.text);
      doc.text(text, left(), doc.y, { width: contentWidth, align: level === 1 ? 'center' : 'left' });
      doc.moveDown(level === 1 ? 0.8 : 0.4);
      doc.font(FONT.regular).fontSize(SIZE.body);
    },

    paragraph(text, options = {}) {
      const size = options.size ?? SIZE.body;
      ensureSpace(Math.min(textHeight(text, contentWidth, FONT.regular, size), 3 * size * 1.4));
      doc.font(FONT.regular).fontSize(size).fillColor(options.muted ? COLOR.muted : COLOR.text);
      doc.text(text, left(), doc.y, { width: contentWidth, align: options.align ?? 'left', lineGap: 2 });
      doc.moveDown(0.5);
      doc.fillColor(COLOR.text);
    },

    keyValues(pairs, options = {}) {
      const columns = options.columns ?? 1;
      const gap = 16;
      const cellWidth = (contentWidth - gap * (columns - 1)) / columns;
      const labelWidth = Math.min(options.labelWidth ?? (columns === 1 ? 110 : 84), cellWidth / 2);
      const valueWidth = cellWidth - labelWidth;
      for (let i = 0; i < pairs.length; i += columns) {
        const row = pairs.slice(i, i + columns);
        const height = Math.max(
          ...row.map(([label, value]) =>
            Math.max(textHeight(label, labelWidth - 6, FONT.regular, SIZE.body), textHeight(value, valueWidth, FONT.regular, SIZE.body)),
          ),
        );
        ensureSpace(height + 4);
        const y = doc.y;
        row.forEach(([label, value], c) => {
          const x = left() + c * (cellWidth + gap);
          doc.font(FONT.regular).fontSize(SIZE.body).fillColor(COLOR.muted).text(label, x, y, { width: labelWidth - 6 });
          doc.fillColor(COLOR.text).text(value || '—', x + labelWidth, y, { width: valueWidth });
        });
        doc.x = left();
        doc.y = y + height + 4;
      }
      doc.moveDown(0.4);
    },

    table({ columns, rows }) {
      const widths = columnWidths(columns, rows, measureIn(doc), contentWidth);
      const rowHeight = (cells: string[], font: string) =>
        Math.max(...widths.map((w, i) => textHeight(cells[i] ?? '', w - 2 * CELL_PAD, font, SIZE.table))) + 2 * CELL_PAD;
      const drawRow = (cells: string[], y: number, height: number, font: string, fill?: string) => {
        let x = left();
        if (fill) doc.rect(x, y, widths.reduce((a, b) => a + b, 0), height).fill(fill);
        doc.font(font).fontSize(SIZE.table).fillColor(COLOR.text);
        widths.forEach((w, i) => {
          doc.text(cells[i] ?? '', x + CELL_PAD, y + CELL_PAD, { width: w - 2 * CELL_PAD, align: columns[i]?.align ?? 'left' });
          x += w;
        });
        doc
          .moveTo(left(), y + height)
          .lineTo(left() + widths.reduce((a, b) => a + b, 0), y + height)
          .lineWidth(0.5)
          .strokeColor(COLOR.border)
          .stroke();
      };
      const headers = columns.map((c) => c.header);
      const headerHeight = rowHeight(headers, FONT.bold);
      const drawHeader = () => {
        const y = doc.y;
        drawRow(headers, y, headerHeight, FONT.bold, COLOR.headerFill);
        doc.y = y + headerHeight;
      };

      ensureSpace(headerHeight + (rows[0] ? rowHeight(rows[0], FONT.regular) : 0));
      drawHeader();
      rows.forEach((cells, index) => {
        const height = rowHeight(cells, FONT.regular);
        // NOTE: the header repeats on every page the table continues on.
        if (doc.y + height > bottom()) {
          doc.addPage();
          drawHeader();
        }
        const y = doc.y;
        drawRow(cells, y, height, FONT.regular, index % 2 === 1 ? COLOR.zebra : undefined);
        doc.y = y + height;
      });
      doc.x = left();
      doc.font(FONT.regular).fontSize(SIZE.body).fillColor(COLOR.text);
      doc.moveDown(0.8);
    },

    signatureBlock(parties) {
      const perRow = Math.min(Math.max(parties.length, 1), 3);
      const gap = 16;
      const boxWidth = (contentWidth - gap * (perRow - 1)) / perRow;
      const boxHeight = 118;
      doc.moveDown(0.8);
      for (let i = 0; i < parties.length; i += perRow) {
        ensureSpace(boxHeight + 8);
        const y = doc.y;
        parties.slice(i, i + perRow).forEach((party, c) => {
          const x = left() + c * (boxWidth + gap);
          const inner = boxWidth - 20;
          doc.roundedRect(x, y, boxWidth, boxHeight, 4).lineWidth(0.6).strokeColor(COLOR.border).stroke();
          doc.font(FONT.bold).fontSize(SIZE.body).fillColor(COLOR.text).text(party.title, x + 10, y + 10, { width: inner });
          doc.font(FONT.regular).fontSize(SIZE.body);
          if (party.name) doc.text(party.name, x + 10, doc.y + 2, { width: inner });
          const signer = party.signedBy ?? '';
          const when = party.signedAt ? formatDateTime(party.signedAt) : '';
          doc.fillColor(COLOR.muted).text(`${t(lang, 'pdf.signature')}：${signer || '______________'}`, x + 10, y + boxHeight - 48, { width: inner });
          doc.text(`${t(lang, 'pdf.date')}：${when || '______________'}`, x + 10, y + boxHeight - 30, { width: inner });
          if (party.seal !== false) {
            doc.text(t(lang, 'pdf.seal'), x + 10, y + boxHeight - 68, { width: inner, align: 'right' });
          }
          doc.fillColor(COLOR.text);
        });
        doc.x = left();
        doc.y = y + boxHeight + 8;
      }
    },

    rule() {
      ensureSpace(12);
      const y = doc.y + 4;
      doc.moveTo(left(), y).lineTo(left() + contentWidth, y).lineWidth(0.6).strokeColor(COLOR.border).stroke();
      doc.y = y + 8;
    },

    space(lines = 1) {
      doc.moveDown(lines);
    },

    ensureSpace,
    money: (fen) => formatMoney(fen, lang),
    date: (value) => formatDate(value),
    datetime: (value) => formatDateTime(value),
  };
  return kit;
}

const FOOTER_MIN_SIZE = 6.5;

/** The text and font size that keep `text` on one line `width` wide: smaller type first, then an ellipsis. */
function fitOneLine(doc: PDFKit.PDFDocument, text: string, width: number): { text: string; size: number } {
  let size: number = SIZE.small;
  const fits = (candidate: string) => doc.fontSize(size).widthOfString(candidate) <= width;
  while (!fits(text) && size > FOOTER_MIN_SIZE) size = Math.max(FOOTER_MIN_SIZE, size - 0.5);
  if (fits(text)) return { text, size };
  const chars = [...text];
  while (chars.length > 0 && !fits(`${chars.join('')}…`)) chars.pop();
  return { text: `${chars.join('')}…`, size };
}

function drawFooters(doc: PDFKit.PDFDocument, title: string, lang: Lang): void {
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i += 1) {
    doc.switchToPage(i);
    const { margins } = doc.page;
    const bottomMargin = margins.bottom;
    // NOTE: writing inside the bottom margin would otherwise make pdfkit start a new page.
    margins.bottom = 0;
    const y = doc.page.height - 40;
    const width = doc.page.width - margins.left - margins.right;
    doc.moveTo(margins.left, y - 6).lineTo(margins.left + width, y - 6).lineWidth(0.4).strokeColor(COLOR.border).stroke();
    const pageLabel = t(lang, 'pdf.page', { page: i - range.start + 1, pages: range.count });
    doc.font(FONT.regular).fontSize(SIZE.small).fillColor(COLOR.muted);
    const labelWidth = doc.widthOfString(pageLabel);
    const fitted = fitOneLine(doc, title, width - labelWidth - 16);
    doc.fontSize(fitted.size).text(fitted.text, margins.left, y, { width: width - labelWidth - 16, lineBreak: false });
    doc.fontSize(SIZE.small).text(pageLabel, margins.left + width - labelWidth - 1, y, { width: labelWidth + 1, align: 'right', lineBreak: false });
    margins.bottom = bottomMargin;
  }
}

/**
 * Renders an A4 document with the embedded CJK font, page-numbered footers and metadata taken from
 * `meta` only, so the same input always gives byte-identical output.
 */
export function renderPdf(meta: PdfMeta, draw: (doc: PDFKit.PDFDocument, kit: PdfKit) => void): Promise<Buffer> {
  const lang: Lang = meta.lang ?? 'zh';
  return new Promise<Buffer>((resolve, reject) => {
    const doc = new PDFDocument({
      size: 'A4',
      margins: MARGINS,
      bufferPages: true,
      lang: lang === 'zh' ? 'zh-CN' : 'en',
      displayTitle: true,
      info: {
        Title: meta.title,
        Author: meta.author ?? t(lang, 'app.name'),
        Subject: meta.subject ?? meta.title,
        Creator: t(lang, 'app.name'),
        Producer: 'PDFKit',
        // NOTE: pdfkit derives the file ID from the info dictionary, so fixing these dates fixes the ID too.
        CreationDate: meta.date,
        ModDate: meta.date,
      },
    });
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    try {
      const { regular, bold } = fonts();
      doc.registerFont(FONT.regular, regular);
      doc.registerFont(FONT.bold, bold);
      doc.font(FONT.regular).fontSize(SIZE.body).fillColor(COLOR.text);
      draw(doc, createKit(doc, lang));
      drawFooters(doc, meta.title, lang);
      doc.end();
    } catch (err) {
      reject(err);
    }
  });
}
