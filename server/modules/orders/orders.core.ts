// Shared by the order services: tenancy scoping, loading, and the one guarded way to move an order.
import { Types, type ClientSession } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { AppError, ConflictError, ForbiddenError, NotFoundError, RuleViolationError, problemsMessage } from '../../platform/errors';
import { Order, type OrderDoc, type OrderEvent } from './orders.model';
import { assertTransition, type OrderState } from './orders.state';
import { msg, type Message } from '../../platform/messages';

export const oid = (id: string | Types.ObjectId) => new Types.ObjectId(String(id));

/** The orders an actor may see: its hospital's, its distributor's, or (operator) all. Banks see none. */
export function scopeFilter(actor: Actor): Record<string, unknown> {
  if (actor.orgType === 'hospital') return { hospitalOrgId: oid(actor.orgId) };
  if (actor.orgType === 'distributor') return { distributorOrgId: oid(actor.orgId) };
  if (actor.role === 'operator') return {};
  throw new ForbiddenError({ code: 'ORDERS_NOT_VISIBLE', message: msg('errorCodes.ORDERS_NOT_VISIBLE') });
}

/** One order the actor may see; anything else (another hospital's, a bad id) is simply not found. */
export async function loadOrder(actor: Actor, id: string, session?: ClientSession): Promise<OrderDoc> {
  const order = Types.ObjectId.isValid(id) ? await Order.findOne({ _id: oid(id), ...scopeFilter(actor) }, undefined, { session }).lean<OrderDoc>() : null;
  if (!order) throw new NotFoundError({ code: 'ORDER_NOT_FOUND', message: msg('errorCodes.ORDER_NOT_FOUND') });
  return order;
}

/** A refused move: 409 with the moves this role may make now (403 when only another role may make it). */
export function moveError(from: OrderState, to: OrderState, role: string): AppError {
  const check = assertTransition(from, to, role);
  if (check.ok) return new ConflictError({ code: 'ORDER_CHANGED', message: msg('errorCodes.ORDER_CHANGED'), details: [{ status: from }] });
  const details = [{ status: from, requested: to, allowedMoves: check.details.allowedMoves, rolesAllowed: check.details.rolesAllowed }];
  if (check.code === 'ROLE_NOT_ALLOWED') return new ForbiddenError({ code: check.code, message: check.message, details });
  return new ConflictError({ code: check.code, message: check.message, details });
}

/** Throws unless the actor's role may move the order from its current state to `to`. */
export function assertMove(order: Pick<OrderDoc, 'status'>, to: OrderState, actor: Actor): void {
  if (!assertTransition(order.status, to, actor.role).ok) throw moveError(order.status, to, actor.role);
}

export function eventOf(actor: Actor | null, from: OrderState | undefined, to: OrderState, at: Date, reason?: string): OrderEvent {
  return {
    at,
    from,
    to,
    actorId: actor ? oid(actor.id) : undefined,
    actorName: actor?.name ?? 'system',
    actorRole: actor?.role ?? 'system',
    ...(reason ? { reason } : {}),
  };
}

/**
 * Moves an order from its current state to `to`, storing the event (time, actor, reason) and any
 * other fields in the same guarded update: if someone else moved it first, nothing is written and
 * the caller gets a 409 naming the state it is in now.
 */
export async function applyMove(
  actor: Actor,
  order: OrderDoc,
  to: OrderState,
  opts: { reason?: string; set?: Record<string, unknown>; at?: Date; session?: ClientSession } = {},
): Promise<OrderDoc> {
  assertMove(order, to, actor);
  const at = opts.at ?? now();
  const updated = await Order.findOneAndUpdate(
    { _id: order._id, status: order.status },
    { $set: { status: to, ...opts.set }, $push: { events: eventOf(actor, order.status, to, at, opts.reason) } },
    { returnDocument: 'after', session: opts.session },
  ).lean<OrderDoc>();
  if (updated) return updated;
  const fresh = await Order.findById(order._id, { status: 1 }, { session: opts.session }).lean<Pick<OrderDoc, 'status'>>();
  throw moveError(fresh?.status ?? order.status, to, actor.role);
}

/** A business-rule refusal carrying every problem found, so a form can show them all at once. */
export function refuse(problems: { code: string; message: Message; [k: string]: unknown }[]): RuleViolationError {
  const first = problems[0]!;
  const message = problemsMessage(problems.map((p) => p.message));
  return new RuleViolationError({ code: first.code, message, details: problems });
}
