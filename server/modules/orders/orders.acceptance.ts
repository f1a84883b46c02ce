// Acceptance (验收): per line accepted and refused quantities with reasons, the scanned codes matched
// against the shipment's, batch and expiry checked. Final: one acceptance per order, and the invoice
// is created in the same transaction, so even two concurrent submits produce exactly one invoice.
import { Types } from 'mongoose';
import { OrderAccepted, OrderQualityRefusal } from '../../events/orders';
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { ConflictError, NotFoundError } from '../../platform/errors';
import { fen, msg, type Message } from '../../platform/messages';
import { trusted } from '../../platform/mongo';
import { businessDay } from '../../platform/time';
import { withCommand, type UnitOfWork } from '../../platform/unit-of-work';
import { createInvoiceFromAcceptance } from '../finance';
import { applyMove, assertMove, loadOrder, refuse } from './orders.core';
import { scannedCode } from './orders.gs1';
import { Acceptance, Shipment, TraceCode, type AcceptanceDoc, type AcceptanceLine, type OrderDoc, type ShipmentDoc } from './orders.model';
import type { AcceptInput } from './orders.schemas';
import { acceptanceOutcome } from './orders.state';
import { statusChanged } from './orders.service';
import { orderView } from './orders.views';

type Problem = { code: string; message: Message; lineNo?: number; codes?: string[] };

export const acceptanceKeyOf = (orderId: string) => `order-acceptance:${orderId}`;

function acceptanceProblems(shipment: ShipmentDoc, input: AcceptInput, at: Date): Problem[] {
  const problems: Problem[] = [];
  const today = businessDay(at);
  const given = new Map<number, AcceptInput['lines'][number]>();
  for (const l of input.lines) {
    if (given.has(l.lineNo)) problems.push({ code: 'DUPLICATE_LINE', message: msg('errorCodes.DUPLICATE_LINE', { lineNo: l.lineNo }), lineNo: l.lineNo });
    given.set(l.lineNo, l);
    if (!shipment.lines.some((s) => s.lineNo === l.lineNo)) problems.push({ code: 'UNKNOWN_LINE', message: msg('errorCodes.UNKNOWN_LINE', { lineNo: l.lineNo }), lineNo: l.lineNo });
  }
  for (const s of shipment.lines) {
    const l = given.get(s.lineNo);
    if (!l) {
      problems.push({ code: 'LINE_MISSING', message: msg('errorCodes.LINE_MISSING', { lineNo: s.lineNo, drugName: s.drugName }), lineNo: s.lineNo });
      continue;
    }
    if (l.acceptedQty + l.refusedQty !== s.quantity) {
      problems.push({ code: 'QUANTITY_MISMATCH', message: msg('errorCodes.QUANTITY_MISMATCH', { lineNo: s.lineNo, acceptedQty: l.acceptedQty, refusedQty: l.refusedQty, quantity: s.quantity }), lineNo: s.lineNo });
    }
    if (l.refusedQty > 0 && !l.refusalReason) problems.push({ code: 'REFUSAL_REASON_REQUIRED', message: msg('errorCodes.REFUSAL_REASON_REQUIRED', { lineNo: s.lineNo, refusedQty: l.refusedQty }), lineNo: s.lineNo });
    if (l.acceptedQty > 0) {
      if (l.batchNo !== s.batchNo) {
        problems.push({ code: 'BATCH_MISMATCH', message: msg('errorCodes.BATCH_MISMATCH', { lineNo: s.lineNo, batchNo: l.batchNo, batchNo2: s.batchNo }), lineNo: s.lineNo });
      }
      if (l.expiryDate !== s.expiryDate) {
        problems.push({ code: 'EXPIRY_MISMATCH', message: msg('errorCodes.EXPIRY_MISMATCH', { lineNo: s.lineNo, expiryDate: l.expiryDate, expiryDate2: s.expiryDate }), lineNo: s.lineNo });
      }
      if (l.expiryDate <= today) problems.push({ code: 'EXPIRED_GOODS', message: msg('errorCodes.EXPIRED_GOODS', { lineNo: s.lineNo, expiryDate: l.expiryDate }), lineNo: s.lineNo });
    }
    const shipped = new Set(s.codes);
    const seen = new Set<string>();
    const foreign: string[] = [];
    const twice: string[] = [];
    for (const code of l.codes) {
      if (seen.has(code)) twice.push(code);
      seen.add(code);
      if (!shipped.has(code)) foreign.push(code);
    }
    if (foreign.length) problems.push({ code: 'TRACE_CODE_NOT_IN_SHIPMENT', message: msg('errorCodes.TRACE_CODE_NOT_IN_SHIPMENT', { lineNo: s.lineNo, foreign: foreign.join(', ') }), lineNo: s.lineNo, codes: foreign });
    if (twice.length) problems.push({ code: 'TRACE_CODE_DUPLICATED', message: msg('errorCodes.TRACE_CODE_DUPLICATED', { lineNo: s.lineNo, twice: twice.join(', ') }), lineNo: s.lineNo, codes: twice });
    if (seen.size !== l.acceptedQty) {
      problems.push({ code: 'TRACE_CODE_COUNT_MISMATCH', message: msg('errorCodes.TRACE_CODE_COUNT_MISMATCH', { lineNo: s.lineNo, acceptedQty: l.acceptedQty, count: seen.size }), lineNo: s.lineNo });
    }
  }
  return problems;
}

