import { expect } from 'chai';
import { Types } from 'mongoose';
import type { Browser } from 'playwright-core';
import { DeclarationEntry } from '../../server/modules/vbp/vbp.model';
import { takeMissingKeys } from '../../server/platform/i18n';
import { launchBrowser, newPage, signIn as signInForm } from '../support/browser';
import { buildTradingDistributor } from '../support/credit-factories';
import { buildUser, type TestUser } from '../support/factories';
import { testApp } from '../support/global';
import { acceptAllLines, confirm, shipAll, track } from '../support/order-factories';
import { buildVbpDrug, clockNow, contractsOf, declare, openDeclaration, passTime, tag, tenderScenario, until, vbpOperator } from '../support/vbp-factories';

async function page(u: TestUser, path: string, status = 200): Promise<string> {
  const res = await u.api().get(path);
  expect(res.status, `${path}: ${res.text.slice(0, 300)}`).to.equal(status);
  return res.text;
}

async function signIn(browser: Browser, u: TestUser) {
  const ctx = await newPage(browser, testApp().url);
  await signInForm(ctx.page, u);
  return ctx;
}

describe('vbp pages', function () {
  this.timeout(60_000);

  it('renders every VBP page for each role in Chinese and English, with no missing messages', async () => {
    takeMissingKeys();
    const op = await vbpOperator();
    const s = await tenderScenario({ demands: [300, 200], prices: [100, 120, 300], ceilingFen: 400 });
    const pharmacist = s.hospitals[0]!;
    const contract = (await contractsOf(s.tenderId)).find((c) => c.hospitalOrgId === pharmacist.org.id);
    const winner = s.distributors[0]!;

    const hub = await page(op, '/vbp');
    expect(hub).to.contain('带量采购').and.contain(s.tender.tenderNo).and.contain('新建需求申报');
    expect(await page(op, '/vbp/declarations/new')).to.contain('发布申报').and.contain(s.drug.genericNameZh);
    const decl = await page(op, `/vbp/declarations/${s.declarationId}`);
    expect(decl).to.contain('申报汇总').and.contain('data-missing').and.contain('据此发起招标').and.contain('500');
    expect(await page(op, `/vbp/tenders/new?declarationId=${s.declarationId}`)).to.contain('最高有效申报价');
    const tender = await page(op, `/vbp/tenders/${s.tenderId}`);
    expect(tender).to.contain('直接中选').and.contain(winner.org.name).and.contain('锚点价').and.contain('data-bids');
    expect(await page(op, '/vbp/contracts')).to.contain(contract!.contractNo);
    for (const by of ['hospital', 'drug', 'winner', 'contract']) expect(await page(op, `/vbp/completion?by=${by}`)).to.contain('data-completion-chart');
    const detail = await page(op, `/vbp/contracts/${contract!.id}`);
    expect(detail).to.contain('认定供应失败').and.contain(contract!.contractNo);
    const pdf = await op.api().get(`/vbp/contracts/${contract!.id}/contract.pdf`);
    expect(pdf.status).to.equal(200);
    expect(pdf.headers['content-type']).to.equal('application/pdf');

    expect(await page(pharmacist, '/vbp')).to.contain('本院带量采购进度').and.contain(s.drug.genericNameZh);
    expect(await page(pharmacist, `/vbp/declarations/${s.declarationId}`)).to.contain('申报已截止');
    expect(await page(pharmacist, '/vbp/contracts')).to.contain('本院协议执行进度').and.not.contain(s.hospitals[1]!.org.name);
    expect(await page(pharmacist, `/vbp/contracts/${contract!.id}`)).to.contain('按协议下单').and.not.contain('认定供应失败');
    await page(pharmacist, `/vbp/contracts/${(await contractsOf(s.tenderId)).find((c) => c.hospitalOrgId !== pharmacist.org.id)!.id}`, 404);
    await page(pharmacist, '/vbp/completion', 403);

    const mine = await page(winner, `/vbp/tenders/${s.tenderId}`);
    expect(mine).to.contain('data-my-outcome').and.not.contain('data-bids').and.not.contain(s.distributors[1]!.org.name);
    expect(await page(winner, '/vbp')).to.contain('本企业的带量采购协议');
    expect(await page(winner, '/')).to.contain('href="/vbp"');

    const en = await page(op, `/vbp/tenders/${s.tenderId}?lang=en`);
    expect(en).to.contain('Won directly').and.contain('Anchor price');
    expect(await page(pharmacist, '/vbp/contracts?lang=en')).to.contain('Our contract progress');
    expect(takeMissingKeys()).to.deep.equal([]);
  });

  it('shows refusals next to the field and stores nothing', async () => {
    const op = await vbpOperator();
    const drug = await buildVbpDrug();
    const d = await openDeclaration([drug]);
    const h = await buildUser('pharmacist');
    const under = await h.api().post(`/vbp/declarations/${d.id}`).type('form').send({ [`${drug.id}.quantity`]: '70', [`${drug.id}.lastYearQty`]: '100' });
    expect(under.status).to.equal(422);
    expect(under.text).to.contain(`reason-${drug.id}-error`);
    const notNumber = await h.api().post(`/vbp/declarations/${d.id}`).type('form').send({ [`${drug.id}.quantity`]: '七十' });
    expect(notNumber.status).to.equal(400);
    expect(notNumber.text).to.contain(`qty-${drug.id}-error`).and.contain('七十');
    expect(await DeclarationEntry.countDocuments({ declarationId: new Types.ObjectId(d.id) })).to.equal(0);
    const ok = await h.api().post(`/vbp/declarations/${d.id}`).type('form').send({ [`${drug.id}.quantity`]: '70', [`${drug.id}.lastYearQty`]: '100', [`${drug.id}.reason`]: '病种结构变化' });
    expect(ok.status).to.equal(303);
    expect(await DeclarationEntry.countDocuments({ declarationId: new Types.ObjectId(d.id) })).to.equal(1);

    const noDrugs = await op.api().post('/vbp/declarations/new').type('form').send({ title: '空', deadline: '2099-01-01T10:00' });
    expect(noDrugs.status).to.equal(400);
    expect(noDrugs.text).to.contain('decl-drugs-error');
    const badDate = await op.api().post('/vbp/declarations/new').type('form').send({ title: '日期', deadline: 'tomorrow', drugIds: drug.id });
    expect(badDate.status).to.equal(400);
    expect(badDate.text).to.contain('decl-deadline-error');

    const s = await tenderScenario({ demands: [100], prices: [300], ceilingFen: 400, open: false });
    const d2 = s.distributors[0]!;
    const above = await d2.api().post(`/vbp/tenders/${s.tenderId}/bids`).type('form').send({ lineId: s.lineId, price: '4.01' });
    expect(above.status).to.equal(422);
    expect(above.text).to.contain(`bid-${s.lineId}-error`).and.contain('¥4.00');
    const noLines = await op.api().post('/vbp/tenders/new').type('form').send({ declarationId: s.declarationId, title: 'x', closesAt: '2099-01-01T10:00' });
    expect(noLines.status).to.equal(400);
  });

  it('lets the operator change the VBP defaults in plain units on a page, with errors next to the field', async () => {
    const op = await vbpOperator();
    const before = (await op.api().get('/api/v1/vbp/settings')).body;
    const html = await page(op, '/vbp/settings');
    expect(html).to.contain('带量采购参数').and.contain('value="80"').and.contain('value="1.8"').and.contain('value="0.10"');
    await page(await buildUser('pharmacist'), '/vbp/settings', 403);
    const form = {
      minSharePercent: '85', remindHours: '24', followWindowHours: '72', spreadMultiple: '1.8', anchorSharePercent: '50',
      floorOralSolid: '0.10', floorSmallVolume: '1', floorLargeVolume: '2', paceDays: '30', checkpointDays: '90', checkpointSharePercent: '80',
      visibility: 'sealed', backupPrice: 'own_bid',
    };
    const bad = await op.api().post('/vbp/settings').type('form').send({ ...form, spreadMultiple: 'abc', checkpointSharePercent: '120' });
    expect(bad.status).to.equal(400);
    expect(bad.text).to.contain('set-spreadMultiple-error').and.contain('set-checkpointSharePercent-error');
    expect((await op.api().get('/api/v1/vbp/settings')).body).to.deep.equal(before);
    try {
      const ok = await op.api().post('/vbp/settings').type('form').send({ ...form, spreadMultiple: '1.75', floorLargeVolume: '' });
      expect(ok.status).to.equal(303);
      const after = (await op.api().get('/api/v1/vbp/settings')).body;
      expect(after.declaration.minShareOfLastYearBp).to.equal(8500);
      expect(after.tender.selection.spreadMultiple).to.deep.equal({ numerator: 7, denominator: 4 });
      expect(after.tender.selection.anchorMeanShare).to.deep.equal({ numerator: 1, denominator: 2 });
      expect(after.tender.selection.lowPriceFloorFen).to.include({ oral_solid: 10, small_volume_injection: 100, large_volume_injection: null });
      expect(after.completion).to.include({ paceCheckIntervalSec: 30 * 86_400, checkpointShareBp: 8000 });
    } finally {
      await op.api().patch('/api/v1/vbp/settings', { declaration: before.declaration, tender: before.tender, completion: before.completion });
    }
  });

  it('a hospital declares its demand in the browser and later sees its contract progress', async () => {
    const browser = await launchBrowser();
    try {
      const op = await vbpOperator();
      const [drugA, drugB] = await Promise.all([buildVbpDrug({ genericNameZh: `浏览器甲片${tag()}` }), buildVbpDrug({ genericNameZh: `浏览器乙片${tag()}` })]);
      const decl = await openDeclaration([drugA, drugB], { title: `浏览器报量 ${tag()}` });
      const pharmacist = await buildUser('pharmacist');
      const { page, context, errors } = await signIn(browser, pharmacist);
      try {
        await page.click('nav a[href="/vbp"]');
        await page.waitForURL((u) => u.pathname === '/vbp');
        await Promise.all([page.waitForURL((u) => u.pathname === `/vbp/declarations/${decl.id}`), page.click(`a[href="/vbp/declarations/${decl.id}"]`)]);
        expect(await page.textContent('h1')).to.contain('浏览器报量');
        await page.fill(`#ly-${drugA.id}`, '1000');
        await page.fill(`#qty-${drugA.id}`, '700');
        await page.fill(`#qty-${drugB.id}`, '400');
        await Promise.all([page.waitForLoadState('load'), page.click('[data-save-entries]')]);
        expect(await page.textContent(`#reason-${drugA.id}-error`)).to.contain('须说明');
        expect(await page.inputValue(`#qty-${drugA.id}`)).to.equal('700');
        await page.fill(`#reason-${drugA.id}`, '部分患者转用其他剂型');
        await Promise.all([page.waitForURL((u) => u.searchParams.get('flash') === 'declarationSaved'), page.click('[data-save-entries]')]);
        expect(await page.textContent('[data-flash]')).to.contain('申报已保存');
        expect(await page.inputValue(`#qty-${drugA.id}`)).to.equal('700');

        // The operator closes the declaration, tenders drug A, a winner bids; the tender is awarded.
        passTime(decl.deadline);
        const distributor = await buildTradingDistributor();
        const created = await op.api().post('/api/v1/vbp/tenders', {
          title: `浏览器招标 ${tag()}`,
          declarationId: decl.id,
          closesAt: new Date(clockNow().getTime() + 3_600_000).toISOString(),
          lines: [{ drugId: drugA.id, ceilingFen: 500 }],
        });
        expect(created.status).to.equal(201);
        expect((await distributor.api().post(`/api/v1/vbp/tenders/${created.body.id}/bids`, { lineId: created.body.lines[0].id, priceFen: 320 })).status).to.equal(201);
        passTime(created.body.closesAt);
        expect((await op.api().post(`/api/v1/vbp/tenders/${created.body.id}/open`)).body.status).to.equal('awarded');
        const [contract] = await contractsOf(created.body.id);
        expect(contract).to.include({ hospitalOrgId: pharmacist.org.id, agreedQty: 350 });

        // The hospital buys 35 against the contract (through the orders module).
        const placed = await pharmacist.api().post('/api/v1/orders', { lines: [{ drugId: drugA.id, distributorOrgId: distributor.org.id, source: 'contract', refId: contract!.id, quantity: 35 }] });
        expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
        const confirmed = await confirm(distributor, placed.body.data[0].id);
        const { shipment } = await shipAll(distributor, confirmed, [drugA]);
        await track(distributor, confirmed.id, 'delivered');
        expect((await pharmacist.api().post(`/api/v1/orders/${confirmed.id}/acceptance`, { lines: acceptAllLines(shipment) })).status).to.equal(201);
        await until(async () => (await pharmacist.api().get(`/api/v1/vbp/contracts/${contract!.id}`)).body.purchasedQty === 35, 8000, 'purchase');

        await page.goto('/vbp');
        const row = page.locator(`[data-vbp-progress] tr[data-contract-id="${contract!.id}"]`);
        expect(await row.textContent()).to.contain(drugA.genericNameZh).and.contain('10.00%');
        await Promise.all([page.waitForURL((u) => u.pathname === `/vbp/contracts/${contract!.id}`), row.locator('a').click()]);
        expect(await page.textContent('[data-purchased]')).to.contain('35');
        expect(await page.textContent('[data-ratio]')).to.contain('10.00%');
        expect(await page.textContent('[data-agreed]')).to.contain('350');
        await page.goto('/vbp/contracts');
        expect(await page.textContent(`[data-contracts] tr[data-contract-id="${contract!.id}"] [data-ratio]`)).to.contain('10.00%');
        expect(errors).to.deep.equal([]);
      } finally {
        await context.close();
      }
    } finally {
      await browser.close();
    }
  });
});
