import { expect } from 'chai';
import {
  accrueInterest,
  advanceDueAt,
  allocateRepayment,
  dailyInterestFen,
  isAdvanceOverdue,
  lineAvailableFen,
  securedStatus,
  settlementPlan,
} from '../../server/modules/finance/finance.interest';

const at = (iso: string) => new Date(iso);

describe('finance', () => {
  describe('dailyInterestFen (actual/365, half to even)', () => {
    const cases: [number, number, number, string][] = [
      [36_500_000, 365, 3650, 'exact: 365,000 CNY at 3.65% is 36.50 CNY a day'],
      [100_000_000, 435, 11918, '1,000,000 CNY at 4.35% → 11917.808… → 11918'],
      [730, 5000, 1, '730 fen at 50% for one day is exactly 1 fen'],
      [365, 5000, 0, '0.5 fen rounds half to even → 0'],
      [1095, 5000, 2, '1.5 fen rounds half to even → 2'],
      [2555, 5000, 4, '3.5 fen rounds half to even → 4'],
      [1825, 5000, 2, '2.5 fen rounds half to even → 2'],
      [0, 500, 0, 'no principal, no interest'],
      [100_000_000, 0, 0, 'a zero rate'],
      [10_000_000_000_000, 2000, 5_479_452_055, 'the maximum amount stays exact (5479452054.79…)'],
    ];
    for (const [principal, bp, expected, name] of cases) {
      it(name, () => expect(dailyInterestFen(principal, bp)).to.equal(expected));
    }

    it('refuses negative principal or rate (programmer error)', () => {
      expect(() => dailyInterestFen(-1, 100)).to.throw(RangeError);
      expect(() => dailyInterestFen(100, -1)).to.throw(RangeError);
      expect(() => dailyInterestFen(100, 1.5)).to.throw(RangeError);
    });
  });

  describe('accrueInterest over Asia/Shanghai calendar days', () => {
    const p = 100_000_000; // 1,000,000.00 CNY
    const cases: [string, string, string, number, number][] = [
      ['same day: no interest', '2025-03-01T09:00:00+08:00', '2025-03-01T23:59:59+08:00', 0, 0],
      ['across one midnight: one day', '2025-03-01T23:00:00+08:00', '2025-03-02T01:00:00+08:00', 1, 11918],
      ['UTC date does not matter, Shanghai date does', '2025-03-01T15:00:00Z', '2025-03-01T17:00:00Z', 1, 11918], // 23:00 → 01:00 +08
      ['30 days rounded once, not 30 × daily', '2025-03-01T10:00:00+08:00', '2025-03-31T10:00:00+08:00', 30, 357534], // 357534.2 vs 30 × 11918 = 357540
      ['a full year is the annual rate', '2025-01-01T10:00:00+08:00', '2026-01-01T10:00:00+08:00', 365, 4_350_000],
      ['a leap year has 366 interest days', '2024-01-01T10:00:00+08:00', '2025-01-01T10:00:00+08:00', 366, 4_361_918],
    ];
    for (const [name, from, to, days, interest] of cases) {
      it(name, () => {
        expect(accrueInterest({ principalFen: p, annualRateBp: 435, from: at(from), to: at(to) })).to.deep.equal({ days, interestFen: interest });
      });
    }

    it('refuses a period that ends before it starts', () => {
      expect(() => accrueInterest({ principalFen: p, annualRateBp: 435, from: at('2025-03-02T00:00:00Z'), to: at('2025-03-01T00:00:00Z') })).to.throw(
        RangeError,
      );
    });
  });

  describe('allocateRepayment', () => {
    const advances = [
      { id: 'new', principalOutstandingFen: 50_000, interestOutstandingFen: 300, advancedAt: at('2025-03-10T00:00:00Z') },
      { id: 'old', principalOutstandingFen: 100_000, interestOutstandingFen: 700, advancedAt: at('2025-03-01T00:00:00Z') },
    ];
    const cases: [string, number, { id: string; interestFen: number; principalFen: number }[], number][] = [
      ['a small payment goes to the oldest interest first', 500, [{ id: 'old', interestFen: 500, principalFen: 0 }], 0],
      [
        'interest of every advance before any principal',
        1000,
        [
          { id: 'old', interestFen: 700, principalFen: 0 },
          { id: 'new', interestFen: 300, principalFen: 0 },
        ],
        0,
      ],
      [
        'then the oldest principal',
        1500,
        [
          { id: 'old', interestFen: 700, principalFen: 500 },
          { id: 'new', interestFen: 300, principalFen: 0 },
        ],
        0,
      ],
      [
        'then the next principal',
        120_000,
        [
          { id: 'old', interestFen: 700, principalFen: 100_000 },
          { id: 'new', interestFen: 300, principalFen: 19_000 },
        ],
        0,
      ],
      [
        'exactly everything owed leaves no excess',
        151_000,
        [
          { id: 'old', interestFen: 700, principalFen: 100_000 },
          { id: 'new', interestFen: 300, principalFen: 50_000 },
        ],
        0,
      ],
      [
        'an overpayment returns the excess, to be refused',
        151_001,
        [
          { id: 'old', interestFen: 700, principalFen: 100_000 },
          { id: 'new', interestFen: 300, principalFen: 50_000 },
        ],
        1,
      ],
      ['a zero payment allocates nothing', 0, [], 0],
    ];
    for (const [name, amount, allocations, excess] of cases) {
      it(name, () => {
        const result = allocateRepayment({ amountFen: amount, advances });
        expect(result.allocations).to.deep.equal(allocations);
        expect(result.excessFen).to.equal(excess);
        expect(result.appliedFen).to.equal(amount - excess);
      });
    }

    it('treats everything as excess when nothing is owed', () => {
      expect(allocateRepayment({ amountFen: 100, advances: [] })).to.deep.equal({ allocations: [], appliedFen: 0, excessFen: 100 });
    });

    it('breaks same-time advances by id', () => {
      const same = at('2025-03-01T00:00:00Z');
      const result = allocateRepayment({
        amountFen: 10,
        advances: [
          { id: 'b', principalOutstandingFen: 10, interestOutstandingFen: 0, advancedAt: same },
          { id: 'a', principalOutstandingFen: 10, interestOutstandingFen: 0, advancedAt: same },
        ],
      });
      expect(result.allocations).to.deep.equal([{ id: 'a', interestFen: 0, principalFen: 10 }]);
    });

    it('refuses negative amounts and duplicate ids (programmer errors)', () => {
      expect(() => allocateRepayment({ amountFen: -1, advances })).to.throw(RangeError);
      expect(() => allocateRepayment({ amountFen: 1, advances: [advances[0]!, advances[0]!] })).to.throw(RangeError, /Duplicate/);
    });
  });

  describe('settlementPlan', () => {
    const cases: [string, number, number, number, boolean, { fromAccountFen: number; advanceFen: number; unpaidFen: number; outcome: string }][] = [
      ['the account covers the invoice', 100_000, 150_000, 0, false, { fromAccountFen: 100_000, advanceFen: 0, unpaidFen: 0, outcome: 'paid_from_account' }],
      ['the account covers it exactly', 100_000, 100_000, 0, false, { fromAccountFen: 100_000, advanceFen: 0, unpaidFen: 0, outcome: 'paid_from_account' }],
      ['the bank advances the shortfall', 100_000, 30_000, 500_000, false, { fromAccountFen: 30_000, advanceFen: 70_000, unpaidFen: 0, outcome: 'paid_with_advance' }],
      ['the line covers the shortfall exactly', 100_000, 30_000, 70_000, false, { fromAccountFen: 30_000, advanceFen: 70_000, unpaidFen: 0, outcome: 'paid_with_advance' }],
      ['an empty account: the advance pays it all', 100_000, 0, 100_000, false, { fromAccountFen: 0, advanceFen: 100_000, unpaidFen: 0, outcome: 'paid_with_advance' }],
      ['the line is 1 fen short: no advance, the balance is paid, the rest is overdue', 100_000, 30_000, 69_999, false, { fromAccountFen: 30_000, advanceFen: 0, unpaidFen: 70_000, outcome: 'partially_paid_overdue' }],
      ['no balance and not enough line: overdue', 100_000, 0, 50_000, false, { fromAccountFen: 0, advanceFen: 0, unpaidFen: 100_000, outcome: 'overdue' }],
      ['a negative balance counts as empty', 100_000, -5_000, 100_000, false, { fromAccountFen: 0, advanceFen: 100_000, unpaidFen: 0, outcome: 'paid_with_advance' }],
      ['a partial advance when configured', 100_000, 30_000, 50_000, true, { fromAccountFen: 30_000, advanceFen: 50_000, unpaidFen: 20_000, outcome: 'partially_paid_overdue' }],
      ['a zero invoice is paid from the account', 0, 0, 0, false, { fromAccountFen: 0, advanceFen: 0, unpaidFen: 0, outcome: 'paid_from_account' }],
    ];
    for (const [name, invoice, balance, line, partialAdvance, expected] of cases) {
      it(name, () => {
        const plan = settlementPlan({ invoiceAmountFen: invoice, accountBalanceFen: balance, lineAvailableFen: line, partialAdvance });
        expect(plan).to.deep.equal(expected);
        expect(plan.fromAccountFen + plan.advanceFen + plan.unpaidFen).to.equal(invoice);
      });
    }
  });

  describe('guarantee line and advances', () => {
    const lines: [number, number, number][] = [
      [1_000_000, 0, 1_000_000],
      [1_000_000, 400_000, 600_000],
      [1_000_000, 1_000_000, 0],
      [1_000_000, 1_200_000, 0], // limit cut below usage
    ];
    for (const [limit, outstanding, available] of lines) {
      it(`a line of ${limit} with ${outstanding} outstanding has ${available} available`, () => {
        expect(lineAvailableFen(limit, outstanding)).to.equal(available);
      });
    }

    const advancedAt = at('2025-03-01T15:00:00+08:00');
    const overdue: [string, boolean][] = [
      ['2025-03-31T23:59:59.999+08:00', false],
      ['2025-04-01T00:00:00+08:00', true],
      ['2025-03-15T00:00:00+08:00', false],
    ];
    for (const [when, expected] of overdue) {
      it(`a 30-day advance of 03-01 is ${expected ? '' : 'not '}overdue at ${when}`, () => {
        expect(isAdvanceOverdue(advancedAt, 30, at(when))).to.equal(expected);
      });
    }

    it('falls due at the end of the Shanghai day tenorDays after the advance', () => {
      expect(advanceDueAt(advancedAt, 30).toISOString()).to.equal('2025-03-31T15:59:59.999Z');
    });
  });

  describe('securedStatus', () => {
    const cases: [string, { balanceFen: number; headroomFen: number; openInvoicesFen: number; orderAmountFen?: number }, string, number, number, boolean][] = [
      ['the account alone covers the order', { balanceFen: 500, headroomFen: 1000, openInvoicesFen: 100, orderAmountFen: 300 }, 'secured', 1400, 0, true],
      ['the account and the line together cover it', { balanceFen: 200, headroomFen: 1000, openInvoicesFen: 100, orderAmountFen: 300 }, 'secured', 1100, 0, false],
      ['capacity equal to the order is secured', { balanceFen: 0, headroomFen: 400, openInvoicesFen: 100, orderAmountFen: 300 }, 'secured', 300, 0, false],
      ['capacity 1 fen short is partially secured', { balanceFen: 0, headroomFen: 399, openInvoicesFen: 100, orderAmountFen: 300 }, 'partially_secured', 299, 1, false],
      ['open invoices eat all capacity', { balanceFen: 100, headroomFen: 100, openInvoicesFen: 200, orderAmountFen: 1 }, 'unsecured', 0, 1, false],
      ['open invoices exceed capacity', { balanceFen: 100, headroomFen: 0, openInvoicesFen: 300 }, 'unsecured', -200, 200, false],
      ['no order and covered invoices', { balanceFen: 100, headroomFen: 0, openInvoicesFen: 100 }, 'secured', 0, 0, true],
    ];
    for (const [name, input, level, capacity, shortfall, byAccount] of cases) {
      it(name, () => {
        expect(securedStatus(input)).to.deep.equal({ level, capacityFen: capacity, shortfallFen: shortfall, coveredByAccountAlone: byAccount });
      });
    }
  });
});
