import { expect } from 'chai';
import {
  ORDER_STATES,
  TERMINAL_ORDER_STATES,
  type KpiOrder,
  type OrderState,
  acceptanceOutcome,
  allowedMoves,
  assertTransition,
  canTransition,
  confirmDeadline,
  confirmVerdict,
  deliveryDeadline,
  deliveryKpis,
  deliveryVerdict,
  isTerminal,
  kpiBand,
} from '../../server/modules/orders/orders.state';

const ROLES = ['operator', 'pharmacist', 'hospital_finance', 'distributor', 'bank_officer'];

// The machine of DESIGN §3.4, written out independently of ORDER_TRANSITIONS.
const EXPECTED: Record<string, string[]> = {
  'placed>confirmed': ['distributor'],
  'placed>partially_confirmed': ['distributor'],
  'placed>rejected': ['distributor'],
  'placed>cancelled': ['pharmacist', 'operator'],
  'confirmed>shipped': ['distributor'],
  'confirmed>cancelled': ['pharmacist', 'operator'],
  'partially_confirmed>shipped': ['distributor'],
  'partially_confirmed>cancelled': ['pharmacist', 'operator'],
  'shipped>in_transit': ['distributor'],
  'shipped>delivered': ['distributor'],
  'in_transit>delivered': ['distributor'],
  'delivered>accepted': ['pharmacist'],
  'delivered>partially_accepted': ['pharmacist'],
  'delivered>refused': ['pharmacist'],
};

