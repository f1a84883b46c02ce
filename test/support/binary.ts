/**
 * A supertest/superagent parser that keeps the whole response body as one Buffer (PDF, XLSX, a CSV
 * with its BOM): `.buffer(true).parse(binaryBody)`.
 */
export function binaryBody(res: unknown, cb: (err: Error | null, body: Buffer) => void): void {
  const stream = res as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => cb(null, Buffer.concat(chunks)));
}
