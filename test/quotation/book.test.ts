import { expect } from 'chai';
import { Types } from 'mongoose';
import { rank } from '../../server/modules/quotation/quotation.board';
import { RoundBook, type BookQuote } from '../../server/modules/quotation/quotation.book';
import type { RoundRecord } from '../../server/modules/quotation/quotation.model';

function roundWithLines(n: number): RoundRecord {
  return {
    _id: new Types.ObjectId(),
    seq: 0,
    lines: Array.from({ length: n }, (_, i) => ({ _id: new Types.ObjectId(), no: i + 1, referenceFen: 100_000, minDecrementFen: 100 })),
  } as unknown as RoundRecord;
}

describe('quotation book', () => {
  it('keeps each line ranked exactly as ranking its active quotes afresh, through revisions, ties and a line read before and after', () => {
    const round = roundWithLines(3);
    const lineIds = round.lines.map((l) => String(l._id));
    const orgs = Array.from({ length: 12 }, () => String(new Types.ObjectId()));
    const at = new Date('2026-12-06T10:00:00Z').getTime();
    const earlier: BookQuote = { _id: new Types.ObjectId(), lineId: round.lines[0]!._id, distributorOrgId: new Types.ObjectId(orgs[0]), alias: 'A0', priceFen: 90_000, receivedAt: new Date(at), seq: 1, status: 'active' };
    const book = new RoundBook(round, [earlier], []);
    const active = new Map<string, Map<string, BookQuote>>(lineIds.map((id) => [id, new Map()]));
    active.get(lineIds[0]!)!.set(orgs[0]!, earlier);
    const handedOut = book.ranked(lineIds[0]!);
    const snapshot = JSON.stringify(handedOut);
    let seq = 1;
    for (let n = 0; n < 400; n += 1) {
      const lineId = lineIds[n % 3]!;
      const org = orgs[(n * 5) % orgs.length]!;
      seq += 1;
      // prices repeat and receipt times collide, so ties are broken by time, then by sequence
      const quote: BookQuote = { _id: new Types.ObjectId(), lineId: new Types.ObjectId(lineId), distributorOrgId: new Types.ObjectId(org), alias: `A${org.slice(-4)}`, priceFen: 80_000 - ((n * 37) % 11) * 100, receivedAt: new Date(at + Math.floor(n / 4)), seq, status: 'active' };
      if (n % 7 === 0) book.ranked(lineId);
      book.accept(quote);
      active.get(lineId)!.set(org, quote);
      expect(book.ranked(lineId)).to.deep.equal(rank([...active.get(lineId)!.values()]));
    }
    for (const lineId of lineIds) expect(book.ranked(lineId)).to.deep.equal(rank([...active.get(lineId)!.values()]));
    expect(JSON.stringify(handedOut), 'a ranking handed out earlier is never changed').to.equal(snapshot);
  });
});
