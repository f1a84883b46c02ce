import { getVbpSettings } from '../../server/modules/vbp';
import { expect } from 'chai';
import { Types } from 'mongoose';
import { OutboxEvent } from '../../server/platform/events';
import { withCommand } from '../../server/platform/unit-of-work';
import { expireRound, findListingEntry, Listing, listingsForDrug, Round, withdrawListingsOf } from '../../server/modules/quotation';
import { binaryBody } from '../support/binary';
import { buildUser, type TestUser } from '../support/factories';
import request from 'supertest';
import { testApp, testClock } from '../support/global';
import { extractPdfText } from '../support/pdf-text';
import { buildDrug, catalogueOperator, publishRoundWithQuotes, type PublishedRound } from '../support/quotation-factories';

function binary(req: request.Test) {
  return req.buffer(true).parse(binaryBody);
}

describe('publication (挂网)', () => {
  let published: PublishedRound;
  let pharmacist: TestUser;

  before(async function () {
    this.timeout(60_000);
    pharmacist = await buildUser('pharmacist');
    const urokinase = await buildDrug({ genericNameZh: '注射用尿激酶', genericNameEn: 'Urokinase for Injection', specification: '100,000 单位', referencePriceFen: 289_000 });
    const others = [await buildDrug({ genericNameZh: '硫酸鱼精蛋白注射液', referencePriceFen: 6_850 }), await buildDrug({ genericNameZh: '去乙酰毛花苷注射液', referencePriceFen: 1_280 })];
    published = await publishRoundWithQuotes({
      drugs: [urokinase, ...others],
      title: '2026 年第一批短缺药品挂网',
      closesInMs: 4000,
      prices: [
        [195_000, null, null],
        [200_000, 5_000, null],
        [180_000, null, null],
      ],
    });
  });

  it('lists every final quote per line by price with the reduction, and reports per line and overall', async () => {
    const op = await catalogueOperator();
    const report = await op.api().get(`/api/v1/rounds/${published.id}/report`);
    expect(report.status).to.equal(200);
    expect(report.body.overall).to.include({ lineCount: 3, quotedLineCount: 2, quoteCount: 4, distributorCount: 3 });
    expect(report.body.overall.linesWithoutQuotes).to.deep.equal([published.lines[2]!.lineId]);
    expect(report.body.lines[0]).to.include({ quoteCount: 3, bestPriceFen: 180_000, reductionBp: 3772, clearlyBelowReference: true });
    expect(report.body.lines[1]).to.include({ quoteCount: 1, bestPriceFen: 5_000, reductionBp: 2701 });
    const hospitalView = await pharmacist.api().get(`/api/v1/listings?roundId=${published.id}`);
    expect(hospitalView.status).to.equal(200);
    const uro = hospitalView.body.data.find((g: { drug: { genericNameZh: string } }) => g.drug.genericNameZh === '注射用尿激酶');
    expect(uro.entries.map((e: { unitPriceFen: number }) => e.unitPriceFen)).to.deep.equal([180_000, 195_000, 200_000]);
    expect(uro.entries.map((e: { distributorName: string }) => e.distributorName)).to.deep.equal([published.distributors[2]!.org.name, published.distributors[0]!.org.name, published.distributors[1]!.org.name]);
    expect(uro.entries[1]).to.include({ reductionBp: 3253, referenceFen: 289_000 });
    expect(uro.entries[0].credit).to.include({ grade: 'A', riskWarning: false, suspended: false });
    const distributor = published.distributors[0]!;
    expect((await distributor.api().get('/api/v1/listings')).status).to.equal(403);
    const mine = await distributor.api().get('/api/v1/listings/mine');
    expect(mine.body.data.filter((l: { roundId: string }) => l.roundId === published.id)).to.have.length(1);
  });

  it('shows distributors the final ranking by alias only, even after the close', async () => {
    const [a, b, c] = published.distributors as [TestUser, TestUser, TestUser];
    const board = await a.api().get(`/api/v1/rounds/${published.id}`);
    expect(board.body.round.status).to.equal('published');
    const results = board.body.lines[0].results as { alias: string; priceFen: number; rank: number; own: boolean }[];
    expect(results.map((r) => r.priceFen)).to.deep.equal([180_000, 195_000, 200_000]);
    expect(results.find((r) => r.own)).to.include({ priceFen: 195_000, rank: 2 });
    const text = JSON.stringify(board.body);
    for (const other of [b, c]) for (const secret of [other.org.id, other.org.name]) expect(text).to.not.include(secret);
  });

  it('answers the listing contract: findListingEntry and listingsForDrug', async () => {
    const [a, b] = published.distributors as [TestUser, TestUser];
    const uroDrug = published.drugs[0]!.id;
    const entry = await findListingEntry(uroDrug, a.org.id, testClock.now());
    expect(entry).to.include({ roundId: published.id, unitPriceFen: 195_000 });
    expect(entry!.expiresAt.getTime()).to.be.greaterThan(testClock.now().getTime() + 364 * 86_400_000);
    expect(await findListingEntry(published.drugs[1]!.id, a.org.id, testClock.now())).to.equal(null);
    expect(await findListingEntry(uroDrug, b.org.id, new Date(testClock.now().getTime() - 86_400_000))).to.equal(null);
    const entries = await listingsForDrug(uroDrug, testClock.now());
    expect(entries.map((e) => e.unitPriceFen)).to.deep.equal([180_000, 195_000, 200_000]);
    expect(entries[0]).to.include({ distributorOrgId: published.distributors[2]!.org.id, distributorName: published.distributors[2]!.org.name });
  });

  it('notifies every hospital pharmacist and each quoting distributor, once', async () => {
    // NOTE: notifications go out after the status changes, one stored row per user, so they may trail it.
    const waitFor = async (user: TestUser, match: (n: { link?: string; kind: string }) => boolean) => {
      for (let i = 0; i < 100; i += 1) {
        const found = (await user.api().get('/api/v1/notifications?limit=50')).body.data.filter(match);
        if (found.length) return found;
        await new Promise((r) => setTimeout(r, 100));
      }
      return [];
    };
    const mine = await waitFor(pharmacist, (n) => n.link === `/listings?roundId=${published.id}`);
    expect(mine).to.have.length(1);
    expect(mine[0].title).to.include('2026 年第一批短缺药品挂网');
    const dn = await waitFor(published.distributors[2]!, (n) => n.link === `/rounds/${published.id}` && n.kind === 'round.published');
    expect(dn).to.have.length(1);
    expect(dn[0].body).to.include('最低价');
  });

  it('produces the announcement PDF with the drug names in Chinese and the amounts, the same bytes each time', async () => {
    const op = await catalogueOperator();
    const res = await binary(op.api().get(`/api/v1/rounds/${published.id}/announcement.pdf`));
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.equal('application/pdf');
    const text = await extractPdfText(res.body as Buffer);
    for (const s of ['短缺药品报价结果公告', '注射用尿激酶', '硫酸鱼精蛋白注射液', '去乙酰毛花苷注射液', '¥2,890.00', '¥1,800.00', '¥1,950.00', '37.72%', '无有效报价', published.distributors[2]!.org.name]) {
      expect(text.replace(/\s+/g, ''), s).to.include(s.replace(/\s+/g, ''));
    }
    const again = await binary(pharmacist.api().get(`/api/v1/rounds/${published.id}/announcement.pdf`));
    expect(Buffer.compare(again.body as Buffer, res.body as Buffer)).to.equal(0);
    expect((await published.distributors[0]!.api().get(`/api/v1/rounds/${published.id}/announcement.pdf`)).status).to.equal(404);
  });

  it('exports the audit trail as CSV and replays the ranking history from it', async () => {
    const op = await catalogueOperator();
    // NOTE: the operator's saved language may have been switched by another test; ask for Chinese.
    const csv = await binary(op.api().get(`/api/v1/rounds/${published.id}/events.csv?lang=zh`));
    expect(csv.status).to.equal(200);
    const text = (csv.body as Buffer).toString('utf8');
    expect(text.startsWith('\uFEFF服务器时间')).to.equal(true);
    const rows = text.trim().split('\n');
    // the event column is in the reader's language (Chinese by default)
    expect(rows.filter((r) => r.includes(',报价,'))).to.have.length(4);
    expect(rows.some((r) => r.includes(',截止,'))).to.equal(true);
    expect(rows.some((r) => r.includes(',开始报价,') || r.includes(',排期,'))).to.equal(true);
    expect(text).to.match(/\+08:00/);
    const replay = await op.api().get(`/api/v1/rounds/${published.id}/replay?lineId=${published.lines[0]!.lineId}`);
    expect(replay.status).to.equal(200);
    const quoteSteps = replay.body.steps.filter((s: { type: string }) => s.type === 'submitted');
    expect(quoteSteps).to.have.length(3);
    expect(quoteSteps.map((s: { ranking: { priceFen: number }[] }) => s.ranking.map((r) => r.priceFen))).to.deep.equal([[195_000], [195_000, 200_000], [180_000, 195_000, 200_000]]);
    expect((await published.distributors[0]!.api().get(`/api/v1/rounds/${published.id}/events`)).status).to.equal(403);
  });

  it('exports the round as an OCDS release package with tender, bids and awards', async () => {
    const res = await request(testApp().url).get(`/api/v1/rounds/${published.id}/ocds`);
    expect(res.status).to.equal(200);
    expect(res.body.version).to.equal('1.1');
    const release = res.body.releases[0];
    // one publisher, one prefix: the operator's OCDS setting, the same as the VBP tenders use
    const { ocds } = await getVbpSettings();
    expect(ocds.ocidPrefix).to.match(/^ocds-[a-z0-9]{6}$/);
    expect(release.ocid).to.equal(`${ocds.ocidPrefix}-${published.no}`);
    expect(release.tender.items[0].classification.scheme).to.equal('CN-NHSA');
    expect(release.tag).to.deep.equal(['tender', 'award']);
    expect(release.tender.items).to.have.length(3);
    expect(release.tender.items[0].unit.value).to.deep.equal({ amount: 2890, currency: 'CNY' });
    expect(release.tender.numberOfTenderers).to.equal(3);
    expect(release.bids.details).to.have.length(4);
    expect(release.awards).to.have.length(4);
    expect(release.awards[0]).to.include({ status: 'active' });
    // an award's value is its total; a listing fixes a unit price and no quantity, so only the item carries the price
    expect(release.awards[0]).to.not.have.property('value');
    expect(release.awards[0].items[0].unit.value).to.deep.equal({ amount: 1800, currency: 'CNY' });
  });

  it('a distributor withdrawing a published listing is recorded once as a breach fact; sanctions withdraw all listings', async () => {
    const [a, , c] = published.distributors as [TestUser, TestUser, TestUser];
    const mine = (await a.api().get('/api/v1/listings/mine')).body.data.find((l: { roundId: string }) => l.roundId === published.id);
    expect((await a.api().post(`/api/v1/listings/${mine.listingId}/withdraw`, {})).status).to.equal(400);
    const other = await c.api().post(`/api/v1/listings/${mine.listingId}/withdraw`, { reason: '不是我的' });
    expect(other.status).to.equal(404);
    const res = await a.api().post(`/api/v1/listings/${mine.listingId}/withdraw`, { reason: '原料药断供' });
    expect(res.status).to.equal(200);
    expect((await a.api().post(`/api/v1/listings/${mine.listingId}/withdraw`, { reason: '再次撤回' })).status).to.equal(409);
    const facts = await OutboxEvent.find({ type: 'quotation.quote_withdrawn_after_publication', 'payload.listingId': mine.listingId }).lean<{ key: string; payload: Record<string, string> }[]>();
    expect(facts).to.have.length(1);
    expect(facts[0]!.payload).to.include({ roundId: published.id, distributorOrgId: a.org.id, drugId: published.drugs[0]!.id });
    expect(facts[0]!.key).to.equal(`quote-withdrawn-after-publication:${facts[0]!.payload.quoteId}`);
    expect(await findListingEntry(published.drugs[0]!.id, a.org.id, testClock.now())).to.equal(null);
    expect(await withCommand(null, (uow) => withdrawListingsOf(uow, c.org.id, '信用惩戒：暂停挂网'))).to.equal(1);
    expect(await findListingEntry(published.drugs[0]!.id, c.org.id, testClock.now())).to.equal(null);
    expect((await listingsForDrug(published.drugs[0]!.id, testClock.now())).map((e) => e.unitPriceFen)).to.deep.equal([200_000]);
  });

  it('expires the listing at the end of its validity', async () => {
    const b = published.distributors[1]!;
    testClock.advance(366 * 86_400_000);
    expect(await expireRound(published.id)).to.equal('expired');
    expect(await expireRound(published.id)).to.equal('skipped');
    expect(await findListingEntry(published.drugs[1]!.id, b.org.id, testClock.now())).to.equal(null);
    expect((await Round.findById(published.id).lean<{ status: string }>())!.status).to.equal('expired');
    expect(await Listing.countDocuments({ roundId: new Types.ObjectId(published.id), status: 'listed' })).to.equal(0);
  });
});
