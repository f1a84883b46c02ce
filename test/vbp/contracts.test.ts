import { expect } from 'chai';
import { Types } from 'mongoose';
import { creditBadges } from '../../server/modules/credit';
import { contractCheckJob, vbpModule } from '../../server/modules/vbp';
import { Alert, Contract, ContractPurchase, type ContractDoc } from '../../server/modules/vbp/vbp.model';
import { OutboxEvent } from '../../server/platform/events';
import { trusted } from '../../server/platform/mongo';
import { binaryBody } from '../support/binary';
import { buildTradingDistributor } from '../support/credit-factories';
import { redeliver, withLostDispatch } from '../support/events';
import { buildUser, type TestUser } from '../support/factories';
import { testApp } from '../support/global';
import { acceptAllLines, confirm, shipAll, track } from '../support/order-factories';
import { extractPdfText } from '../support/pdf-text';
import type { BuiltDrug } from '../support/quotation-factories';
import { clockNow, contractsOf, passTime, settled, tenderScenario, until, vbpOperator } from '../support/vbp-factories';

const contractDoc = (id: string) => Contract.findById(id).lean<ContractDoc>();

/** Orders `quantity` against a contract and walks it to acceptance (its dispatch lost if told); returns the order. */
async function buyAgainst(contract: Record<string, any>, pharmacist: TestUser, distributor: TestUser, drug: BuiltDrug, quantity: number, opts: { loseAcceptanceDispatch?: boolean } = {}) {
  const placed = await pharmacist.api().post('/api/v1/orders', {
    urgency: 'regular',
    lines: [{ drugId: contract.drugId, distributorOrgId: contract.distributorOrgId, source: 'contract', refId: contract.id, quantity }],
  });
  expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
  const order = placed.body.data[0];
  expect(order.lines[0]).to.include({ unitPriceFen: contract.priceFen });
  const confirmed = await confirm(distributor, order.id);
  const { shipment } = await shipAll(distributor, confirmed, [drug]);
  await track(distributor, order.id, 'delivered');
  const accept = () => pharmacist.api().post(`/api/v1/orders/${order.id}/acceptance`, { lines: acceptAllLines(shipment) });
  const accepted = opts.loseAcceptanceDispatch ? await withLostDispatch(accept) : await accept();
  expect(accepted.status, JSON.stringify(accepted.body)).to.equal(201);
  return order;
}

async function checkJobDone(jobId: string): Promise<void> {
  await until(async () => {
    const job = await testApp().platform.queues.getJob(jobId);
    return job && (await job.getState()) === 'completed';
  }, 8000, `job ${jobId}`);
}

async function notificationsOf(u: TestUser, kind: string): Promise<{ title: string; body: string }[]> {
  const res = await u.api().get('/api/v1/notifications?limit=200');
  return res.body.data.filter((n: { kind: string }) => n.kind === kind);
}

