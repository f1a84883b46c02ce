// The VBP side of ordering: the orders module locks contract prices through our resolver, accepted
// order lines whose source is a contract count as purchases against it (from the `orders.accepted`
// domain event, once per order line), and last year's accepted lines pre-fill declarations.
import { Types } from 'mongoose';
import { subscribe } from '../../platform/events';
import { Order, registerContractPriceResolver } from '../orders';
import { oid } from './vbp.common';
import { recordContractPurchase } from './vbp.completion';
import { resolveContractPrice } from './vbp.contracts';
import { setPurchaseHistorySource } from './vbp.history';
import { Contract } from './vbp.model';

interface AcceptedPayload {
  orderId: string;
  orderNo: string;
  at: string;
  lines: { drugId: string; source: string; refId: string | null; acceptedQty: number }[];
}

/** Counts the accepted quantity of every contract line of an accepted order (idempotent per line). */
export async function countAcceptedOrder(payload: AcceptedPayload): Promise<void> {
  for (const [i, line] of payload.lines.entries()) {
    if (line.source !== 'contract' || !line.refId || !(line.acceptedQty > 0) || !Types.ObjectId.isValid(line.refId)) continue;
    // NOTE: a line naming no contract of ours is skipped rather than failing the event for every subscriber.
    if (!(await Contract.exists({ _id: oid(line.refId) }))) continue;
    await recordContractPurchase({
      contractId: line.refId,
      sourceKey: `order-accepted:${payload.orderId}:${i}`,
      quantity: line.acceptedQty,
      at: new Date(payload.at),
      orderId: payload.orderId,
      orderNo: payload.orderNo,
    });
  }
}

/** Accepted quantities per drug of a hospital's orders accepted in [from, to). */
async function acceptedQuantities(hospitalOrgId: string, drugIds: string[], from: Date, to: Date): Promise<Map<string, number>> {
  const rows = await Order.aggregate<{ _id: unknown; qty: number }>([
    { $match: { hospitalOrgId: oid(hospitalOrgId), status: { $in: ['accepted', 'partially_accepted'] }, acceptedAt: { $gte: from, $lt: to } } },
    { $unwind: '$lines' },
    { $match: { 'lines.drugId': { $in: drugIds.map((id) => oid(id)) } } },
    { $group: { _id: '$lines.drugId', qty: { $sum: '$lines.acceptedQty' } } },
  ]);
  return new Map(rows.map((r) => [String(r._id), r.qty]));
}

/** Wires VBP into ordering (called once at start-up). */
export function wireOrders(): void {
  registerContractPriceResolver(resolveContractPrice);
  setPurchaseHistorySource(acceptedQuantities);
  subscribe('orders.accepted', async (event) => countAcceptedOrder(event.payload as unknown as AcceptedPayload));
}
