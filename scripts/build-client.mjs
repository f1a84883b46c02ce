// Bundles the browser code: client/main.ts and every client/pages/*.ts → public/build/ (ESM,
// minified, source maps, shared chunks), client/form-guard.ts as a classic script, and copies client/styles/app.css and the ZXing decoder's
// .wasm. The app serves public/build/ at /static. Prints one line; exits non-zero on any error.
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const clientDir = join(root, 'client');
const outdir = join(root, 'public', 'build');

async function pageEntries() {
  const dir = join(clientDir, 'pages');
  const names = await readdir(dir).catch(() => []);
  return names.filter((n) => n.endsWith('.ts') && !n.endsWith('.d.ts')).map((n) => join(dir, n));
}

const started = Date.now();
try {
  const entryPoints = [join(clientDir, 'main.ts'), ...(await pageEntries())];
  // NOTE: chunk names carry a hash, so stale ones would pile up without a clean output directory.
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const result = await build({
    entryPoints,
    outdir,
    outbase: clientDir,
    entryNames: '[dir]/[name]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'silent',
    metafile: true,
  });
  // NOTE: the form guard is a classic script (no module, no chunks): the layouts load it blocking in <head>.
  const guard = await build({
    entryPoints: [join(clientDir, 'form-guard.ts')],
    outfile: join(outdir, 'form-guard.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    metafile: true,
  });
  Object.assign(result.metafile.outputs, guard.metafile.outputs);
  await copyFile(join(clientDir, 'styles', 'app.css'), join(outdir, 'app.css'));
  // NOTE: the camera scanner's WebAssembly decoder is served from our own origin (the CSP allows no
  // other); client/lib/barcode-decoder.ts fetches it from here when a camera opens.
  await mkdir(join(outdir, 'zxing'), { recursive: true });
  await copyFile(join(root, 'node_modules', 'zxing-wasm', 'dist', 'reader', 'zxing_reader.wasm'), join(outdir, 'zxing', 'zxing_reader.wasm'));
  const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
  const warnings = result.warnings.length ? `, ${result.warnings.length} warning(s)` : '';
  console.log(`client: ${entryPoints.length + 1} entries → public/build (${(bytes / 1024).toFixed(0)} KiB incl. maps) in ${Date.now() - started} ms${warnings}`);
} catch (err) {
  const messages = err && Array.isArray(err.errors) && err.errors.length
    ? err.errors.map((e) => `${e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ` : ''}${e.text}`).join('\n')
    : String(err && err.stack ? err.stack : err);
  console.error(`client: build failed\n${messages}`);
  process.exit(1);
}