describe('order state machine', () => {
  describe('every (from, to, role) combination', () => {
    for (const from of ORDER_STATES) {
      for (const to of ORDER_STATES) {
        const roles = EXPECTED[`${from}>${to}`] ?? [];
        it(`${from} → ${to}: ${roles.length ? `only ${roles.join(', ')}` : 'nobody'}`, () => {
          for (const role of ROLES) {
            expect(canTransition(from, to, role), role).to.equal(roles.includes(role));
          }
        });
      }
    }
  });

  it('has exactly the terminal states of DESIGN §3.4, and no move leaves them', () => {
    expect([...TERMINAL_ORDER_STATES].sort()).to.deep.equal(['accepted', 'cancelled', 'partially_accepted', 'refused', 'rejected']);
    for (const state of TERMINAL_ORDER_STATES) {
      expect(isTerminal(state)).to.equal(true);
      for (const role of ROLES) expect(allowedMoves(state, role)).to.deep.equal([]);
    }
    expect(isTerminal('shipped')).to.equal(false);
  });

  describe('allowedMoves', () => {
    const cases: [OrderState, string, OrderState[]][] = [
      ['placed', 'distributor', ['confirmed', 'partially_confirmed', 'rejected']],
      ['placed', 'pharmacist', ['cancelled']],
      ['placed', 'operator', ['cancelled']],
      ['confirmed', 'distributor', ['shipped']],
      ['shipped', 'pharmacist', []], // no cancellation after shipment
      ['shipped', 'operator', []],
      ['shipped', 'distributor', ['in_transit', 'delivered']],
      ['delivered', 'pharmacist', ['accepted', 'partially_accepted', 'refused']],
      ['delivered', 'distributor', []],
      ['placed', 'bank_officer', []],
      ['placed', 'hospital_finance', []],
    ];
    for (const [from, role, moves] of cases) {
      it(`a ${role} may move a ${from} order to [${moves.join(', ')}]`, () => {
        expect(allowedMoves(from, role)).to.deep.equal(moves);
      });
    }
  });

  describe('assertTransition', () => {
    it('accepts an allowed move', () => {
      expect(assertTransition('placed', 'confirmed', 'distributor')).to.deep.equal({ ok: true });
    });

    it('refuses a move made by the wrong role, naming who may make it and what this role may do', () => {
      expect(assertTransition('delivered', 'accepted', 'distributor')).to.deep.equal({
        ok: false,
        code: 'ROLE_NOT_ALLOWED',
        message: { key: 'errorCodes.ROLE_NOT_ALLOWED', params: { role: { msg: 'roles.distributor' }, from: { msg: 'orderStatus.delivered' }, to: { msg: 'orderStatus.accepted' }, roles: { list: ['pharmacist'] } } },
        details: { from: 'delivered', to: 'accepted', role: 'distributor', allowedMoves: [], rolesAllowed: ['pharmacist'] },
      });
    });

    it('refuses a move that nobody may make, listing the allowed moves', () => {
      const result = assertTransition('placed', 'shipped', 'distributor');
      expect(result).to.deep.include({ ok: false, code: 'ILLEGAL_TRANSITION' });
      if (result.ok) return;
      expect(result.details.allowedMoves).to.deep.equal(['confirmed', 'partially_confirmed', 'rejected']);
      expect(result.details.rolesAllowed).to.deep.equal([]);
    });

    it('says a finished order cannot change', () => {
      const result = assertTransition('cancelled', 'placed', 'operator');
      expect(result.ok).to.equal(false);
      if (!result.ok) expect(result.message).to.deep.include({ key: 'errorCodes.ORDER_FINAL' });
    });

    it('refuses a cancellation after shipment, even by the operator', () => {
      expect(assertTransition('in_transit', 'cancelled', 'operator')).to.deep.include({ ok: false, code: 'ILLEGAL_TRANSITION' });
    });

    it('does not let a distributor cancel an order it confirmed', () => {
      expect(assertTransition('confirmed', 'cancelled', 'distributor')).to.deep.include({ ok: false, code: 'ROLE_NOT_ALLOWED' });
    });
  });

  describe('deadlines', () => {
    const at = new Date('2025-03-01T10:00:00+08:00');
    it('must be answered within 24 h by default, or a configured number of hours', () => {
      expect(confirmDeadline(at).toISOString()).to.equal('2025-03-02T02:00:00.000Z');
      expect(confirmDeadline(at, 4).toISOString()).to.equal('2025-03-01T06:00:00.000Z');
    });

    const cases: [boolean, { urgentHours: number; regularHours: number } | undefined, string][] = [
      [true, undefined, '2025-03-02T02:00:00.000Z'], // 24 h
      [false, undefined, '2025-03-04T02:00:00.000Z'], // 72 h
      [true, { urgentHours: 4, regularHours: 48 }, '2025-03-01T06:00:00.000Z'],
      [false, { urgentHours: 4, regularHours: 48 }, '2025-03-03T02:00:00.000Z'],
    ];
    for (const [urgent, hours, expected] of cases) {
      it(`an ${urgent ? 'urgent' : 'regular'} order confirmed at 10:00 must arrive by ${expected}${hours ? ' (configured)' : ''}`, () => {
        expect(deliveryDeadline(at, urgent, hours).toISOString()).to.equal(expected);
      });
    }

    const h = (hours: number) => new Date(at.getTime() + hours * 3_600_000);
    const confirmCases: [string, Parameters<typeof confirmVerdict>[0], Date, string][] = [
      ['answered exactly at the deadline', { confirmBy: h(24), respondedAt: h(24) }, h(30), 'met'],
      ['answered 1 ms late', { confirmBy: h(24), respondedAt: new Date(h(24).getTime() + 1) }, h(30), 'missed'],
      ['unanswered after the deadline', { confirmBy: h(24) }, h(25), 'missed'],
      ['unanswered before the deadline', { confirmBy: h(24) }, h(23), 'early'],
      ['cancelled by the hospital in time', { confirmBy: h(24), cancelledAt: h(2) }, h(30), 'moot'],
      ['cancelled by the hospital only after the deadline', { confirmBy: h(24), cancelledAt: h(26) }, h(30), 'missed'],
    ];
    for (const [name, order, when, verdict] of confirmCases) {
      it(`confirmation deadline: ${name} → ${verdict}`, () => expect(confirmVerdict(order, when)).to.equal(verdict));
    }

    const deliveryCases: [string, Parameters<typeof deliveryVerdict>[0], string][] = [
      ['delivered exactly at the deadline', { deliveredAt: h(72) }, 'met'],
      ['delivered late', { deliveredAt: h(73) }, 'missed'],
      ['not delivered after the deadline', {}, 'missed'],
      ['cancelled before the deadline', { cancelledAt: h(10) }, 'moot'],
      ['cancelled after the deadline', { cancelledAt: h(80) }, 'missed'],
    ];
    for (const [name, order, verdict] of deliveryCases) {
      it(`delivery deadline: ${name} → ${verdict}`, () => expect(deliveryVerdict(order, h(72), h(100))).to.equal(verdict));
    }
  });

  describe('deliveryKpis', () => {
    const base = Date.parse('2025-03-01T00:00:00+08:00');
    const h = (hours: number) => new Date(base + hours * 3_600_000);
    const NOW = h(1000);
    const order = (o: Partial<KpiOrder>): KpiOrder => ({ state: 'placed', placedAt: h(0), urgent: false, ...o });

    const cases: [string, KpiOrder[], [number | null, number | null, number | null]][] = [
      ['no orders: no rates', [], [null, null, null]],
      ['a perfect order', [order({ state: 'accepted', respondedAt: h(2), deliveredAt: h(50) })], [10_000, 10_000, 10_000]],
      ['answered exactly at the deadline is on time', [order({ state: 'accepted', respondedAt: h(24), deliveredAt: h(96) })], [10_000, 10_000, 10_000]],
      ['answered 1 ms late', [order({ state: 'accepted', respondedAt: new Date(h(24).getTime() + 1), deliveredAt: h(30) })], [0, 10_000, 10_000]],
      ['an urgent order delivered after 25 h is late', [order({ urgent: true, state: 'accepted', respondedAt: h(1), deliveredAt: h(26) })], [10_000, 0, 10_000]],
      ['a regular order delivered after 25 h is on time', [order({ state: 'accepted', respondedAt: h(1), deliveredAt: h(26) })], [10_000, 10_000, 10_000]],
      ['an unanswered order past its deadline counts against all rates it reached', [order({ state: 'placed' })], [0, null, 0]],
      ['an unanswered order still within its deadline is not counted', [order({ state: 'placed', placedAt: h(990) })], [null, null, null]],
      ['a rejection is a response but not a completion', [order({ state: 'rejected', respondedAt: h(1) })], [10_000, null, 0]],
      ['a confirmed order never delivered', [order({ state: 'confirmed', respondedAt: h(1) })], [10_000, 0, 0]],
      ['a confirmed order still within its delivery time', [order({ state: 'confirmed', placedAt: h(950), respondedAt: h(951) })], [10_000, null, null]],
      ['a hospital cancellation before the deadline is left out', [order({ state: 'cancelled', cancelledAt: h(5) })], [null, null, null]],
      ['a cancellation after a missed answer still counts', [order({ state: 'cancelled', cancelledAt: h(30) })], [0, null, 0]],
      ['a cancellation after confirmation but before the delivery deadline is left out of delivery', [order({ state: 'cancelled', respondedAt: h(1), cancelledAt: h(10) })], [10_000, null, null]],
      ['a refusal at acceptance is not a completion', [order({ state: 'refused', respondedAt: h(1), deliveredAt: h(10) })], [10_000, 10_000, 0]],
      ['a partial acceptance completes the order', [order({ state: 'partially_accepted', respondedAt: h(1), deliveredAt: h(10) })], [10_000, 10_000, 10_000]],
      ['a delivered order awaiting acceptance is not yet in completion', [order({ state: 'delivered', respondedAt: h(1), deliveredAt: h(10) })], [10_000, 10_000, null]],
      [
        'rates are rounded half to even in basis points (2 of 3 → 6667)',
        [
          order({ state: 'accepted', respondedAt: h(1), deliveredAt: h(10) }),
          order({ state: 'accepted', respondedAt: h(1), deliveredAt: h(10) }),
          order({ state: 'accepted', respondedAt: h(30), deliveredAt: h(40) }),
        ],
        [6667, 10_000, 10_000],
      ],
    ];
    for (const [name, orders, [response, onTime, completion]] of cases) {
      it(name, () => {
        const kpis = deliveryKpis(orders, NOW);
        expect([kpis.responseRateBp, kpis.onTimeDeliveryRateBp, kpis.completionRateBp]).to.deep.equal([response, onTime, completion]);
      });
    }

    it('counts the numerators and denominators it used', () => {
      const kpis = deliveryKpis(
        [order({ state: 'accepted', respondedAt: h(1), deliveredAt: h(10) }), order({ state: 'placed' }), order({ state: 'confirmed', respondedAt: h(2) })],
        NOW,
      );
      expect(kpis.counts).to.deep.equal({ responseDue: 3, respondedOnTime: 2, deliveryDue: 2, deliveredOnTime: 1, completionDue: 3, completed: 1 });
    });

    it('honours configured deadlines', () => {
      const late = [order({ state: 'accepted', respondedAt: h(5), deliveredAt: h(10) })];
      expect(deliveryKpis(late, NOW, { confirmHours: 4, urgentHours: 24, regularHours: 72 }).responseRateBp).to.equal(0);
    });
  });

  describe('kpiBand', () => {
    const cases: [number, string][] = [
      [10_000, '95-100'],
      [9500, '95-100'],
      [9499, '80-95'],
      [8000, '80-95'],
      [7999, '<80'],
      [0, '<80'],
    ];
    for (const [rate, band] of cases) {
      it(`puts ${rate / 100}% in band ${band}`, () => expect(kpiBand(rate)).to.equal(band));
    }

    it('has no band without a rate', () => expect(kpiBand(null)).to.equal(null));
  });

  describe('acceptanceOutcome', () => {
    const cases: [number, number, string][] = [
      [10, 0, 'accepted'],
      [7, 3, 'partially_accepted'],
      [0, 10, 'refused'],
      [0, 0, 'refused'],
    ];
    for (const [accepted, refused, outcome] of cases) {
      it(`${accepted} accepted and ${refused} refused → ${outcome}`, () => expect(acceptanceOutcome(accepted, refused)).to.equal(outcome));
    }
  });
});
