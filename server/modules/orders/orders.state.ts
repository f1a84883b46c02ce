// The order state machine (placed → confirmed → shipped → in transit → delivered → accepted, with
// rejection, refusal and cancellation), its deadlines and the delivery KPIs, as pure functions.
// The service enforces these on the server; the pages use `allowedMoves` to offer only legal actions.

export const ORDER_STATES = [
  'placed',
  'confirmed',
  'partially_confirmed',
  'rejected',
  'shipped',
  'in_transit',
  'delivered',
  'accepted',
  'partially_accepted',
  'refused',
  'cancelled',
] as const;
import { msg, type Message } from '../../platform/messages';
export type OrderState = (typeof ORDER_STATES)[number];

export type UserRole = 'operator' | 'pharmacist' | 'hospital_finance' | 'distributor' | 'bank_officer';

/** Orders in these states need nothing more from anyone and never change again. */
export const TERMINAL_ORDER_STATES: readonly OrderState[] = ['rejected', 'accepted', 'partially_accepted', 'refused', 'cancelled'];

interface Transition {
  from: OrderState;
  to: OrderState;
  roles: readonly UserRole[];
}

const CANCELLERS: readonly UserRole[] = ['pharmacist', 'operator'];

/** Every legal move and the roles that may make it (cancellation only before shipment). */
export const ORDER_TRANSITIONS: readonly Transition[] = [
  { from: 'placed', to: 'confirmed', roles: ['distributor'] },
  { from: 'placed', to: 'partially_confirmed', roles: ['distributor'] },
  { from: 'placed', to: 'rejected', roles: ['distributor'] },
  { from: 'placed', to: 'cancelled', roles: CANCELLERS },
  { from: 'confirmed', to: 'shipped', roles: ['distributor'] },
  { from: 'confirmed', to: 'cancelled', roles: CANCELLERS },
  { from: 'partially_confirmed', to: 'shipped', roles: ['distributor'] },
  { from: 'partially_confirmed', to: 'cancelled', roles: CANCELLERS },
  { from: 'shipped', to: 'in_transit', roles: ['distributor'] },
  { from: 'shipped', to: 'delivered', roles: ['distributor'] },
  { from: 'in_transit', to: 'delivered', roles: ['distributor'] },
  { from: 'delivered', to: 'accepted', roles: ['pharmacist'] },
  { from: 'delivered', to: 'partially_accepted', roles: ['pharmacist'] },
  { from: 'delivered', to: 'refused', roles: ['pharmacist'] },
];

export function isTerminal(state: OrderState): boolean {
  return TERMINAL_ORDER_STATES.includes(state);
}

/** Open = still waiting for someone (not rejected, cancelled, accepted or refused). */
export function isOpen(state: OrderState): boolean {
  return !isTerminal(state);
}

export function canTransition(from: OrderState, to: OrderState, role: string): boolean {
  return ORDER_TRANSITIONS.some((t) => t.from === from && t.to === to && (t.roles as readonly string[]).includes(role));
}

/** The states a role may move an order to from `from` (what a page offers, what a 409 lists). */
export function allowedMoves(from: OrderState, role: string): OrderState[] {
  return ORDER_TRANSITIONS.filter((t) => t.from === from && (t.roles as readonly string[]).includes(role)).map((t) => t.to);
}

export type TransitionCheck =
  | { ok: true }
  | {
      ok: false;
      code: 'ILLEGAL_TRANSITION' | 'ROLE_NOT_ALLOWED';
      message: Message;
      details: { from: OrderState; to: OrderState; role: string; allowedMoves: OrderState[]; rolesAllowed: UserRole[] };
    };

