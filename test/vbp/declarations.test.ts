import { expect } from 'chai';
import ExcelJS from 'exceljs';
import { Types } from 'mongoose';
import { Declaration, DeclarationEntry } from '../../server/modules/vbp/vbp.model';
import { binaryBody } from '../support/binary';
import { redeliver, withLostDispatch } from '../support/events';
import { buildUser, type TestUser } from '../support/factories';
import { testApp } from '../support/global';
import { acceptAllLines, buildOrderParties, deliveredOrder } from '../support/order-factories';
import { buildVbpDrug, clockNow, declare, openDeclaration, passTime, settled, tag, until, vbpOperator } from '../support/vbp-factories';

const entriesOf = (declarationId: string, hospitalOrgId: string) =>
  DeclarationEntry.countDocuments({ declarationId: new Types.ObjectId(declarationId), hospitalOrgId: new Types.ObjectId(hospitalOrgId) });

async function notificationsOf(u: TestUser, kind: string): Promise<{ title: string; link: string }[]> {
  const res = await u.api().get('/api/v1/notifications?limit=200');
  expect(res.status).to.equal(200);
  return res.body.data.filter((n: { kind: string }) => n.kind === kind);
}

function csv(rows: string[][]): Buffer {
  return Buffer.from(`\uFEFF${rows.map((r) => r.join(',')).join('\n')}\n`, 'utf8');
}

