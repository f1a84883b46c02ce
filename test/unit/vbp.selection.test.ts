import { expect } from 'chai';
import {
  DEFAULT_SELECTION_RULES,
  type DosageFormClass,
  type SelectionResult,
  type SelectionRules,
  type VbpBid,
  agreedVolumeShare,
  allocateHospitals,
  completionStatus,
  contractTermYears,
  selectWinners,
  shortlistSize,
} from '../../server/modules/vbp/vbp.selection';

const T0 = Date.UTC(2025, 8, 1, 2, 0, 0);

/** Bids b1, b2, … from d1, d2, … submitted one second apart in the given order. */
function bids(prices: number[]): VbpBid[] {
  return prices.map((priceFen, i) => ({
    bidId: `b${i + 1}`,
    distributorId: `d${i + 1}`,
    priceFen,
    submittedAt: new Date(T0 + i * 1000),
  }));
}

function run(
  prices: number[],
  options: {
    ceilingFen?: number;
    formClass?: DosageFormClass;
    accepts?: string[];
    otherVarietiesAverageDropBp?: number;
    rules?: SelectionRules;
  } = {},
): SelectionResult {
  return selectWinners({
    bids: bids(prices),
    ceilingFen: options.ceilingFen ?? 1_000_000,
    formClass: options.formClass ?? 'other',
    acceptsHighestWinningPrice: new Set(options.accepts ?? []),
    otherVarietiesAverageDropBp: options.otherVarietiesAverageDropBp,
    rules: options.rules,
  });
}

/** bidId → outcome (and final price when it won). */
function outcomes(result: SelectionResult): Record<string, string> {
  return Object.fromEntries(
    result.bids.map((b) => [b.bidId, b.finalPriceFen === null ? b.outcome : `${b.outcome}@${b.finalPriceFen}`]),
  );
}

