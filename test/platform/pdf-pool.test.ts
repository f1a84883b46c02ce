import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { loadConfig } from '../../server/platform/config';
import { columnWidths, CONTENT_WIDTH, tableTextMeasure, unbreakableTokens } from '../../server/platform/pdf';
import { documentKinds, renderInline } from '../../server/platform/pdf-documents';
import { createPdfRenderer, type PdfRenderer } from '../../server/platform/pdf-pool';
import { allowedCpus, formatCpuList, parseCpuList, spareCpus } from '../../server/platform/cpus';
import { purchaseOrderTable } from '../../server/modules/orders/orders.documents';
import { statementMovementsTable } from '../../server/modules/finance/finance.documents';
import { formatMoney } from '../../server/platform/view-helpers/formatters';
import { extractPdfText } from '../support/pdf-text';
import { pdfSamples, purchaseOrder, signedLetter, statement } from '../support/pdf-fixtures';
import { SignedLetterDocument } from '../../server/modules/credit/credit.documents';
import '../../server/modules/documents';

describe('PDF rendering in render processes', function () {
  this.timeout(120_000);
  let pool: PdfRenderer;

  before(() => {
    pool = createPdfRenderer({ workers: 2 });
  });
  after(async () => {
    await pool.close();
  });

  it('has sample data for every registered document kind', () => {
    expect(pdfSamples.map((s) => s.kind.name).sort()).to.deep.equal(documentKinds());
  });

  for (const lang of ['zh', 'en'] as const) {
    it(`renders every document kind in a render process to the same bytes as on the main thread (${lang})`, async () => {
      for (const { kind, data } of pdfSamples) {
        const [inWorker, inline] = await Promise.all([pool.render(kind, data, lang), renderInline(kind, data, lang)]);
        expect(inWorker.subarray(0, 5).toString('latin1'), kind.name).to.equal('%PDF-');
        expect(inWorker.equals(inline), `${kind.name} differs between render process and main thread`).to.equal(true);
      }
    });
  }

  it('renders inline with no workers (PDF_WORKERS=0), PDF_WORKERS sets the pool size and PDF_WORKER_PRIORITY its priority', async () => {
    const inline = createPdfRenderer({ workers: 0 });
    const bytes = await inline.render(SignedLetterDocument, signedLetter, 'zh');
    expect(bytes.equals(await pool.render(SignedLetterDocument, signedLetter, 'zh'))).to.equal(true);
    await inline.close();
    expect(loadConfig({ PDF_WORKERS: '0' }).pdfWorkers).to.equal(0);
    expect(loadConfig({ PDF_WORKERS: '3' }).pdfWorkers).to.equal(3);
    expect(loadConfig({}).pdfWorkers).to.be.within(1, 2);
    expect(() => loadConfig({ PDF_WORKERS: '-1' })).to.throw(/PDF_WORKERS/);
    expect(loadConfig({}).pdfWorkerPriority).to.equal('idle');
    expect(loadConfig({ PDF_WORKER_PRIORITY: 'low' }).pdfWorkerPriority).to.equal('low');
    expect(() => loadConfig({ PDF_WORKER_PRIORITY: 'realtime' })).to.throw(/PDF_WORKER_PRIORITY/);
    expect(loadConfig({}).pdfRenderCpus).to.equal('spare');
    expect(loadConfig({ PDF_RENDER_CPUS: 'all' }).pdfRenderCpus).to.equal('all');
    expect(() => loadConfig({ PDF_RENDER_CPUS: '0-1' })).to.throw(/PDF_RENDER_CPUS/);
  });

  it('reads and writes Linux CPU lists, and spares every CPU but the first for background work', () => {
    expect(parseCpuList('0-3,6\n')).to.deep.equal([0, 1, 2, 3, 6]);
    expect(parseCpuList('1')).to.deep.equal([1]);
    expect(parseCpuList('4,0-1,1')).to.deep.equal([0, 1, 4]);
    for (const bad of ['', '1-', 'a', '3-1', '0;1']) expect(() => parseCpuList(bad), bad).to.throw(/not a CPU list/);
    expect(formatCpuList([1, 2, 5])).to.equal('1,2,5');
    expect(spareCpus([0, 1])).to.deep.equal([1]);
    expect(spareCpus([2, 3, 7])).to.deep.equal([3, 7]);
    expect(spareCpus([0])).to.equal(null);
    expect(spareCpus([])).to.equal(null);
  });

  it('starts its render processes without the database, web or queue libraries (only the pure document layouts)', async () => {
    const script = `
      import { createRequire } from 'node:module';
      await import(${JSON.stringify(new URL('../../server/pdf-process.ts', import.meta.url).href)});
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('node_modules'));
      console.log(JSON.stringify(loaded.map((k) => k.replace(/.*node_modules[\\/]/, '').split(/[\\/]/)[0])));
      process.exit(0);`;
    // NOTE: with an IPC channel, as the pool starts it (workerpool's worker answers on it).
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    await new Promise((resolve) => child.once('exit', resolve));
    const packages = JSON.parse(out) as string[];
    expect(packages).to.include('workerpool');
    for (const heavy of ['mongoose', 'mongodb', 'express', 'socket.io', 'bullmq', 'ioredis']) expect(packages, heavy).not.to.include(heavy);
  });

  it('rejects a task for an unknown document kind with the render process error', async () => {
    let caught: unknown;
    try {
      await pool.render({ name: 'nope.unknown', layout: () => { throw new Error('not used'); } }, {}, 'zh');
    } catch (err) {
      caught = err;
    }
    expect((caught as Error)?.message).to.match(/no document kind "nope.unknown"/);
  });

  it('keeps the event loop answering while four documents render in the pool, none of them on the main thread', async () => {
    // NOTE: the render process looks the kind up by name in its own registry; this copy's layout runs only if
    // a render happens on the main thread, and counts it.
    let laidOutOnMainThread = 0;
    const spied = {
      ...SignedLetterDocument,
      layout: (...args: Parameters<typeof SignedLetterDocument.layout>) => {
        laidOutOnMainThread += 1;
        return SignedLetterDocument.layout(...args);
      },
    };
    const expected = await renderInline(SignedLetterDocument, signedLetter, 'zh');

    let ticks = 0;
    const timer = setInterval(() => {
      ticks += 1;
    }, 1);
    let documents: Buffer[];
    try {
      documents = await Promise.all(Array.from({ length: 4 }, () => pool.render(spied, signedLetter, 'zh')));
    } finally {
      clearInterval(timer);
    }
    // NOTE: no timing figure is asserted (bench/pdf measures the event-loop delay): the main thread laid
    // out none of the four documents and its timers kept firing while the render processes rendered them.
    expect(laidOutOnMainThread).to.equal(0);
    expect(documents.every((bytes) => bytes.equals(expected))).to.equal(true);
    expect(ticks).to.be.greaterThan(1);
  });

  it('runs every thread of its render processes under SCHED_IDLE (PDF_WORKER_PRIORITY=idle) or at nice 19 (low), the app at neither', async function () {
    if (process.platform !== 'linux') this.skip();
    // NOTE: /proc/<pid>/task/<tid>/sched names each thread's policy (5 = SCHED_IDLE); field 19 of its stat is the nice value.
    const threadsOf = (pid: number | 'self') =>
      readdirSync(`/proc/${pid}/task`).map((tid) => ({
        tid: Number(tid),
        policy: Number(/policy\s*:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/sched`, 'utf8'))?.[1]),
        nice: Number(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[16]),
      }));
    const renderProcesses = () =>
      readdirSync('/proc')
        .filter((f) => /^\d+$/.test(f))
        .filter((pid) => {
          try {
            const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
            return Number(stat.replace(/^.*\) /s, '').split(' ')[1]) === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('pdf-process');
          } catch {
            return false;
          }
        })
        .map(Number);
    const before = new Set(renderProcesses());
    const idle = createPdfRenderer({ workers: 1, priority: 'idle' });
    const low = createPdfRenderer({ workers: 1, priority: 'low' });
    try {
      await idle.render(SignedLetterDocument, signedLetter, 'zh');
      const [idleProcess] = renderProcesses().filter((pid) => !before.has(pid));
      await low.render(SignedLetterDocument, signedLetter, 'zh');
      const [lowProcess] = renderProcesses().filter((pid) => !before.has(pid) && pid !== idleProcess);
      expect(idleProcess, 'one render process for the idle pool').to.be.a('number');
      expect(lowProcess, 'one render process for the low pool').to.be.a('number');
      const idleThreads = threadsOf(idleProcess!);
      expect(idleThreads.length).to.be.greaterThan(1);
      expect(idleThreads.filter((t) => t.policy !== 5), 'threads of the idle render process not under SCHED_IDLE').to.deep.equal([]);
      expect(threadsOf(lowProcess!).filter((t) => t.policy !== 0 || t.nice !== 19), 'threads of the low render process not at nice 19').to.deep.equal([]);
      expect(threadsOf('self').find((t) => t.tid === process.pid)).to.include({ policy: 0, nice: 0 });
    } finally {
      await idle.close();
      await low.close();
    }
  });

  it('keeps every thread of its render processes off the first CPU (PDF_RENDER_CPUS=spare), or on every CPU with PDF_RENDER_CPUS=all', async function () {
    const mine = allowedCpus();
    if (process.platform !== 'linux' || !mine || mine.length < 2) this.skip();
    const renderProcesses = () =>
      readdirSync('/proc')
        .filter((f) => /^\d+$/.test(f))
        .filter((pid) => {
          try {
            const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
            return Number(stat.replace(/^.*\) /s, '').split(' ')[1]) === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('pdf-process');
          } catch {
            return false;
          }
        })
        .map(Number);
    const cpusOfThreads = (pid: number) => readdirSync(`/proc/${pid}/task`).map((tid) => formatCpuList(allowedCpus(pid, Number(tid)) ?? []));
    const before = new Set(renderProcesses());
    const spare = createPdfRenderer({ workers: 1, cpus: 'spare' });
    const all = createPdfRenderer({ workers: 1, cpus: 'all' });
    try {
      await spare.render(SignedLetterDocument, signedLetter, 'zh');
      const [spareProcess] = renderProcesses().filter((pid) => !before.has(pid));
      await all.render(SignedLetterDocument, signedLetter, 'zh');
      const [allProcess] = renderProcesses().filter((pid) => !before.has(pid) && pid !== spareProcess);
      expect(spareProcess, 'one render process for the spare pool').to.be.a('number');
      expect(allProcess, 'one render process for the all pool').to.be.a('number');
      const threads = cpusOfThreads(spareProcess!);
      expect(threads.length).to.be.greaterThan(1);
      expect(new Set(threads), 'CPUs of the spare render process\'s threads').to.deep.equal(new Set([formatCpuList(mine!.slice(1))]));
      expect(new Set(cpusOfThreads(allProcess!)), 'CPUs of the all render process\'s threads').to.deep.equal(new Set([formatCpuList(mine!)]));
      // the app itself is left where it was
      expect(allowedCpus()).to.deep.equal(mine);
      // and a render process keeps the memory it has (glibc's thresholds raised, platform/pdf-pool.ts)
      const environ = readFileSync(`/proc/${spareProcess}/environ`, 'latin1').split('\0');
      expect(environ).to.include.members(['MALLOC_TRIM_THRESHOLD_=1073741824', 'MALLOC_MMAP_THRESHOLD_=134217728']);
    } finally {
      await spare.close();
      await all.close();
    }
  });

  it('reads the Chinese text back from a document rendered in a render process, with the title on one footer line', async () => {
    const bytes = await pool.render(SignedLetterDocument, signedLetter, 'zh');
    const text = await extractPdfText(bytes);
    expect(text).to.include('电子签署记录');
    expect(text).to.include(signedLetter.textSha256.slice(0, 16));
    // NOTE: the long title is shortened with an ellipsis rather than wrapped under the footer line.
    // NOTE: the long title and the page number share one footer line (smaller type, not wrapped).
    expect(text).to.match(/（第 3 版）— 华南医药配送有限公司（示范市分公司，统一社会信用代码 91440000MA5XXXXXXX） 第 1 页 \/ 共 \d+ 页/);
    const longer = await pool.render(SignedLetterDocument, { ...signedLetter, orgName: signedLetter.orgName.repeat(3) }, 'zh');
    expect(await extractPdfText(longer)).to.match(/… 第 1 页 \/ 共 \d+ 页/);
  });
});

describe('PDF table columns laid out from measured text', () => {
  const measure = tableTextMeasure();
  const padding = 5;

  it('splits text into the pieces a line cannot break inside: codes and amounts whole, CJK one character each', () => {
    expect(unbreakableTokens('INV-20260201-000005')).to.deep.equal(['INV-20260201-000005']);
    expect(unbreakableTokens('¥1,950.00')).to.deep.equal(['¥1,950.00']);
    expect(unbreakableTokens('尿激酶 10万单位')).to.deep.equal(['尿', '激', '酶', '10', '万', '单', '位']);
  });

  for (const lang of ['zh', 'en'] as const) {
    it(`gives the purchase order's generic name more room than the line number, and no header or amount breaks (${lang})`, () => {
      const table = purchaseOrderTable({ ...purchaseOrder, lines: [{ ...purchaseOrder.lines[0]!, drugName: '注射用头孢哌酮钠舒巴坦钠（规格二）' }, ...purchaseOrder.lines] }, lang, { money: (fen) => formatMoney(fen, lang) });
      const widths = columnWidths(table.columns, table.rows, measure, CONTENT_WIDTH);
      expect(widths.reduce((a, b) => a + b, 0)).to.be.closeTo(CONTENT_WIDTH, 0.01);
      const [no, generic] = widths;
      expect(generic!).to.be.greaterThan(2 * no!);
      // NOTE: wide enough for several characters of a generic name, not two.
      expect(generic! - 2 * padding).to.be.greaterThan(6 * measure('注', false));
      table.columns.forEach((column, i) => {
        for (const word of column.header.split(' ')) expect(widths[i]! - 2 * padding, `header ${column.header}`).to.be.at.least(measure(word, true));
        for (const row of table.rows) {
          for (const token of unbreakableTokens(row[i]!)) expect(widths[i]! - 2 * padding, token).to.be.at.least(measure(token, false));
        }
      });
    });

    it(`keeps every voucher and invoice code of the financing statement on one line (${lang})`, () => {
      const table = statementMovementsTable(statement, lang);
      const widths = columnWidths(table.columns, table.rows, measure, CONTENT_WIDTH);
      const reference = table.columns.findIndex((c) => c.header === table.columns[2]!.header);
      const longest = Math.max(...statement.rows.map((r) => measure(r.reference ?? '', false)));
      expect(widths[reference]! - 2 * padding).to.be.at.least(longest);
      expect(widths.reduce((a, b) => a + b, 0)).to.be.closeTo(CONTENT_WIDTH, 0.01);
    });
  }

  it('shares the spare width in proportion to content and only scales the minimums down when they cannot fit', () => {
    const fixed = (text: string) => text.length * 10;
    const columns = [{ header: 'a' }, { header: 'b' }];
    // everything fits: 21 and 61 points wanted, 118 spare shared 21:61
    const roomy = columnWidths(columns, [['xx', 'xxxxxx']], fixed, 164, 0);
    expect(roomy[0]).to.be.closeTo(42, 1e-9);
    expect(roomy[1]).to.be.closeTo(122, 1e-9);
    // too narrow for one line each: the unbreakable 'xxxxxxxxxx' keeps its 101, 'x y z' wraps into what is left
    const tight = columnWidths(columns, [['xxxxxxxxxx', 'x y z']], fixed, 130, 0);
    expect(tight[0]).to.be.closeTo(101, 1e-9);
    expect(tight[1]).to.be.closeTo(29, 1e-9);
    // even the minimums do not fit: they are scaled down alike
    const tooNarrow = columnWidths(columns, [['xxxxxxxxxx', 'yyyyyyyyyy']], fixed, 100, 0);
    expect(tooNarrow[0]).to.be.closeTo(50, 1e-9);
    expect(tooNarrow[1]).to.be.closeTo(50, 1e-9);
  });
});
