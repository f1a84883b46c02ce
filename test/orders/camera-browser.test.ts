import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { launchBrowser, newPage, overflowing, signIn } from '../support/browser';
import { code128Frame, emptyFrame, gs1DataMatrixFrame, writeY4m } from '../support/fake-camera';
import { testApp } from '../support/global';
import { buildOrderParties, confirm, nextYear, placeCatalogueOrder, traceCodes, track } from '../support/order-factories';

const yymmdd = (isoDate: string) => isoDate.slice(2, 4) + isoDate.slice(5, 7) + isoDate.slice(8, 10);

/** Headless Chromium whose camera shows, looping: pack A, nothing, pack A again, nothing, then a DataMatrix for pack B. */
async function cameraOnPacks() {
  const parties = await buildOrderParties();
  const drug = parties.drugs[0]!;
  const [a, b] = traceCodes(drug.tracePrefix, 2) as [string, string];
  const codes = { a, b, expiry: nextYear() };
  const dir = mkdtempSync(path.join(tmpdir(), 'fake-camera-'));
  const clip = path.join(dir, 'packs.y4m');
  writeY4m(clip, [
    { frame: code128Frame(a), seconds: 2 },
    { frame: emptyFrame(), seconds: 2.5 },
    { frame: code128Frame(a), seconds: 2 },
    { frame: emptyFrame(), seconds: 2.5 },
    { frame: gs1DataMatrixFrame(`(01)0${drug.gtin!}(17)${yymmdd(codes.expiry)}(10)LOT-CAM(21)${b}`), seconds: 2 },
    { frame: emptyFrame(), seconds: 2.5 },
  ]);
  const browser = await launchBrowser(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${clip}`]);
  const close = async () => {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { parties, codes, browser, close };
}

describe('orders: scanning with the camera (headless Chromium, fake camera, WebAssembly decoder)', function () {
  this.timeout(120_000);
  let camera: Awaited<ReturnType<typeof cameraOnPacks>> | undefined;
  let plain: Browser | undefined;
  afterEach(async () => {
    await camera?.close();
    await plain?.close();
    camera = undefined;
    plain = undefined;
  });

  it('accepts a Code 128 code and marks it, refuses the same pack scanned again, fills batch and expiry from a DataMatrix, and ships the serials', async () => {
    camera = await cameraOnPacks();
    const { parties, codes, browser } = camera;
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

  it('on a 390 px phone, accepts delivered packs by camera on the acceptance form, refuses a pack scanned twice, and counts against the shipment', async () => {
    camera = await cameraOnPacks();
    const { parties, codes, browser } = camera;
    const order = await confirm(parties.distributor, (await placeCatalogueOrder(parties, { quantity: 2 })).id);
    const shipped = await parties.distributor.api().post(`/api/v1/orders/${order.id}/ship`, {
      carrier: '顺丰医药', trackingNo: 'SF-CAM-2', lines: [{ lineNo: 1, quantity: 2, batchNo: 'LOT-CAM', expiryDate: codes.expiry, codes: [codes.a, codes.b] }],
    });
    expect(shipped.status, JSON.stringify(shipped.body)).to.equal(201);
    await track(parties.distributor, order.id, 'delivered');
    const ph = await newPage(browser, testApp().url);
    try {
      await ph.page.setViewportSize({ width: 390, height: 844 });
      await signIn(ph.page, parties.pharmacist);
      await ph.page.goto(`/orders/${order.id}`);
      await ph.page.waitForSelector('[data-accept-form]');
      await ph.page.click('[data-accept-line="1"] [data-camera-scan]');
      await ph.page.waitForSelector('[data-camera-dialog][open]');
      expect(await overflowing(ph.page)).to.deep.equal([]);
      const scannedList = () => ph.page.$$eval('[data-accept-line="1"] [data-scanned-code]', (lis) => lis.map((li) => li.getAttribute('data-scanned-code')));
      await ph.page.waitForFunction(() => document.querySelectorAll('[data-accept-line="1"] [data-scanned-code]').length === 2, undefined, { timeout: 60_000 });
      await ph.page.waitForFunction(() => (document.querySelector('[data-camera-message]')?.textContent ?? '').includes('已扫描'), undefined, { timeout: 45_000 });
      expect(await ph.page.getAttribute('[data-camera-message]', 'data-state')).to.equal('bad');
      expect((await scannedList()).sort()).to.deep.equal([codes.a, codes.b].sort());
      expect(await ph.page.textContent('[data-camera-count]')).to.contain('已扫 2 / 2');
      await ph.page.click('[data-camera-close]');
      await Promise.all([ph.page.waitForLoadState('load'), ph.page.click('[data-accept-submit]')]);
      await ph.page.waitForFunction(() => !document.querySelector('[data-accept-form]'), undefined, { timeout: 20_000 });
      const stored = await parties.pharmacist.api().get(`/api/v1/orders/${order.id}`);
      expect(stored.body.status).to.equal('accepted');
      expect(ph.errors).to.deep.equal([]);
    } finally {
      await ph.context.close();
    }
  });

  it('says so when the camera is refused, in the page language', async () => {
    const parties = await buildOrderParties();
    plain = await launchBrowser();
    const browser = plain;
    const order = await confirm(parties.distributor, (await placeCatalogueOrder(parties, { quantity: 1 })).id);
    const di = await newPage(browser, testApp().url);
    try {
      await di.context.addInitScript(() => {
        navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));
      });
      await signIn(di.page, parties.distributor);
      await di.page.goto(`/orders/${order.id}?lang=en`);
      expect(await di.page.textContent('[data-ship-line="1"] [data-camera-scan]')).to.equal('Scan with camera');
      await di.page.click('[data-ship-line="1"] [data-camera-scan]');
      await di.page.waitForSelector('[data-camera-problem]:not([hidden])');
      expect(await di.page.textContent('[data-camera-problem]')).to.contain('Camera access was refused');
      expect(await di.page.getAttribute('[data-camera-dialog]', 'data-camera-state')).to.equal('failed');
      expect(di.errors).to.deep.equal([]);
    } finally {
      await di.context.close();
    }
  });
});
