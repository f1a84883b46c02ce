// The VBP side of ordering: accepted order lines whose source is a contract count as purchases
// against it (once per order line, in the same transaction as the receipt), and every accepted line
// joins the purchase history that pre-fills next year's declarations.
import { Types } from 'mongoose';
import { OrderAccepted } from '../../events/orders';
import { onEventInTransaction } from '../../platform/relay';
import { recordContractPurchase } from './vbp.completion';
import { recordPurchases } from './vbp.history';

export const vbpSubscribers = [
  onEventInTransaction(OrderAccepted, 'vbp.count-contract-purchases', async (e, uow) => {
    const p = e.payload;
    for (const line of p.lines) {
      // NOTE: a line naming no contract of ours is skipped rather than failing the fact for every subscriber.
      if (line.source !== 'contract' || !line.refId || !(line.acceptedQty > 0) || !Types.ObjectId.isValid(line.refId)) continue;
      await recordContractPurchase(
        { contractId: line.refId, sourceKey: `order-accepted:${p.orderId}:${line.lineNo - 1}`, quantity: line.acceptedQty, at: new Date(p.at), orderId: p.orderId, orderNo: p.orderNo },
        uow.session,
      );
    }
  }),
  onEventInTransaction(OrderAccepted, 'vbp.record-purchase-history', (e, uow) => recordPurchases(e.payload, uow.session)),
];
