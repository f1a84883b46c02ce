import { expect } from 'chai';
import ExcelJS from 'exceljs';
import { Types } from 'mongoose';
import { createLogger } from '../../server/platform/logger';
import { codeProblems } from '../../server/modules/catalogue/catalogue.service';
import { seedDemoCatalogue } from '../../server/modules/catalogue/catalogue.demo';
import { currentReferencePriceFen, DEMO_DRUGS, demoDrugFields, Drug, getDrug, getDrugs, ReferencePrice } from '../../server/modules/catalogue';
import { AuditEntry } from '../../server/platform/audit-log';
import { renderMessage, type Message } from '../../server/platform/messages';
import { trusted } from '../../server/platform/mongo';
import { binaryBody } from '../support/binary';
import { buildUser } from '../support/factories';
import { testClock } from '../support/global';
import { buildDrug, catalogueOperator, drugBody, uniqueDrugCodes } from '../support/quotation-factories';

const csvHeader = '通用名,英文名,剂型,剂型类别,规格,包装单位,生产企业,医保药品代码,本位码,GTIN,追溯码前缀,类别,参考价（元）,生效日期';

function csvRow(name: string, codes = uniqueDrugCodes(), price = '12.50'): string {
  return [name, `${name} EN`, '片剂', '口服固体', '10mg×50片', '盒', '导入测试制药', codes.nhsaCode, codes.standardCode, codes.gtin, codes.tracePrefix, '短缺、常规', price, '2026-01-01'].join(',');
}

