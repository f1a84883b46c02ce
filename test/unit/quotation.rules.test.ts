import { expect } from 'chai';
import {
  QUOTATION_DEFAULTS,
  antiSnipingDecision,
  anonymousAlias,
  anonymousAliasCode,
  checkQuote,
  formatAlias,
  minimumDecrementFen,
  rankQuotes,
  roundReport,
  STALE_RETRY_CAP_MS,
  staleRetryDelayMs,
} from '../../server/modules/quotation/quotation.rules';

const t = (iso: string) => new Date(iso);

describe('quotation rules', () => {
  describe('minimumDecrementFen', () => {
    const cases: [number, number | undefined, number][] = [
      [289000, undefined, 1445], // 0.5% of 2,890.00 exactly
      [289001, undefined, 1446], // 1445.005 rounds up, never below 0.5%
      [100, undefined, 1], // 0.5 fen → 1 fen
      [1, undefined, 1], // at least 1 fen
      [0, undefined, 1], // even for a zero reference
      [199, undefined, 1], // 0.995 → 1
      [201, undefined, 2], // 1.005 → 2
      [289000, 100, 2890],
      [289000, 0, 1],
      [10_000_000_000_000, 50, 50_000_000_000],
    ];
    for (const [reference, bp, expected] of cases) {
      it(`is ${expected} fen for reference ${reference} at ${bp ?? 'default'} bp`, () => {
        expect(minimumDecrementFen(reference, bp)).to.equal(expected);
      });
    }

    it('refuses a negative or fractional reference (programmer error)', () => {
      expect(() => minimumDecrementFen(-1)).to.throw(RangeError);
      expect(() => minimumDecrementFen(10.5)).to.throw(RangeError);
      expect(() => minimumDecrementFen(100, -1)).to.throw(RangeError);
    });
  });

  describe('checkQuote', () => {
    const base = { referenceFen: 289000, minDecrementFen: 1445 };
    const cases: {
      name: string;
      priceFen: number;
      previousPriceFen?: number | null;
      code: string | null;
      maxAllowedFen?: number;
    }[] = [
      { name: 'a first quote below reference is accepted', priceFen: 195000, code: null },
      { name: 'a first quote exactly at reference is accepted', priceFen: 289000, code: null },
      { name: 'a first quote of 1 fen is accepted', priceFen: 1, code: null },
      { name: 'a quote 1 fen above reference is refused', priceFen: 289001, code: 'ABOVE_REFERENCE', maxAllowedFen: 289000 },
      { name: 'a zero price is invalid', priceFen: 0, code: 'INVALID_PRICE' },
      { name: 'a negative price is invalid', priceFen: -100, code: 'INVALID_PRICE' },
      { name: 'a fractional fen price is invalid', priceFen: 1950.5, code: 'INVALID_PRICE' },
      { name: 'a NaN price is invalid', priceFen: Number.NaN, code: 'INVALID_PRICE' },
      {
        name: 'a revision equal to the previous quote is refused',
        priceFen: 200000,
        previousPriceFen: 200000,
        code: 'NOT_BELOW_PREVIOUS',
        maxAllowedFen: 198555,
      },
      {
        name: 'a revision above the previous quote is refused',
        priceFen: 210000,
        previousPriceFen: 200000,
        code: 'NOT_BELOW_PREVIOUS',
      },
      {
        name: 'a revision must undercut the own previous quote by the minimum decrement',
        priceFen: 198556,
        previousPriceFen: 200000,
        code: 'INSUFFICIENT_DECREMENT',
        maxAllowedFen: 198555,
      },
      {
        name: 'a revision by exactly the minimum decrement is accepted',
        priceFen: 198555,
        previousPriceFen: 200000,
        code: null,
      },
      {
        name: 'a revision 1 fen lower is refused when the decrement is larger',
        priceFen: 199999,
        previousPriceFen: 200000,
        code: 'INSUFFICIENT_DECREMENT',
      },
      {
        name: 'a revision above reference is refused as above reference first',
        priceFen: 290000,
        previousPriceFen: 300000,
        code: 'ABOVE_REFERENCE',
      },
      { name: 'a null previous quote counts as a first quote', priceFen: 288999, previousPriceFen: null, code: null },
      {
        name: 'a revision is impossible when the previous quote is within one decrement of zero',
        priceFen: 1,
        previousPriceFen: 1000,
        code: 'INSUFFICIENT_DECREMENT',
        maxAllowedFen: -445,
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const result = checkQuote({ ...base, priceFen: c.priceFen, previousPriceFen: c.previousPriceFen });
        if (c.code === null) {
          expect(result).to.deep.equal({ ok: true });
          return;
        }
        expect(result.ok).to.equal(false);
        if (result.ok) return;
        expect(result.code).to.equal(c.code);
        expect(result.message.key).to.equal(`errorCodes.${c.code}`);
        expect(result.details).to.include({ referenceFen: 289000, minDecrementFen: 1445 });
        if (c.maxAllowedFen !== undefined) expect(result.details['maxAllowedFen']).to.equal(c.maxAllowedFen);
      });
    }

    it('treats a 1-fen decrement as a strict undercut', () => {
      expect(checkQuote({ priceFen: 99, referenceFen: 100, previousPriceFen: 100, minDecrementFen: 1 }).ok).to.equal(true);
    });

    it('refuses a minimum decrement below 1 fen (programmer error)', () => {
      expect(() => checkQuote({ priceFen: 99, referenceFen: 100, minDecrementFen: 0 })).to.throw(RangeError);
    });
  });

  describe('rankQuotes', () => {
    it('ranks by price, then earlier receipt, then sequence, then distributor', () => {
      const quotes = [
        { distributorId: 'd1', priceFen: 200000, receivedAt: t('2025-03-01T10:00:05Z'), seq: 1 },
        { distributorId: 'd2', priceFen: 195000, receivedAt: t('2025-03-01T10:00:09Z'), seq: 2 },
        { distributorId: 'd3', priceFen: 195000, receivedAt: t('2025-03-01T10:00:01Z'), seq: 3 }, // tie, earlier
        { distributorId: 'd4', priceFen: 200000, receivedAt: t('2025-03-01T10:00:05Z'), seq: 0 }, // same ms, lower seq
        { distributorId: 'd6', priceFen: 210000, receivedAt: t('2025-03-01T10:00:00Z') },
        { distributorId: 'd5', priceFen: 210000, receivedAt: t('2025-03-01T10:00:00Z') }, // full tie → id
      ];
      const ranked = rankQuotes(quotes);
      expect(ranked.map((q) => [q.distributorId, q.rank])).to.deep.equal([
        ['d3', 1],
        ['d2', 2],
        ['d4', 3],
        ['d1', 4],
        ['d5', 5],
        ['d6', 6],
      ]);
    });

    it('keeps extra fields, does not mutate its input and handles an empty list', () => {
      const quotes = [
        { distributorId: 'b', priceFen: 2, receivedAt: t('2025-01-01T00:00:00Z'), quoteId: 'q2' },
        { distributorId: 'a', priceFen: 1, receivedAt: t('2025-01-01T00:00:00Z'), quoteId: 'q1' },
      ];
      const ranked = rankQuotes(quotes);
      expect(ranked[0]).to.include({ quoteId: 'q1', rank: 1 });
      expect(quotes[0]!.quoteId).to.equal('q2');
      expect(rankQuotes([])).to.deep.equal([]);
    });
  });

  describe('antiSnipingDecision', () => {
    const closesAt = t('2025-03-01T10:00:00Z');
    const base = { closesAt, windowSec: 120, extendSec: 120, extensionsSoFar: 0, maxExtensions: 10, bestChanged: true };
    const cases: [string, Partial<typeof base> & { receivedAt: Date }, string | null][] = [
      ['a best-price change 10 s before close extends it', { receivedAt: t('2025-03-01T09:59:50Z') }, 'extend'],
      ['a change exactly windowSec before close extends it', { receivedAt: t('2025-03-01T09:58:00Z') }, 'extend'],
      ['a change 1 ms before close extends it', { receivedAt: t('2025-03-01T09:59:59.999Z') }, 'extend'],
      ['a change 1 ms outside the window does not', { receivedAt: t('2025-03-01T09:57:59.999Z') }, 'OUTSIDE_WINDOW'],
      ['a quote that keeps the best price does not', { receivedAt: t('2025-03-01T09:59:50Z'), bestChanged: false }, 'BEST_UNCHANGED'],
      ['a quote at the close instant does not', { receivedAt: closesAt }, 'AFTER_CLOSE'],
      ['a quote after close does not', { receivedAt: t('2025-03-01T10:00:01Z') }, 'AFTER_CLOSE'],
      ['the tenth extension is still granted', { receivedAt: t('2025-03-01T09:59:50Z'), extensionsSoFar: 9 }, 'extend'],
      ['no extension once the cap is reached', { receivedAt: t('2025-03-01T09:59:50Z'), extensionsSoFar: 10 }, 'CAP_REACHED'],
      ['a zero cap never extends', { receivedAt: t('2025-03-01T09:59:50Z'), maxExtensions: 0 }, 'CAP_REACHED'],
      ['a zero window never extends', { receivedAt: t('2025-03-01T09:59:59Z'), windowSec: 0 }, 'OUTSIDE_WINDOW'],
    ];
    for (const [name, overrides, expected] of cases) {
      it(name, () => {
        const decision = antiSnipingDecision({ ...base, ...overrides });
        if (expected === 'extend') {
          expect(decision).to.deep.equal({
            extend: true,
            newClosesAt: t('2025-03-01T10:02:00Z'),
            extensionNumber: (overrides.extensionsSoFar ?? 0) + 1,
          });
        } else {
          expect(decision).to.deep.equal({ extend: false, reason: expected });
        }
      });
    }

    it('extends from the current close, not from the receipt time', () => {
      const decision = antiSnipingDecision({ ...base, receivedAt: t('2025-03-01T09:58:30Z'), extendSec: 60 });
      expect(decision.extend && decision.newClosesAt.toISOString()).to.equal('2025-03-01T10:01:00.000Z');
    });
  });

  describe('anonymous aliases', () => {
    const secret = 'test-secret';

    it('is stable for the same round and distributor', () => {
      expect(anonymousAliasCode('r1', 'd1', secret)).to.equal(anonymousAliasCode('r1', 'd1', secret));
    });

    it('has the form letter + 3 digits without I or O', () => {
      for (let i = 0; i < 200; i += 1) {
        expect(anonymousAliasCode('r1', `d${i}`, secret)).to.match(/^[A-HJ-NP-Z]\d{3}$/);
      }
    });

    it('differs between rounds, secrets and attempts for the same distributor', () => {
      const codes = new Set([
        anonymousAliasCode('r1', 'd1', secret),
        anonymousAliasCode('r2', 'd1', secret),
        anonymousAliasCode('r1', 'd1', 'other-secret'),
        anonymousAliasCode('r1', 'd1', secret, 1),
      ]);
      expect(codes.size).to.equal(4);
    });

    it('separates round and distributor ids that concatenate alike', () => {
      expect(anonymousAliasCode('r1', 'd1', secret)).to.not.equal(anonymousAliasCode('r1d', '1', secret));
    });

    it('is spread over many codes (few collisions among 100 distributors)', () => {
      const codes = new Set(Array.from({ length: 100 }, (_, i) => anonymousAliasCode('r1', `dist-${i}`, secret)));
      expect(codes.size).to.be.greaterThan(95);
    });

    it('formats in Chinese by default and in English on request', () => {
      expect(formatAlias('A707')).to.equal('供应商 A707');
      expect(formatAlias('A707', 'en')).to.equal('Supplier A707');
      const code = anonymousAliasCode('r1', 'd1', secret);
      expect(anonymousAlias('r1', 'd1', secret)).to.equal(`供应商 ${code}`);
      expect(anonymousAlias('r1', 'd1', secret, { lang: 'en' })).to.equal(`Supplier ${code}`);
    });

    it('refuses an empty secret', () => {
      expect(() => anonymousAliasCode('r1', 'd1', '')).to.throw(RangeError);
    });
  });

  describe('roundReport', () => {
    const at = t('2025-03-01T10:00:00Z');
    const q = (distributorId: string, priceFen: number, offsetSec = 0) => ({
      distributorId,
      priceFen,
      receivedAt: new Date(at.getTime() + offsetSec * 1000),
    });
    const report = roundReport([
      { lineId: 'urokinase', referenceFen: 289000, quotes: [q('d1', 200000), q('d2', 195000), q('d3', 195000, -5)] },
      { lineId: 'no-quotes', referenceFen: 5000, quotes: [] },
      { lineId: 'at-reference', referenceFen: 10000, quotes: [q('d1', 10000)] },
      { lineId: 'exactly-20', referenceFen: 10000, quotes: [q('d2', 8000)] },
      { lineId: 'just-under-20', referenceFen: 10000, quotes: [q('d2', 8001)] },
    ]);

    it('gives per line the quote count, best price, best distributor and reduction', () => {
      expect(report.lines[0]).to.deep.equal({
        lineId: 'urokinase',
        referenceFen: 289000,
        quoteCount: 3,
        bestPriceFen: 195000,
        bestDistributorId: 'd3', // the earlier of the two 1,950.00 quotes
        reductionBp: 3253,
        clearlyBelowReference: true,
      });
      expect(report.lines[1]).to.include({ quoteCount: 0, bestPriceFen: null, reductionBp: null, clearlyBelowReference: false });
      expect(report.lines[2]).to.include({ reductionBp: 0, clearlyBelowReference: false });
    });

    it('counts a line at exactly the threshold as clearly below, and 1 fen less reduction as not', () => {
      expect(report.lines[3]).to.include({ reductionBp: 2000, clearlyBelowReference: true });
      expect(report.lines[4]).to.include({ reductionBp: 1999, clearlyBelowReference: false });
    });

    it('summarises the round overall', () => {
      expect(report.overall).to.deep.equal({
        lineCount: 5,
        quoteCount: 6,
        quotedLineCount: 4,
        distributorCount: 3,
        linesWithoutQuotes: ['no-quotes'],
        linesClearlyBelowReference: ['urokinase', 'exactly-20'],
        clearlyBelowBp: QUOTATION_DEFAULTS.clearlyBelowBp,
        averageReductionBp: 1813, // (3253 + 0 + 2000 + 1999) / 4 = 1813
        totalReferenceFen: 319000,
        totalBestFen: 221001,
        totalReductionBp: 3072, // 97999 / 319000 = 30.72%
      });
    });

    it('uses a configurable threshold', () => {
      const strict = roundReport([{ lineId: 'a', referenceFen: 10000, quotes: [q('d1', 8000)] }], { clearlyBelowBp: 3000 });
      expect(strict.overall.linesClearlyBelowReference).to.deep.equal([]);
    });

    it('reports an empty round without dividing by zero', () => {
      const empty = roundReport([]);
      expect(empty.overall).to.include({ lineCount: 0, quotedLineCount: 0, averageReductionBp: null, totalReductionBp: null });
    });
  });

  it('waits a random time before deciding a stale batch again, the ceiling doubling from 2 ms up to a cap', () => {
    const ceilings = [0, 1, 2, 3, 4, 5, 6, 7, 20].map((attempt) => staleRetryDelayMs(attempt, () => 0.999999) + 1);
    expect(ceilings).to.deep.equal([2, 4, 8, 16, 32, 64, 64, 64, 64]);
    expect(STALE_RETRY_CAP_MS).to.equal(64);
    expect([0, 3, 7].map((attempt) => staleRetryDelayMs(attempt, () => 0))).to.deep.equal([0, 0, 0]);
    expect(staleRetryDelayMs(3, () => 0.5)).to.equal(8);
    // NOTE: a random source that answers 1 (outside [0, 1)) still stays below the ceiling.
    expect(staleRetryDelayMs(2, () => 1)).to.equal(7);
    expect(staleRetryDelayMs(-1, () => 0.99)).to.equal(1);
  });
});
