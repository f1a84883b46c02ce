import { expect } from 'chai';
import { buildTradingDistributor } from '../support/credit-factories';
import { vbpModule } from '../../server/modules/vbp';
import { Declaration, type DeclarationDoc } from '../../server/modules/vbp/vbp.model';
import { AuditEntry } from '../../server/platform/audit-log';
import { buildUser, type TestUser } from '../support/factories';
import { testApp } from '../support/global';
import { buildVbpDrug, clockNow, declare, openDeclaration, passTime, settled, tag, until, vbpOperator } from '../support/vbp-factories';

async function notificationsOf(u: TestUser, kind: string) {
  const res = await u.api().get('/api/v1/notifications?limit=200');
  return res.body.data.filter((n: { kind: string }) => n.kind === kind) as { title: string; link: string }[];
}

describe('vbp: settings, reminders and per-tender rules', function () {
  this.timeout(30_000);

  it('lets only the operator change the VBP defaults, validates the whole result, and new tenders copy them', async () => {
    const op = await vbpOperator();
    const before = (await op.api().get('/api/v1/vbp/settings')).body;
    expect(before.declaration.minShareOfLastYearBp).to.equal(8000);
    expect(before.tender.selection.spreadMultiple).to.deep.equal({ numerator: 18, denominator: 10 });
    expect(before.completion).to.include({ checkpointShareBp: 8000 });
    const pharmacist = await buildUser('pharmacist');
    expect((await pharmacist.api().get('/api/v1/vbp/settings')).status).to.equal(403);
    expect((await pharmacist.api().patch('/api/v1/vbp/settings', { declaration: { minShareOfLastYearBp: 5000 } })).status).to.equal(403);
    for (const bad of [{ declaration: { minShareOfLastYearBp: 10_001 } }, { tender: { followWindowSec: 0 } }, { tender: { selection: { shortlistByBidderCount: [] } } }, { ocds: { ocidPrefix: 'nope' } }, { other: {} }]) {
      const res = await op.api().patch('/api/v1/vbp/settings', bad);
      expect(res.status, JSON.stringify(bad)).to.equal(400);
    }
    expect((await op.api().get('/api/v1/vbp/settings')).body).to.deep.equal(before);
    try {
      const changed = await op.api().patch('/api/v1/vbp/settings', { declaration: { minShareOfLastYearBp: 9000 }, tender: { visibility: 'rank', followWindowSec: 600 } });
      expect(changed.status).to.equal(200);
      const drug = await buildVbpDrug();
      const decl = await openDeclaration([drug]);
      expect(decl).to.include({ minShareOfLastYearBp: 9000 });
      const h = await buildUser('pharmacist');
      const under = await declare(h, decl.id, [{ drugId: drug.id, quantity: 89, lastYearQty: 100 }]);
      expect(under.body.error?.code).to.equal('REASON_REQUIRED');
      expect((await declare(h, decl.id, [{ drugId: drug.id, quantity: 90, lastYearQty: 100 }])).status).to.equal(200);
      passTime(decl.deadline);
      const t = await op.api().post('/api/v1/vbp/tenders', { title: `默认 ${tag()}`, declarationId: decl.id, closesAt: new Date(clockNow().getTime() + 3_600_000).toISOString(), lines: [{ drugId: drug.id, ceilingFen: 100 }] });
      expect(t.body).to.include({ visibility: 'rank', followWindowSec: 600 });
    } finally {
      await op.api().patch('/api/v1/vbp/settings', { declaration: before.declaration, tender: before.tender });
    }
  });

  it('reminds hospitals that have not declared before the deadline by a scheduled job, and not after it', async () => {
    const op = await vbpOperator();
    const drug = await buildVbpDrug();
    const [done, missing] = await Promise.all([buildUser('pharmacist'), buildUser('pharmacist')]);
    const res = await op.api().post('/api/v1/vbp/declarations', {
      title: `提醒 ${tag()}`,
      drugIds: [drug.id],
      deadline: new Date(clockNow().getTime() + 3_600_000 + 1500).toISOString(),
      remindBeforeDeadlineSec: 3600,
    });
    expect(res.status).to.equal(201);
    expect((await declare(done, res.body.id, [{ drugId: drug.id, quantity: 10 }])).status).to.equal(200);
    const job = await until(() => testApp().platform.queues.getJob(`vbp-declaration-remind:${res.body.id}`), 8000, 'the reminder job');
    expect(job?.name).to.equal('vbp.declaration.remind');
    const notes = await until(async () => {
      const n = await notificationsOf(missing, 'vbp.declaration_reminder');
      return n.length ? n : null;
    }, 8000, 'the reminder');
    expect(notes[0]!.link).to.equal(`/vbp/declarations/${res.body.id}`);
    expect(await notificationsOf(done, 'vbp.declaration_reminder')).to.have.length(0);
    passTime(res.body.deadline);
    const late = await op.api().post(`/api/v1/vbp/declarations/${res.body.id}/remind`);
    expect(late.status).to.equal(422);
    expect(late.body.error.code).to.equal('DECLARATION_CLOSED');
  });

  it('applies the per-tender few-bidders rule with the other lines\' average drop', async () => {
    const op = await vbpOperator();
    const [many, few] = await Promise.all([buildVbpDrug(), buildVbpDrug()]);
    const h = await buildUser('pharmacist');
    const decl = await openDeclaration([many, few]);
    expect((await declare(h, decl.id, [{ drugId: many.id, quantity: 100 }, { drugId: few.id, quantity: 100 }])).status).to.equal(200);
    passTime(decl.deadline);
    const distributors = [await buildTradingDistributor(), ...(await Promise.all([buildTradingDistributor(), buildTradingDistributor()]))];
    const created = await op.api().post('/api/v1/vbp/tenders', {
      title: `规则 ${tag()}`,
      declarationId: decl.id,
      closesAt: new Date(clockNow().getTime() + 3_600_000).toISOString(),
      useFewBiddersRule: true,
      lines: [{ drugId: many.id, ceilingFen: 1000 }, { drugId: few.id, ceilingFen: 1000 }],
    });
    expect(created.status).to.equal(201);
    const [manyLine, fewLine] = created.body.lines.map((l: { id: string }) => l.id);
    // Line "many": 3 bidders at 400, 450, 900 → 400 and 450 win directly: drops 60% and 55%, average 57.5%.
    for (const [d, price] of [[0, 400], [1, 450], [2, 900]] as const) {
      expect((await distributors[d]!.api().post(`/api/v1/vbp/tenders/${created.body.id}/bids`, { lineId: manyLine, priceFen: price })).status).to.equal(201);
    }
    // Line "few": one bidder at 720 — a 28% drop, under half of 57.5% (28.75%): it does not win.
    expect((await distributors[0]!.api().post(`/api/v1/vbp/tenders/${created.body.id}/bids`, { lineId: fewLine, priceFen: 720 })).status).to.equal(201);
    passTime(created.body.closesAt);
    const opened = (await op.api().post(`/api/v1/vbp/tenders/${created.body.id}/open`)).body;
    expect(opened.status).to.equal('awarded');
    const fewResult = opened.lines[1];
    expect(fewResult.stats).to.include({ usedFewBiddersRule: true, winnerCount: 0 });
    expect(fewResult.bids[0].reasons.map((r: { code: string }) => r.code)).to.deep.equal(['DROP_INSUFFICIENT', 'NO_DIRECT_WINNER']);
    expect(opened.lines[0].stats).to.include({ usedFewBiddersRule: false, winnerCount: 2 });
  });

  it('sends a reminder whose job was lost by the sweep once it is due, exactly once', async () => {
    const op = await vbpOperator();
    const drug = await buildVbpDrug();
    const missing = await buildUser('pharmacist');
    const res = await op.api().post('/api/v1/vbp/declarations', {
      title: `提醒补发 ${tag()}`,
      drugIds: [drug.id],
      deadline: new Date(clockNow().getTime() + 2 * 3_600_000).toISOString(),
      remindBeforeDeadlineSec: 3600,
    });
    expect(res.status).to.equal(201);
    const id = res.body.id as string;
    const { queues } = testApp().platform;
    await (await until(() => queues.getJob(`vbp-declaration-remind:${id}`), 8000, 'the reminder job')).remove();
    const sweep = vbpModule.sweeps?.find((x) => x.name === 'vbp.declaration-reminders');
    expect(sweep, 'the vbp module declares its reminder sweep').to.not.equal(undefined);
    const notes = async () => (await notificationsOf(missing, 'vbp.declaration_reminder')).filter((n) => n.link === `/vbp/declarations/${id}`);

    await testApp().sweeper!.runOnce(sweep!);
    await settled();
    expect(await notes(), 'before it is due').to.have.length(0);

    const d = await Declaration.findById(id).lean<DeclarationDoc>();
    passTime(d!.remindAt!);
    await testApp().sweeper!.runOnce(sweep!);
    await testApp().sweeper!.runOnce(sweep!);
    await settled();
    expect(await notes()).to.have.length(1);
    expect((await Declaration.findById(id).lean<DeclarationDoc>())?.autoRemindedAt).to.be.instanceOf(Date);
    expect(await AuditEntry.countDocuments({ action: 'vbp.declaration.remind', targetId: id })).to.equal(1);
  });
});