/**
 * The pharmacist accepts a delivered order. Accepted codes become "received", the others
 * "refused"; the invoice (accepted quantity × locked unit price) is created in the same
 * transaction. A second submission — even concurrent — finds the order accepted: 409.
 */
export async function acceptDelivery(actor: Actor, id: string, given: AcceptInput) {
  const order = await loadOrder(actor, id);
  const at = now();
  // A GS1 DataMatrix scan names its pack by the serial (21): that is the code matched to the shipment.
  const year = Number(businessDay(at).slice(0, 4));
  const input: AcceptInput = { ...given, lines: given.lines.map((l) => ({ ...l, codes: l.codes.map((c) => scannedCode(c, year)) })) };
  const acceptedTotal = input.lines.reduce((s, l) => s + l.acceptedQty, 0);
  const refusedTotal = input.lines.reduce((s, l) => s + l.refusedQty, 0);
  const outcome = acceptanceOutcome(acceptedTotal, refusedTotal);
  assertMove(order, outcome, actor);
  const shipment = await Shipment.findOne({ orderId: order._id }).lean<ShipmentDoc>();
  if (!shipment) throw new NotFoundError({ code: 'SHIPMENT_NOT_FOUND', message: msg('errorCodes.SHIPMENT_NOT_FOUND') });
  const problems = acceptanceProblems(shipment, input, at);
  if (problems.length) throw refuse(problems);

  const byLine = new Map(input.lines.map((l) => [l.lineNo, l]));
  const lines: AcceptanceLine[] = shipment.lines.map((s) => {
    const l = byLine.get(s.lineNo)!;
    const unitPriceFen = order.lines.find((x) => x.lineNo === s.lineNo)!.unitPriceFen;
    return {
      lineNo: s.lineNo,
      drugId: s.drugId,
      shippedQty: s.quantity,
      acceptedQty: l.acceptedQty,
      refusedQty: l.refusedQty,
      ...(l.refusedQty > 0 && l.refusalReason ? { refusalReason: l.refusalReason } : {}),
      ...(l.note ? { note: l.note } : {}),
      batchNo: l.batchNo,
      expiryDate: l.expiryDate,
      acceptedCodes: [...new Set(l.codes)],
      unitPriceFen,
      amountFen: l.acceptedQty * unitPriceFen,
    };
  });
  const amountFen = lines.reduce((s, l) => s + l.amountFen, 0);
  const acceptanceId = new Types.ObjectId();
  const acceptedCodes = lines.flatMap((l) => l.acceptedCodes);
  const orderLines = order.lines.map((l) => {
    const a = lines.find((x) => x.lineNo === l.lineNo);
    return { ...l, acceptedQty: a?.acceptedQty ?? 0, refusedQty: a?.refusedQty ?? 0 };
  });

  try {
    return await withCommand(actor, async (uow) => {
      const session = uow.session;
      const invoice =
        amountFen > 0
          ? await createInvoiceFromAcceptance({
              acceptanceKey: acceptanceKeyOf(id),
              orderId: id,
              orderNo: order.orderNo,
              hospitalOrgId: String(order.hospitalOrgId),
              distributorOrgId: String(order.distributorOrgId),
              lines: lines
                .filter((l) => l.acceptedQty > 0)
                .map((l) => ({ drugId: String(l.drugId), drugName: order.lines.find((x) => x.lineNo === l.lineNo)!.drugName, quantity: l.acceptedQty, unitPriceFen: l.unitPriceFen, amountFen: l.amountFen })),
              amountFen,
              acceptedAt: at,
            })
          : undefined;
      const doc: AcceptanceDoc = {
        _id: acceptanceId,
        orderId: order._id,
        orderNo: order.orderNo,
        hospitalOrgId: order.hospitalOrgId,
        distributorOrgId: order.distributorOrgId,
        acceptedAt: at,
        acceptedById: new Types.ObjectId(actor.id),
        acceptedByName: actor.name,
        outcome,
        lines,
        amountFen,
        ...(input.note ? { note: input.note } : {}),
        ...(invoice ? { invoiceId: invoice.invoiceId, invoiceDueAt: invoice.dueAt } : {}),
      };
      await Acceptance.create([doc], { session });
      const updated = await applyMove(actor, order, outcome, {
        at,
        session,
        reason: input.note,
        set: { acceptedAt: at, lines: orderLines, ...(invoice ? { invoiceId: invoice.invoiceId, invoiceDueAt: invoice.dueAt } : {}) },
      });
      if (acceptedCodes.length) await TraceCode.updateMany({ orderId: order._id, code: trusted({ $in: acceptedCodes }) }, { $set: { status: 'received', receivedAt: at } }, { session });
      await TraceCode.updateMany({ orderId: order._id, status: 'shipped' }, { $set: { status: 'refused' } }, { session });
      accepted(uow, order, updated, lines, { acceptanceId, outcome, amountFen, acceptedQty: acceptedTotal, refusedQty: refusedTotal, invoiceDueAt: invoice?.dueAt });
      return { order: orderView(updated, actor.role), acceptance: { id: String(acceptanceId), outcome, amountFen, invoiceId: invoice?.invoiceId, invoiceDueAt: invoice?.dueAt.toISOString() } };
    });
  } catch (err) {
    if ((err as { code?: number }).code === 11000) throw new ConflictError({ code: 'ORDER_ALREADY_ACCEPTED', message: msg('errorCodes.ORDER_ALREADY_ACCEPTED') });
    throw err;
  }
}