describe('catalogue', () => {
  it('adds a drug with valid codes and a reference price, and serves it in the contract shape', async () => {
    const op = await catalogueOperator();
    const body = drugBody({ genericNameZh: '注射用尿激酶', genericNameEn: 'Urokinase for Injection', specification: '100,000 单位', referencePriceFen: 289_000 });
    const res = await op.api().post('/api/v1/catalogue/drugs', body);
    expect(res.status).to.equal(201);
    expect(res.body).to.include({ genericNameZh: '注射用尿激酶', referencePriceFen: 289_000, nhsaCode: body.nhsaCode });
    const drug = await getDrug(res.body.id);
    expect(drug).to.include({ genericNameZh: '注射用尿激酶', formClass: 'small_volume_injection', tracePrefix: body.tracePrefix, standardCode: body.standardCode });
    expect(drug!.categories).to.deep.equal({ shortage: true, vbp: false, regular: false });
    expect(String(drug!._id)).to.equal(res.body.id);
    expect(await getDrug('not-an-id')).to.equal(null);
    const many = await getDrugs([res.body.id, new Types.ObjectId().toString()]);
    expect(many.map((d) => String(d._id))).to.deep.equal([res.body.id]);
    const read = await op.api().get(`/api/v1/catalogue/drugs/${res.body.id}`);
    expect(read.status).to.equal(200);
    expect(read.body.referencePriceFen).to.equal(289_000);
  });

  it('refuses every malformed code with a 400 naming the field, and stores nothing', async () => {
    const op = await catalogueOperator();
    const cases: [string, Record<string, unknown>, string][] = [
      ['nhsaCode', { nhsaCode: 'XA01AB' }, 'INVALID_NHSA_DRUG_CODE'],
      ['standardCode', { standardCode: '86900483000018' }, 'INVALID_DRUG_STANDARD_CODE'],
      ['gtin', { gtin: '6901234567890' }, 'INVALID_GTIN'],
      ['tracePrefix', { tracePrefix: '12345' }, 'INVALID_TRACE_PREFIX'],
    ];
    for (const [field, patch, code] of cases) {
      const body = { ...drugBody(), ...patch };
      const res = await op.api().post('/api/v1/catalogue/drugs', body);
      expect(res.status, field).to.equal(400);
      expect(res.body.error.code).to.equal(code);
      expect(res.body.error.details.map((d: { path: string }) => d.path)).to.include(field);
      expect(await Drug.countDocuments({ nhsaCode: String(body.nhsaCode) })).to.equal(0);
    }
    const mismatch = drugBody();
    mismatch.standardCode = uniqueDrugCodes().standardCode;
    const res = await op.api().post('/api/v1/catalogue/drugs', mismatch);
    expect(res.status).to.equal(400);
    expect(res.body.error.code).to.equal('ENTERPRISE_CODE_MISMATCH');
    const unknown = await op.api().post('/api/v1/catalogue/drugs', { ...drugBody(), extra: 1 });
    expect(unknown.status).to.equal(400);
    const noCategory = await op.api().post('/api/v1/catalogue/drugs', { ...drugBody(), categories: { shortage: false } });
    expect(noCategory.status).to.equal(400);
    const badPrice = await op.api().post('/api/v1/catalogue/drugs', { ...drugBody(), referencePriceFen: 12.5 });
    expect(badPrice.status).to.equal(400);
    expect(await Drug.countDocuments({ nhsaCode: String(mismatch.nhsaCode) })).to.equal(0);
  });

  it('refuses duplicate codes with a 409 and keeps the first drug unchanged', async () => {
    const op = await catalogueOperator();
    const first = await buildDrug();
    for (const field of ['nhsaCode', 'standardCode', 'gtin', 'tracePrefix'] as const) {
      const body = drugBody();
      if (field === 'nhsaCode' || field === 'standardCode') {
        body.nhsaCode = first.nhsaCode;
        body.standardCode = first.standardCode;
        if (field === 'standardCode') {
          body.nhsaCode = `${first.nhsaCode.slice(0, 6)}D999${first.nhsaCode.slice(10)}`;
        }
      } else body[field] = first[field];
      const res = await op.api().post('/api/v1/catalogue/drugs', body);
      expect(res.status, field).to.equal(409);
      expect(res.body.error.code).to.equal('DUPLICATE_CODE');
      expect(await Drug.countDocuments({ tracePrefix: String(body.tracePrefix) })).to.equal(field === 'tracePrefix' ? 1 : 0);
    }
  });

  it('keeps effective-dated reference prices and answers the price in force at any time', async () => {
    const op = await catalogueOperator();
    const jan = new Date('2026-01-01T00:00:00+08:00');
    const mar = new Date('2026-03-01T00:00:00+08:00');
    const drug = await buildDrug({ referencePriceFen: 300_000, effectiveFrom: jan });
    const add = await op.api().post(`/api/v1/catalogue/drugs/${drug.id}/reference-prices`, { priceFen: 289_000, effectiveFrom: mar.toISOString(), note: '2026 调价' });
    expect(add.status).to.equal(201);
    expect(add.body.data.map((p: { priceFen: number }) => p.priceFen)).to.deep.equal([289_000, 300_000]);
    expect(add.body.data[1].effectiveTo).to.equal(mar.toISOString());
    expect(await currentReferencePriceFen(drug.id, new Date('2025-12-31T00:00:00+08:00'))).to.equal(null);
    expect(await currentReferencePriceFen(drug.id, new Date('2026-02-01T00:00:00+08:00'))).to.equal(300_000);
    expect(await currentReferencePriceFen(drug.id, mar)).to.equal(289_000);
    const dup = await op.api().post(`/api/v1/catalogue/drugs/${drug.id}/reference-prices`, { priceFen: 1, effectiveFrom: mar.toISOString() });
    expect(dup.status).to.equal(409);
    const zero = await op.api().post(`/api/v1/catalogue/drugs/${drug.id}/reference-prices`, { priceFen: 0, effectiveFrom: jan.toISOString() });
    expect(zero.status).to.equal(400);
    expect(await ReferencePrice.countDocuments({ drugId: new Types.ObjectId(drug.id) })).to.equal(2);
    const missing = await op.api().post(`/api/v1/catalogue/drugs/${new Types.ObjectId()}/reference-prices`, { priceFen: 100, effectiveFrom: jan.toISOString() });
    expect(missing.status).to.equal(404);
  });

  it('searches by Chinese or English substring, code prefix, dosage form and category', async () => {
    const tag = `检索${Date.now() % 100000}`;
    const a = await buildDrug({ genericNameZh: `${tag}甲片`, genericNameEn: `Searchable Alpha ${tag}`, dosageForm: '片剂', formClass: 'oral_solid', categories: { shortage: true } });
    const b = await buildDrug({ genericNameZh: `${tag}乙注射液`, genericNameEn: `Searchable Beta ${tag}`, categories: { shortage: false, vbp: true } });
    const pharmacist = await buildUser('pharmacist');
    const api = pharmacist.api();
    const ids = (res: { body: { data: { id: string }[] } }) => res.body.data.map((d) => d.id);
    expect(ids(await api.get(`/api/v1/catalogue/drugs?q=${encodeURIComponent(tag)}`))).to.have.members([a.id, b.id]);
    expect(ids(await api.get(`/api/v1/catalogue/drugs?q=${encodeURIComponent('乙注射')}`))).to.include(b.id).and.not.include(a.id);
    expect(ids(await api.get(`/api/v1/catalogue/drugs?q=${encodeURIComponent(`searchable alpha ${tag}`)}`))).to.deep.equal([a.id]);
    expect(ids(await api.get(`/api/v1/catalogue/drugs?code=${a.standardCode.slice(0, 12)}`))).to.include(a.id);
    expect(ids(await api.get(`/api/v1/catalogue/drugs?code=${a.nhsaCode.toLowerCase()}`))).to.deep.equal([a.id]);
    expect(ids(await api.get(`/api/v1/catalogue/drugs?q=${encodeURIComponent(tag)}&dosageForm=${encodeURIComponent('片剂')}`))).to.deep.equal([a.id]);
    expect(ids(await api.get(`/api/v1/catalogue/drugs?q=${encodeURIComponent(tag)}&category=vbp`))).to.deep.equal([b.id]);
    expect(ids(await api.get(`/api/v1/catalogue/drugs?q=${encodeURIComponent('.*')}`))).to.deep.equal([]);
    const page1 = await api.get(`/api/v1/catalogue/drugs?q=${encodeURIComponent(tag)}&limit=1`);
    expect(page1.body.data).to.have.length(1);
    const page2 = await api.get(`/api/v1/catalogue/drugs?q=${encodeURIComponent(tag)}&limit=1&cursor=${page1.body.nextCursor}`);
    expect(page2.body.data).to.have.length(1);
    expect(page2.body.data[0].id).to.not.equal(page1.body.data[0].id);
    expect((await api.get('/api/v1/catalogue/drugs?category=nope')).status).to.equal(400);
    expect((await api.post('/api/v1/catalogue/drugs', drugBody())).status).to.equal(403);
  });

  it('imports a CSV file all at once, and a file with any bad row imports nothing and reports every bad row', async () => {
    const op = await catalogueOperator();
    const tag = `导入${Date.now() % 100000}`;
    const good = [csvHeader, csvRow(`${tag}A`), csvRow(`${tag}B`)].join('\n');
    const dry = await op.api().post('/api/v1/catalogue/import?dryRun=true').attach('file', Buffer.from(good), 'drugs.csv');
    expect(dry.status).to.equal(200);
    expect(dry.body).to.include({ rows: 2, imported: 0, dryRun: true });
    expect(await Drug.countDocuments({ genericNameZh: `${tag}A` })).to.equal(0);
    const ok = await op.api().post('/api/v1/catalogue/import').attach('file', Buffer.from(`\uFEFF${good}`), 'drugs.csv');
    expect(ok.status).to.equal(200);
    expect(ok.body).to.include({ rows: 2, imported: 2 });
    const imported = await Drug.findOne({ genericNameZh: `${tag}A` }).lean<{ _id: Types.ObjectId; categories: { shortage: boolean; regular: boolean }; formClass: string }>();
    expect(imported!.formClass).to.equal('oral_solid');
    expect(imported!.categories).to.include({ shortage: true, regular: true });
    expect(await currentReferencePriceFen(imported!._id, testClock.now())).to.equal(1250);

    const existing = await buildDrug();
    const dupCodes = uniqueDrugCodes();
    const bad = [
      csvHeader,
      csvRow(`${tag}C`),
      csvRow(`${tag}D`, { ...uniqueDrugCodes(), nhsaCode: 'BAD' }),
      csvRow(`${tag}E`, dupCodes),
      csvRow(`${tag}F`, { ...uniqueDrugCodes(), tracePrefix: dupCodes.tracePrefix }),
      csvRow(`${tag}G`, { ...uniqueDrugCodes(), gtin: existing.gtin! }),
      csvRow(`${tag}H`, uniqueDrugCodes(), '-5'),
    ].join('\n');
    const rejected = await op.api().post('/api/v1/catalogue/import').attach('file', Buffer.from(bad), 'drugs.csv');
    expect(rejected.status).to.equal(422);
    expect(rejected.body.error.code).to.equal('IMPORT_REJECTED');
    const byRow = (row: number) => rejected.body.error.details.filter((d: { row: number }) => d.row === row).map((d: { code: string }) => d.code);
    expect(byRow(3)).to.include('INVALID_NHSA_DRUG_CODE');
    expect(byRow(5)).to.include('DUPLICATE_IN_FILE');
    expect(byRow(6)).to.include('DUPLICATE_CODE');
    expect(byRow(7)).to.include('INVALID_AMOUNT');
    expect(byRow(2)).to.deep.equal([]);
    expect(await Drug.countDocuments({ genericNameZh: `${tag}C` })).to.equal(0);
    expect(await Drug.countDocuments({ genericNameZh: `${tag}E` })).to.equal(0);

    const noFile = await op.api().post('/api/v1/catalogue/import');
    expect(noFile.status).to.equal(400);
    const wrongType = await op.api().post('/api/v1/catalogue/import').attach('file', Buffer.from('x'), 'drugs.pdf');
    expect(wrongType.body.error.code).to.equal('UNSUPPORTED_FILE');
    const badHeader = await op.api().post('/api/v1/catalogue/import').attach('file', Buffer.from('foo,bar\n1,2'), 'drugs.csv');
    expect(badHeader.body.error.code).to.equal('UNKNOWN_COLUMNS');
    const pharmacist = await buildUser('pharmacist');
    const forbidden = await pharmacist.api().post('/api/v1/catalogue/import').attach('file', Buffer.from(good), 'drugs.csv');
    expect(forbidden.status).to.equal(403);
  });

  it('commits a drug, a change, a reference price and a whole import each with one audit entry worded in Chinese and English; a refused import writes none', async () => {
    const op = await catalogueOperator();
    const audits = (filter: Record<string, unknown>) => AuditEntry.find(filter).sort({ at: 1, _id: 1 }).lean<{ action: string; summary: Message; actorName: string }[]>();
    const created = await op.api().post('/api/v1/catalogue/drugs', drugBody({ genericNameZh: '审计测试注射液', genericNameEn: 'Audit Test Injection' })).expect(201);
    await op.api().patch(`/api/v1/catalogue/drugs/${created.body.id}`, { packUnit: '瓶', manufacturer: '审计制药' }).expect(200);
    await op.api().post(`/api/v1/catalogue/drugs/${created.body.id}/reference-prices`, { priceFen: 123_450, effectiveFrom: '2026-03-01T00:00:00+08:00' }).expect(201);
    const drugAudits = await audits({ targetType: 'drug', targetId: created.body.id });
    expect(drugAudits.map((a) => a.action)).to.deep.equal(['catalogue.drug.create', 'catalogue.drug.update', 'catalogue.reference_price.add']);
    expect(drugAudits.every((a) => a.actorName === op.name)).to.equal(true);
    expect(renderMessage('zh', drugAudits[1]!.summary)).to.equal('修改药品 审计测试注射液：packUnit、manufacturer');
    expect(renderMessage('en', drugAudits[1]!.summary)).to.equal('Changed Audit Test Injection: packUnit, manufacturer');
    expect(renderMessage('zh', drugAudits[2]!.summary)).to.contain('1,234.50');
    for (const a of drugAudits) for (const lang of ['zh', 'en'] as const) expect(renderMessage(lang, a.summary), `${a.action} ${lang}`).to.not.match(/\{\w+\}|^catalogue\./);

    const tag = `审计${Date.now() % 100000}`;
    const file = `audit-${tag}.csv`;
    const imports = () => audits({ action: 'catalogue.import', 'summary.params.file': file });
    const refused = await op.api().post('/api/v1/catalogue/import').attach('file', Buffer.from([csvHeader, csvRow(`${tag}A`), csvRow(`${tag}B`, { ...uniqueDrugCodes(), nhsaCode: 'BAD' })].join('\n')), file);
    expect(refused.status).to.equal(422);
    await op.api().post('/api/v1/catalogue/import?dryRun=true').attach('file', Buffer.from([csvHeader, csvRow(`${tag}A`)].join('\n')), file).expect(200);
    expect(await imports(), 'a refused or dry-run import leaves no entry').to.have.length(0);
    await op.api().post('/api/v1/catalogue/import').attach('file', Buffer.from([csvHeader, csvRow(`${tag}A`), csvRow(`${tag}B`), csvRow(`${tag}C`)].join('\n')), file).expect(200);
    const entries = await imports();
    expect(entries).to.have.length(1);
    expect(renderMessage('zh', entries[0]!.summary)).to.equal(`从 ${file} 导入 3 个药品`);
    expect(renderMessage('en', entries[0]!.summary)).to.equal(`Imported 3 drugs from ${file}`);
    expect(await Drug.countDocuments({ genericNameZh: trusted({ $in: [`${tag}A`, `${tag}B`, `${tag}C`] }) })).to.equal(3);
  });

  it('exports CSV and XLSX that import back (XLSX import round trip)', async () => {
    const op = await catalogueOperator();
    const tag = `导出${Date.now() % 100000}`;
    const drug = await buildDrug({ genericNameZh: `${tag}丙片`, referencePriceFen: 289_000 });
    const csv = await op.api().get(`/api/v1/catalogue/export?format=csv&q=${encodeURIComponent(tag)}`).buffer(true).parse(binaryBody);
    expect(csv.status).to.equal(200);
    expect(csv.headers['content-type']).to.match(/text\/csv/);
    const text = (csv.body as Buffer).toString('utf8');
    expect(text.startsWith('\uFEFF通用名')).to.equal(true);
    expect(text).to.include(`${tag}丙片`).and.include(drug.nhsaCode).and.include('2890.00');

    const xlsx = await op.api().get(`/api/v1/catalogue/export?format=xlsx&q=${encodeURIComponent(tag)}`).buffer(true).parse(binaryBody);
    expect(xlsx.status).to.equal(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.body as never);
    const sheet = wb.worksheets[0]!;
    expect(sheet.getRow(1).getCell(1).value).to.equal('通用名');
    expect(sheet.getRow(2).getCell(8).value).to.equal(drug.nhsaCode);

    // Change the codes and name, then import the workbook back.
    const codes = uniqueDrugCodes();
    const row = sheet.getRow(2);
    row.getCell(1).value = `${tag}丁片`;
    row.getCell(8).value = codes.nhsaCode;
    row.getCell(9).value = codes.standardCode;
    row.getCell(10).value = codes.gtin;
    row.getCell(11).value = codes.tracePrefix;
    const again = await op.api().post('/api/v1/catalogue/import').attach('file', Buffer.from(await wb.xlsx.writeBuffer()), 'back.xlsx');
    expect(again.status, JSON.stringify(again.body)).to.equal(200);
    expect(again.body.imported).to.equal(1);
    expect(await Drug.countDocuments({ genericNameZh: `${tag}丁片`, nhsaCode: codes.nhsaCode })).to.equal(1);
  });

  it('seeds a demo catalogue of valid drugs including urokinase at ¥2,890.00, once', async () => {
    for (const [i, d] of DEMO_DRUGS.entries()) {
      expect(codeProblems(demoDrugFields(d, i)), d.zh).to.deep.equal([]);
    }
    const logger = createLogger('silent', 'test');
    await seedDemoCatalogue(logger);
    await seedDemoCatalogue(logger);
    expect(DEMO_DRUGS.length).to.be.at.least(30);
    expect(await Drug.countDocuments({ demoKey: 'demo:urokinase' })).to.equal(1);
    const urokinase = await Drug.findOne({ demoKey: 'demo:urokinase' }).lean<{ _id: Types.ObjectId; specification: string }>();
    expect(urokinase!.specification).to.equal('100,000 单位');
    expect(await currentReferencePriceFen(urokinase!._id, testClock.now())).to.equal(289_000);
  });

  it('renders the catalogue pages with filters, a drug page with its price history, and refuses bad form input next to the field', async () => {
    const op = await catalogueOperator();
    const tag = `页面${Date.now() % 100000}`;
    const drug = await buildDrug({ genericNameZh: `${tag}戊片` });
    const list = await op.api().get(`/catalogue?q=${encodeURIComponent(tag)}`);
    expect(list.status).to.equal(200);
    expect(list.text).to.include(`${tag}戊片`).and.include('¥2,890.00').and.include('data-import-form');
    const empty = await op.api().get(`/catalogue?q=${encodeURIComponent('不存在的药品名称xyz')}`);
    expect(empty.text).to.include('没有符合条件的药品');
    const detail = await op.api().get(`/catalogue/${drug.id}`);
    expect(detail.status).to.equal(200);
    expect(detail.text).to.include(drug.nhsaCode).and.include('参考价历史');
    const pharmacist = await buildUser('pharmacist');
    const readOnly = await pharmacist.api().get('/catalogue');
    expect(readOnly.status).to.equal(200);
    expect(readOnly.text).to.not.include('data-import-form');
    const codes = uniqueDrugCodes();
    const before = await Drug.countDocuments({});
    const bad = await op
      .api()
      .post('/catalogue/new')
      .type('form')
      .send({ genericNameZh: '表单药', genericNameEn: 'Form drug', dosageForm: '片剂', formClass: 'oral_solid', specification: '1mg', packUnit: '盒', manufacturer: '某厂', nhsaCode: 'XX', standardCode: codes.standardCode, tracePrefix: codes.tracePrefix, categories: 'shortage', referencePrice: '12.345' });
    expect(bad.status).to.equal(400);
    expect(bad.text).to.include('drug-referencePrice-error');
    expect(await Drug.countDocuments({})).to.equal(before);
  });
});
