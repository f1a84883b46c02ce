import { expect } from 'chai';
import { buildUser } from '../support/factories';
import { publishRoundWithQuotes } from '../support/quotation-factories';

describe('listings: a page of drugs at a time', function () {
  this.timeout(60_000);

  it('pages the current listings by drug name with a cursor, each drug once, with all its entries', async () => {
    const round = await publishRoundWithQuotes({ lines: 3, prices: [[195_000, 180_000, 170_000], [190_000, null, 160_000]], closesInMs: 4000 });
    const pharmacist = await buildUser('pharmacist');
    const seen: { drugId: string; entries: unknown[] }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await pharmacist.api().get(`/api/v1/listings?roundId=${round.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.data.length).to.be.at.most(2);
      seen.push(...res.body.data);
      cursor = res.body.nextCursor;
      pages += 1;
    } while (cursor && pages < 5);
    expect(pages).to.equal(2);
    expect(new Set(seen.map((g) => g.drugId)).size).to.equal(3);
    expect(seen.map((g) => g.entries.length).sort()).to.deep.equal([1, 2, 2]);
    expect((await pharmacist.api().get(`/api/v1/listings?roundId=${round.id}&cursor=not*a*cursor`)).status).to.equal(400);
  });
});
