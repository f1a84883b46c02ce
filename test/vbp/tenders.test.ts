import { expect } from 'chai';
import { Types } from 'mongoose';
import { vbpModule } from '../../server/modules/vbp';
import { Bid, Contract, FollowResponse, Tender, type TenderDoc } from '../../server/modules/vbp/vbp.model';
import { AuditEntry } from '../../server/platform/audit-log';
import { OutboxEvent } from '../../server/platform/events';
import type { VbpBidCountPayload, VbpRankPayload } from '../../server/platform/realtime.events';
import { buildTradingDistributor } from '../support/credit-factories';
import { redeliver, withLostDispatch } from '../support/events';
import { buildUser, connectSocket, nextEvent, type TestUser } from '../support/factories';
import { testApp } from '../support/global';
import { buildVbpDrug, clockNow, contractsOf, declare, openDeclaration, passTime, settled, tag, tenderScenario, until, vbpOperator } from '../support/vbp-factories';

const HOUR = 3_600_000;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function notificationsOf(u: TestUser, kind: string, link: string): Promise<{ title: string; body: string }[]> {
  const res = await u.api().get('/api/v1/notifications?limit=200');
  expect(res.status).to.equal(200);
  return res.body.data.filter((n: { kind: string; link?: string }) => n.kind === kind && n.link === link);
}

/** The worker's sweep of due tenders, run now through the sweeper. */
async function runTenderSweep(): Promise<void> {
  const sweep = vbpModule.sweeps?.find((x) => x.name === 'vbp.tenders');
  expect(sweep, 'the vbp module declares its tender sweep').to.not.equal(undefined);
  await testApp().sweeper!.runOnce(sweep!);
}

const tenderOf = (id: string) => Tender.findById(id).lean<TenderDoc>();

async function closedDeclarationWithDemand(demands: number[]) {
  const drug = await buildVbpDrug();
  const hospitals = await Promise.all(demands.map(() => buildUser('pharmacist')));
  const decl = await openDeclaration([drug]);
  for (const [i, h] of hospitals.entries()) expect((await declare(h, decl.id, [{ drugId: drug.id, quantity: demands[i] }])).status).to.equal(200);
  return { drug, hospitals, decl };
}