describe('VBP selection', () => {
  describe('shortlist size by number of valid bidders (11th batch)', () => {
    const table: [number, number][] = [
      [0, 0], [1, 1], [2, 2], [3, 2], [4, 3], [5, 3], [6, 3], [7, 4], [8, 5], [9, 6], [10, 6],
      [11, 7], [12, 8], [13, 8], [14, 9], [15, 9], [16, 10], [17, 10], [18, 10], [19, 10], [20, 10], [100, 10],
    ];
    for (const [n, k] of table) {
      it(`shortlists ${k} of ${n} valid bidders`, () => {
        expect(shortlistSize(n)).to.equal(k);
      });
    }

    it('never shortlists more bids than there are, whatever the table says', () => {
      const rules = { ...DEFAULT_SELECTION_RULES, shortlistByBidderCount: [5] };
      expect(shortlistSize(2, rules)).to.equal(2);
    });

    // Close prices (all within 1.8 × anchor), so every shortlisted bid but an excluded highest wins.
    for (let n = 1; n <= 20; n += 1) {
      const k = shortlistSize(n);
      const expectedWinners = n === 2 ? 1 : k; // with 2 bidders both are shortlisted, and the highest never wins
      it(`with ${n} close bids: ${k} shortlisted, ${expectedWinners} win`, () => {
        const result = run(Array.from({ length: n }, (_, i) => 1000 + i * 10));
        expect(result.validBidderCount).to.equal(n);
        expect(result.shortlistSize).to.equal(k);
        expect(result.bids.filter((b) => b.shortlisted)).to.have.length(k);
        expect(result.winnerCount).to.equal(expectedWinners);
        const highest = result.bids.find((b) => b.rank === n)!;
        if (n > 1) expect(highest.outcome).to.equal('lost');
      });
    }
  });

  describe('direct wins within 1.8 × anchor', () => {
    it('anchors on the lowest price when it exceeds half the shortlisted mean, and lets the missed bid follow', () => {
      // 10 bidders → 6 shortlisted: 100,120,150,170,185,190; half mean 76.25 < lowest 100 → anchor 100, limit 180.
      const result = run([100, 120, 150, 170, 185, 190, 200, 250, 300, 400], { accepts: ['b5', 'b8'] });
      expect(result.anchor).to.deep.equal({ numerator: 100, denominator: 1, fen: 100 });
      expect(result.meanShortlistedPrice).to.deep.equal({ numerator: 915, denominator: 6, fen: 152 }); // 152.5 → 152, half-even
      expect(result.spreadLimitFen).to.equal(180);
      expect(result.highestDirectWinningPriceFen).to.equal(170);
      expect(result.followPriceFen).to.equal(170);
      expect(outcomes(result)).to.deep.equal({
        b1: 'won_direct@100',
        b2: 'won_direct@120',
        b3: 'won_direct@150',
        b4: 'won_direct@170',
        b5: 'won_by_accepting@170', // missed 180 and accepted the highest direct-winning price
        b6: 'lost', // missed and did not accept
        b7: 'lost',
        b8: 'lost', // not shortlisted: accepting does not help
        b9: 'lost',
        b10: 'lost',
      });
      expect(result.winnerCount).to.equal(5);
      const codes = (id: string) => result.bids.find((b) => b.bidId === id)!.reasons.map((r) => r.code);
      expect(codes('b1')).to.deep.equal(['WITHIN_SPREAD']);
      expect(codes('b5')).to.deep.equal(['ABOVE_SPREAD', 'ACCEPTED_FOLLOW_PRICE']);
      expect(codes('b6')).to.deep.equal(['ABOVE_SPREAD', 'DID_NOT_ACCEPT_FOLLOW_PRICE']);
      expect(codes('b8')).to.deep.equal(['NOT_SHORTLISTED']);
    });

    const boundary: [string, number[], Record<string, string>][] = [
      // anchor = lowest 100 → limit exactly 180: 180 wins, 181 does not.
      ['a price of exactly 1.8 × anchor wins', [100, 180, 500], { b1: 'won_direct@100', b2: 'won_direct@180', b3: 'lost' }],
      ['a price 1 fen above 1.8 × anchor does not', [100, 181, 500], { b1: 'won_direct@100', b2: 'lost', b3: 'lost' }],
      // 4 bidders → 3 shortlisted: 5, 30, 65 → half mean = 100/6 > 5, limit = 1.8 × 100/6 = 30 exactly.
      ['a fractional anchor is compared exactly (30 ≤ 1.8 × 100/6)', [5, 30, 65, 70], { b1: 'won_direct@5', b2: 'won_direct@30', b3: 'lost', b4: 'lost' }],
      ['one fen above an exact fractional limit does not win', [5, 31, 64, 70], { b1: 'won_direct@5', b2: 'lost', b3: 'lost', b4: 'lost' }],
    ];
    for (const [name, prices, expected] of boundary) {
      it(name, () => expect(outcomes(run(prices))).to.deep.equal(expected));
    }

    it('uses half the shortlisted mean as anchor when it exceeds the lowest price', () => {
      // 7 bidders → 4 shortlisted: 10, 90, 100, 110; half mean = 310/8 = 38.75 > 10; limit 69.75.
      const result = run([10, 90, 100, 110, 200, 300, 400]);
      expect(result.anchor).to.deep.equal({ numerator: 310, denominator: 8, fen: 39 });
      expect(result.spreadLimitFen).to.equal(69);
      expect(outcomes(result)).to.include({ b1: 'won_direct@10', b2: 'lost' });
    });

    const fractional: [string, number[], string][] = [
      // Shortlisted prices sum to 310 in both cases → limit 1.8 × 310/8 = 69.75.
      ['refuses 70 against a 69.75 limit, although the limit would round to 70', [10, 70, 100, 130, 200, 300, 400], 'lost'],
      ['accepts 69 against a 69.75 limit', [10, 69, 100, 131, 200, 300, 400], 'won_direct@69'],
    ];
    for (const [name, prices, expected] of fractional) {
      it(name, () => {
        const result = run(prices);
        expect(result.anchor).to.include({ numerator: 310, denominator: 8 });
        expect(outcomes(result)['b2']).to.equal(expected);
      });
    }

    it('with a single direct winner, a missed bid may follow at 1.8 × anchor rounded down to whole fen', () => {
      const result = run([10, 90, 100, 110, 200, 300, 400], { accepts: ['b2', 'b3'] });
      expect(result.highestDirectWinningPriceFen).to.equal(10);
      expect(result.followPriceFen).to.equal(69);
      expect(outcomes(result)).to.include({ b1: 'won_direct@10', b2: 'won_by_accepting@69', b3: 'won_by_accepting@69', b4: 'lost' });
    });

    it('can be configured to follow the single winner’s own price instead', () => {
      const rules = { ...DEFAULT_SELECTION_RULES, singleDirectWinnerFollowPrice: 'highest_direct' as const };
      const result = run([10, 90, 100, 110, 200, 300, 400], { accepts: ['b2'], rules });
      expect(result.followPriceFen).to.equal(10);
      expect(outcomes(result)['b2']).to.equal('won_by_accepting@10');
    });

    it('applies a configured spread multiple and anchor share', () => {
      const rules = {
        ...DEFAULT_SELECTION_RULES,
        spreadMultiple: { numerator: 3, denominator: 2 },
        anchorMeanShare: { numerator: 1, denominator: 1 },
      };
      // 3 bidders → 2 shortlisted: 100, 140 → mean 120 > 100 → limit 180 with 1.5×.
      const result = run([100, 140, 150], { rules });
      expect(result.spreadLimitFen).to.equal(180);
    });
  });

  describe('low-price floors by dosage form', () => {
    // 3 bidders → 2 shortlisted: 2 and X; anchor = max((2+X)/4, 2).
    const cases: [DosageFormClass, number, string][] = [
      ['oral_solid', 10, 'won_direct@10'], // (2+10)/4 = 3 → limit 5.4, but 10 ≤ floor 10 fen
      ['oral_solid', 11, 'lost'], // above the floor and the limit
      ['small_volume_injection', 100, 'won_direct@100'], // floor 1.00 CNY
      ['small_volume_injection', 101, 'lost'],
      ['large_volume_injection', 200, 'won_direct@200'], // floor 2.00 CNY
      ['large_volume_injection', 201, 'lost'],
      ['other', 10, 'lost'], // no floor
    ];
    for (const [form, price, expected] of cases) {
      it(`${form}: a shortlisted bid of ${price} fen is ${expected}`, () => {
        const result = run([2, price, 5000], { formClass: form });
        expect(outcomes(result)['b2']).to.equal(expected);
        if (expected.startsWith('won')) {
          expect(result.bids[1]!.reasons.map((r) => r.code)).to.include('AT_OR_BELOW_FLOOR');
        }
      });
    }

    it('does not let the highest bid win through the floor', () => {
      const result = run([5, 8], { formClass: 'oral_solid' });
      expect(outcomes(result)).to.deep.equal({ b1: 'won_direct@5', b2: 'lost' });
    });
  });

  describe('the highest valid bid never wins when there is more than one bidder', () => {
    const cases: [string, number[], Record<string, string>][] = [
      ['two bidders within the spread: the higher loses', [100, 150], { b1: 'won_direct@100', b2: 'lost' }],
      ['two equal bids: the later one loses', [100, 100], { b1: 'won_direct@100', b2: 'lost' }],
      ['three bidders, two at the top price: both top bids lose', [100, 150, 150], { b1: 'won_direct@100', b2: 'lost', b3: 'lost' }],
      ['four equal bids: only the latest is treated as highest', [100, 100, 100, 100], {
        b1: 'won_direct@100', b2: 'won_direct@100', b3: 'won_direct@100', b4: 'lost',
      }],
      ['a single valid bidder wins at its own price', [777], { b1: 'won_direct@777' }],
    ];
    for (const [name, prices, expected] of cases) {
      it(name, () => expect(outcomes(run(prices))).to.deep.equal(expected));
    }

    it('cannot win by accepting the follow price either', () => {
      const result = run([100, 300], { accepts: ['b2'] });
      expect(outcomes(result)['b2']).to.equal('lost');
      expect(result.bids[1]!.reasons.map((r) => r.code)).to.deep.equal(['ABOVE_SPREAD', 'HIGHEST_BID_EXCLUDED']);
    });

    it('can be switched off by configuration', () => {
      const rules = { ...DEFAULT_SELECTION_RULES, highestBidNeverWins: false };
      expect(outcomes(run([100, 150], { rules }))['b2']).to.equal('won_direct@150');
    });
  });

  describe('ties', () => {
    it('ranks an equal price submitted earlier first, which decides the last shortlist place', () => {
      // 5 bidders → 3 shortlisted; b4 and b3 both bid 150, b3 was submitted first.
      const input = bids([100, 120, 150, 150, 300]);
      const result = selectWinners({ bids: input, ceilingFen: 1000, formClass: 'other' });
      const byId = Object.fromEntries(result.bids.map((b) => [b.bidId, b]));
      expect(byId['b3']).to.include({ rank: 3, shortlisted: true, outcome: 'won_direct' });
      expect(byId['b4']).to.include({ rank: 4, shortlisted: false, outcome: 'lost' });
    });

    it('does not depend on the input order', () => {
      const input = bids([150, 150, 100, 120, 300]);
      const reversed = [...input].reverse();
      const a = selectWinners({ bids: input, ceilingFen: 1000, formClass: 'other' });
      const b = selectWinners({ bids: reversed, ceilingFen: 1000, formClass: 'other' });
      expect(b.bids).to.deep.equal(a.bids);
      expect(a.bids.map((x) => x.bidId)).to.deep.equal(['b3', 'b4', 'b1', 'b2', 'b5']);
    });

    it('breaks a same-instant tie by bidId so the result is deterministic', () => {
      const same = new Date(T0);
      const input = [
        { bidId: 'z', distributorId: 'd1', priceFen: 100, submittedAt: same },
        { bidId: 'a', distributorId: 'd2', priceFen: 100, submittedAt: same },
        { bidId: 'm', distributorId: 'd3', priceFen: 500, submittedAt: same },
      ];
      const result = selectWinners({ bids: input, ceilingFen: 1000, formClass: 'other' });
      expect(result.bids.map((b) => [b.bidId, b.rank])).to.deep.equal([['a', 1], ['z', 2], ['m', 3]]);
    });
  });

  describe('invalid bids', () => {
    it('excludes bids above the ceiling before counting bidders', () => {
      // 3 bids but only 1 valid → it is a single bidder and wins.
      const result = run([900, 1001, 5000], { ceilingFen: 1000 });
      expect(result.validBidderCount).to.equal(1);
      expect(outcomes(result)).to.deep.equal({ b1: 'won_direct@900', b2: 'invalid', b3: 'invalid' });
      const invalid = result.bids.find((b) => b.bidId === 'b2')!;
      expect(invalid.rank).to.equal(null);
      expect(invalid.reasons[0]).to.deep.include({ code: 'ABOVE_CEILING', params: { priceFen: 1001, ceilingFen: 1000 } });
      expect(invalid.reasons[0]!.zh).to.contain('¥10.01').and.contain('¥10.00');
      expect(invalid.reasons[0]!.en).to.contain('above the ceiling');
    });

    it('accepts a bid exactly at the ceiling', () => {
      expect(outcomes(run([1000], { ceilingFen: 1000 }))).to.deep.equal({ b1: 'won_direct@1000' });
    });

    it('marks zero, negative and fractional prices invalid', () => {
      expect(outcomes(run([0, -5, 10.5, 100]))).to.deep.equal({ b4: 'won_direct@100', b1: 'invalid', b2: 'invalid', b3: 'invalid' });
    });

    it('returns no winners and no anchor when nothing is valid', () => {
      const result = run([2000, 3000], { ceilingFen: 1000 });
      expect(result).to.include({ validBidderCount: 0, shortlistSize: 0, anchor: null, followPriceFen: null, winnerCount: 0 });
      expect(result.bids).to.have.length(2);
    });

    it('refuses duplicate bids and duplicate bidders (programmer errors)', () => {
      const dupBid = [...bids([100]), { ...bids([200])[0]!, distributorId: 'dx' }];
      expect(() => selectWinners({ bids: dupBid, ceilingFen: 1000, formClass: 'other' })).to.throw(RangeError, /bidId/);
      const dupDist = [...bids([100]), { ...bids([200])[0]!, bidId: 'bx' }];
      expect(() => selectWinners({ bids: dupDist, ceilingFen: 1000, formClass: 'other' })).to.throw(RangeError, /distributorId/);
    });
  });

  describe('1–2 bidders with the average drop of other varieties', () => {
    // Ceiling 1000; others dropped 60% on average → required drop 50% × 60% = 30%.
    const cases: [number[], Record<string, string>][] = [
      [[700], { b1: 'won_direct@700' }], // exactly 30%
      [[701], { b1: 'lost' }], // 29.9%
      [[700, 650], { b1: 'lost', b2: 'won_direct@650' }], // 700 is the highest
    ];
    for (const [prices, expected] of cases) {
      it(`decides ${JSON.stringify(prices)} by the drop against the ceiling`, () => {
        const result = run(prices, { ceilingFen: 1000, otherVarietiesAverageDropBp: 6000 });
        expect(result.usedFewBiddersRule).to.equal(true);
        expect(outcomes(result)).to.deep.equal(expected);
      });
    }

    it('reports the missing direct winner when the only bid fails', () => {
      const result = run([701], { ceilingFen: 1000, otherVarietiesAverageDropBp: 6000 });
      expect(result.bids[0]!.reasons.map((r) => r.code)).to.deep.equal(['DROP_INSUFFICIENT', 'NO_DIRECT_WINNER']);
    });

    it('uses the 1.8 × anchor rule from 3 bidders on', () => {
      const result = run([700, 710, 720], { ceilingFen: 1000, otherVarietiesAverageDropBp: 6000 });
      expect(result.usedFewBiddersRule).to.equal(false);
      expect(result.winnerCount).to.equal(2);
    });
  });

  describe('edge prices for every bidder count from 1 to 20', () => {
    // Prices under 200 keep half the shortlisted mean under the lowest price 100, so anchor = 100 and
    // the limit is exactly 180: the bid ranked 2nd wins at 180 and loses at 181, whatever the count.
    for (let n = 3; n <= 20; n += 1) {
      for (const [price, expected] of [[180, 'won_direct@180'], [181, 'lost']] as const) {
        it(`${n} bidders: a 2nd-ranked bid of ${price} against a 1.8 × anchor limit of exactly 180 is ${expected}`, () => {
          const prices = [100, price, ...Array.from({ length: n - 2 }, (_, i) => 182 + i)];
          const result = run(prices);
          expect(result.anchor).to.deep.include({ numerator: 100, denominator: 1 });
          expect(result.spreadLimitFen).to.equal(180);
          expect(outcomes(result)['b2']).to.equal(expected);
          expect(outcomes(result)['b1']).to.equal('won_direct@100');
          expect(outcomes(result)[`b${n}`]).to.equal('lost');
        });
      }
    }

    // Everyone bids the same price: ranks follow receipt time; only the latest counts as "highest".
    for (let n = 1; n <= 20; n += 1) {
      const k = shortlistSize(n);
      const winners = n === 1 ? 1 : n > k ? k : n - 1;
      it(`${n} equal bids: ${winners} win, by earliest receipt`, () => {
        const result = run(Array.from({ length: n }, () => 500));
        expect(result.winnerCount).to.equal(winners);
        const won = result.bids.filter((b) => b.outcome === 'won_direct').map((b) => b.rank);
        expect(won).to.deep.equal(Array.from({ length: winners }, (_, i) => i + 1));
      });
    }

    // With the spread made strict (anchor = lowest, limit = 1 × lowest), only the floor lets a bid win.
    const strict = { ...DEFAULT_SELECTION_RULES, spreadMultiple: { numerator: 1, denominator: 1 }, anchorMeanShare: { numerator: 1, denominator: 100 } };
    for (let n = 3; n <= 20; n += 1) {
      for (const [form, floor] of [['oral_solid', 10], ['small_volume_injection', 100], ['large_volume_injection', 200]] as const) {
        it(`${n} bidders, ${form}: exactly the floor ${floor} wins, one fen above does not`, () => {
          const others = Array.from({ length: n - 3 }, (_, i) => floor + 2 + i);
          const atFloor = run([1, floor, floor + 1, ...others], { formClass: form, rules: strict });
          expect(outcomes(atFloor)['b2']).to.equal(`won_direct@${floor}`);
          expect(atFloor.bids.find((b) => b.bidId === 'b2')!.reasons.map((r) => r.code)).to.deep.equal(['ABOVE_SPREAD', 'AT_OR_BELOW_FLOOR']);
          const shortlisted3 = atFloor.bids.find((b) => b.bidId === 'b3')!;
          if (shortlisted3.shortlisted) expect(shortlisted3.outcome).to.equal('lost');
        });
      }
    }

    it('a bid exactly at the ceiling is valid and one fen above is invalid, for every count', () => {
      for (let n = 1; n <= 20; n += 1) {
        const prices = [...Array.from({ length: n - 1 }, (_, i) => 900 + i), 1000];
        const result = run([...prices, 1001], { ceilingFen: 1000 });
        expect(result.validBidderCount, `n=${n}`).to.equal(n);
        expect(outcomes(result)[`b${n + 1}`]).to.equal('invalid');
      }
    });
  });

  describe('agreed volume and term by number of winners', () => {
    const table: [number, number, number][] = [
      [0, 0, 0],
      [1, 5000, 1],
      [2, 6000, 1],
      [3, 7000, 2],
      [4, 8000, 3],
      [5, 8000, 3],
      [10, 8000, 3],
    ];
    for (const [winners, share, years] of table) {
      it(`${winners} winners → ${share / 100}% of declared demand for ${years} year(s)`, () => {
        expect(agreedVolumeShare(winners)).to.equal(share);
        expect(contractTermYears(winners)).to.equal(years);
      });
    }

    it('reads configured tables', () => {
      const rules = { ...DEFAULT_SELECTION_RULES, volumeShareBpByWinnerCount: [6000, 7000], termYearsByWinnerCount: [2] };
      expect(agreedVolumeShare(1, rules)).to.equal(6000);
      expect(agreedVolumeShare(5, rules)).to.equal(7000);
      expect(contractTermYears(3, rules)).to.equal(2);
    });
  });

  describe('allocateHospitals', () => {
    const hospitals = [
      { hospitalId: 'h-small', declaredQty: 5 },
      { hospitalId: 'h-big', declaredQty: 1000 },
      { hospitalId: 'h-brand', declaredQty: 15, preferredDistributorId: 'w3' },
      { hospitalId: 'h-mid-b', declaredQty: 300 },
      { hospitalId: 'h-mid-a', declaredQty: 300 },
      { hospitalId: 'h-loser-fan', declaredQty: 0, preferredDistributorId: 'not-a-winner' },
    ];

    it('lets winners pick in rank order, largest hospital first, honouring brand preferences', () => {
      const { allocations, ignoredPreferences } = allocateHospitals({ winnersInRankOrder: ['w1', 'w2', 'w3'], hospitals, shareBp: 5000 });
      expect(allocations.map((a) => [a.hospitalId, a.distributorId, a.agreedQty, a.basis])).to.deep.equal([
        ['h-small', 'w1', 2, 'rank_rotation'], // 2.5 → 2 (half-even); 4th pick
        ['h-big', 'w1', 500, 'rank_rotation'], // 1st pick
        ['h-brand', 'w3', 8, 'preferred'], // 7.5 → 8 (half-even)
        ['h-mid-b', 'w3', 150, 'rank_rotation'], // 3rd pick (id order breaks the 300 tie)
        ['h-mid-a', 'w2', 150, 'rank_rotation'], // 2nd pick
        ['h-loser-fan', 'w2', 0, 'rank_rotation'], // 5th pick
      ]);
      expect(ignoredPreferences).to.deep.equal(['h-loser-fan']);
    });

    it('gives everything to a single winner', () => {
      const { allocations } = allocateHospitals({ winnersInRankOrder: ['w1'], hospitals, shareBp: 8000 });
      expect(new Set(allocations.map((a) => a.distributorId))).to.deep.equal(new Set(['w1']));
      expect(allocations.find((a) => a.hospitalId === 'h-big')!.agreedQty).to.equal(800);
    });

    it('is deterministic whatever the input order', () => {
      const a = allocateHospitals({ winnersInRankOrder: ['w1', 'w2'], hospitals, shareBp: 6000 });
      const b = allocateHospitals({ winnersInRankOrder: ['w1', 'w2'], hospitals: [...hospitals].reverse(), shareBp: 6000 });
      const key = (x: typeof a) => x.allocations.map((al) => `${al.hospitalId}:${al.distributorId}:${al.agreedQty}`).sort();
      expect(key(b)).to.deep.equal(key(a));
    });

    it('refuses no winners, duplicates, bad shares and bad quantities (programmer errors)', () => {
      expect(() => allocateHospitals({ winnersInRankOrder: [], hospitals, shareBp: 5000 })).to.throw(RangeError);
      expect(() => allocateHospitals({ winnersInRankOrder: ['w1', 'w1'], hospitals, shareBp: 5000 })).to.throw(RangeError);
      expect(() => allocateHospitals({ winnersInRankOrder: ['w1'], hospitals, shareBp: 10001 })).to.throw(RangeError);
      expect(() =>
        allocateHospitals({ winnersInRankOrder: ['w1'], hospitals: [{ hospitalId: 'h', declaredQty: -1 }], shareBp: 5000 }),
      ).to.throw(RangeError);
    });
  });

  describe('completionStatus', () => {
    const termStart = new Date('2025-01-01T00:00:00+08:00');
    const termEnd = new Date(termStart.getTime() + 100 * 86_400_000);
    const day = (d: number) => new Date(termStart.getTime() + d * 86_400_000);
    const cases: [string, number, number, number, { ratioBp: number | null; proRataTargetQty: number; behindPace: boolean; underCheckpoint: boolean }][] = [
      ['exactly on pace at mid-term', 50, 1000, 500, { ratioBp: 5000, proRataTargetQty: 500, behindPace: false, underCheckpoint: false }],
      ['one unit behind pace', 50, 1000, 499, { ratioBp: 4990, proRataTargetQty: 500, behindPace: true, underCheckpoint: false }],
      ['exactly at 80% of pace', 50, 1000, 400, { ratioBp: 4000, proRataTargetQty: 500, behindPace: true, underCheckpoint: false }],
      ['just under 80% of pace', 50, 1000, 399, { ratioBp: 3990, proRataTargetQty: 500, behindPace: true, underCheckpoint: true }],
      ['before the term starts', -5, 1000, 0, { ratioBp: 0, proRataTargetQty: 0, behindPace: false, underCheckpoint: false }],
      ['after the term, under 80% of the agreed total', 120, 1000, 799, { ratioBp: 7990, proRataTargetQty: 1000, behindPace: true, underCheckpoint: true }],
      ['after the term, exactly 80%', 100, 1000, 800, { ratioBp: 8000, proRataTargetQty: 1000, behindPace: true, underCheckpoint: false }],
      ['over-completion', 100, 1000, 1200, { ratioBp: 12000, proRataTargetQty: 1000, behindPace: false, underCheckpoint: false }],
      ['a fractional target compared exactly', 1, 3, 0, { ratioBp: 0, proRataTargetQty: 0, behindPace: true, underCheckpoint: true }],
      ['nothing agreed', 50, 0, 0, { ratioBp: null, proRataTargetQty: 0, behindPace: false, underCheckpoint: false }],
    ];
    for (const [name, atDay, agreedQty, purchasedQty, expected] of cases) {
      it(name, () => {
        expect(completionStatus({ agreedQty, purchasedQty, termStart, termEnd, at: day(atDay) })).to.deep.equal(expected);
      });
    }

    it('uses a configured checkpoint share', () => {
      const status = completionStatus({ agreedQty: 1000, purchasedQty: 899, termStart, termEnd, at: termEnd, checkpointShare: 0.9 });
      expect(status.underCheckpoint).to.equal(true);
    });

    it('refuses an empty term (programmer error)', () => {
      expect(() => completionStatus({ agreedQty: 1, purchasedQty: 0, termStart, termEnd: termStart, at: termStart })).to.throw(RangeError);
    });
  });
});
