import { expect } from 'chai';
import {
  MAX_FEN,
  MoneyFormatError,
  divRoundHalfEven,
  divide,
  fenToYuanString,
  formatFen,
  isFen,
  mulDiv,
  mulDivHalfEven,
  parseYuanToFen,
  percentOf,
  reductionBasisPoints,
  roundHalfEven,
  safeParseYuanToFen,
  sumFen,
} from '../../server/platform/money';

describe('money', () => {
  describe('parseYuanToFen', () => {
    const accepted: [string, number][] = [
      ['1950', 195000],
      ['1,950.00', 195000],
      ['1950.5', 195050],
      ['¥1,950.00', 195000],
      ['￥1950.05', 195005],
      ['CN¥12.3', 1230],
      ['  2890  ', 289000],
      ['0', 0],
      ['0.01', 1],
      ['1,234,567.89', 123456789],
      ['100000000000', MAX_FEN],
      ['99999999999.99', MAX_FEN - 1],
    ];
    for (const [input, fen] of accepted) {
      it(`reads "${input}" as ${fen} fen`, () => {
        expect(parseYuanToFen(input)).to.equal(fen);
      });
    }

    const rejected: [string, RegExp][] = [
      ['1950.001', /more than 2 decimal places/],
      ['0.005', /more than 2 decimal places/],
      ['-1', /negative/],
      ['¥-5.00', /negative/],
      ['NaN', /not a CNY amount/],
      ['', /empty/],
      ['   ', /empty/],
      ['1e3', /not a CNY amount/],
      ['1,95,0', /not a CNY amount/],
      ['1950.', /not a CNY amount/],
      ['.50', /not a CNY amount/],
      ['12 34', /not a CNY amount/],
      ['Infinity', /not a CNY amount/],
      ['100000000000.01', /exceeds the maximum/],
      ['1000000000000000000000', /exceeds the maximum/],
    ];
    for (const [input, message] of rejected) {
      it(`rejects "${input}" with a clear message`, () => {
        expect(() => parseYuanToFen(input)).to.throw(MoneyFormatError, message);
        const result = safeParseYuanToFen(input);
        expect(result.ok).to.equal(false);
      });
    }

    it('throws an error that is a RangeError with code INVALID_AMOUNT and keeps the input', () => {
      try {
        parseYuanToFen('abc');
        expect.fail('expected a throw');
      } catch (error) {
        expect(error).to.be.instanceOf(RangeError);
        expect((error as MoneyFormatError).code).to.equal('INVALID_AMOUNT');
        expect((error as MoneyFormatError).input).to.equal('abc');
      }
    });
  });

  describe('formatFen', () => {
    const cases: [number, 'zh' | 'en', string][] = [
      [195000, 'zh', '¥1,950.00'],
      [195000, 'en', '¥1,950.00'],
      [0, 'zh', '¥0.00'],
      [1, 'zh', '¥0.01'],
      [99, 'zh', '¥0.99'],
      [123456789, 'zh', '¥1,234,567.89'],
      [MAX_FEN, 'zh', '¥100,000,000,000.00'],
      [Number.MAX_SAFE_INTEGER, 'zh', '¥90,071,992,547,409.91'],
      [-195050, 'zh', '-¥1,950.50'],
    ];
    for (const [fen, lang, text] of cases) {
      it(`shows ${fen} fen as ${text} (${lang})`, () => {
        expect(formatFen(fen, lang)).to.equal(text);
      });
    }

    it('renders the exact decimal string of an amount', () => {
      expect(fenToYuanString(195005)).to.equal('1950.05');
      expect(fenToYuanString(-7)).to.equal('-0.07');
    });
  });

  describe('roundHalfEven', () => {
    const cases: [bigint, bigint, bigint][] = [
      [5n, 2n, 2n], // 2.5 → 2 (even)
      [7n, 2n, 4n], // 3.5 → 4 (even)
      [1n, 2n, 0n], // 0.5 → 0
      [3n, 2n, 2n], // 1.5 → 2
      [-5n, 2n, -2n], // -2.5 → -2
      [-7n, 2n, -4n], // -3.5 → -4
      [5n, -2n, -2n],
      [-5n, -2n, 2n],
      [10n, 3n, 3n], // 3.33 → 3
      [11n, 3n, 4n], // 3.67 → 4
      [-11n, 3n, -4n],
      [0n, 7n, 0n],
      [6n, 3n, 2n],
      [25n, 10n, 2n],
      [35n, 10n, 4n],
      [251n, 100n, 3n],
    ];
    for (const [n, d, q] of cases) {
      it(`rounds ${n}/${d} to ${q}`, () => {
        expect(roundHalfEven(n, d)).to.equal(q);
      });
    }

    it('refuses division by zero', () => {
      expect(() => roundHalfEven(1n, 0n)).to.throw(RangeError, /zero/);
    });
  });

  describe('divide with floor and ceil', () => {
    const cases: [bigint, bigint, 'floor' | 'ceil', bigint][] = [
      [7n, 2n, 'floor', 3n],
      [7n, 2n, 'ceil', 4n],
      [-7n, 2n, 'floor', -4n],
      [-7n, 2n, 'ceil', -3n],
      [6n, 2n, 'ceil', 3n],
      [1n, 10_000n, 'ceil', 1n],
      [0n, 5n, 'ceil', 0n],
    ];
    for (const [n, d, mode, q] of cases) {
      it(`${mode}s ${n}/${d} to ${q}`, () => {
        expect(divide(n, d, mode)).to.equal(q);
      });
    }
  });

  describe('number wrappers', () => {
    it('divides safe integers half to even', () => {
      expect(divRoundHalfEven(5, 2)).to.equal(2);
      expect(divRoundHalfEven(15, 2)).to.equal(8);
      expect(divRoundHalfEven(-15, 2)).to.equal(-8);
    });

    it('computes a*b/c exactly even when a*b exceeds 2^53', () => {
      // 9e15 * 3 would lose precision as a double product.
      expect(mulDivHalfEven(3_000_000_000_000_001, 3, 3)).to.equal(3_000_000_000_000_001);
      expect(mulDivHalfEven(MAX_FEN, 365, 365)).to.equal(MAX_FEN);
      expect(mulDiv(10, 1, 4, 'floor')).to.equal(2);
      expect(mulDiv(10, 1, 4, 'ceil')).to.equal(3);
    });

    it('refuses non-integers and results outside the safe range', () => {
      expect(() => mulDivHalfEven(1.5, 2, 1)).to.throw(RangeError, /safe integer/);
      expect(() => mulDivHalfEven(Number.MAX_SAFE_INTEGER, 2, 1)).to.throw(RangeError, /safe-integer range/);
      expect(() => divRoundHalfEven(1, 0)).to.throw(RangeError, /zero/);
    });

    it('takes basis points of an amount, half to even by default', () => {
      expect(percentOf(289000, 50)).to.equal(1445);
      expect(percentOf(100, 50)).to.equal(0); // 0.5 → 0 (even)
      expect(percentOf(300, 50)).to.equal(2); // 1.5 → 2
      expect(percentOf(100, 50, 'ceil')).to.equal(1);
      expect(percentOf(195000, 10_000)).to.equal(195000);
    });

    it('sums fen exactly and refuses overflow', () => {
      expect(sumFen([1, 2, 3])).to.equal(6);
      expect(sumFen([])).to.equal(0);
      expect(() => sumFen([Number.MAX_SAFE_INTEGER, 1])).to.throw(RangeError);
    });
  });

  describe('reductionBasisPoints', () => {
    const cases: [number, number, number][] = [
      [195000, 289000, 3253], // urokinase: −32.53%
      [289000, 289000, 0],
      [0, 289000, 10_000],
      [80, 100, 2000],
      [2, 3, 3333],
      [1, 3, 6667],
      [300005, 300000, 0], // −0.00167% → 0 (rounded)
      [310000, 300000, -333],
      [99_990, 100_000, 1],
      [999_950, 1_000_000, 0], // 0.5 bp rounds to even 0
      [999_850, 1_000_000, 2], // 1.5 bp rounds to even 2
    ];
    for (const [price, reference, bp] of cases) {
      it(`reduction of ${price} against ${reference} is ${bp} bp`, () => {
        expect(reductionBasisPoints(price, reference)).to.equal(bp);
      });
    }

    it('refuses a zero or negative reference', () => {
      expect(() => reductionBasisPoints(1, 0)).to.throw(RangeError, /referenceFen/);
      expect(() => reductionBasisPoints(1, -5)).to.throw(RangeError, /referenceFen/);
    });
  });

  describe('isFen', () => {
    const cases: [unknown, boolean][] = [
      [0, true],
      [195000, true],
      [Number.MAX_SAFE_INTEGER, true],
      [-1, false],
      [1.5, false],
      [Number.NaN, false],
      [Number.POSITIVE_INFINITY, false],
      [Number.MAX_SAFE_INTEGER + 1, false],
      ['100', false],
      [100n, false],
      [null, false],
    ];
    for (const [value, expected] of cases) {
      it(`says ${String(value)} is ${expected ? '' : 'not '}a fen amount`, () => {
        expect(isFen(value)).to.equal(expected);
      });
    }
  });
});
