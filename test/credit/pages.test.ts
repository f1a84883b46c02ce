import { expect } from 'chai';
import request from 'supertest';
import { takeMissingKeys } from '../../server/platform/i18n';
import { buildTradingDistributor, creditOperator, recordManualBreach, signCommitment } from '../support/credit-factories';
import { buildUser } from '../support/factories';
import { testApp } from '../support/global';

describe('credit: pages', () => {
  it('shows the public credit page to anyone, with grades, sanctions, and the hospital payment sections', async () => {
    const d = await buildTradingDistributor();
    await recordManualBreach(d.org.id, { points: 45 });
    takeMissingKeys();
    const res = await request(testApp().url).get('/credit/public').expect(200);
    expect(res.text).to.contain('信用公示');
    expect(res.text).to.contain(d.org.name);
    expect(res.text).to.contain('暂停报价、竞价及承接新订单');
    expect(res.text).to.contain('医疗机构回款记录');
    const en = await request(testApp().url).get('/credit/public?lang=en').expect(200);
    expect(en.text).to.contain('Public credit record');
    expect(takeMissingKeys()).to.deep.equal([]);
  });

  it("shows a distributor its own credit page with score, breaches, sanctions and the trend chart, and no one else's", async () => {
    const d = await buildTradingDistributor();
    await recordManualBreach(d.org.id, { points: 30, description: '医院投诉：配送延误两天。' });
    takeMissingKeys();
    const res = await d.api().get('/credit/mine').expect(200);
    expect(res.text).to.contain('本企业信用');
    expect(res.text).to.contain('data-score>70<');
    expect(res.text).to.contain('医院投诉：配送延误两天。');
    expect(res.text).to.contain('<polyline');
    expect(res.text).to.contain('提出申诉');
    expect(takeMissingKeys()).to.deep.equal([]);
    const pharmacist = await buildUser('pharmacist');
    await pharmacist.api().get('/credit/mine').expect(403);
    await request(testApp().url).get('/credit/mine').expect(303);
  });

  it('shows the commitment page with the full letter and a sign button, then the signature once signed', async () => {
    const d = await buildUser('distributor');
    await buildTradingDistributor();
    takeMissingKeys();
    const before = await d.api().get('/credit/commitment').expect(200);
    expect(before.text).to.contain('违约惩戒承诺书');
    expect(before.text).to.contain('data-action="commitment-sign"');
    expect(before.text).to.contain(d.org.name);
    const sig = await signCommitment(d);
    const after = await d.api().get('/credit/commitment').expect(200);
    expect(after.text).to.contain(sig.textSha256);
    expect(after.text).not.to.contain('data-action="commitment-sign"');
    expect(takeMissingKeys()).to.deep.equal([]);
  });

  it('shows the operator the management page with appeals, repairs, the catalogue and versions', async () => {
    const op = await creditOperator();
    const d = await buildTradingDistributor();
    const b = await recordManualBreach(d.org.id, { points: 10 });
    await d.api().post(`/api/v1/credit/breaches/${b.id}/appeal`, { statement: '页面测试申诉' }).expect(201);
    takeMissingKeys();
    const res = await op.api().get('/credit').expect(200);
    expect(res.text).to.contain('信用管理');
    expect(res.text).to.contain('页面测试申诉');
    expect(res.text).to.contain('LATE_DELIVERY');
    expect(res.text).to.contain('发布新版本');
    expect(takeMissingKeys()).to.deep.equal([]);
    const en = await op.api().get('/credit?lang=en').expect(200);
    expect(en.text).to.contain('Credit management');
    expect((await d.api().get('/credit/mine?lang=en').expect(200)).text).to.contain('My credit');
    expect((await d.api().get('/credit/commitment?lang=en').expect(200)).text).to.contain('Credit commitment letter');
    expect(takeMissingKeys()).to.deep.equal([]);
    await d.api().get('/credit').expect(403);
  });
});