/** Stages the facts of an acceptance: the audit entry, the status change, `orders.accepted` and any quality refusals. */
function accepted(
  uow: UnitOfWork,
  before: OrderDoc,
  after: OrderDoc,
  lines: AcceptanceLine[],
  a: { acceptanceId: Types.ObjectId; outcome: OrderDoc['status']; amountFen: number; acceptedQty: number; refusedQty: number; invoiceDueAt?: Date },
): void {
  const id = String(after._id);
  const ref = { orderId: id, orderNo: after.orderNo, hospitalOrgId: String(after.hospitalOrgId), distributorOrgId: String(after.distributorOrgId) };
  uow.audit({
    action: `order.${a.outcome}`,
    targetType: 'order',
    targetId: id,
    summary: msg('orders.audit.accepted', { orderNo: after.orderNo, accepted: a.acceptedQty, refused: a.refusedQty, amount: fen(a.amountFen) }),
  });
  statusChanged(uow, before, after);
  uow.emit(
    OrderAccepted,
    {
      ...ref,
      at: uow.at.toISOString(),
      outcome: a.outcome as 'accepted' | 'partially_accepted' | 'refused',
      acceptedQty: a.acceptedQty,
      refusedQty: a.refusedQty,
      amountFen: a.amountFen,
      ...(a.invoiceDueAt ? { invoiceDueAt: a.invoiceDueAt.toISOString() } : {}),
      lines: lines.map((l) => {
        const line = before.lines.find((x) => x.lineNo === l.lineNo)!;
        return { lineNo: l.lineNo, drugId: String(l.drugId), source: line.source.kind, refId: line.source.refId ?? null, acceptedQty: l.acceptedQty, unitPriceFen: l.unitPriceFen };
      }),
    },
    { key: `order-accepted:${id}` },
  );
  for (const l of lines.filter((x) => x.refusalReason === 'quality' && x.refusedQty > 0)) {
    const line = before.lines.find((x) => x.lineNo === l.lineNo)!;
    uow.emit(
      OrderQualityRefusal,
      { ...ref, at: uow.at.toISOString(), acceptanceId: String(a.acceptanceId), lineNo: l.lineNo, drugId: String(l.drugId), drugName: line.drugName, batchNo: l.batchNo, refusedQuantity: l.refusedQty, reason: l.note ?? '' },
      { key: `order-quality-refusal:${String(a.acceptanceId)}:${l.lineNo}` },
    );
  }
}

/** The stored acceptance of an order, if any (for the order page). */
export async function getAcceptance(orderId: Types.ObjectId) {
  return Acceptance.findOne({ orderId }).lean<AcceptanceDoc>();
}
