// Reads barcodes from camera frames: the browser's own BarcodeDetector where it knows both symbols a
// drug pack carries (Code 128 for the 20-digit 药品追溯码, DataMatrix for GS1), otherwise ZXing
// compiled to WebAssembly, loaded only when a camera opens and served from our own origin.

/** The symbols on a drug pack, in BarcodeDetector's names. */
export const PACK_FORMATS = ['code_128', 'data_matrix'] as const;

export type DecoderKind = 'native' | 'wasm';

/** Which decoder to use, given the formats the browser's BarcodeDetector supports (none: no detector). */
export function chooseDecoder(nativeFormats: readonly string[] | null | undefined): DecoderKind {
  return nativeFormats && PACK_FORMATS.every((f) => nativeFormats.includes(f)) ? 'native' : 'wasm';
}

/** A decoder: the texts of the barcodes in one video frame. */
export interface FrameDecoder {
  kind: DecoderKind;
  decode(video: HTMLVideoElement): Promise<string[]>;
}

interface NativeDetector {
  detect(source: CanvasImageSource): Promise<{ rawValue: string }[]>;
}
interface NativeDetectorClass {
  new (options: { formats: string[] }): NativeDetector;
  getSupportedFormats(): Promise<string[]>;
}

/** The formats the browser's BarcodeDetector supports, or null when it has none (or it fails). */
export async function nativeFormats(scope: { BarcodeDetector?: unknown } = globalThis as never): Promise<string[] | null> {
  const Detector = scope.BarcodeDetector as NativeDetectorClass | undefined;
  if (typeof Detector?.getSupportedFormats !== 'function') return null;
  try {
    return await Detector.getSupportedFormats();
  } catch {
    return null;
  }
}

/** Where the ZXing WebAssembly file is served (copied there by scripts/build-client.mjs). */
export const ZXING_WASM_URL = '/static/zxing/zxing_reader.wasm';

/** Makes the decoder this browser should use; the WebAssembly one is fetched on this call, not before. */
export async function createDecoder(): Promise<FrameDecoder> {
  const formats = await nativeFormats();
  if (chooseDecoder(formats) === 'native') {
    const Detector = (globalThis as unknown as { BarcodeDetector: NativeDetectorClass }).BarcodeDetector;
    const detector = new Detector({ formats: [...PACK_FORMATS] });
    return { kind: 'native', decode: async (video) => (await detector.detect(video)).map((b) => b.rawValue) };
  }
  const zxing = await import('zxing-wasm/reader');
  await zxing.prepareZXingModule({
    overrides: { locateFile: (path: string, prefix: string) => (path.endsWith('.wasm') ? `${ZXING_WASM_URL}?v=${zxing.ZXING_WASM_VERSION}` : prefix + path) },
    fireImmediately: true,
  });
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('canvas 2d unavailable');
  return {
    kind: 'wasm',
    async decode(video) {
      const { videoWidth: width, videoHeight: height } = video;
      if (!width || !height) return [];
      if (canvas.width !== width || canvas.height !== height) {
        canvas.width = width;
        canvas.height = height;
      }
      context.drawImage(video, 0, 0, width, height);
      // NOTE: text mode HRI gives a GS1 symbol as `(01)…(17)…(10)…(21)…`, which orders.gs1 reads.
      const results = await zxing.readBarcodes(context.getImageData(0, 0, width, height), { formats: ['Code128', 'DataMatrix'], textMode: 'HRI', maxNumberOfSymbols: 4 });
      return results.filter((r) => r.isValid).map((r) => r.text);
    },
  };
}
