// Shipments (one per order) with per-line batch, expiry and traceability codes, and the tracking
// events that follow them to the hospital. A code is accepted once on the whole platform.
import { Types } from 'mongoose';
import { OrderTracked } from '../../events/orders';
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { ConflictError, NotFoundError } from '../../platform/errors';
import { msg, type Message } from '../../platform/messages';
import { trusted } from '../../platform/mongo';
import { businessDay } from '../../platform/time';
import { withCommand } from '../../platform/unit-of-work';
import { Drug, traceCodeMatchesPrefix } from '../catalogue';
import { applyMove, assertMove, loadOrder, oid, refuse } from './orders.core';
import { markMissed } from './orders.deadlines';
import { gtin14, looksLikeGs1, readScan } from './orders.gs1';
import { Shipment, TraceCode, type OrderDoc, type ShipmentDoc, type ShipmentLine, type TrackingEvent } from './orders.model';
import { statusChanged } from './orders.service';
import type { ShipInput, TrackingInput } from './orders.schemas';
import type { OrderState } from './orders.state';
import { orderView, shipmentView } from './orders.views';

type Problem = { code: string; message: Message; lineNo?: number; codes?: string[] };

/** Codes (already normalised) that some shipment on the platform has used before. */
async function codesInUse(codes: string[]): Promise<Set<string>> {
  const used = new Set<string>();
  for (let i = 0; i < codes.length; i += 1000) {
    const rows = await TraceCode.find({ code: trusted({ $in: codes.slice(i, i + 1000) }) }, { code: 1 }).lean<{ code: string }[]>();
    for (const r of rows) used.add(r.code);
  }
  return used;
}

/** A shipment line as it will be stored: codes read from the scans, batch and expiry typed or scanned. */
type ResolvedLine = { lineNo: number; quantity: number; batchNo: string; expiryDate: string; codes: string[] };

/** How a scan's text is shown back to a person (the GS character is invisible). */
const shown = (text: string) => text.replace(/\u001d/g, '<GS>');

/**
 * Reads each line's scans: a GS1 string gives its serial as the code and may give the batch and
 * expiry (which then fill the line's fields, or must agree with what was typed) and the GTIN (which
 * must be the drug's). Problems name only the scans at fault.
 */
async function resolveScans(order: OrderDoc, input: ShipInput, at: Date): Promise<{ lines: ResolvedLine[]; problems: Problem[] }> {
  const problems: Problem[] = [];
  const year = Number(businessDay(at).slice(0, 4));
  const needsGtin = input.lines.some((l) => l.codes.some(looksLikeGs1));
  const lineDrugs = order.lines.map((l) => l.drugId);
  const gtins = new Map<string, string>();
  if (needsGtin) {
    for (const d of await Drug.find({ _id: trusted({ $in: lineDrugs }) }, { gtin: 1 }).lean<{ _id: Types.ObjectId; gtin?: string }[]>()) {
      if (d.gtin) gtins.set(String(d._id), gtin14(d.gtin));
    }
  }
  const lines = input.lines.map((l): ResolvedLine => {
    const line = order.lines.find((x) => x.lineNo === l.lineNo);
    const drugGtin = line ? gtins.get(String(line.drugId)) : undefined;
    const codes: string[] = [];
    const unreadable: string[] = [];
    const foreignGtin: string[] = [];
    const batches = new Set<string>();
    const expiries = new Set<string>();
    for (const text of l.codes) {
      const scan = readScan(text, year);
      if (scan.kind === 'invalid') {
        unreadable.push(shown(scan.text));
        continue;
      }
      codes.push(scan.code);
      if (scan.kind !== 'gs1') continue;
      if (scan.gtin && drugGtin && scan.gtin !== drugGtin) foreignGtin.push(shown(text));
      if (scan.batchNo) batches.add(scan.batchNo);
      if (scan.expiryDate) expiries.add(scan.expiryDate);
    }
    const lineNo = l.lineNo;
    if (unreadable.length) problems.push({ code: 'GS1_UNREADABLE', message: msg('errorCodes.GS1_UNREADABLE', { lineNo, codes: unreadable.join(', ') }), lineNo, codes: unreadable });
    if (foreignGtin.length) problems.push({ code: 'GS1_GTIN_MISMATCH', message: msg('errorCodes.GS1_GTIN_MISMATCH', { lineNo, gtin: drugGtin!, codes: foreignGtin.join(', ') }), lineNo, codes: foreignGtin });
    const typedBatch = l.batchNo || undefined;
    if (batches.size > 1) problems.push({ code: 'GS1_MIXED_BATCHES', message: msg('errorCodes.GS1_MIXED_BATCHES', { lineNo, found: [...batches].join(', ') }), lineNo });
    else if (typedBatch && batches.size === 1 && !batches.has(typedBatch)) problems.push({ code: 'GS1_BATCH_MISMATCH', message: msg('errorCodes.GS1_BATCH_MISMATCH', { lineNo, found: [...batches][0]!, batchNo: typedBatch }), lineNo });
    if (expiries.size > 1) problems.push({ code: 'GS1_MIXED_EXPIRIES', message: msg('errorCodes.GS1_MIXED_EXPIRIES', { lineNo, found: [...expiries].join(', ') }), lineNo });
    else if (l.expiryDate && expiries.size === 1 && !expiries.has(l.expiryDate)) problems.push({ code: 'GS1_EXPIRY_MISMATCH', message: msg('errorCodes.GS1_EXPIRY_MISMATCH', { lineNo, found: [...expiries][0]!, expiryDate: l.expiryDate }), lineNo });
    const batchNo = typedBatch ?? (batches.size === 1 ? [...batches][0]! : '');
    const expiryDate = l.expiryDate ?? (expiries.size === 1 ? [...expiries][0]! : '');
    if (!batchNo && batches.size <= 1) problems.push({ code: 'BATCH_REQUIRED', message: msg('errorCodes.BATCH_REQUIRED', { lineNo }), lineNo });
    if (!expiryDate && expiries.size <= 1) problems.push({ code: 'EXPIRY_REQUIRED', message: msg('errorCodes.EXPIRY_REQUIRED', { lineNo }), lineNo });
    return { lineNo, quantity: l.quantity, batchNo, expiryDate, codes };
  });
  return { lines, problems };
}

