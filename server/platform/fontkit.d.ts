// fontkit (pdfkit's font engine) ships no types; the platform only parses a font file with it.
declare module 'fontkit' {
  /** A parsed font; pdfkit's registerFont accepts it in place of the font file. */
  export interface Font {
    readonly postscriptName: string;
    layout(text: string, features?: unknown): unknown;
  }
  export function create(buffer: Uint8Array, postscriptName?: string): Font;
}
