import { expect } from 'chai';
import { testClock } from '../support/global';
import { Round } from '../../server/modules/quotation';
import { takeMissingKeys } from '../../server/platform/i18n';
import { buildUser, type TestUser } from '../support/factories';
import { buildDrug, buildOpenRound, catalogueOperator, publishRoundWithQuotes, tradingDistributors, type PublishedRound } from '../support/quotation-factories';

function localShanghai(msFromNow: number): string {
  return new Date(testClock.now().getTime() + msFromNow + 8 * 3600_000).toISOString().slice(0, 16);
}

describe('quotation pages', () => {
  let published: PublishedRound;

  before(async function () {
    this.timeout(60_000);
    published = await publishRoundWithQuotes({ closesInMs: 2500, prices: [[195_000], [200_000]] });
  });

  it('creates and schedules a round from the form, refusing bad input next to the fields', async () => {
    const op = await catalogueOperator();
    const drug = await buildDrug({ genericNameZh: `页面报价药${Date.now() % 10000}` });
    const form = await op.api().get(`/rounds/new?drugSearch=${encodeURIComponent(drug.genericNameZh)}`);
    expect(form.status).to.equal(200);
    expect(form.text).to.include('data-drug-picker').and.include(drug.genericNameZh);
    const title = `页面创建 ${Date.now()}`;
    const bad = await op.api().post('/rounds/new').type('form').send({ title, opensAt: '', closesAt: localShanghai(3600_000), action: 'draft' });
    expect(bad.status).to.equal(400);
    expect(bad.text).to.include('round-opens-error').and.include('round-lines-error');
    expect(await Round.countDocuments({ title })).to.equal(0);
    const body = `title=${encodeURIComponent(title)}&opensAt=${localShanghai(60_000)}&closesAt=${localShanghai(3600_000)}&visibility=best&drugIds=${drug.id}&ref_${drug.id}=2800.00&windowSec=60&action=schedule`;
    const ok = await op.api().post('/rounds/new').type('form').send(body);
    expect(ok.status, ok.text.slice(0, 500)).to.equal(303);
    const stored = await Round.findOne({ title }).lean<{ _id: unknown; status: string; visibility: string; lines: { referenceFen: number }[]; antiSniping: { windowSec: number } }>();
    expect(stored).to.include({ status: 'scheduled', visibility: 'best' });
    expect(stored!.lines[0]!.referenceFen).to.equal(280_000);
    expect(stored!.antiSniping.windowSec).to.equal(60);
    expect(ok.headers.location).to.equal(`/rounds/${String(stored!._id)}?flash=scheduled`);
    const board = await op.api().get(ok.headers.location);
    expect(board.status).to.equal(200);
    expect(board.text).to.include('data-board').and.include(drug.genericNameZh).and.include('¥2,800.00').and.include('data-cancel-form');
    const cancel = await op.api().post(`/rounds/${String(stored!._id)}/cancel`).type('form').send({ reason: '' });
    expect(cancel.status).to.equal(400);
    expect(cancel.text).to.include('cancel-reason-error');
  });

  it('gives a distributor the quote form with the highest allowed price, and lists rounds without drafts', async () => {
    const round = await buildOpenRound({ referenceFen: 289_000 });
    const [d] = (await tradingDistributors(1)) as [TestUser];
    const board = await d.api().get(`/rounds/${round.id}`);
    expect(board.status).to.equal(200);
    expect(board.text).to.include('data-quote-form').and.include('¥2,890.00').and.include('/static/pages/round-board.js');
    const list = await d.api().get('/rounds');
    expect(list.status).to.equal(200);
    expect(list.text).to.include(round.id);
    const draft = await buildOpenRound({ draft: true });
    expect((await d.api().get('/rounds')).text).to.not.include(draft.id);
    expect((await d.api().get(`/rounds/${draft.id}`)).status).to.equal(404);
  });

  it('shows hospitals the listing by drug with prices, reductions and credit grades', async () => {
    const pharmacist = await buildUser('pharmacist');
    const page = await pharmacist.api().get(`/listings?roundId=${published.id}`);
    expect(page.status).to.equal(200);
    expect(page.text).to.include('¥1,950.00').and.include('¥2,000.00').and.include('32.53%').and.include('data-credit-grade="A"');
    expect(page.text).to.include(published.distributors[0]!.org.name);
    const board = await pharmacist.api().get(`/rounds/${published.id}`);
    expect(board.text).to.include(published.distributors[1]!.org.name);
    const empty = await pharmacist.api().get(`/listings?q=${encodeURIComponent('没有这种药xyz')}`);
    expect(empty.text).to.include('暂无挂网药品');
  });

  it('shows the operator the report and the replay, and a distributor its listings with a withdrawal form', async () => {
    const op = await catalogueOperator();
    const report = await op.api().get(`/rounds/${published.id}/report`);
    expect(report.status).to.equal(200);
    expect(report.text).to.include('data-report-lines').and.include('32.53%');
    const replay = await op.api().get(`/rounds/${published.id}/replay`);
    expect(replay.status).to.equal(200);
    expect(replay.text).to.include('data-replay-table').and.include('¥1,950.00');
    const d = published.distributors[0]!;
    const mine = await d.api().get('/listings/mine');
    expect(mine.status).to.equal(200);
    expect(mine.text).to.include('data-my-listings').and.include('挂网中');
    const listingId = /data-listing-id="([a-f0-9]{24})"/.exec(mine.text)![1];
    const noReason = await d.api().post(`/listings/${listingId}/withdraw`).type('form').send({ reason: '' });
    expect(noReason.status).to.equal(400);
    expect(noReason.text).to.include(`reason-${listingId}-error`);
    expect((await d.api().get('/listings')).headers.location).to.equal('/listings/mine');
    expect(takeMissingKeys().filter((k) => k.startsWith('quotation.') || k.startsWith('catalogue.'))).to.deep.equal([]);
  });

  it('renders every page in English too, with no missing message', async () => {
    const op = await catalogueOperator();
    const pharmacist = await buildUser('pharmacist');
    const d = published.distributors[0]!;
    takeMissingKeys();
    const pages: [TestUser, string][] = [
      [op, '/rounds'],
      [op, '/rounds/new'],
      [op, `/rounds/${published.id}`],
      [op, `/rounds/${published.id}/report`],
      [op, `/rounds/${published.id}/replay`],
      [op, '/catalogue'],
      [op, '/catalogue/new'],
      [op, `/catalogue/${published.drugs[0]!.id}`],
      [pharmacist, '/listings'],
      [pharmacist, `/rounds/${published.id}`],
      [d, '/rounds'],
      [d, `/rounds/${published.id}`],
      [d, '/listings/mine'],
    ];
    for (const [user, path] of pages) {
      const res = await user.api().get(`${path}${path.includes('?') ? '&' : '?'}lang=en`);
      expect(res.status, path).to.equal(200);
      expect(res.text, path).to.include('lang="en"');
    }
    expect(takeMissingKeys().filter((k) => k.startsWith('quotation.') || k.startsWith('catalogue.'))).to.deep.equal([]);
  });
});