describe('vbp: tenders, sealed bids and selection', function () {
  this.timeout(30_000);

  it('pools the declared demand into lines, schedules the opening by a deterministic job, and refuses bad tenders storing nothing', async () => {
    const op = await vbpOperator();
    const { drug, decl } = await closedDeclarationWithDemand([300, 200]);
    const other = await buildVbpDrug();
    const body: Record<string, unknown> = { title: `招标 ${tag()}`, declarationId: decl.id, closesAt: new Date(clockNow().getTime() + HOUR).toISOString(), lines: [{ drugId: drug.id, ceilingFen: 500 }] };
    const before = await Tender.countDocuments({});
    const early = await op.api().post('/api/v1/vbp/tenders', body);
    expect(early.status).to.equal(422);
    expect(early.body.error.code).to.equal('DECLARATION_STILL_OPEN');
    passTime(decl.deadline);
    body.closesAt = new Date(clockNow().getTime() + HOUR).toISOString();
    const cases: [Record<string, unknown>, number, string][] = [
      [{ ...body, lines: [{ drugId: other.id, ceilingFen: 500 }] }, 422, 'DRUG_NOT_IN_DECLARATION'],
      [{ ...body, lines: [{ drugId: drug.id, ceilingFen: 500 }, { drugId: drug.id, ceilingFen: 400 }] }, 400, 'DUPLICATE_DRUG'],
      [{ ...body, closesAt: new Date(clockNow().getTime() - 1000).toISOString() }, 400, 'CLOSES_IN_PAST'],
      [{ ...body, lines: [{ drugId: drug.id, ceilingFen: 0 }] }, 400, 'VALIDATION_FAILED'],
      [{ ...body, lines: [{ drugId: drug.id, ceilingFen: 12.5 }] }, 400, 'VALIDATION_FAILED'],
      [{ ...body, rules: { spreadMultiple: { numerator: 0, denominator: 1 } } }, 400, 'VALIDATION_FAILED'],
      [{ ...body, rules: { volumeShareBpByWinnerCount: [] } }, 400, 'VALIDATION_FAILED'],
      [{ ...body, visibility: 'open' }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [b, status, code] of cases) {
      const res = await op.api().post('/api/v1/vbp/tenders', b);
      expect(res.status, JSON.stringify(res.body)).to.equal(status);
      expect(res.body.error.code).to.equal(code);
    }
    const pharmacist = await buildUser('pharmacist');
    expect((await pharmacist.api().post('/api/v1/vbp/tenders', body)).status).to.equal(403);
    expect(await Tender.countDocuments({})).to.equal(before);

    const key = `tender-${tag()}-key`;
    const created = await op.api().post('/api/v1/vbp/tenders', { ...body, rules: { spreadMultiple: { numerator: 3, denominator: 2 } } }).set('Idempotency-Key', key);
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    // The reply is stored with the tender in its unit of work: a retry gets the same tender, and no second one.
    const replay = await op.api().post('/api/v1/vbp/tenders', { ...body, rules: { spreadMultiple: { numerator: 3, denominator: 2 } } }).set('Idempotency-Key', key);
    expect(replay.status).to.equal(201);
    expect(replay.body).to.deep.equal(created.body);
    expect(await Tender.countDocuments({})).to.equal(before + 1);
    expect(created.body).to.include({ status: 'bidding', visibility: 'sealed', checkpointShareBp: 8000 });
    expect(created.body.tenderNo).to.match(/^VBP-T\d{8}-\d{3}$/);
    expect(created.body.lines[0]).to.include({ drugId: drug.id, pooledQty: 500, hospitals: 2, ceilingFen: 500, bidCount: 0 });
    expect(created.body.rules.spreadMultiple).to.deep.equal({ numerator: 3, denominator: 2 });
    expect(created.body.rules.shortlistByBidderCount).to.have.length(16);
    const listed = await op.api().get('/api/v1/vbp/tenders?limit=5');
    expect(listed.status).to.equal(200);
    expect(listed.body.data.find((t: { id: string }) => t.id === created.body.id).lines[0]).to.include({ hospitals: 2, pooledQty: 500 });
    // The opening is scheduled by a subscriber of the tender's creation, just after its commit.
    const job = await until(() => testApp().platform.queues.getJob(`vbp-tender-open:${created.body.id}`), 8000, 'the opening job');
    expect(job?.name).to.equal('vbp.tender.open');
    expect(job?.data).to.deep.equal({ tenderId: created.body.id });
  });

  it('keeps bids sealed: above-ceiling and ungated bids are refused, only the bidder sees its price, the operator sees counts', async () => {
    const op = await vbpOperator();
    const s = await tenderScenario({ demands: [100], prices: [400], ceilingFen: 500, open: false });
    const [d1] = s.distributors;
    const d2 = await buildTradingDistributor();
    const url = `/api/v1/vbp/tenders/${s.tenderId}/bids`;
    const above = await d2.api().post(url, { lineId: s.lineId, priceFen: 501 });
    expect(above.status).to.equal(422);
    expect(above.body.error.code).to.equal('ABOVE_CEILING');
    const unsigned = await buildUser('distributor');
    const gate = await unsigned.api().post(url, { lineId: s.lineId, priceFen: 300 });
    expect(gate.status).to.equal(422);
    expect(gate.body.error.code).to.equal('COMMITMENT_NOT_SIGNED');
    expect((await op.api().post(url, { lineId: s.lineId, priceFen: 300 })).status).to.equal(403);
    expect((await d2.api().post(url, { lineId: new Types.ObjectId().toString(), priceFen: 300 })).status).to.equal(404);
    expect((await d2.api().post(url, { lineId: s.lineId, priceFen: '300' })).status).to.equal(400);
    expect(await Bid.countDocuments({ tenderId: new Types.ObjectId(s.tenderId) })).to.equal(1);

    const key = `bid-${tag()}-key`;
    const first = await d2.api().post(url, { lineId: s.lineId, priceFen: 350 }).set('Idempotency-Key', key);
    expect(first.status).to.equal(201);
    const replay = await d2.api().post(url, { lineId: s.lineId, priceFen: 350 }).set('Idempotency-Key', key);
    expect(replay.body).to.deep.equal(first.body);
    const revised = await d2.api().post(url, { lineId: s.lineId, priceFen: 340 });
    expect(revised.body).to.include({ priceFen: 340, revisions: 2, rank: null });
    expect(await Bid.countDocuments({ tenderId: new Types.ObjectId(s.tenderId) })).to.equal(2);

    const seenByD1 = await d1!.api().get(`/api/v1/vbp/tenders/${s.tenderId}`);
    expect(seenByD1.body.lines[0].myBid).to.include({ priceFen: 400 });
    // NOTE: match the price as a JSON value; a bare '340' can occur inside an id or a timestamp.
    expect(JSON.stringify(seenByD1.body)).not.to.match(/:\s*340\b/);
    expect(JSON.stringify(seenByD1.body)).not.to.contain(d2.org.id);
    const seenByOp = await op.api().get(`/api/v1/vbp/tenders/${s.tenderId}`);
    expect(seenByOp.body.lines[0].bidCount).to.equal(2);
    expect(JSON.stringify(seenByOp.body)).not.to.contain('"priceFen"');
    const pharmacist = s.hospitals[0]!;
    expect(JSON.stringify((await pharmacist.api().get(`/api/v1/vbp/tenders/${s.tenderId}`)).body)).not.to.match(/:\s*3[45]0\b/);

    const early = await op.api().post(`/api/v1/vbp/tenders/${s.tenderId}/open`);
    expect(early.status).to.equal(422);
    expect(early.body.error.code).to.equal('TENDER_NOT_CLOSED');

    const mine = await d2.api().delete(`/api/v1/vbp/tenders/${s.tenderId}/bids/${revised.body.id}`);
    expect(mine.status).to.equal(204);
    expect((await d1!.api().delete(`/api/v1/vbp/tenders/${s.tenderId}/bids/${revised.body.id}`)).status).to.equal(404);
    passTime(s.tender.closesAt);
    const late = await d2.api().post(url, { lineId: s.lineId, priceFen: 300 });
    expect(late.status).to.equal(422);
    expect(late.body.error.code).to.equal('TENDER_CLOSED');
    expect((await d1!.api().delete(`/api/v1/vbp/tenders/${s.tenderId}/bids/${s.bidIds[0]}`)).status).to.equal(422);
    expect(await Bid.countDocuments({ tenderId: new Types.ObjectId(s.tenderId) })).to.equal(1);
  });

  it('explains every bid to the operator and each distributor its own, lets missed bidders accept the follow price, then awards', async () => {
    const op = await vbpOperator();
    // 10 bidders → 6 shortlisted; anchor 100, limit 180: 185 and 190 missed and may follow at 170.
    const s = await tenderScenario({ demands: [1000, 600, 400], prices: [100, 120, 150, 170, 185, 190, 200, 250, 300, 400], ceilingFen: 500 });
    expect(s.tender.status).to.equal('awaiting_acceptance');
    const opLine = s.tender.lines[0];
    expect(opLine.stage).to.equal('preliminary');
    expect(opLine.stats).to.include({ validBidderCount: 10, shortlistSize: 6, anchorFen: 100, spreadLimitFen: 180, followPriceFen: 170 });
    expect(opLine.bids).to.have.length(10);
    expect(opLine.bids[4]).to.include({ priceFen: 185, rank: 5, outcome: 'lost', distributorName: s.distributors[4]!.org.name });
    expect(opLine.bids[4].reasons.map((r: { code: string }) => r.code)).to.deep.equal(['ABOVE_SPREAD', 'DID_NOT_ACCEPT_FOLLOW_PRICE']);
    expect(opLine.bids[4].reasons[0].text).to.contain('锚点价');
    expect(opLine.eligibleFollowers).to.equal(2);

    const view = async (i: number, lang = 'zh') => (await s.distributors[i]!.api().get(`/api/v1/vbp/tenders/${s.tenderId}?lang=${lang}`)).body.lines[0];
    const winner = await view(0);
    expect(winner.myOutcome).to.include({ outcome: 'won_direct', rank: 1, finalPriceFen: 100 });
    expect(winner.myOutcome.reasons[0].code).to.equal('WITHIN_SPREAD');
    expect(winner.bids).to.equal(undefined);
    expect(winner.mayAcceptFollowPrice).to.equal(false);
    const missed = await view(4, 'en');
    expect(missed.mayAcceptFollowPrice).to.equal(true);
    expect(missed.myOutcome.reasons[0].text).to.contain('anchor price');
    expect(JSON.stringify(missed)).not.to.contain(s.distributors[0]!.org.name);

    const followUrl = `/api/v1/vbp/tenders/${s.tenderId}/lines/${s.lineId}/follow-price`;
    const notEligible = await s.distributors[6]!.api().post(followUrl, { accept: true });
    expect(notEligible.status).to.equal(422);
    expect(notEligible.body.error.code).to.equal('NOT_ELIGIBLE');
    const accepted = await s.distributors[4]!.api().post(followUrl, { accept: true });
    expect(accepted.status).to.equal(200);
    expect(accepted.body).to.include({ accept: true, followPriceFen: 170 });
    const again = await s.distributors[4]!.api().post(followUrl, { accept: true });
    expect(again.status).to.equal(200);
    const flip = await s.distributors[4]!.api().post(followUrl, { accept: false });
    expect(flip.status).to.equal(409);
    expect(await FollowResponse.countDocuments({ tenderId: new Types.ObjectId(s.tenderId) })).to.equal(1);
    const stillWaiting = await op.api().post(`/api/v1/vbp/tenders/${s.tenderId}/finalise`);
    expect(stillWaiting.status).to.equal(422);
    expect(stillWaiting.body.error.code).to.equal('ACCEPTANCE_WINDOW_OPEN');

    const declined = await s.distributors[5]!.api().post(followUrl, { accept: false });
    expect(declined.status).to.equal(200);
    const final = (await op.api().get(`/api/v1/vbp/tenders/${s.tenderId}`)).body;
    expect(final.status).to.equal('awarded');
    const line = final.lines[0];
    expect(line.stage).to.equal('final');
    expect(line.stats.winnerCount).to.equal(5);
    expect(line).to.include({ shareBp: 8000, termYears: 3, agreedTotalQty: 1600 });
    expect(line.bids.map((b: { outcome: string }) => b.outcome)).to.deep.equal(['won_direct', 'won_direct', 'won_direct', 'won_direct', 'won_by_accepting', 'lost', 'lost', 'lost', 'lost', 'lost']);
    const follower = await view(4);
    expect(follower.myOutcome).to.include({ outcome: 'won_by_accepting', finalPriceFen: 170 });
    expect(follower.myFollowResponse.accept).to.equal(true);

    const contracts = await contractsOf(s.tenderId);
    expect(contracts.map((c) => [c.hospitalOrgId, c.distributorOrgId, c.agreedQty, c.priceFen, c.termYears])).to.have.deep.members([
      [s.hospitals[0]!.org.id, s.distributors[0]!.org.id, 800, 100, 3],
      [s.hospitals[1]!.org.id, s.distributors[1]!.org.id, 480, 120, 3],
      [s.hospitals[2]!.org.id, s.distributors[2]!.org.id, 320, 150, 3],
    ]);
    const again2 = await op.api().post(`/api/v1/vbp/tenders/${s.tenderId}/finalise`);
    expect(again2.status).to.equal(200);
    expect(await Contract.countDocuments({ tenderId: new Types.ObjectId(s.tenderId) })).to.equal(3);
  });

  it('opens the bids by the scheduled job at the closing time, and ends the acceptance window by its job', async () => {
    const op = await vbpOperator();
    const { drug, decl, hospitals } = await closedDeclarationWithDemand([500]);
    passTime(decl.deadline);
    const d1 = await buildTradingDistributor();
    const [d2, d3, d4] = await Promise.all([buildTradingDistributor(), buildTradingDistributor(), buildTradingDistributor()]);
    const created = await op.api().post('/api/v1/vbp/tenders', {
      title: `定时开标 ${tag()}`,
      declarationId: decl.id,
      closesAt: new Date(clockNow().getTime() + 1500).toISOString(),
      followWindowSec: 1,
      lines: [{ drugId: drug.id, ceilingFen: 1000 }],
    });
    expect(created.status).to.equal(201);
    const id = created.body.id;
    const lineId = created.body.lines[0].id;
    // 4 bidders → 3 shortlisted: 100, 150, 190; anchor 100 → limit 180; 190 missed and may follow.
    for (const [d, price] of [[d1, 100], [d2, 150], [d3, 190], [d4, 400]] as const) {
      expect((await d.api().post(`/api/v1/vbp/tenders/${id}/bids`, { lineId, priceFen: price })).status).to.equal(201);
    }
    const opened = await until(async () => {
      const t = (await op.api().get(`/api/v1/vbp/tenders/${id}`)).body;
      return t.status !== 'bidding' ? t : null;
    }, 8000, 'the opening job');
    expect(opened.lines[0].eligibleFollowers).to.equal(1);
    const awarded = await until(async () => {
      const t = (await op.api().get(`/api/v1/vbp/tenders/${id}`)).body;
      return t.status === 'awarded' ? t : null;
    }, 8000, 'the finalise job');
    expect(awarded.lines[0].bids.map((b: { outcome: string }) => b.outcome)).to.deep.equal(['won_direct', 'won_direct', 'lost', 'lost']);
    const late = await d3.api().post(`/api/v1/vbp/tenders/${id}/lines/${lineId}/follow-price`, { accept: true });
    expect(late.status).to.equal(422);
    expect(late.body.error.code).to.equal('ACCEPTANCE_CLOSED');
    const contracts = await contractsOf(id);
    expect(contracts).to.have.length(1);
    expect(contracts[0]).to.include({ hospitalOrgId: hospitals[0]!.org.id, distributorOrgId: d1.org.id, agreedQty: 300, priceFen: 100, shareBp: 6000, termYears: 1 });
  });

  it('in rank-only mode pushes each bidder its own rank live, and the operator only the count', async () => {
    const op = await vbpOperator();
    const s = await tenderScenario({ demands: [100], prices: [300], ceilingFen: 500, open: false, tender: { visibility: 'rank' } });
    const d2 = await buildTradingDistributor();
    const s1 = await connectSocket(s.distributors[0]!.token);
    const s2 = await connectSocket(d2.token);
    const so = await connectSocket(op.token);
    try {
      const rank1 = nextEvent<{ rank: number; bidders: number; lineId: string }>(s1, 'vbp:rank');
      const rank2 = nextEvent<{ rank: number; bidders: number }>(s2, 'vbp:rank');
      const count = nextEvent<Record<string, unknown>>(so, 'vbp:bid_count');
      const res = await d2.api().post(`/api/v1/vbp/tenders/${s.tenderId}/bids`, { lineId: s.lineId, priceFen: 250 });
      expect(res.body).to.include({ rank: 1, bidders: 2 });
      expect(await rank1).to.deep.include({ lineId: s.lineId, rank: 2, bidders: 2 });
      expect(await rank2).to.deep.include({ rank: 1, bidders: 2 });
      const c = await count;
      expect(c).to.deep.equal({ tenderId: s.tenderId, lineId: s.lineId, bids: 2 });
      const view = await s.distributors[0]!.api().get(`/api/v1/vbp/tenders/${s.tenderId}`);
      expect(view.body.lines[0].myBid).to.include({ rank: 2, bidders: 2 });
      expect(JSON.stringify(view.body)).not.to.match(/:\s*250\b/);
    } finally {
      s1.disconnect();
      s2.disconnect();
      so.disconnect();
    }
  });

  it('awards nothing on a line without valid bids and lets a single bidder win at its own price', async () => {
    const none = await tenderScenario({ demands: [100], prices: [], ceilingFen: 500 });
    expect(none.tender.status).to.equal('awarded');
    expect(none.tender.lines[0].stats).to.include({ validBidderCount: 0, winnerCount: 0 });
    expect(await contractsOf(none.tenderId)).to.have.length(0);
    const single = await tenderScenario({ demands: [101], prices: [480], ceilingFen: 500 });
    expect(single.tender.status).to.equal('awarded');
    const [c] = await contractsOf(single.tenderId);
    expect(c).to.include({ priceFen: 480, agreedQty: 50, shareBp: 5000, termYears: 1 }); // 50.5 → 50, half to even
  });
});

describe('vbp: tender consequences after a lost dispatch, and the tender sweep', function () {
  this.timeout(60_000);

  it('schedules the opening job and tells distributors of a new tender once, even when the dispatch after its commit was lost', async () => {
    const op = await vbpOperator();
    const { drug, decl } = await closedDeclarationWithDemand([100]);
    passTime(decl.deadline);
    const distributor = await buildUser('distributor');
    const created = await withLostDispatch(() =>
      op.api().post('/api/v1/vbp/tenders', { title: `丢失派发 ${tag()}`, declarationId: decl.id, closesAt: new Date(clockNow().getTime() + HOUR).toISOString(), lines: [{ drugId: drug.id, ceilingFen: 500 }] }),
    );
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const id = created.body.id as string;
    const link = `/vbp/tenders/${id}`;
    const { queues } = testApp().platform;
    await settled();
    expect(await queues.getJob(`vbp-tender-open:${id}`)).to.equal(undefined);
    expect(await notificationsOf(distributor, 'vbp.tender_created', link)).to.have.length(0);

    await redeliver();
    const job = await queues.getJob(`vbp-tender-open:${id}`);
    expect(job?.data).to.deep.equal({ tenderId: id });
    expect(await notificationsOf(distributor, 'vbp.tender_created', link)).to.have.length(1);

    await redeliver();
    const again = await queues.getJob(`vbp-tender-open:${id}`);
    expect(again?.timestamp).to.equal(job!.timestamp);
    expect(await notificationsOf(distributor, 'vbp.tender_created', link)).to.have.length(1);
  });

  it('pushes a bid change to the operator and the bidders once, even when the dispatch after the bid was lost', async () => {
    const op = await vbpOperator();
    const s = await tenderScenario({ demands: [100], prices: [300], ceilingFen: 500, open: false, tender: { visibility: 'rank' } });
    const d2 = await buildTradingDistributor();
    await settled();
    const so = await connectSocket(op.token);
    const s1 = await connectSocket(s.distributors[0]!.token);
    const counts: VbpBidCountPayload[] = [];
    const ranks: VbpRankPayload[] = [];
    so.on('vbp:bid_count', (c: VbpBidCountPayload) => c.tenderId === s.tenderId && counts.push(c));
    s1.on('vbp:rank', (r: VbpRankPayload) => r.tenderId === s.tenderId && ranks.push(r));
    try {
      const res = await withLostDispatch(() => d2.api().post(`/api/v1/vbp/tenders/${s.tenderId}/bids`, { lineId: s.lineId, priceFen: 250 }));
      expect(res.status).to.equal(201);
      expect(res.body).to.include({ rank: 1, bidders: 2 });
      await settled();
      await pause(300);
      expect(counts).to.have.length(0);
      expect(ranks).to.have.length(0);

      await redeliver();
      await until(async () => counts.length === 1 && ranks.length === 1, 5000, 'the pushes');
      expect(counts[0]).to.deep.equal({ tenderId: s.tenderId, lineId: s.lineId, bids: 2 });
      expect(ranks[0]).to.deep.include({ lineId: s.lineId, rank: 2, bidders: 2 });

      await redeliver();
      await pause(300);
      expect(counts).to.have.length(1);
      expect(ranks).to.have.length(1);
    } finally {
      so.disconnect();
      s1.disconnect();
    }
  });

  it('opens a tender whose opening job was lost by the sweep once its closing time has passed, exactly once', async () => {
    const s = await tenderScenario({ demands: [100], prices: [300], ceilingFen: 500, open: false });
    const { queues } = testApp().platform;
    // Redis lost the job (e.g. restarted empty).
    const job = await until(() => queues.getJob(`vbp-tender-open:${s.tenderId}`), 8000, 'the opening job');
    await job.remove();

    await runTenderSweep();
    expect((await tenderOf(s.tenderId))?.status, 'before its closing time').to.equal('bidding');

    passTime(s.tender.closesAt);
    await runTenderSweep();
    const opened = (await tenderOf(s.tenderId))!;
    // A single bidder may not accept a follow price, so the opening awards at once.
    expect(opened.status).to.equal('awarded');
    expect(await contractsOf(s.tenderId)).to.have.length(1);

    await runTenderSweep();
    const again = (await tenderOf(s.tenderId))!;
    expect(again.openedAt?.getTime()).to.equal(opened.openedAt?.getTime());
    expect(await OutboxEvent.countDocuments({ key: `vbp-tender-opened:${s.tenderId}` })).to.equal(1);
    expect(await OutboxEvent.countDocuments({ key: `vbp-tender-awarded:${s.tenderId}` })).to.equal(1);
    expect(await AuditEntry.countDocuments({ action: 'vbp.tender.open', targetId: s.tenderId })).to.equal(1);
    expect(await Contract.countDocuments({ tenderId: new Types.ObjectId(s.tenderId) })).to.equal(1);
  });

  it('finalises a tender whose acceptance-window job was lost by the sweep once the window has ended, exactly once', async () => {
    // 4 bidders → 3 shortlisted; 190 missed the spread limit and may accept the follow price.
    const s = await tenderScenario({ demands: [500], prices: [100, 150, 190, 400], ceilingFen: 1000, tender: { followWindowSec: 600 } });
    expect(s.tender.status).to.equal('awaiting_acceptance');
    const { queues } = testApp().platform;
    const job = await until(() => queues.getJob(`vbp-tender-finalise:${s.tenderId}`), 8000, 'the finalise job');
    await job.remove();

    await runTenderSweep();
    expect((await tenderOf(s.tenderId))?.status, 'before the window ends').to.equal('awaiting_acceptance');

    passTime(s.tender.acceptanceDeadline);
    await runTenderSweep();
    const awarded = (await tenderOf(s.tenderId))!;
    expect(awarded.status).to.equal('awarded');
    await runTenderSweep();
    expect((await tenderOf(s.tenderId))?.awardedAt?.getTime()).to.equal(awarded.awardedAt?.getTime());
    expect(await OutboxEvent.countDocuments({ key: `vbp-tender-awarded:${s.tenderId}` })).to.equal(1);
    expect(await AuditEntry.countDocuments({ action: 'vbp.tender.award', targetId: s.tenderId })).to.equal(1);
    expect(await Contract.countDocuments({ tenderId: new Types.ObjectId(s.tenderId) })).to.equal(1);
  });
});