/** Every problem with a shipment request, per line, naming the offending codes. */
async function shipmentProblems(order: OrderDoc, lines: ResolvedLine[], input: ShipInput, at: Date): Promise<Problem[]> {
  const problems: Problem[] = [];
  const today = businessDay(at);
  const seenLines = new Set<number>();
  const seenCodes = new Map<string, number>();
  const duplicated = new Set<string>();
  for (const l of lines) {
    const line = order.lines.find((x) => x.lineNo === l.lineNo);
    if (seenLines.has(l.lineNo)) problems.push({ code: 'DUPLICATE_LINE', message: msg('errorCodes.DUPLICATE_LINE_3', { lineNo: l.lineNo }), lineNo: l.lineNo });
    seenLines.add(l.lineNo);
    if (!line) {
      problems.push({ code: 'UNKNOWN_LINE', message: msg('errorCodes.UNKNOWN_LINE_2', { lineNo: l.lineNo }), lineNo: l.lineNo });
      continue;
    }
    if (l.quantity > line.confirmedQty) {
      problems.push({ code: 'QUANTITY_EXCEEDS_CONFIRMED', message: msg('errorCodes.QUANTITY_EXCEEDS_CONFIRMED', { lineNo: l.lineNo, quantity: l.quantity, confirmedQty: line.confirmedQty }), lineNo: l.lineNo });
    }
    if (l.expiryDate && l.expiryDate <= today) {
      problems.push({ code: 'EXPIRY_NOT_IN_FUTURE', message: msg('errorCodes.EXPIRY_NOT_IN_FUTURE', { lineNo: l.lineNo, expiryDate: l.expiryDate }), lineNo: l.lineNo });
    }
    if (l.codes.length !== l.quantity) {
      problems.push({ code: 'TRACE_CODE_COUNT_MISMATCH', message: msg('errorCodes.TRACE_CODE_COUNT_MISMATCH_2', { lineNo: l.lineNo, quantity: l.quantity, quantity2: l.quantity, count: l.codes.length }), lineNo: l.lineNo });
    }
    const malformed: string[] = [];
    const wrongPrefix: string[] = [];
    for (const code of l.codes) {
      const check = traceCodeMatchesPrefix(code, line.tracePrefix);
      if (!check.ok) (check.code === 'TRACE_PREFIX_MISMATCH' ? wrongPrefix : malformed).push(code);
      if (seenCodes.has(code)) duplicated.add(code);
      seenCodes.set(code, l.lineNo);
    }
    if (malformed.length) problems.push({ code: 'INVALID_TRACE_CODE', message: msg('errorCodes.INVALID_TRACE_CODE', { lineNo: l.lineNo, malformed: malformed.join(', ') }), lineNo: l.lineNo, codes: malformed });
    if (wrongPrefix.length) {
      problems.push({ code: 'TRACE_PREFIX_MISMATCH', message: msg('errorCodes.TRACE_PREFIX_MISMATCH', { lineNo: l.lineNo, tracePrefix: line.tracePrefix, wrongPrefix: wrongPrefix.join(', ') }), lineNo: l.lineNo, codes: wrongPrefix });
    }
  }
  if (duplicated.size) problems.push({ code: 'TRACE_CODE_DUPLICATED', message: msg('errorCodes.TRACE_CODE_DUPLICATED_2', { value: [...duplicated].join(', ') }), codes: [...duplicated] });
  const used = await codesInUse([...seenCodes.keys()]);
  if (used.size) {
    const codes = [...used];
    problems.push({ code: 'TRACE_CODE_REUSED', message: msg('errorCodes.TRACE_CODE_REUSED', { codes: codes.join(', ') }), codes });
  }
  if (input.eta && new Date(input.eta).getTime() <= at.getTime()) problems.push({ code: 'ETA_IN_PAST', message: msg('errorCodes.ETA_IN_PAST') });
  return problems;
}

