// The kinds of PDF document: each is a pure layout from plain, JSON-serialisable data and a language
// to drawing calls, so a document renders the same bytes on the main thread or in a PDF worker.
import type { Lang } from './i18n';
import { renderPdf, type PdfKit, type PdfMeta } from './pdf';

/** What a document's layout gives for its data: the metadata (its date fixes the bytes) and how to draw it. */
export interface PdfLayout {
  meta: Omit<PdfMeta, 'lang'>;
  draw(kit: PdfKit, doc: PDFKit.PDFDocument): void;
}

/** A kind of document; `D` is its data, plain JSON (ISO strings for times, no database documents). */
export interface PdfDocumentKind<D> {
  readonly name: string;
  readonly layout: (data: D, lang: Lang) => PdfLayout;
  /** Type marker only. */
  readonly data?: D;
}

const kinds = new Map<string, PdfDocumentKind<unknown>>();

/** Declares a kind of document; `layout` must be pure (no I/O, no clock, nothing but its arguments). */
export function definePdf<D>(name: string, layout: (data: D, lang: Lang) => PdfLayout): PdfDocumentKind<D> {
  if (kinds.has(name)) throw new Error(`pdf: the document kind "${name}" is defined twice`);
  const kind: PdfDocumentKind<D> = { name, layout };
  kinds.set(name, kind as unknown as PdfDocumentKind<unknown>);
  return kind;
}

/** The kind registered under `name` (its module's documents file must have been imported). */
export function documentKind(name: string): PdfDocumentKind<unknown> {
  const kind = kinds.get(name);
  if (!kind) throw new Error(`pdf: no document kind "${name}"`);
  return kind;
}

/** The names of every registered kind. */
export function documentKinds(): string[] {
  return [...kinds.keys()].sort();
}

/** Renders a document on the calling thread. */
export function renderInline<D>(kind: PdfDocumentKind<D>, data: D, lang: Lang): Promise<Buffer> {
  const { meta, draw } = kind.layout(data, lang);
  return renderPdf({ ...meta, lang }, (doc, kit) => draw(kit, doc));
}
