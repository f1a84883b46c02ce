// The VBP side of ordering: accepted order lines whose source is a contract count as purchases
// against it (once per order line, in the same transaction as the receipt), and every accepted line
// joins the purchase history that pre-fills next year's declarations (a projection written just
// after the acceptance commits; naturally idempotent per order line).
import { Types } from 'mongoose';
import { OrderAccepted } from '../../events/orders';
import { onEvent, onEventInTransaction } from '../../platform/relay';
import { recordContractPurchase } from './vbp.completion';
import { recordPurchases } from './vbp.history';

/** The purchase of one accepted order line against a contract, counted once. */
export const purchaseKey = (orderId: string, lineNo: number) => `order-accepted:${orderId}:${lineNo - 1}`;

export const vbpOrderSubscribers = [
  onEventInTransaction(OrderAccepted, 'vbp.count-contract-purchases', async (e, uow) => {
    const p = e.payload;
    for (const line of p.lines) {
      // NOTE: a line naming no contract of ours is skipped rather than failing the fact for every subscriber.
      if (line.source !== 'contract' || !line.refId || !(line.acceptedQty > 0) || !Types.ObjectId.isValid(line.refId)) continue;
      await recordContractPurchase(
        { contractId: line.refId, sourceKey: purchaseKey(p.orderId, line.lineNo), quantity: line.acceptedQty, at: new Date(p.at), orderId: p.orderId, orderNo: p.orderNo },
        uow.session,
      );
    }
  }),
  onEvent(OrderAccepted, 'vbp.record-purchase-history', (e) => recordPurchases(e.payload)),
];