describe('vbp: contracts, completion and supply failure', function () {
  this.timeout(40_000);

  it('allocates hospitals to winners in rank order (or by declared brand) with the agreed share, and makes contract PDFs', async () => {
    // 3 bidders → 2 shortlisted: 100 and 120 both within 1.8 × 100; 300 is the highest and never wins.
    const s = await tenderScenario({ demands: [1000, 501, 300, 40], prices: [100, 120, 300], ceilingFen: 400, preferred: [null, null, null, 1] });
    expect(s.tender.status).to.equal('awarded');
    const contracts = await contractsOf(s.tenderId);
    const [d1, d2] = s.distributors;
    const of = (h: number) => contracts.find((c) => c.hospitalOrgId === s.hospitals[h]!.org.id)!;
    // 2 winners → 60%, 1 year; largest hospital to rank 1, next to rank 2, then rank 1 again; brand preference honoured.
    expect([of(0).distributorOrgId, of(0).agreedQty, of(0).priceFen, of(0).basis]).to.deep.equal([d1!.org.id, 600, 100, 'rank_rotation']);
    expect([of(1).distributorOrgId, of(1).agreedQty, of(1).priceFen]).to.deep.equal([d2!.org.id, 301, 120]); // 300.6 → 301
    expect([of(2).distributorOrgId, of(2).agreedQty]).to.deep.equal([d1!.org.id, 180]);
    expect([of(3).distributorOrgId, of(3).agreedQty, of(3).basis]).to.deep.equal([d2!.org.id, 24, 'preferred']);
    for (const c of contracts) expect(c).to.include({ shareBp: 6000, termYears: 1, status: 'active', purchasedQty: 0 });
    expect(contracts[0].contractNo).to.match(/^VBP-C\d{8}-\d{6}$/);
    expect(new Date(of(0).termEnd).getTime() - new Date(of(0).termStart).getTime()).to.be.within(365 * 86_400_000, 366 * 86_400_000);

    const pharmacist = s.hospitals[0]!;
    const pdf = await pharmacist.api().get(`/api/v1/vbp/contracts/${of(0).id}/pdf`).buffer(true).parse(binaryBody);
    expect(pdf.status).to.equal(200);
    expect(pdf.headers['content-type']).to.equal('application/pdf');
    const text = await extractPdfText(pdf.body as Buffer);
    expect(text).to.contain('药品带量采购协议').and.contain(of(0).contractNo).and.contain(s.distributors[0]!.org.name).and.contain('¥1.00');
    const again = await pharmacist.api().get(`/api/v1/vbp/contracts/${of(0).id}/pdf`).buffer(true).parse(binaryBody);
    expect(Buffer.compare(again.body as Buffer, pdf.body as Buffer)).to.equal(0);
  });

  it('keeps contracts to their hospital and winner', async () => {
    const s = await tenderScenario({ demands: [100, 100], prices: [100, 120, 300], ceilingFen: 400 });
    const contracts = await contractsOf(s.tenderId);
    const mine = await s.hospitals[0]!.api().get('/api/v1/vbp/contracts');
    expect(mine.body.data.map((c: { hospitalOrgId: string }) => c.hospitalOrgId)).to.deep.equal([s.hospitals[0]!.org.id]);
    const other = contracts.find((c) => c.hospitalOrgId === s.hospitals[1]!.org.id)!;
    expect((await s.hospitals[0]!.api().get(`/api/v1/vbp/contracts/${other.id}`)).status).to.equal(404);
    expect((await s.hospitals[0]!.api().get(`/api/v1/vbp/contracts/${other.id}/pdf`)).status).to.equal(404);
    const loser = s.distributors[2]!;
    expect((await loser.api().get('/api/v1/vbp/contracts')).body.data).to.have.length(0);
    expect((await loser.api().get(`/api/v1/vbp/contracts/${other.id}`)).status).to.equal(404);
    const bank = await buildUser('bank_officer');
    expect((await bank.api().get('/api/v1/vbp/contracts')).status).to.equal(403);
    const stranger = await buildUser('pharmacist');
    expect((await stranger.api().post(`/api/v1/vbp/contracts/${other.id}/supply-failure`, { reason: 'x' })).status).to.equal(403);
  });

  it('orders against a contract at the contract price through the orders module, and counts accepted quantities once', async () => {
    const s = await tenderScenario({ demands: [500], prices: [250], ceilingFen: 400 });
    const [contract] = await contractsOf(s.tenderId);
    const pharmacist = s.hospitals[0]!;
    const distributor = s.distributors[0]!;
    await buyAgainst(contract!, pharmacist, distributor, s.drug, 30);
    const counted = await until(async () => {
      const c = (await pharmacist.api().get(`/api/v1/vbp/contracts/${contract!.id}`)).body;
      return c.purchasedQty === 30 ? c : null;
    }, 8000, 'the purchase to be counted');
    expect(counted).to.include({ remainingQty: 220 });
    expect(counted.completion.ratioBp).to.equal(1200);
    expect(await ContractPurchase.countDocuments({ contractId: new Types.ObjectId(contract!.id) })).to.equal(1);

    const wrongDistributor = await pharmacist.api().post('/api/v1/orders', {
      lines: [{ drugId: contract!.drugId, distributorOrgId: (await buildTradingDistributor()).org.id, source: 'contract', refId: contract!.id, quantity: 1 }],
    });
    expect(wrongDistributor.status).to.be.within(400, 422);
    expect(JSON.stringify(wrongDistributor.body)).to.contain('CONTRACT_DISTRIBUTOR_MISMATCH');
    const otherHospital = await buildUser('pharmacist');
    const foreign = await otherHospital.api().post('/api/v1/orders', {
      lines: [{ drugId: contract!.drugId, distributorOrgId: contract!.distributorOrgId, source: 'contract', refId: contract!.id, quantity: 1 }],
    });
    expect(foreign.status).to.be.within(400, 422);
    expect(JSON.stringify(foreign.body)).to.contain('CONTRACT_NOT_FOUND');

    const op = await vbpOperator();
    const byHospital = await op.api().get(`/api/v1/vbp/completion?by=hospital&tenderId=${s.tenderId}`);
    expect(byHospital.body.data).to.have.length(1);
    expect(byHospital.body.data[0]).to.include({ key: pharmacist.org.id, agreedQty: 250, purchasedQty: 30, ratioBp: 1200, contracts: 1 });
    const byWinner = await op.api().get(`/api/v1/vbp/completion?by=winner&tenderId=${s.tenderId}`);
    expect(byWinner.body.data[0]).to.include({ key: distributor.org.id, purchasedQty: 30 });
    const own = await pharmacist.api().get(`/api/v1/vbp/completion?by=drug`);
    expect(own.body.data.every((r: { key: string }) => r.key)).to.equal(true);
    expect((await op.api().get('/api/v1/vbp/completion?by=everything')).status).to.equal(400);
  });

  it('alerts behind pro-rata pace and under the checkpoint share, once per contract per check', async () => {
    const s = await tenderScenario({ demands: [20], prices: [250], ceilingFen: 400 });
    const [contract] = await contractsOf(s.tenderId);
    expect(contract!.agreedQty).to.equal(10);
    await buyAgainst(contract!, s.hospitals[0]!, s.distributors[0]!, s.drug, 4);
    await until(async () => (await Contract.findById(contract!.id).lean<{ purchasedQty: number }>())?.purchasedQty === 4, 8000, 'purchase');
    const start = new Date(contract!.termStart).getTime();
    const half = new Date(start + (new Date(contract!.termEnd).getTime() - start) / 2).toISOString();
    const { queues } = testApp().platform;
    // Half-way with 4 of 10: behind the pro-rata 5, but not under 80% of it (4).
    for (const [kind, index] of [['pace', 900], ['checkpoint', 900]] as const) {
      await queues.enqueue(contractCheckJob, { contractId: contract!.id, kind, index, dueAt: half }, { jobId: `t-${contract!.id}-${kind}-a` });
      await queues.enqueue(contractCheckJob, { contractId: contract!.id, kind, index, dueAt: half }, { jobId: `t-${contract!.id}-${kind}-b` });
      await checkJobDone(`t-${contract!.id}-${kind}-a`);
      await checkJobDone(`t-${contract!.id}-${kind}-b`);
    }
    await settled();
    const alerts = await Alert.find({ contractId: new Types.ObjectId(contract!.id) }).lean<{ kind: string; checkIndex: number; purchasedQty: number; targetQty: number }[]>();
    expect(alerts.map((a) => [a.kind, a.checkIndex, a.purchasedQty, a.targetQty])).to.deep.equal([['behind_pace', 900, 4, 5]]);
    const notes = await notificationsOf(s.hospitals[0]!, 'vbp.behind_pace');
    expect(notes).to.have.length(1);
    expect(notes[0]!.body).to.contain(contract!.contractNo).and.contain('已采购 4');
    expect(await notificationsOf(s.hospitals[0]!, 'vbp.under_checkpoint')).to.have.length(0);
    // At the term end, 4 of 10 is under 80% of the agreed total: a checkpoint alert (and the chain stops there).
    await queues.enqueue(contractCheckJob, { contractId: contract!.id, kind: 'checkpoint', index: 901, dueAt: contract!.termEnd }, { jobId: `t-${contract!.id}-end` });
    await checkJobDone(`t-${contract!.id}-end`);
    await settled();
    const under = await notificationsOf(s.hospitals[0]!, 'vbp.under_checkpoint');
    expect(under).to.have.length(1);
    expect(await queues.getJob(`vbp-check:${contract!.id}:checkpoint:902`)).to.equal(undefined);
    const view = (await s.hospitals[0]!.api().get(`/api/v1/vbp/contracts/${contract!.id}`)).body;
    expect(view.alerts).to.equal(2);
  });

  it('schedules the checks of every contract as a chain of jobs with deterministic ids', async () => {
    const op = await vbpOperator();
    const original = (await op.api().get('/api/v1/vbp/settings')).body.completion;
    const fast = await op.api().patch('/api/v1/vbp/settings', { completion: { paceCheckIntervalSec: 1, checkpointIntervalSec: 1 } });
    expect(fast.status).to.equal(200);
    try {
      const s = await tenderScenario({ demands: [100], prices: [250], ceilingFen: 400 });
      const [contract] = await contractsOf(s.tenderId);
      const id = contract!.id;
      const { queues } = testApp().platform;
      // The first checks are scheduled by a subscriber of the contract's creation, just after the award commits.
      const first = await until(() => queues.getJob(`vbp-check:${id}:pace:1`), 8000, 'the first check');
      expect(first.data).to.include({ contractId: id, kind: 'pace', index: 1 });
      await until(async () => (await Alert.countDocuments({ contractId: new Types.ObjectId(id), checkIndex: trusted({ $gte: 2 }) })) >= 2, 10_000, 'the second checks');
      // Slow the chain down again (the next checks are a month away), then let the last ones finish.
      await op.api().patch('/api/v1/vbp/settings', { completion: original });
      await new Promise((r) => setTimeout(r, 1500));
      await settled();
      const alerts = await Alert.find({ contractId: new Types.ObjectId(id) }).lean<{ key: string; kind: string }[]>();
      expect(new Set(alerts.map((a) => a.key)).size).to.equal(alerts.length);
      expect(alerts.map((a) => a.kind)).to.include.members(['behind_pace', 'under_checkpoint']);
      const paceNotes = await notificationsOf(s.hospitals[0]!, 'vbp.behind_pace');
      expect(paceNotes.length).to.equal(alerts.filter((a) => a.kind === 'behind_pace').length);
    } finally {
      await op.api().patch('/api/v1/vbp/settings', { completion: original });
    }
  });

  it('declares a supply failure once, records the breach fact, and promotes the next bidder in rank order with the remaining volume', async () => {
    const op = await vbpOperator();
    // 5 bidders → 3 shortlisted: 100, 110, 120 win; 130 and 500 lose (130 is the next backup).
    const s = await tenderScenario({ demands: [100], prices: [100, 110, 120, 130, 500], ceilingFen: 600 });
    const [contract] = await contractsOf(s.tenderId);
    expect(contract!.distributorOrgId).to.equal(s.distributors[0]!.org.id);
    await buyAgainst(contract!, s.hospitals[0]!, s.distributors[0]!, s.drug, 20);
    await until(async () => (await Contract.findById(contract!.id).lean<{ purchasedQty: number }>())?.purchasedQty === 20, 8000, 'purchase');

    const bad = await op.api().post(`/api/v1/vbp/contracts/${contract!.id}/supply-failure`, { reason: '' });
    expect(bad.status).to.equal(400);
    const res = await op.api().post(`/api/v1/vbp/contracts/${contract!.id}/supply-failure`, { reason: '连续两周未配送' });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.contract).to.include({ status: 'supply_failed' });
    // 3 winners → 70% of 100 = 70 agreed; 20 bought → 50 remain.
    expect(res.body.contract.supplyFailure).to.include({ reason: '连续两周未配送', remainingQty: 50 });
    // The next in rank order that has not failed: the rank-2 winner.
    expect(res.body.promotion).to.include({ distributorOrgId: s.distributors[1]!.org.id, quantity: 50, priceFen: 110, noBackup: null });

    const event = await OutboxEvent.findOne({ key: `vbp-supply-failure:${contract!.id}` }).lean<{ type: string; payload: Record<string, unknown> }>();
    expect(event?.type).to.equal('vbp.supply_failure');
    expect(event?.payload).to.include({ contractId: contract!.id, tenderId: s.tenderId, distributorOrgId: s.distributors[0]!.org.id, hospitalOrgId: s.hospitals[0]!.org.id });
    expect(new Date(event!.payload.at as string).getTime()).to.be.closeTo(clockNow().getTime(), 10_000);

    const twice = await op.api().post(`/api/v1/vbp/contracts/${contract!.id}/supply-failure`, { reason: '再次' });
    expect(twice.status).to.equal(409);
    expect(await OutboxEvent.countDocuments({ key: `vbp-supply-failure:${contract!.id}` })).to.equal(1);
    const retry = await op.api().post(`/api/v1/vbp/contracts/${contract!.id}/promote-backup`);
    expect(retry.body.promotedContractId).to.equal(res.body.promotion.promotedContractId);

    const promoted = (await op.api().get(`/api/v1/vbp/contracts/${res.body.promotion.promotedContractId}`)).body;
    expect(promoted).to.include({ basis: 'backup_promotion', agreedQty: 50, priceFen: 110, replacesContractId: contract!.id, hospitalOrgId: s.hospitals[0]!.org.id, status: 'active', rank: 2 });
    expect(promoted.termEnd).to.equal(contract!.termEnd);
    const refused = await s.hospitals[0]!.api().post('/api/v1/orders', {
      lines: [{ drugId: contract!.drugId, distributorOrgId: contract!.distributorOrgId, source: 'contract', refId: contract!.id, quantity: 1 }],
    });
    expect(refused.status).to.equal(422);
    // The credit module turns the fact into a VBP_SUPPLY_FAILURE breach, which suspends the distributor.
    expect(refused.body.error.code).to.be.oneOf(['CONTRACT_NOT_ACTIVE', 'DISTRIBUTOR_SUSPENDED']);
    await until(async () => (await creditBadges([s.distributors[0]!.org.id])).get(s.distributors[0]!.org.id)?.suspended, 8000, 'the credit breach');
    await settled();
    expect(await notificationsOf(s.distributors[1]!, 'vbp.backup_promoted')).to.have.length(1);
    expect(await notificationsOf(s.distributors[0]!, 'vbp.supply_failure')).to.have.length(1);
    expect(await notificationsOf(s.hospitals[0]!, 'vbp.backup_promoted')).to.have.length(1);

    // The promoted winner fails too: the next is rank 3, then the first loser (rank 4).
    const second = await op.api().post(`/api/v1/vbp/contracts/${promoted.id}/supply-failure`, { reason: '停产' });
    expect(second.body.promotion).to.include({ distributorOrgId: s.distributors[2]!.org.id, quantity: 50 });
    const third = await op.api().post(`/api/v1/vbp/contracts/${second.body.promotion.promotedContractId}/supply-failure`, { reason: '停产' });
    expect(third.body.promotion).to.include({ distributorOrgId: s.distributors[3]!.org.id, priceFen: 130 });
  });

  it('records when no backup is left', async () => {
    const op = await vbpOperator();
    const s = await tenderScenario({ demands: [100], prices: [200], ceilingFen: 400 });
    const [contract] = await contractsOf(s.tenderId);
    const res = await op.api().post(`/api/v1/vbp/contracts/${contract!.id}/supply-failure`, { reason: '无法供货' });
    expect(res.status).to.equal(200);
    expect(res.body.promotion).to.include({ promotedContractId: null, noBackup: 'NO_BACKUP', quantity: 50 });
    expect(res.body.contract.supplyFailure.noBackup).to.equal('NO_BACKUP');
    expect(await Contract.countDocuments({ tenderId: new Types.ObjectId(s.tenderId) })).to.equal(1);
  });

  it('publishes the tender, awards and contracts as OCDS releases without sealed prices', async () => {
    const op = await vbpOperator();
    const sealed = await tenderScenario({ demands: [100], prices: [321], ceilingFen: 400, open: false });
    const before = await buildUser('pharmacist');
    const early = await before.api().get(`/api/v1/vbp/tenders/${sealed.tenderId}/ocds`);
    expect(early.status).to.equal(200);
    expect(early.body.releases.map((r: { tag: string[] }) => r.tag[0])).to.deep.equal(['tender']);
    expect(JSON.stringify(early.body)).not.to.contain('3.21');

    const s = await tenderScenario({ demands: [1000, 400], prices: [100, 150, 190, 400], ceilingFen: 500 });
    await s.distributors[2]!.api().post(`/api/v1/vbp/tenders/${s.tenderId}/lines/${s.lineId}/follow-price`, { accept: false });
    const pkg = (await op.api().get(`/api/v1/vbp/tenders/${s.tenderId}/ocds`)).body;
    expect(pkg).to.include({ version: '1.1' });
    const [tenderRelease, awardRelease, contractRelease] = pkg.releases;
    const tenderNo = s.tender.tenderNo;
    for (const r of pkg.releases) {
      expect(r).to.include.keys('ocid', 'id', 'date', 'tag', 'initiationType', 'parties', 'buyer', 'tender');
      expect(r.ocid).to.equal(`ocds-gpo000-${tenderNo}`);
      expect(r.initiationType).to.equal('tender');
    }
    expect(tenderRelease.tag).to.deep.equal(['tender']);
    expect(tenderRelease.tender).to.include({ id: tenderNo, status: 'complete', awardCriteria: 'priceOnly', numberOfTenderers: 4 });
    expect(tenderRelease.tender.items[0]).to.include({ quantity: 1400 });
    expect(tenderRelease.tender.items[0].classification.scheme).to.equal('CN-NHSA');
    expect(tenderRelease.tender.items[0].classification.id, 'the NHSA drug code, not a database id').to.match(/^X[A-Z0-9]+$/);
    const again = (await op.api().get(`/api/v1/vbp/tenders/${s.tenderId}/ocds`)).body;
    expect(again.publishedDate, 'the same state publishes the same document').to.equal(pkg.publishedDate);
    expect(pkg.publishedDate).to.equal(pkg.releases[pkg.releases.length - 1].date);
    expect(tenderRelease.tender.items[0].unit.value).to.deep.equal({ amount: 5, currency: 'CNY' });
    expect(awardRelease.tag).to.deep.equal(['award']);
    expect(awardRelease.awards.map((a: { suppliers: { id: string }[] }) => a.suppliers[0]!.id)).to.deep.equal([s.distributors[0]!.org.id, s.distributors[1]!.org.id]);
    expect(contractRelease.tag).to.deep.equal(['contract']);
    expect(contractRelease.contracts).to.have.length(2);
    for (const c of contractRelease.contracts) expect(awardRelease.awards.map((a: { id: string }) => a.id)).to.include(c.awardID);
    expect(contractRelease.contracts[0]).to.include.keys('id', 'awardID', 'status', 'period', 'value', 'items', 'dateSigned');
    const roles = Object.fromEntries(contractRelease.parties.map((p: { id: string; roles: string[] }) => [p.id, p.roles]));
    expect(roles[s.hospitals[0]!.org.id]).to.include('payer');
    expect(roles[s.distributors[0]!.org.id]).to.include('supplier');
    const text = JSON.stringify(pkg);
    expect(text).not.to.contain(s.distributors[3]!.org.id); // the losing bidder's identity and price stay private
    expect(text).not.to.contain('"amount":4,');
  });

  it('counts a purchase against its contract once, even when the dispatch after the acceptance was lost', async () => {
    const s = await tenderScenario({ demands: [500], prices: [250], ceilingFen: 400 });
    const [contract] = await contractsOf(s.tenderId);
    await buyAgainst(contract!, s.hospitals[0]!, s.distributors[0]!, s.drug, 30, { loseAcceptanceDispatch: true });
    await settled();
    expect((await contractDoc(contract!.id))?.purchasedQty).to.equal(0);

    await redeliver();
    expect((await contractDoc(contract!.id))?.purchasedQty).to.equal(30);
    expect(await ContractPurchase.countDocuments({ contractId: new Types.ObjectId(contract!.id) })).to.equal(1);

    await redeliver();
    expect((await contractDoc(contract!.id))?.purchasedQty).to.equal(30);
    expect(await ContractPurchase.countDocuments({ contractId: new Types.ObjectId(contract!.id) })).to.equal(1);
  });

  it('schedules the first checks of the contracts and tells the winner and the hospital once, even when the dispatch after the award was lost', async () => {
    const op = await vbpOperator();
    const s = await tenderScenario({ demands: [100], prices: [250], ceilingFen: 400, open: false });
    passTime(s.tender.closesAt);
    const opened = await withLostDispatch(() => op.api().post(`/api/v1/vbp/tenders/${s.tenderId}/open`));
    expect(opened.body.status).to.equal('awarded');
    const [contract] = await contractsOf(s.tenderId);
    const id = contract!.id as string;
    const { queues } = testApp().platform;
    const jobs = async () => Promise.all(['pace', 'checkpoint'].map((k) => queues.getJob(`vbp-check:${id}:${k}:1`)));
    const notices = async () => ({
      opened: (await notificationsOf(s.distributors[0]!, 'vbp.tender_opened')).length,
      awarded: (await notificationsOf(s.distributors[0]!, 'vbp.awarded')).length,
      contracts: (await notificationsOf(s.hospitals[0]!, 'vbp.contracts_created')).length,
    });
    await settled();
    expect(await jobs()).to.deep.equal([undefined, undefined]);
    expect(await notices()).to.deep.equal({ opened: 0, awarded: 0, contracts: 0 });

    await redeliver();
    const [pace, checkpoint] = await jobs();
    expect(pace?.data).to.include({ contractId: id, kind: 'pace', index: 1 });
    expect(checkpoint?.data).to.include({ contractId: id, kind: 'checkpoint', index: 1 });
    expect(await notices()).to.deep.equal({ opened: 1, awarded: 1, contracts: 1 });

    await redeliver();
    expect((await jobs()).map((j) => j?.timestamp)).to.deep.equal([pace!.timestamp, checkpoint!.timestamp]);
    expect(await notices()).to.deep.equal({ opened: 1, awarded: 1, contracts: 1 });
  });

  it('runs a completion check whose job was lost by the sweep once it is due, exactly once, and schedules the next check', async () => {
    const op = await vbpOperator();
    const original = (await op.api().get('/api/v1/vbp/settings')).body.completion;
    expect((await op.api().patch('/api/v1/vbp/settings', { completion: { paceCheckIntervalSec: 3600, checkpointIntervalSec: 3600 } })).status).to.equal(200);
    try {
      const s = await tenderScenario({ demands: [100], prices: [250], ceilingFen: 400 });
      const [contract] = await contractsOf(s.tenderId);
      const id = contract!.id as string;
      const { queues } = testApp().platform;
      for (const kind of ['pace', 'checkpoint']) await (await until(() => queues.getJob(`vbp-check:${id}:${kind}:1`), 8000, 'the first checks')).remove();
      const sweep = vbpModule.sweeps?.find((x) => x.name === 'vbp.contract-checks');
      expect(sweep, 'the vbp module declares its check sweep').to.not.equal(undefined);
      const checked = (kind: string, index: number) => OutboxEvent.countDocuments({ key: `vbp-contract-checked:${id}:${kind}:${index}` });

      await testApp().sweeper!.runOnce(sweep!);
      expect(await checked('pace', 1), 'before it is due').to.equal(0);

      const first = (await contractDoc(id))!.checks!.pace!;
      expect(first.index).to.equal(1);
      passTime(first.dueAt);
      await testApp().sweeper!.runOnce(sweep!);
      await testApp().sweeper!.runOnce(sweep!);
      expect(await checked('pace', 1)).to.equal(1);
      expect(await checked('checkpoint', 1)).to.equal(1);
      expect(await checked('pace', 2), 'the next check is not due yet').to.equal(0);
      const after = (await contractDoc(id))!.checks!;
      expect(after.pace).to.deep.include({ index: 2 });
      expect(after.pace!.dueAt.getTime()).to.equal(first.dueAt.getTime() + 3_600_000);
      await settled();
      expect((await queues.getJob(`vbp-check:${id}:pace:2`))?.data).to.include({ contractId: id, kind: 'pace', index: 2 });
    } finally {
      await op.api().patch('/api/v1/vbp/settings', { completion: original });
    }
  });
});
