import { expect } from 'chai';
import { Types } from 'mongoose';
import { QuoteEvent, Round } from '../../server/modules/quotation';
import { buildUser } from '../support/factories';
import { testApp, testClock } from '../support/global';
import { buildDrug, buildOpenRound, catalogueOperator, waitForRoundStatus } from '../support/quotation-factories';

const minutes = (n: number) => new Date(testClock.now().getTime() + n * 60_000).toISOString();

describe('quotation rounds', () => {
  it('creates a draft from catalogue drugs with the reference price in force at the opening and the platform defaults', async () => {
    const op = await catalogueOperator();
    const jan = new Date(testClock.now().getTime() - 30 * 86_400_000);
    const drug = await buildDrug({ referencePriceFen: 300_000, effectiveFrom: jan });
    await op.api().post(`/api/v1/catalogue/drugs/${drug.id}/reference-prices`, { priceFen: 289_000, effectiveFrom: new Date(testClock.now().getTime() + 5 * 60_000).toISOString() });
    const other = await buildDrug({ referencePriceFen: 10_000 });
    const res = await op.api().post('/api/v1/rounds', {
      title: '2026 年第一批短缺药品报价',
      lines: [{ drugId: drug.id }, { drugId: other.id, referenceFen: 9_000 }],
      opensAt: minutes(10),
      closesAt: minutes(70),
    });
    expect(res.status).to.equal(201);
    expect(res.body).to.include({ status: 'draft', visibility: 'rank', lineCount: 2, minDecrementBp: 50, windowSec: 120, extendSec: 120, maxExtensions: 10, listingValidityDays: 365 });
    expect(res.body.no).to.match(/^DQ\d{4}-\d{4}$/);
    const board = await op.api().get(`/api/v1/rounds/${res.body.id}`);
    expect(board.body.lines.map((l: { referenceFen: number }) => l.referenceFen)).to.deep.equal([289_000, 9_000]);
    // 0.5% of ¥2,890.00 is ¥14.45; of ¥90.00 it is ¥0.45.
    expect(board.body.lines.map((l: { minDecrementFen: number }) => l.minDecrementFen)).to.deep.equal([1445, 45]);
    expect(board.body.lines[0].drug.genericNameZh).to.equal(drug.genericNameZh);
  });

  it('refuses a bad round with a clear 4xx and stores nothing', async () => {
    const op = await catalogueOperator();
    const drug = await buildDrug();
    const noPrice = await buildDrug({ referencePriceFen: null });
    const title = `拒绝测试 ${Date.now()}`;
    const base = { title, lines: [{ drugId: drug.id }], opensAt: minutes(1), closesAt: minutes(10) };
    const cases: [Record<string, unknown>, number, string][] = [
      [{ ...base, closesAt: minutes(0) }, 400, 'INVALID_WINDOW'],
      [{ ...base, lines: [] }, 400, 'VALIDATION_FAILED'],
      [{ ...base, lines: [{ drugId: drug.id }, { drugId: drug.id }] }, 400, 'DUPLICATE_LINE'],
      [{ ...base, lines: [{ drugId: new Types.ObjectId().toString() }] }, 422, 'DRUG_NOT_FOUND'],
      [{ ...base, lines: [{ drugId: noPrice.id }] }, 422, 'NO_REFERENCE_PRICE'],
      [{ ...base, visibility: 'open' }, 400, 'VALIDATION_FAILED'],
      [{ ...base, lines: [{ drugId: drug.id, referenceFen: 10.5 }] }, 400, 'VALIDATION_FAILED'],
      [{ ...base, lines: [{ drugId: { $ne: null } }] }, 400, 'VALIDATION_FAILED'],
      [{ ...base, antiSniping: { windowSec: 0 } }, 400, 'VALIDATION_FAILED'],
      [{ ...base, extra: true }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [body, status, code] of cases) {
      const res = await op.api().post('/api/v1/rounds', body);
      expect(res.status, JSON.stringify(body)).to.equal(status);
      expect(res.body.error.code).to.equal(code);
    }
    const distributor = await buildUser('distributor');
    expect((await distributor.api().post('/api/v1/rounds', base)).status).to.equal(403);
    expect(await Round.countDocuments({ title })).to.equal(0);
  });

  it('schedules with deterministic open and close jobs, opens on time, and hides drafts from distributors', async () => {
    const op = await catalogueOperator();
    const round = await buildOpenRound({ draft: true, opensInMs: 800, closesInMs: 60_000 });
    const distributor = await buildUser('distributor');
    expect((await distributor.api().get(`/api/v1/rounds/${round.id}`)).status).to.equal(404);
    const listed = await distributor.api().get('/api/v1/rounds?limit=200');
    expect(listed.body.data.map((r: { id: string }) => r.id)).to.not.include(round.id);
    const edit = await op.api().patch(`/api/v1/rounds/${round.id}`, { title: '改过的标题', visibility: 'best' });
    expect(edit.status).to.equal(200);
    expect(edit.body).to.include({ title: '改过的标题', visibility: 'best' });
    const scheduled = await op.api().post(`/api/v1/rounds/${round.id}/schedule`);
    expect(scheduled.status).to.equal(200);
    expect(scheduled.body.status).to.equal('scheduled');
    const queues = testApp().platform.queues;
    await testApp().relay.idle(); // the jobs are scheduled by the subscribers of the commit
    const openJob = await queues.getJob(`round-open:${round.id}`);
    const closeJob = await queues.getJob(`round-close:${round.id}`);
    expect(openJob?.name).to.equal('quotation.round.open');
    expect(closeJob?.name).to.equal('quotation.round.close');
    expect(await closeJob!.getState()).to.equal('delayed');
    expect((await op.api().post(`/api/v1/rounds/${round.id}/schedule`)).status).to.equal(409);
    expect((await op.api().patch(`/api/v1/rounds/${round.id}`, { title: 'x' })).status).to.equal(409);
    expect((await distributor.api().get(`/api/v1/rounds/${round.id}`)).body.round.status).to.equal('scheduled');
    await waitForRoundStatus(round.id, 'open', 5000);
    expect(await QuoteEvent.countDocuments({ roundId: new Types.ObjectId(round.id), type: 'opened' })).to.equal(1);
  });

  it('cancels a round with a reason; a cancelled round takes no quotes and never publishes', async () => {
    const op = await catalogueOperator();
    const round = await buildOpenRound({ closesInMs: 1200 });
    expect((await op.api().post(`/api/v1/rounds/${round.id}/cancel`, { reason: '' })).status).to.equal(400);
    const res = await op.api().post(`/api/v1/rounds/${round.id}/cancel`, { reason: '品种目录调整' });
    expect(res.status).to.equal(200);
    expect(res.body.status).to.equal('cancelled');
    expect((await op.api().post(`/api/v1/rounds/${round.id}/cancel`, { reason: '再次取消' })).status).to.equal(409);
    await new Promise((r) => setTimeout(r, 1500));
    const stored = await Round.findById(round.id).lean<{ status: string }>();
    expect(stored!.status).to.equal('cancelled');
  });

  it('refuses to schedule a round whose close has passed', async () => {
    const op = await catalogueOperator();
    const round = await buildOpenRound({ draft: true, closesInMs: 60_000 });
    testClock.advance(2 * 60_000);
    const res = await op.api().post(`/api/v1/rounds/${round.id}/schedule`);
    expect(res.status).to.equal(422);
    expect(res.body.error.code).to.equal('CLOSE_IN_PAST');
    expect((await Round.findById(round.id).lean<{ status: string }>())!.status).to.equal('draft');
  });
});
