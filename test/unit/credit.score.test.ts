import { expect } from 'chai';
import {
  DEFAULT_BREACH_CATALOGUE,
  DEFAULT_CREDIT_RULES,
  SEVERITY_LABELS,
  type BreachSeverity,
  type CreditGrade,
  type ScoredBreach,
  appealDeadline,
  canAppeal,
  computeCreditScore,
  gradeFor,
  isSanctionActive,
  repairEligible,
  sanctionFor,
  worstActiveSeverity,
} from '../../server/modules/credit/credit.score';

const AT = new Date('2025-06-30T12:00:00+08:00');
const monthsAgo = (m: number, extraMs = 0) => {
  const d = new Date(AT);
  d.setUTCMonth(d.getUTCMonth() - m);
  return new Date(d.getTime() + extraMs);
};
const breach = (points: number, occurredAt: Date, status: ScoredBreach['status'] = 'active', severity: BreachSeverity = 'shixin'): ScoredBreach => ({
  points,
  occurredAt,
  status,
  severity,
});

describe('credit score', () => {
  describe('computeCreditScore', () => {
    const cases: {
      name: string;
      breaches?: ScoredBreach[];
      repairs?: { pointsRestored: number; approvedAt: Date }[];
      bonuses?: { points: number; at: Date }[];
      score: number;
      grade: CreditGrade;
    }[] = [
      { name: 'a clean record scores 100 (A)', score: 100, grade: 'A' },
      { name: 'breach points in the window are deducted', breaches: [breach(3, monthsAgo(1)), breach(2, monthsAgo(11))], score: 95, grade: 'A' },
      { name: 'a voided breach does not count', breaches: [breach(30, monthsAgo(1), 'voided')], score: 100, grade: 'A' },
      { name: 'appealed and upheld breaches count', breaches: [breach(5, monthsAgo(1), 'appealed'), breach(6, monthsAgo(2), 'upheld')], score: 89, grade: 'B' },
      { name: 'a breach exactly 12 months ago has left the window', breaches: [breach(50, monthsAgo(12))], score: 100, grade: 'A' },
      { name: 'a breach 12 months minus 1 ms ago still counts', breaches: [breach(50, monthsAgo(12, 1))], score: 50, grade: 'D' },
      { name: 'a breach after the scoring instant is ignored', breaches: [breach(50, new Date(AT.getTime() + 1))], score: 100, grade: 'A' },
      { name: 'a breach at the scoring instant counts', breaches: [breach(10, AT)], score: 90, grade: 'A' },
      { name: 'the score never drops below 0', breaches: [breach(80, monthsAgo(1)), breach(80, monthsAgo(2))], score: 0, grade: 'D' },
      {
        name: 'bonus points offset deductions up to the cap',
        breaches: [breach(20, monthsAgo(1))],
        bonuses: [{ points: 8, at: monthsAgo(2) }, { points: 8, at: monthsAgo(3) }],
        score: 90,
        grade: 'A',
      },
      { name: 'bonus points never lift the score above 100', bonuses: [{ points: 10, at: monthsAgo(1) }], score: 100, grade: 'A' },
      {
        name: 'bonus points outside the window do not count',
        breaches: [breach(20, monthsAgo(1))],
        bonuses: [{ points: 10, at: monthsAgo(13) }],
        score: 80,
        grade: 'B',
      },
      {
        name: 'restored points add back',
        breaches: [breach(30, monthsAgo(6))],
        repairs: [{ pointsRestored: 20, approvedAt: monthsAgo(1) }],
        score: 90,
        grade: 'A',
      },
      {
        name: 'restored points never exceed the deductions still in the window',
        breaches: [breach(10, monthsAgo(2))],
        repairs: [{ pointsRestored: 30, approvedAt: monthsAgo(1) }],
        score: 100,
        grade: 'A',
      },
      {
        name: 'a repair approved after the scoring instant is ignored',
        breaches: [breach(30, monthsAgo(6))],
        repairs: [{ pointsRestored: 30, approvedAt: new Date(AT.getTime() + 1000) }],
        score: 70,
        grade: 'C',
      },
      { name: 'exactly 90 is A', breaches: [breach(10, monthsAgo(1))], score: 90, grade: 'A' },
      { name: '89 is B', breaches: [breach(11, monthsAgo(1))], score: 89, grade: 'B' },
      { name: 'exactly 75 is B', breaches: [breach(25, monthsAgo(1))], score: 75, grade: 'B' },
      { name: '74 is C', breaches: [breach(26, monthsAgo(1))], score: 74, grade: 'C' },
      { name: 'exactly 60 is C', breaches: [breach(40, monthsAgo(1))], score: 60, grade: 'C' },
      { name: '59 is D', breaches: [breach(41, monthsAgo(1))], score: 59, grade: 'D' },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const result = computeCreditScore({ breaches: c.breaches ?? [], repairs: c.repairs ?? [], bonuses: c.bonuses ?? [], at: AT });
        expect({ score: result.score, grade: result.grade }).to.deep.equal({ score: c.score, grade: c.grade });
      });
    }

    it('reports its components', () => {
      const result = computeCreditScore({
        breaches: [breach(30, monthsAgo(6))],
        repairs: [{ pointsRestored: 5, approvedAt: monthsAgo(1) }],
        bonuses: [{ points: 12, at: monthsAgo(1) }],
        at: AT,
      });
      expect(result).to.deep.include({ score: 85, deductedPoints: 30, restoredPoints: 5, bonusPoints: 10 });
      expect(result.windowStart.getTime()).to.equal(monthsAgo(12).getTime());
    });

    it('honours a configured window and bonus cap', () => {
      const result = computeCreditScore({
        breaches: [breach(20, monthsAgo(7))],
        repairs: [],
        bonuses: [{ points: 20, at: monthsAgo(1) }],
        at: AT,
        windowMonths: 6,
        bonusCap: 5,
      });
      expect(result).to.deep.include({ score: 100, deductedPoints: 0, bonusPoints: 5 });
    });

    it('refuses negative points (programmer error)', () => {
      expect(() => computeCreditScore({ breaches: [breach(-5, monthsAgo(1))], repairs: [], bonuses: [], at: AT })).to.throw(RangeError);
    });
  });

  describe('gradeFor', () => {
    it('applies configured thresholds', () => {
      expect(gradeFor(85, { A: 85, B: 70, C: 50 })).to.equal('A');
      expect(gradeFor(49, { A: 85, B: 70, C: 50 })).to.equal('D');
    });
  });

  describe('worstActiveSeverity', () => {
    const cases: [string, ScoredBreach[], BreachSeverity | null][] = [
      ['none without breaches', [], null],
      ['the worst of several', [breach(1, monthsAgo(1)), breach(1, monthsAgo(2), 'active', 'serious'), breach(1, monthsAgo(3))], 'serious'],
      ['ignores voided breaches', [breach(1, monthsAgo(1), 'voided', 'especially_serious'), breach(1, monthsAgo(1))], 'shixin'],
      ['ignores breaches outside the window', [breach(1, monthsAgo(13), 'active', 'especially_serious')], null],
      ['especially serious is the worst', [breach(1, monthsAgo(1), 'upheld', 'especially_serious'), breach(1, monthsAgo(1), 'active', 'serious')], 'especially_serious'],
    ];
    for (const [name, breaches, expected] of cases) {
      it(name, () => expect(worstActiveSeverity(breaches, AT)).to.equal(expected));
    }
  });

  describe('sanctionFor', () => {
    const plus = (months: number) => {
      const d = new Date(AT);
      d.setUTCMonth(d.getUTCMonth() + months);
      return d.toISOString();
    };
    const cases: [string, CreditGrade, BreachSeverity | null, 1 | 2 | 3 | undefined, [string, string][]][] = [
      ['grade A with no severe breach: nothing', 'A', null, undefined, []],
      ['grade B with a plain 失信 breach: nothing', 'B', 'shixin', undefined, []],
      ['grade C: a 3-month risk warning', 'C', 'shixin', undefined, [['risk_warning', plus(3)]]],
      ['grade D: warning and a 6-month suspension', 'D', null, undefined, [['risk_warning', plus(3)], ['suspension', plus(6)]]],
      ['严重失信 at grade A: warning and suspension', 'A', 'serious', undefined, [['risk_warning', plus(3)], ['suspension', plus(6)]]],
      ['特别严重失信 level 1: 1 year and listings withdrawn', 'B', 'especially_serious', 1, [['risk_warning', plus(3)], ['suspension', plus(12)], ['listing_withdrawal', plus(12)]]],
      ['特别严重失信 level 2: 3 years', 'D', 'especially_serious', 2, [['risk_warning', plus(3)], ['suspension', plus(36)], ['listing_withdrawal', plus(36)]]],
      ['特别严重失信 level 3: 5 years', 'A', 'especially_serious', 3, [['risk_warning', plus(3)], ['suspension', plus(60)], ['listing_withdrawal', plus(60)]]],
      ['特别严重失信 without a level: treated as level 1', 'A', 'especially_serious', undefined, [['risk_warning', plus(3)], ['suspension', plus(12)], ['listing_withdrawal', plus(12)]]],
    ];
    for (const [name, grade, severity, level, expected] of cases) {
      it(name, () => {
        const sanctions = sanctionFor({ grade, worstActiveSeverity: severity, especiallySeriousLevel: level, at: AT });
        expect(sanctions.map((s) => [s.kind, s.endsAt.toISOString()])).to.deep.equal(expected);
        for (const s of sanctions) expect(s.startsAt.getTime()).to.equal(AT.getTime());
      });
    }

    it('gives the reason of each sanction', () => {
      const [warning, suspension] = sanctionFor({ grade: 'D', worstActiveSeverity: 'serious', at: AT });
      expect(warning!.reason).to.equal('SERIOUS');
      expect(suspension!.reason).to.equal('SERIOUS');
      expect(sanctionFor({ grade: 'D', worstActiveSeverity: null, at: AT })[1]!.reason).to.equal('GRADE_D');
    });

    it('uses configured periods', () => {
      const rules = { ...DEFAULT_CREDIT_RULES, suspensionMonths: 9, riskWarningMonths: 1 };
      const sanctions = sanctionFor({ grade: 'D', worstActiveSeverity: null, at: AT, rules });
      expect(sanctions.map((s) => s.endsAt.toISOString())).to.deep.equal([plus(1), plus(9)]);
    });

    it('expires on its own: active from its start, over at its end', () => {
      const [warning] = sanctionFor({ grade: 'C', worstActiveSeverity: null, at: AT });
      expect(isSanctionActive(warning!, new Date(AT.getTime() - 1))).to.equal(false);
      expect(isSanctionActive(warning!, AT)).to.equal(true);
      expect(isSanctionActive(warning!, new Date(warning!.endsAt.getTime() - 1))).to.equal(true);
      expect(isSanctionActive(warning!, warning!.endsAt)).to.equal(false);
    });
  });

  describe('appeals', () => {
    const breachAt = new Date('2025-03-01T22:00:00+08:00');
    it('must be lodged by the end of the 15th Shanghai day after the breach', () => {
      expect(appealDeadline(breachAt).getTime()).to.equal(new Date('2025-03-16T23:59:59.999+08:00').getTime());
    });

    const cases: [string, boolean][] = [
      ['2025-03-02T09:00:00+08:00', true],
      ['2025-03-16T23:59:59.999+08:00', true],
      ['2025-03-17T00:00:00+08:00', false],
    ];
    for (const [at, ok] of cases) {
      it(`an appeal at ${at} is ${ok ? 'in time' : 'too late'}`, () => expect(canAppeal(breachAt, new Date(at))).to.equal(ok));
    }

    it('uses a configured number of days', () => {
      expect(canAppeal(breachAt, new Date('2025-03-09T00:00:00+08:00'), 7)).to.equal(false);
    });
  });

  describe('repairEligible', () => {
    const last = new Date('2025-01-01T10:00:00+08:00');
    const cases: [string, Date | null, number | undefined, string, boolean][] = [
      ['eligible once the quiet period has passed', last, 90, '2025-04-01T10:00:00+08:00', true],
      ['not eligible 1 ms before the end of the quiet period', last, 90, '2025-04-01T09:59:59.999+08:00', false],
      ['uses 90 days by default', last, undefined, '2025-03-31T10:00:00+08:00', false],
      ['a zero quiet period is eligible at once', last, 0, '2025-01-01T10:00:00+08:00', true],
      ['eligible without any breach', null, 90, '2025-01-01T10:00:00+08:00', true],
    ];
    for (const [name, lastBreachAt, quietDays, at, eligible] of cases) {
      it(name, () => expect(repairEligible({ lastBreachAt, quietDays, at: new Date(at) }).eligible).to.equal(eligible));
    }

    it('says from when repair is possible', () => {
      expect(repairEligible({ lastBreachAt: last, quietDays: 30, at: last }).eligibleFrom!.toISOString()).to.equal('2025-01-31T02:00:00.000Z');
    });
  });

  describe('catalogue and labels', () => {
    it('labels severities in Chinese as in the national scheme', () => {
      expect([SEVERITY_LABELS.shixin.zh, SEVERITY_LABELS.serious.zh, SEVERITY_LABELS.especially_serious.zh]).to.deep.equal([
        '失信',
        '严重失信',
        '特别严重失信',
      ]);
    });

    it('has every breach kind of DESIGN §3.5, keyed by its own code, with positive points', () => {
      const codes = Object.keys(DEFAULT_BREACH_CATALOGUE);
      expect(codes).to.have.members([
        'LATE_CONFIRMATION',
        'LATE_DELIVERY',
        'CONFIRMED_NOT_DELIVERED',
        'REFUSED_LISTED_HOSPITAL',
        'QUOTE_WITHDRAWN_AFTER_PUBLICATION',
        'VBP_SUPPLY_FAILURE',
        'QUALITY_REFUSAL',
        'MANUAL',
      ]);
      for (const [code, def] of Object.entries(DEFAULT_BREACH_CATALOGUE)) {
        expect(def.code).to.equal(code);
        expect(def.points).to.be.greaterThan(0).and.lessThanOrEqual(100);
        expect(def.zh).to.match(/[\u4e00-\u9fff]/);
        expect(def.en).to.match(/[a-z]/);
      }
    });

    it('raises the order and round breaches automatically and leaves VBP supply failure and manual ones to the operator', () => {
      const manual = Object.values(DEFAULT_BREACH_CATALOGUE).filter((d) => !d.automatic).map((d) => d.code);
      expect(manual).to.have.members(['VBP_SUPPLY_FAILURE', 'MANUAL']);
    });

    it('keeps a distributor at grade A after three late deliveries, and drops it a band for an undelivered order', () => {
      const late = DEFAULT_BREACH_CATALOGUE.LATE_DELIVERY.points;
      const lost = DEFAULT_BREACH_CATALOGUE.CONFIRMED_NOT_DELIVERED.points;
      const score = (points: number[]) =>
        computeCreditScore({ breaches: points.map((p) => breach(p, monthsAgo(1))), repairs: [], bonuses: [], at: AT }).grade;
      expect(score([late, late, late])).to.equal('A');
      expect(score([lost, late])).to.equal('B');
    });
  });
});
