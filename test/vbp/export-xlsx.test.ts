import { expect } from 'chai';
import { buildUser } from '../support/factories';
import { buildVbpDrug, declare, openDeclaration, tenderScenario, vbpOperator } from '../support/vbp-factories';
import { downloadXlsx, expectPlainText, expectReadableLayout, header, shanghaiCell } from '../support/xlsx';

const EVIL = '=HYPERLINK("http://evil.example/x","点我")';

describe('vbp: Excel downloads', () => {
  it('exports declarations one row per drug: a hospital its own quantity, the operator the totals; codes as text, a formula-like title as text', async () => {
    const drug = await buildVbpDrug();
    const decl = await openDeclaration([drug], { title: `${EVIL} ${drug.nhsaCode}`, minShareOfLastYearBp: 8000 });
    const [a, b] = await Promise.all([buildUser('pharmacist'), buildUser('pharmacist')]);
    expect((await declare(a, decl.id, [{ drugId: drug.id, quantity: 120 }])).status).to.equal(200);
    expect((await declare(b, decl.id, [{ drugId: drug.id, quantity: 80 }])).status).to.equal(200);

    const mine = await downloadXlsx(a, '/api/v1/vbp/declarations/export.xlsx');
    expectReadableLayout(mine);
    expect(mine.headers).to.include('医保药品编码').and.include('本院年度需求量').and.not.include('合计年度需求量').and.not.include('已申报医院数');
    const row = mine.rows.find((r) => r.get('医保药品编码')!.value === drug.nhsaCode)!;
    expect(row, 'the declared drug').to.exist;
    expectPlainText(row.get('医保药品编码')!, drug.nhsaCode);
    expect(row.get('医保药品编码')!.numFmt).to.equal('@');
    expectPlainText(row.get('名称')!, `'${EVIL} ${drug.nhsaCode}`);
    expect(row.get('本院年度需求量')!.value).to.equal(120);
    expect(row.get('申报量下限（上年用量比例）')!.value).to.equal(0.8);
    expect(row.get('申报量下限（上年用量比例）')!.numFmt).to.equal('0.00%');
    expect(row.get('状态')!.value).to.equal('申报中');
    expect((row.get('申报截止时间')!.value as Date).getTime()).to.be.closeTo(shanghaiCell(decl.deadline).getTime(), 1000);

    const op = await vbpOperator();
    const all = await downloadXlsx(op, '/api/v1/vbp/declarations/export.xlsx?lang=en');
    const code = header('en', 'vbp.export.nhsaCode');
    const total = all.rows.find((r) => r.get(code)!.value === drug.nhsaCode)!;
    expect(total.get('Total annual demand')!.value).to.equal(200);
    expect(total.get('Hospitals declared')!.value).to.equal(2);
    expect(total.get(header('en', 'vbp.export.status'))!.value).to.equal(header('en', 'vbp.declarationStatus.open'));

    const distributor = await buildUser('distributor');
    expect((await distributor.api().get('/api/v1/vbp/declarations/export.xlsx')).status).to.equal(403);
  });

  it('exports contracts with prices and amounts in yuan and term dates; each hospital and winner sees only its own', async () => {
    const s = await tenderScenario({ demands: [100, 100], prices: [100, 120, 300], ceilingFen: 400 });
    expect(s.tender.status).to.equal('awarded');

    const op = await vbpOperator();
    const all = await downloadXlsx(op, `/api/v1/vbp/contracts/export.xlsx?tenderId=${s.tenderId}`);
    expectReadableLayout(all);
    expect(all.headers.slice(0, 3)).to.deep.equal(['协议编号', '招标编号', '药品']);
    expect(all.rows).to.have.length(2);
    for (const r of all.rows) {
      expect(r.get('协议编号')!.value).to.match(/^VBP-C\d{8}-\d{6}$/);
      expect(r.get('协议价（元）')!.numFmt).to.equal('#,##0.00');
      expect(r.get('协议金额（元）')!.value).to.equal(((r.get('协议价（元）')!.value as number) * 100 * (r.get('协议量')!.value as number)) / 100);
      expect(r.get('协议到期')!.numFmt).to.equal('yyyy-mm-dd');
      expect(r.get('状态')!.value).to.equal('执行中');
    }

    const hospital = s.hospitals[0]!;
    const own = await downloadXlsx(hospital, '/api/v1/vbp/contracts/export.xlsx?lang=en');
    expect(own.headers[0]).to.equal(header('en', 'vbp.fields.contractNo'));
    expect(own.rows.map((r) => r.get(header('en', 'vbp.fields.hospital'))!.value)).to.deep.equal([hospital.org.name]);
    const forced = await downloadXlsx(hospital, `/api/v1/vbp/contracts/export.xlsx?hospitalOrgId=${s.hospitals[1]!.org.id}`);
    expect(forced.rows.map((r) => r.get('医院')!.value)).to.deep.equal([hospital.org.name]);

    for (const d of s.distributors) {
      const theirs = await downloadXlsx(d, '/api/v1/vbp/contracts/export.xlsx');
      for (const r of theirs.rows) expect(r.get('中选企业')!.value).to.equal(d.org.name);
    }
  });
});