describe('vbp: demand declarations', () => {
  it('opens a declaration for catalogue drugs and tells every pharmacist; refuses bad input and stores nothing', async () => {
    const op = await vbpOperator();
    const [a, b] = await Promise.all([buildVbpDrug(), buildVbpDrug()]);
    const pharmacist = await buildUser('pharmacist');
    const title = `报量 ${tag()}`;
    const decl = await openDeclaration([a, b], { title });
    expect(decl.drugs.map((d) => d.drugId)).to.deep.equal([a.id, b.id]);
    expect(decl).to.include({ title, minShareOfLastYearBp: 8000, open: true });
    const notes = await until(async () => {
      const n = await notificationsOf(pharmacist, 'vbp.declaration_opened');
      return n.some((x) => x.link === `/vbp/declarations/${decl.id}`) ? n : null;
    }, 8000, 'the notification');
    expect(notes.filter((n) => n.link === `/vbp/declarations/${decl.id}`)).to.have.length(1);

    const before = await Declaration.countDocuments({});
    const future = new Date(clockNow().getTime() + 3_600_000).toISOString();
    const bad: [Record<string, unknown>, number, string][] = [
      [{ title: 'x', drugIds: [a.id], deadline: new Date(clockNow().getTime() - 1000).toISOString() }, 400, 'DEADLINE_IN_PAST'],
      [{ title: 'x', drugIds: [new Types.ObjectId().toString()], deadline: future }, 400, 'DRUG_NOT_FOUND'],
      [{ title: 'x', drugIds: [a.id, a.id], deadline: future }, 400, 'DUPLICATE_DRUG'],
      [{ title: 'x', drugIds: [], deadline: future }, 400, 'VALIDATION_FAILED'],
      [{ title: 'x', drugIds: [a.id], deadline: future, extra: 1 }, 400, 'VALIDATION_FAILED'],
      [{ title: 'x', drugIds: [a.id], deadline: future, minShareOfLastYearBp: 12_000 }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [body, status, code] of bad) {
      const res = await op.api().post('/api/v1/vbp/declarations', body);
      expect(res.status, code).to.equal(status);
      expect(res.body.error.code).to.equal(code);
    }
    const forbidden = await pharmacist.api().post('/api/v1/vbp/declarations', { title: 'x', drugIds: [a.id], deadline: future });
    expect(forbidden.status).to.equal(403);
    expect(await Declaration.countDocuments({})).to.equal(before);
  });

  it('needs a reason below 80% of last year, accepts exactly 80%, and stores nothing from a refused batch', async () => {
    const [a, b] = await Promise.all([buildVbpDrug(), buildVbpDrug()]);
    const decl = await openDeclaration([a, b]);
    const h = await buildUser('pharmacist');
    const refused = await declare(h, decl.id, [
      { drugId: a.id, quantity: 800, lastYearQty: 1000 },
      { drugId: b.id, quantity: 799, lastYearQty: 1000 },
    ]);
    expect(refused.status).to.equal(422);
    expect(refused.body.error.code).to.equal('REASON_REQUIRED');
    expect(refused.body.error.details).to.have.length(1);
    expect(refused.body.error.details[0]).to.include({ path: 'entries.1.reason', drugId: b.id });
    expect(await entriesOf(decl.id, h.org.id)).to.equal(0);

    const ok = await declare(h, decl.id, [
      { drugId: a.id, quantity: 800, lastYearQty: 1000 },
      { drugId: b.id, quantity: 799, lastYearQty: 1000, reason: '临床路径调整，用量下降' },
    ]);
    expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
    const mine = Object.fromEntries(ok.body.entries.map((e: { drugId: string }) => [e.drugId, e]));
    expect(mine[a.id]).to.include({ quantity: 800, lastYearQty: 1000, lastYearSource: 'hospital', floorQty: 800, reason: null });
    expect(mine[b.id]).to.include({ quantity: 799, reason: '临床路径调整，用量下降' });

    const revised = await declare(h, decl.id, [{ drugId: a.id, quantity: 1200 }, { drugId: b.id, quantity: 900, lastYearQty: 1000 }]);
    expect(revised.status).to.equal(200);
    expect(revised.body.entries.find((e: { drugId: string }) => e.drugId === b.id)).to.include({ quantity: 900, reason: null });
    const read = await h.api().get(`/api/v1/vbp/declarations/${decl.id}`);
    expect(read.body.mine.find((e: { drugId: string }) => e.drugId === a.id)).to.include({ quantity: 1200, lastYearQty: null, floorQty: null });
    expect(await entriesOf(decl.id, h.org.id)).to.equal(2);
  });

  it('refuses drugs outside the declaration, duplicates, non-distributor brands, bad numbers, other roles and late entries', async () => {
    const [a, other] = await Promise.all([buildVbpDrug(), buildVbpDrug()]);
    const decl = await openDeclaration([a]);
    const h = await buildUser('pharmacist');
    const hospitalAsBrand = await buildUser('pharmacist');
    const cases: [Record<string, unknown>[], number, string][] = [
      [[{ drugId: other.id, quantity: 5 }], 422, 'DRUG_NOT_IN_DECLARATION'],
      [[{ drugId: a.id, quantity: 5 }, { drugId: a.id, quantity: 6 }], 422, 'DUPLICATE_DRUG'],
      [[{ drugId: a.id, quantity: 5, preferredDistributorOrgId: hospitalAsBrand.org.id }], 422, 'NOT_A_DISTRIBUTOR'],
      [[{ drugId: a.id, quantity: -1 }], 400, 'VALIDATION_FAILED'],
      [[{ drugId: a.id, quantity: 1.5 }], 400, 'VALIDATION_FAILED'],
      [[{ drugId: a.id, quantity: '5' }], 400, 'VALIDATION_FAILED'],
      [[{ drugId: a.id, quantity: 5, $where: '1' }], 400, 'VALIDATION_FAILED'],
      [[{ drugId: { $ne: null }, quantity: 5 }], 400, 'VALIDATION_FAILED'],
    ];
    for (const [entries, status, code] of cases) {
      const res = await declare(h, decl.id, entries);
      expect(res.status, code).to.equal(status);
      expect(res.body.error.code).to.equal(code);
    }
    const distributor = await buildUser('distributor');
    expect((await declare(distributor, decl.id, [{ drugId: a.id, quantity: 5 }])).status).to.equal(403);
    expect((await declare(h, new Types.ObjectId().toString(), [{ drugId: a.id, quantity: 5 }])).status).to.equal(404);
    passTime(decl.deadline);
    const late = await declare(h, decl.id, [{ drugId: a.id, quantity: 5 }]);
    expect(late.status).to.equal(422);
    expect(late.body.error.code).to.equal('DECLARATION_CLOSED');
    expect(await entriesOf(decl.id, h.org.id)).to.equal(0);
  });

  it("pre-fills last year's platform purchases, applies the floor to them, and will not let the hospital change them", async () => {
    const parties = await buildOrderParties();
    const drug = parties.drugs[0]!;
    const { order, shipment } = await deliveredOrder(parties, { quantity: 10 });
    const accepted = await parties.pharmacist.api().post(`/api/v1/orders/${order.id}/acceptance`, { lines: acceptAllLines(shipment) });
    expect(accepted.status, JSON.stringify(accepted.body)).to.equal(201);
    const now = clockNow();
    const decl = await openDeclaration([drug], { lastYearFrom: new Date(now.getTime() - 86_400_000), lastYearTo: new Date(now.getTime() + 60_000) });
    // The purchase history is a projection of `orders.accepted`, written just after the acceptance commits.
    const mine = await until(async () => {
      const view = await parties.pharmacist.api().get(`/api/v1/vbp/declarations/${decl.id}`);
      return view.body.mine[0].lastYearQty !== null ? view.body.mine[0] : null;
    }, 8000, 'the purchase history');
    expect(mine).to.include({ drugId: drug.id, quantity: null, lastYearQty: 10, lastYearSource: 'platform', floorQty: 8 });
    const under = await declare(parties.pharmacist, decl.id, [{ drugId: drug.id, quantity: 7 }]);
    expect(under.status).to.equal(422);
    expect(under.body.error.code).to.equal('REASON_REQUIRED');
    const forged = await declare(parties.pharmacist, decl.id, [{ drugId: drug.id, quantity: 7, lastYearQty: 8 }]);
    expect(forged.status).to.equal(422);
    expect(forged.body.error.details.map((d: { code: string }) => d.code)).to.include('LAST_YEAR_FROM_PLATFORM');
    expect(await entriesOf(decl.id, parties.pharmacist.org.id)).to.equal(0);
    const ok = await declare(parties.pharmacist, decl.id, [{ drugId: drug.id, quantity: 8 }]);
    expect(ok.status).to.equal(200);
    expect(ok.body.entries[0]).to.include({ quantity: 8, lastYearQty: 10, lastYearSource: 'platform' });
  });

  it('imports a CSV with a per-row error report and nothing half-imported, then a corrected XLSX', async () => {
    const [a, b] = await Promise.all([buildVbpDrug(), buildVbpDrug()]);
    const decl = await openDeclaration([a, b]);
    const h = await buildUser('pharmacist');
    const template = await h.api().get(`/api/v1/vbp/declarations/${decl.id}/template.csv`).buffer(true).parse(binaryBody);
    expect(template.status).to.equal(200);
    const text = (template.body as Buffer).toString('utf8');
    expect(text).to.contain('医保药品代码,通用名,规格,年度需求量,上年采购量,低于下限的原因').and.contain(a.nhsaCode).and.contain(b.nhsaCode);

    const bad = csv([
      ['医保药品代码', '通用名', '年度需求量', '上年采购量', '低于下限的原因'],
      [a.nhsaCode, '甲', '100', '1000', ''],
      [b.nhsaCode, '乙', 'abc', '', ''],
      ['XX00', '丙', '5', '', ''],
    ]);
    const rejected = await h.api().post(`/api/v1/vbp/declarations/${decl.id}/import`).attach('file', bad, 'demand.csv');
    expect(rejected.status).to.equal(422);
    expect(rejected.body.error.code).to.equal('IMPORT_REJECTED');
    expect(rejected.body.error.details.map((d: { row: number; code: string }) => `${d.row}:${d.code}`)).to.deep.equal(['2:REASON_REQUIRED', '3:INVALID_QUANTITY', '4:DRUG_NOT_IN_DECLARATION']);
    expect(await entriesOf(decl.id, h.org.id)).to.equal(0);

    const badHeader = await h.api().post(`/api/v1/vbp/declarations/${decl.id}/import`).attach('file', csv([['药品', '数量'], ['x', '1']]), 'x.csv');
    expect(badHeader.status).to.equal(400);
    expect(badHeader.body.error.code).to.equal('UNKNOWN_COLUMNS');
    const wrongType = await h.api().post(`/api/v1/vbp/declarations/${decl.id}/import`).attach('file', Buffer.from('hello'), 'x.pdf');
    expect(wrongType.status).to.equal(400);

    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('申报');
    sheet.addRow(['医保药品代码', '年度需求量', '上年采购量', '低于下限的原因']);
    sheet.addRow([a.nhsaCode, 100, 1000, '改用其他剂型']);
    sheet.addRow([b.nhsaCode, 1200, null, null]);
    const xlsx = Buffer.from(await workbook.xlsx.writeBuffer());
    const dry = await h.api().post(`/api/v1/vbp/declarations/${decl.id}/import?dryRun=true`).attach('file', xlsx, 'demand.xlsx');
    expect(dry.status, JSON.stringify(dry.body)).to.equal(200);
    expect(dry.body).to.include({ rows: 2, imported: 0, dryRun: true });
    expect(await entriesOf(decl.id, h.org.id)).to.equal(0);
    const done = await h.api().post(`/api/v1/vbp/declarations/${decl.id}/import`).attach('file', xlsx, 'demand.xlsx');
    expect(done.status).to.equal(200);
    expect(done.body).to.include({ rows: 2, imported: 2, dryRun: false });
    const read = await h.api().get(`/api/v1/vbp/declarations/${decl.id}`);
    expect(read.body.mine.map((e: { quantity: number }) => e.quantity)).to.deep.equal([100, 1200]);
  });

  it('shows the operator totals per drug and the hospitals still missing, and reminds them once a day', async () => {
    const op = await vbpOperator();
    const [a, b] = await Promise.all([buildVbpDrug(), buildVbpDrug()]);
    const decl = await openDeclaration([a, b]);
    const [full, part, none] = await Promise.all([buildUser('pharmacist'), buildUser('pharmacist'), buildUser('pharmacist')]);
    expect((await declare(full, decl.id, [{ drugId: a.id, quantity: 300 }, { drugId: b.id, quantity: 40, lastYearQty: 100, reason: '需求减少' }])).status).to.equal(200);
    expect((await declare(part, decl.id, [{ drugId: a.id, quantity: 200 }])).status).to.equal(200);
    const summary = await op.api().get(`/api/v1/vbp/declarations/${decl.id}/summary`);
    expect(summary.status).to.equal(200);
    const byDrug = Object.fromEntries(summary.body.drugs.map((d: { drugId: string }) => [d.drugId, d]));
    expect(byDrug[a.id]).to.include({ hospitals: 2, totalQty: 500, belowFloor: 0 });
    expect(byDrug[b.id]).to.include({ hospitals: 1, totalQty: 40, lastYearQty: 100, belowFloor: 1 });
    expect(summary.body.missing.map((m: { orgId: string }) => m.orgId)).to.include(none.org.id).and.not.include(full.org.id).and.not.include(part.org.id);
    expect(summary.body.partial.map((m: { orgId: string }) => m.orgId)).to.deep.include(part.org.id);
    expect((await full.api().get(`/api/v1/vbp/declarations/${decl.id}/summary`)).status).to.equal(403);

    const remind = await op.api().post(`/api/v1/vbp/declarations/${decl.id}/remind`);
    expect(remind.status).to.equal(200);
    expect(remind.body.hospitals).to.be.at.least(2);
    await settled();
    expect(await notificationsOf(none, 'vbp.declaration_reminder')).to.have.length(1);
    expect(await notificationsOf(part, 'vbp.declaration_reminder')).to.have.length(1);
    expect(await notificationsOf(full, 'vbp.declaration_reminder')).to.have.length(0);
    expect((await op.api().post(`/api/v1/vbp/declarations/${decl.id}/remind`)).status).to.equal(200);
    await settled();
    expect(await notificationsOf(none, 'vbp.declaration_reminder')).to.have.length(1);
    expect(await notificationsOf(part, 'vbp.declaration_reminder')).to.have.length(1);
  });

  it('keeps each hospital to its own entries', async () => {
    const a = await buildVbpDrug();
    const decl = await openDeclaration([a]);
    const [h1, h2] = await Promise.all([buildUser('pharmacist'), buildUser('pharmacist')]);
    await declare(h1, decl.id, [{ drugId: a.id, quantity: 321 }]);
    const other = await h2.api().get(`/api/v1/vbp/declarations/${decl.id}`);
    expect(other.status).to.equal(200);
    expect(other.body.mine[0].quantity).to.equal(null);
    expect(JSON.stringify(other.body)).not.to.match(/:\s*321\b/);
    const bank = await buildUser('bank_officer');
    expect((await bank.api().get(`/api/v1/vbp/declarations/${decl.id}`)).status).to.equal(403);
  });

  it('tells pharmacists of a new declaration and schedules its reminder once, even when the dispatch after its commit was lost', async () => {
    const op = await vbpOperator();
    const drug = await buildVbpDrug();
    const pharmacist = await buildUser('pharmacist');
    const res = await withLostDispatch(() =>
      op.api().post('/api/v1/vbp/declarations', { title: `丢失派发 ${tag()}`, drugIds: [drug.id], deadline: new Date(clockNow().getTime() + 2 * 3_600_000).toISOString(), remindBeforeDeadlineSec: 3600 }),
    );
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const link = `/vbp/declarations/${res.body.id}`;
    const notes = async () => (await notificationsOf(pharmacist, 'vbp.declaration_opened')).filter((n) => n.link === link);
    const { queues } = testApp().platform;
    await settled();
    expect(await notes()).to.have.length(0);
    expect(await queues.getJob(`vbp-declaration-remind:${res.body.id}`)).to.equal(undefined);

    await redeliver();
    expect(await notes()).to.have.length(1);
    const job = await queues.getJob(`vbp-declaration-remind:${res.body.id}`);
    expect(job?.data).to.deep.equal({ declarationId: res.body.id });

    await redeliver();
    expect(await notes()).to.have.length(1);
    expect((await queues.getJob(`vbp-declaration-remind:${res.body.id}`))?.timestamp).to.equal(job!.timestamp);
  });

  it('reminds the missing hospitals once, even when the dispatch after the reminder was lost', async () => {
    const op = await vbpOperator();
    const drug = await buildVbpDrug();
    const decl = await openDeclaration([drug]);
    const missing = await buildUser('pharmacist');
    const remind = await withLostDispatch(() => op.api().post(`/api/v1/vbp/declarations/${decl.id}/remind`));
    expect(remind.status).to.equal(200);
    const notes = async () => (await notificationsOf(missing, 'vbp.declaration_reminder')).filter((n) => n.link === `/vbp/declarations/${decl.id}`);
    await settled();
    expect(await notes()).to.have.length(0);
    await redeliver();
    expect(await notes()).to.have.length(1);
    await redeliver();
    expect(await notes()).to.have.length(1);
  });
});