const duplicateKeyOf = (err: unknown): Record<string, unknown> | null => {
  const e = err as { code?: number; keyValue?: Record<string, unknown>; errorResponse?: { keyValue?: Record<string, unknown> } };
  return e?.code === 11000 ? (e.keyValue ?? e.errorResponse?.keyValue ?? {}) : null;
};

/** The distributor ships the confirmed goods: one shipment, codes stored as "shipped", order → shipped. */
export async function shipOrder(actor: Actor, id: string, input: ShipInput) {
  const order = await loadOrder(actor, id);
  assertMove(order, 'shipped', actor);
  const at = now();
  const resolved = await resolveScans(order, input, at);
  const problems = [...resolved.problems, ...(await shipmentProblems(order, resolved.lines, input, at))];
  if (problems.length) throw refuse(problems);

  const shipmentId = new Types.ObjectId();
  const lines: ShipmentLine[] = resolved.lines.map((l) => {
    const line = order.lines.find((x) => x.lineNo === l.lineNo)!;
    return { lineNo: l.lineNo, drugId: line.drugId, drugName: line.drugName, quantity: l.quantity, batchNo: l.batchNo, expiryDate: l.expiryDate, codes: l.codes };
  });
  const shipment: ShipmentDoc = {
    _id: shipmentId,
    shipmentNo: order.orderNo.replace(/^PO/, 'SH'),
    orderId: order._id,
    orderNo: order.orderNo,
    hospitalOrgId: order.hospitalOrgId,
    distributorOrgId: order.distributorOrgId,
    carrier: input.carrier,
    trackingNo: input.trackingNo,
    ...(input.eta ? { eta: new Date(input.eta) } : {}),
    shippedAt: at,
    shippedByName: actor.name,
    lines,
    tracking: [],
  };
  const shipped = new Map(lines.map((l) => [l.lineNo, l.quantity]));
  const orderLines = order.lines.map((l) => ({ ...l, shippedQty: shipped.get(l.lineNo) ?? 0 }));
  const packs = lines.reduce((sum, l) => sum + l.quantity, 0);
  try {
    return await withCommand(actor, async (uow) => {
      const session = uow.session;
      await Shipment.create([shipment], { session });
      await TraceCode.insertMany(
        lines.flatMap((l) =>
          l.codes.map((code) => ({
            code,
            drugId: l.drugId,
            batchNo: l.batchNo,
            expiryDate: l.expiryDate,
            orderId: order._id,
            orderNo: order.orderNo,
            shipmentId,
            lineNo: l.lineNo,
            hospitalOrgId: order.hospitalOrgId,
            distributorOrgId: order.distributorOrgId,
            status: 'shipped',
            shippedAt: at,
          })),
        ),
        { session },
      );
      const updated = await applyMove(actor, order, 'shipped', { at, session, set: { shippedAt: at, lines: orderLines } });
      uow.audit({ action: 'order.ship', targetType: 'order', targetId: id, summary: msg('orders.audit.shipped', { orderNo: order.orderNo, carrier: input.carrier, trackingNo: input.trackingNo, packs }) });
      statusChanged(uow, order, updated, { carrier: input.carrier, trackingNo: input.trackingNo });
      return { order: orderView(updated, actor.role), shipment: shipmentView(shipment) };
    });
  } catch (err) {
    const key = duplicateKeyOf(err);
    if (key && 'orderId' in key) throw new ConflictError({ code: 'ALREADY_SHIPPED', message: msg('errorCodes.ALREADY_SHIPPED') });
    if (key) {
      // NOTE: another shipment took some of these codes between the check and the insert.
      const used = [...(await codesInUse(lines.flatMap((l) => l.codes)))];
      throw refuse([{ code: 'TRACE_CODE_REUSED', message: msg('errorCodes.TRACE_CODE_REUSED_2', { used: used.join(', ') }), codes: used }]);
    }
    throw err;
  }
}

