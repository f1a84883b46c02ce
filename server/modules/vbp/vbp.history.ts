// Last year's platform purchases of a hospital, which pre-fill its demand declaration: the vbp module
// keeps its own record of accepted order lines, fed by the orders module's `orders.accepted` facts.
import mongoose, { Schema, Types, type ClientSession } from 'mongoose';
import type { OrderAccepted } from '../../events/orders';
import type { EventOf } from '../../platform/events';
import { trusted } from '../../platform/mongo';

const PurchaseHistorySchema = new Schema(
  {
    // NOTE: `<orderId>:<lineNo>`, so a fact delivered twice is stored once.
    _id: { type: String, required: true },
    hospitalOrgId: { type: Schema.Types.ObjectId, required: true },
    drugId: { type: Schema.Types.ObjectId, required: true },
    at: { type: Date, required: true },
    quantity: { type: Number, required: true },
  },
  { versionKey: false, collection: 'vbp_purchase_history' },
);
PurchaseHistorySchema.index({ hospitalOrgId: 1, drugId: 1, at: 1 });

export const PurchaseHistory = mongoose.models.VbpPurchaseHistory ?? mongoose.model('VbpPurchaseHistory', PurchaseHistorySchema);

/** Records the accepted lines of an order (idempotent per order line). */
export async function recordPurchases(p: EventOf<typeof OrderAccepted>['payload'], session?: ClientSession): Promise<void> {
  const lines = p.lines.filter((l) => l.acceptedQty > 0);
  if (lines.length === 0) return;
  await PurchaseHistory.bulkWrite(
    lines.map((l) => ({
      updateOne: {
        filter: { _id: `${p.orderId}:${l.lineNo}` },
        update: { $setOnInsert: { hospitalOrgId: new Types.ObjectId(p.hospitalOrgId), drugId: new Types.ObjectId(l.drugId), at: new Date(p.at), quantity: l.acceptedQty } },
        upsert: true,
      },
    })),
    { session },
  );
}

/** Quantities per drug bought by the hospital on the platform in [from, to); drugs without purchases are absent. */
export async function lastYearPurchases(hospitalOrgId: string | Types.ObjectId, drugIds: (string | Types.ObjectId)[], from: Date, to: Date): Promise<Map<string, number>> {
  const rows = await PurchaseHistory.aggregate<{ _id: Types.ObjectId; qty: number }>([
    { $match: { hospitalOrgId: new Types.ObjectId(String(hospitalOrgId)), drugId: trusted({ $in: drugIds.map((d) => new Types.ObjectId(String(d))) }), at: trusted({ $gte: from, $lt: to }) } },
    { $group: { _id: '$drugId', qty: { $sum: '$quantity' } } },
  ]);
  return new Map(rows.filter((r) => r.qty > 0).map((r) => [String(r._id), r.qty]));
}
