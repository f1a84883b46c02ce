import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { launchBrowser, newPage, signIn } from '../support/browser';
import { code128Frame, emptyFrame, gs1DataMatrixFrame, writeY4m } from '../support/fake-camera';
import { testApp } from '../support/global';
import { buildOrderParties, confirm, nextYear, placeCatalogueOrder, traceCodes } from '../support/order-factories';

const yymmdd = (isoDate: string) => isoDate.slice(2, 4) + isoDate.slice(5, 7) + isoDate.slice(8, 10);

describe('orders: scanning with the camera (headless Chromium, fake camera, WebAssembly decoder)', function () {
  this.timeout(120_000);
  let browser: Browser;
  let dir: string;
  let codes: { a: string; b: string; expiry: string; gtin: string; prefix: string };
  let parties: Awaited<ReturnType<typeof buildOrderParties>>;

  before(async () => {
    parties = await buildOrderParties();
    const drug = parties.drugs[0]!;
    const [a, b] = traceCodes(drug.tracePrefix, 2) as [string, string];
    codes = { a, b, expiry: nextYear(), gtin: drug.gtin!, prefix: drug.tracePrefix };
    dir = mkdtempSync(path.join(tmpdir(), 'fake-camera-'));
    const clip = path.join(dir, 'packs.y4m');
    // The camera sees pack A, nothing, pack A again (a duplicate), nothing, then a DataMatrix — looping.
    writeY4m(clip, [
      { frame: code128Frame(a), seconds: 2 },
      { frame: emptyFrame(), seconds: 2.5 },
      { frame: code128Frame(a), seconds: 2 },
      { frame: emptyFrame(), seconds: 2.5 },
      { frame: gs1DataMatrixFrame(`(01)0${drug.gtin!}(17)${yymmdd(codes.expiry)}(10)LOT-CAM(21)${b}`), seconds: 2 },
      { frame: emptyFrame(), seconds: 2.5 },
    ]);
    browser = await launchBrowser(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${clip}`]);
  });
  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a Code 128 code and marks it, refuses the same pack scanned again, fills batch and expiry from a DataMatrix, and ships the serials', async () => {
    const order = await confirm(parties.distributor, (await placeCatalogueOrder(parties, { quantity: 2 })).id);
    const di = await newPage(browser, testApp().url);
    const wasmRequests: string[] = [];
    di.page.on('request', (r) => {
      if (r.url().includes('.wasm')) wasmRequests.push(r.url());
    });
    try {
      await signIn(di.page, parties.distributor);
      await di.page.goto(`/orders/${order.id}`);
      await di.page.waitForSelector('[data-ship-form]');
      expect(wasmRequests, 'the decoder loads only when the camera opens').to.deep.equal([]);

      await di.page.click('[data-ship-line="1"] [data-camera-scan]');
      await di.page.waitForSelector('[data-camera-dialog][open]');
      await di.page.waitForFunction(() => document.querySelector<HTMLElement>('[data-camera-dialog]')?.dataset.cameraState === 'scanning', undefined, { timeout: 30_000 });
      expect(await di.page.getAttribute('[data-camera-dialog]', 'data-decoder')).to.equal('wasm');

      // Each accepted code is confirmed on the spot and marked in the line's box.
      await di.page.waitForFunction((code) => document.querySelector<HTMLTextAreaElement>('#ship-codes-1')!.value.includes(code), codes.a, { timeout: 45_000 });
      // The same pack once more is refused, and not added.
      await di.page.waitForFunction(() => (document.querySelector('[data-camera-message]')?.textContent ?? '').includes('已录入过'), undefined, { timeout: 45_000 });
      expect(await di.page.getAttribute('[data-camera-message]', 'data-state')).to.equal('bad');
      expect(await di.page.textContent('[data-camera-message]')).to.contain(codes.a);
      // The DataMatrix gives its serial as the code, and the batch and expiry.
      await di.page.waitForFunction((code) => document.querySelector<HTMLTextAreaElement>('#ship-codes-1')!.value.includes(code), codes.b, { timeout: 45_000 });
      expect(await di.page.textContent('[data-camera-count]')).to.contain('2 / 2');

      const boxCodes = (await di.page.inputValue('#ship-codes-1')).split('\n');
      expect(boxCodes).to.have.length(2);
      expect(boxCodes[0]).to.equal(codes.a);
      expect(boxCodes[1]).to.contain(`(21)${codes.b}`);
      const marks = await di.page.$$eval('[data-ship-line="1"] [data-code-marks] li', (lis) => lis.map((li) => li.getAttribute('data-code-mark')));
      expect(marks).to.deep.equal(['ok', 'ok']);
      expect(await di.page.inputValue('#ship-batch-1')).to.equal('LOT-CAM');
      expect(await di.page.inputValue('#ship-expiry-1')).to.equal(codes.expiry);
      expect(wasmRequests.length).to.be.greaterThan(0);
      for (const url of wasmRequests) expect(new URL(url).origin).to.equal(new URL(testApp().url).origin);

      await di.page.click('[data-camera-close]');
      await di.page.waitForFunction(() => !document.querySelector<HTMLDialogElement>('[data-camera-dialog]')!.open);
      expect(await di.page.getAttribute('[data-camera-dialog]', 'data-camera-state')).to.equal('closed');
      expect(await di.page.$eval('[data-camera-video]', (video) => (video as HTMLVideoElement).srcObject === null)).to.equal(true);

      await di.page.fill('#ship-carrier', '国药物流');
      await di.page.fill('#ship-tracking', 'GY-CAM-1');
      await Promise.all([di.page.waitForLoadState('load'), di.page.click('[data-ship-submit]')]);
      await di.page.waitForSelector('[data-track-form]');
      const shipment = await parties.distributor.api().get(`/api/v1/orders/${order.id}/shipment`);
      expect(shipment.body.lines[0]).to.deep.include({ batchNo: 'LOT-CAM', expiryDate: codes.expiry, codes: [codes.a, codes.b] });
      expect(di.errors).to.deep.equal([]);
    } finally {
      await di.context.close();
    }
  });
});