/** The order's shipment, for anyone who may see the order. */
export async function getShipment(actor: Actor, orderId: string) {
  const order = await loadOrder(actor, orderId);
  const s = await Shipment.findOne({ orderId: order._id }).lean<ShipmentDoc>();
  if (!s) throw new NotFoundError({ code: 'SHIPMENT_NOT_FOUND', message: msg('errorCodes.SHIPMENT_NOT_FOUND') });
  return shipmentView(s);
}

/** Which states a tracking event may follow, and the state it moves the order to (if any). */
const TRACKING_MOVES: Record<TrackingInput['kind'], { from: OrderState[]; to?: OrderState }> = {
  picked: { from: ['shipped'] },
  departed: { from: ['shipped'], to: 'in_transit' },
  location: { from: ['shipped', 'in_transit'], to: 'in_transit' },
  delivered: { from: ['shipped', 'in_transit'], to: 'delivered' },
};

/** A tracking event from the distributor: stored on the shipment, moving the order where it implies. */
export async function addTracking(actor: Actor, id: string, input: TrackingInput) {
  const order = await loadOrder(actor, id);
  const rule = TRACKING_MOVES[input.kind];
  if (!rule.from.includes(order.status)) {
    throw new ConflictError({
      code: 'TRACKING_NOT_ALLOWED',
      message: msg('errorCodes.TRACKING_NOT_ALLOWED', { kind: input.kind, status: { msg: `orderStatus.${order.status}` } }),
      details: [{ status: order.status, kind: input.kind, allowedFrom: rule.from }],
    });
  }
  const at = now();
  const event: TrackingEvent = { at, kind: input.kind, ...(input.location ? { location: input.location } : {}), ...(input.note ? { note: input.note } : {}), actorName: actor.name };
  let updated = order;
  const moveTo = rule.to && rule.to !== order.status ? rule.to : undefined;
  if (moveTo) assertMove(order, moveTo, actor);
  if (input.eta && new Date(input.eta).getTime() <= at.getTime()) throw refuse([{ code: 'ETA_IN_PAST', message: msg('errorCodes.ETA_IN_PAST') }]);

  return withCommand(actor, async (uow) => {
    const session = uow.session;
    const s = await Shipment.findOneAndUpdate(
      { orderId: order._id },
      { $push: { tracking: event }, ...(input.eta ? { $set: { eta: new Date(input.eta) } } : {}) },
      { returnDocument: 'after', session },
    ).lean<ShipmentDoc>();
    if (!s) throw new NotFoundError({ code: 'SHIPMENT_NOT_FOUND', message: msg('errorCodes.SHIPMENT_NOT_FOUND') });
    if (moveTo) updated = await applyMove(actor, order, moveTo, { at, session, set: moveTo === 'delivered' ? { deliveredAt: at } : {} });
    if (moveTo === 'delivered' && updated.deliverBy && at.getTime() > updated.deliverBy.getTime()) await markMissed(uow, updated, 'delivery');
    uow.audit({
      action: `order.tracking.${input.kind}`,
      targetType: 'order',
      targetId: id,
      summary: input.location
        ? msg('orders.audit.trackedAt', { orderNo: order.orderNo, kind: { msg: `orders.tracking.${input.kind}` }, location: input.location })
        : msg('orders.audit.tracked', { orderNo: order.orderNo, kind: { msg: `orders.tracking.${input.kind}` } }),
    });
    uow.emit(
      OrderTracked,
      { orderId: id, orderNo: order.orderNo, hospitalOrgId: String(order.hospitalOrgId), distributorOrgId: String(order.distributorOrgId), shipmentId: String(s._id), kind: input.kind, at: at.toISOString(), seq: s.tracking.length },
      { key: `order-tracked:${id}:${s.tracking.length}` },
    );
    if (moveTo) statusChanged(uow, order, updated);
    return { order: orderView(updated, actor.role), shipment: shipmentView(s) };
  });
}

/** Every scanned-code record of one order (for its pages and the recall trace). */
export async function traceCodesOf(orderId: Types.ObjectId | string) {
  return TraceCode.find({ orderId: oid(orderId) }, { code: 1, status: 1, lineNo: 1 }).lean<{ code: string; status: string; lineNo: number }[]>();
}

