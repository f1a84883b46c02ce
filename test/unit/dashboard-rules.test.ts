import { expect } from 'chai';
import { median, monthsOf, percentile, principalAt, savingsFen, savingsTotals, shareBp, startOfNextMonth } from '../../server/modules/dashboard/dashboard.rules';

describe('dashboard rules', () => {
  it('saves quantity × (reference − price paid): urokinase ¥2,890.00 → ¥1,950.00 is −32.53 %', () => {
    expect(savingsFen(2, 289_000, 195_000)).to.equal(188_000);
    expect(savingsTotals([{ quantity: 2, referenceTotalFen: 578_000, paidTotalFen: 390_000 }])).to.deep.equal({ quantity: 2, referenceTotalFen: 578_000, paidTotalFen: 390_000, savedFen: 188_000, reductionBp: 3253 });
    expect(savingsTotals([]).reductionBp).to.equal(null);
  });

  it('takes the median (mean of the two middle values) and the nearest-rank p90', () => {
    for (const [values, m, p] of [
      [[], null, null],
      [[30], 30, 30],
      [[31, 29], 30, 31],
      [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5.5, 9],
      [[5, 1, 3, 2, 4, 10, 9, 8, 7, 6, 11], 6, 10],
    ] as [number[], number | null, number | null][]) {
      expect(median(values), String(values)).to.equal(m);
      expect(percentile(values, 90), String(values)).to.equal(p);
    }
  });

  it('gives shares in basis points, half to even, and none of nothing', () => {
    expect(shareBp(2, 3)).to.equal(6667);
    expect(shareBp(1, 8)).to.equal(1250);
    expect(shareBp(0, 0)).to.equal(null);
  });

  it('lists the Asia/Shanghai months of a period across a year end', () => {
    expect(monthsOf('2025-11-15', '2026-02-01')).to.deep.equal(['2025-11', '2025-12', '2026-01', '2026-02']);
    expect(monthsOf('2026-03-01', '2026-03-31')).to.deep.equal(['2026-03']);
    expect(startOfNextMonth('2025-12').toISOString()).to.equal('2025-12-31T16:00:00.000Z');
  });

  it('reads the principal owed at an instant from the advance history', () => {
    const segments = [{ at: new Date('2026-01-10T00:00:00Z'), principalFen: 100_000 }, { at: new Date('2026-02-01T00:00:00Z'), principalFen: 40_000 }];
    expect(principalAt(segments, new Date('2026-01-01T00:00:00Z'))).to.equal(0);
    expect(principalAt(segments, new Date('2026-01-31T23:59:59Z'))).to.equal(100_000);
    expect(principalAt(segments, new Date('2026-02-01T00:00:00Z'))).to.equal(40_000);
  });
});