/** Checks one move; a refusal says why, who could make it, and what this role may do instead. */
export function assertTransition(from: OrderState, to: OrderState, role: string): TransitionCheck {
  const transition = ORDER_TRANSITIONS.find((t) => t.from === from && t.to === to);
  const rolesAllowed = transition ? [...transition.roles] : [];
  const details = { from, to, role, allowedMoves: allowedMoves(from, role), rolesAllowed };
  if (!transition) {
    const message = isTerminal(from)
      ? msg('errorCodes.ORDER_FINAL', { from: { msg: `orderStatus.${from}` } })
      : msg('errorCodes.ILLEGAL_TRANSITION', { from: { msg: `orderStatus.${from}` }, to: { msg: `orderStatus.${to}` } });
    return { ok: false, code: 'ILLEGAL_TRANSITION', message, details };
  }
  if (!(transition.roles as readonly string[]).includes(role)) {
    return {
      ok: false,
      code: 'ROLE_NOT_ALLOWED',
      message: msg('errorCodes.ROLE_NOT_ALLOWED', { role: { msg: `roles.${role}` }, from: { msg: `orderStatus.${from}` }, to: { msg: `orderStatus.${to}` }, roles: { list: transition.roles.map(String) } }),
      details,
    };
  }
  return { ok: true };
}

const HOUR_MS = 3_600_000;

export interface DeadlineHours {
  confirmHours: number;
  urgentHours: number;
  regularHours: number;
}

/** Default deadlines: confirm within 24 h; deliver within 24 h (urgent) or 72 h (regular) of confirmation. */
export const DEFAULT_DEADLINE_HOURS: DeadlineHours = { confirmHours: 24, urgentHours: 24, regularHours: 72 };

function plusHours(at: Date, hours: number): Date {
  return new Date(at.getTime() + Math.round(hours * HOUR_MS));
}

/** When the distributor must have answered an order placed at `placedAt`. */
export function confirmDeadline(placedAt: Date, hours: number = DEFAULT_DEADLINE_HOURS.confirmHours): Date {
  return plusHours(placedAt, hours);
}

/** When an order confirmed at `confirmedAt` must be delivered. */
export function deliveryDeadline(confirmedAt: Date, urgent: boolean, hours: Pick<DeadlineHours, 'urgentHours' | 'regularHours'> = DEFAULT_DEADLINE_HOURS): Date {
  return plusHours(confirmedAt, urgent ? hours.urgentHours : hours.regularHours);
}

/** The platform settings (seconds) as deadline hours. */
export function deadlineHoursFrom(s: { confirmWithinSec: number; deliverUrgentWithinSec: number; deliverRegularWithinSec: number }): DeadlineHours {
  return { confirmHours: s.confirmWithinSec / 3600, urgentHours: s.deliverUrgentWithinSec / 3600, regularHours: s.deliverRegularWithinSec / 3600 };
}

/** What a deadline job decides when it runs: too early, missed, met, or moot (the order ended first). */
export type DeadlineVerdict = 'early' | 'missed' | 'met' | 'moot';

/**
 * The confirmation deadline: missed when the order had no answer by `confirmBy` (still placed after
 * it, answered late, or cancelled by the hospital only after it passed).
 */
export function confirmVerdict(o: { confirmBy: Date; respondedAt?: Date | null; cancelledAt?: Date | null }, at: Date): DeadlineVerdict {
  if (o.respondedAt) return o.respondedAt.getTime() > o.confirmBy.getTime() ? 'missed' : 'met';
  if (o.cancelledAt) return o.cancelledAt.getTime() > o.confirmBy.getTime() ? 'missed' : 'moot';
  return at.getTime() > o.confirmBy.getTime() ? 'missed' : 'early';
}

/** A delivery deadline `by`: missed when not delivered by then (a cancellation after it does not excuse it). */
export function deliveryVerdict(o: { deliveredAt?: Date | null; cancelledAt?: Date | null }, by: Date, at: Date): DeadlineVerdict {
  if (o.deliveredAt) return o.deliveredAt.getTime() > by.getTime() ? 'missed' : 'met';
  if (o.cancelledAt) return o.cancelledAt.getTime() > by.getTime() ? 'missed' : 'moot';
  return at.getTime() > by.getTime() ? 'missed' : 'early';
}

/** The facts about one order that the KPIs count. */
export interface KpiOrder {
  state: OrderState;
  placedAt: Date;
  urgent: boolean;
  /** when the distributor confirmed (in full or in part) or rejected */
  respondedAt?: Date | null;
  deliveredAt?: Date | null;
  cancelledAt?: Date | null;
}

export type KpiBand = '95-100' | '80-95' | '<80';

