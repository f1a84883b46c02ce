// Last year's platform purchases of a hospital, which pre-fill its demand declaration. They come
// from the orders module's accepted order lines.
import type { Types } from 'mongoose';

/** Accepted quantity per drug id bought by the hospital on the platform in [from, to). */
export type PurchaseHistorySource = (hospitalOrgId: string, drugIds: string[], from: Date, to: Date) => Promise<Map<string, number>>;

let source: PurchaseHistorySource | undefined;

/** Installs where purchase history comes from (the orders module, or a test double). */
export function setPurchaseHistorySource(fn: PurchaseHistorySource | undefined): void {
  source = fn;
}

/** Quantities per drug; an empty map when the platform has no history (the hospital then states it). */
export async function lastYearPurchases(hospitalOrgId: string | Types.ObjectId, drugIds: (string | Types.ObjectId)[], from: Date, to: Date): Promise<Map<string, number>> {
  if (!source) return new Map();
  const found = await source(String(hospitalOrgId), drugIds.map(String), from, to);
  return new Map([...found].filter(([, qty]) => qty > 0));
}
