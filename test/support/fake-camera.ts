// A fake camera for page tests: barcodes drawn with bwip-js into grey frames, written as a Y4M file
// (YUV4MPEG2, 4:2:0) that Chromium plays, looping, with --use-file-for-fake-video-capture.
import { writeFileSync } from 'node:fs';
import bwipjs from 'bwip-js/node';

export const FRAME_WIDTH = 640;
export const FRAME_HEIGHT = 480;
const FPS = 5;
const BLACK = 16;
const WHITE = 235;

type Frame = Uint8Array;

function blankFrame(): Frame {
  return new Uint8Array(FRAME_WIDTH * FRAME_HEIGHT).fill(WHITE);
}

function box(frame: Frame, x: number, y: number, w: number, h: number): void {
  for (let row = y; row < y + h; row += 1) frame.fill(BLACK, row * FRAME_WIDTH + x, row * FRAME_WIDTH + x + w);
}

/** A frame with a Code 128 symbol of `text` in the middle. */
export function code128Frame(text: string, moduleWidth = 3, height = 160): Frame {
  const [symbol] = bwipjs.raw('code128', text, {}) as { sbs: number[] }[];
  const frame = blankFrame();
  let x = Math.floor((FRAME_WIDTH - symbol!.sbs.reduce((a, b) => a + b, 0) * moduleWidth) / 2);
  symbol!.sbs.forEach((width, i) => {
    if (i % 2 === 0) box(frame, x, Math.floor((FRAME_HEIGHT - height) / 2), width * moduleWidth, height);
    x += width * moduleWidth;
  });
  return frame;
}

/** A frame with a GS1 DataMatrix of the element string `text` (`(01)…(21)…`) in the middle. */
export function gs1DataMatrixFrame(text: string, moduleSize = 8): Frame {
  const [symbol] = bwipjs.raw('gs1datamatrix', text, {}) as { pixs: number[]; pixx: number; pixy: number }[];
  const { pixs, pixx, pixy } = symbol!;
  const frame = blankFrame();
  const x0 = Math.floor((FRAME_WIDTH - pixx * moduleSize) / 2);
  const y0 = Math.floor((FRAME_HEIGHT - pixy * moduleSize) / 2);
  for (let j = 0; j < pixy; j += 1) for (let i = 0; i < pixx; i += 1) if (pixs[j * pixx + i]) box(frame, x0 + i * moduleSize, y0 + j * moduleSize, moduleSize, moduleSize);
  return frame;
}

/** An empty view (nothing to decode), e.g. between two packs. */
export function emptyFrame(): Frame {
  return blankFrame();
}

/** Writes the scenes (a frame held for some seconds each) as one Y4M clip. */
export function writeY4m(file: string, scenes: { frame: Frame; seconds: number }[]): void {
  const chroma = new Uint8Array((FRAME_WIDTH / 2) * (FRAME_HEIGHT / 2) * 2).fill(128);
  const parts: Uint8Array[] = [Buffer.from(`YUV4MPEG2 W${FRAME_WIDTH} H${FRAME_HEIGHT} F${FPS}:1 Ip A1:1 C420jpeg\n`)];
  for (const scene of scenes) {
    for (let n = 0; n < Math.round(scene.seconds * FPS); n += 1) parts.push(Buffer.from('FRAME\n'), scene.frame, chroma);
  }
  writeFileSync(file, Buffer.concat(parts));
}