/** The Jiangxi "三率" bands: 95–100%, 80–95%, below 80%. */
export function kpiBand(rateBp: number): KpiBand;
export function kpiBand(rateBp: number | null): KpiBand | null;
export function kpiBand(rateBp: number | null): KpiBand | null {
  if (rateBp === null) return null;
  if (rateBp >= 9500) return '95-100';
  if (rateBp >= 8000) return '80-95';
  return '<80';
}

/** numerator / denominator in basis points, rounded half to even; null when nothing was due. */
function rateBp(numerator: number, denominator: number): number | null {
  if (denominator === 0) return null;
  const scaled = numerator * 10_000;
  const q = Math.floor(scaled / denominator);
  const r = scaled - q * denominator;
  if (r * 2 > denominator || (r * 2 === denominator && q % 2 === 1)) return q + 1;
  return q;
}

export interface DeliveryKpis {
  /** 订单响应率: answered by the confirmation deadline / orders whose answer was due */
  responseRateBp: number | null;
  /** 配送及时率: delivered by the delivery deadline / confirmed orders whose delivery was due */
  onTimeDeliveryRateBp: number | null;
  /** 交易完成率: accepted (in full or in part) / orders whose outcome is known */
  completionRateBp: number | null;
  counts: { responseDue: number; respondedOnTime: number; deliveryDue: number; deliveredOnTime: number; completionDue: number; completed: number };
}

/**
 * Delivery KPIs of one distributor's orders as of `now`. An order counts towards a rate once it is
 * due: an answer once answered or past its deadline (a hospital cancellation before the deadline
 * leaves the order out); a delivery once delivered or past its deadline; completion once the order
 * ended (accepted, refused, rejected) or missed a deadline. Delivered orders awaiting acceptance are
 * not yet in completion.
 */
export function deliveryKpis(orders: readonly KpiOrder[], now: Date, hours: DeadlineHours = DEFAULT_DEADLINE_HOURS): DeliveryKpis {
  const c = { responseDue: 0, respondedOnTime: 0, deliveryDue: 0, deliveredOnTime: 0, completionDue: 0, completed: 0 };
  for (const o of orders) {
    const confirmBy = confirmDeadline(o.placedAt, hours.confirmHours);
    const response = confirmVerdict({ confirmBy, respondedAt: o.respondedAt, cancelledAt: o.cancelledAt }, now);
    if (response === 'met' || response === 'missed') c.responseDue += 1;
    if (response === 'met') c.respondedOnTime += 1;

    const confirmed = !!o.respondedAt && o.state !== 'rejected';
    const delivery = confirmed ? deliveryVerdict(o, deliveryDeadline(o.respondedAt!, o.urgent, hours), now) : 'moot';
    if (delivery === 'met' || delivery === 'missed') c.deliveryDue += 1;
    if (delivery === 'met') c.deliveredOnTime += 1;

    let completionDue: boolean;
    let completed = false;
    if (o.state === 'accepted' || o.state === 'partially_accepted') {
      completionDue = true;
      completed = true;
    } else if (o.state === 'refused' || o.state === 'rejected') {
      completionDue = true;
    } else if (o.state === 'delivered') {
      completionDue = false;
    } else if (o.state === 'cancelled') {
      completionDue = (!o.respondedAt && response === 'missed') || delivery === 'missed';
    } else {
      completionDue = o.respondedAt ? delivery === 'missed' : response === 'missed';
    }
    if (completionDue) c.completionDue += 1;
    if (completed) c.completed += 1;
  }
  return {
    responseRateBp: rateBp(c.respondedOnTime, c.responseDue),
    onTimeDeliveryRateBp: rateBp(c.deliveredOnTime, c.deliveryDue),
    completionRateBp: rateBp(c.completed, c.completionDue),
    counts: c,
  };
}

/** The final state of an acceptance from the accepted and refused totals. */
export function acceptanceOutcome(acceptedQty: number, refusedQty: number): 'accepted' | 'partially_accepted' | 'refused' {
  if (acceptedQty === 0) return 'refused';
  return refusedQty === 0 ? 'accepted' : 'partially_accepted';
}
