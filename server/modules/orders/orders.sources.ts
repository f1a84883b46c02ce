// Where an order line's price comes from: a published listing (挂网, the quotation module), the
// catalogue's reference price, or a VBP contract (the vbp module). Prices lock at order time.
import type { PricedDrug } from '../catalogue';
import { findListingEntry } from '../quotation';
import { resolveContractPrice } from '../vbp';
import type { SourceKind } from './orders.model';
import { msg, type Message } from '../../platform/messages';

export interface PriceQuery {
  index: number;
  drugId: string;
  distributorOrgId: string;
  source: SourceKind;
  refId?: string;
  quantity: number;
  hospitalOrgId: string;
}

export type PriceResult = { ok: true; unitPriceFen: number; refId?: string } | { ok: false; code: string; message: Message };

/**
 * Locks the unit price of each line from its source, at `at`; refusals say which line and why.
 * `catalogue` holds the cart's drugs with their reference prices in force at `at` (`pricedDrugs`).
 */
export async function resolvePrices(lines: PriceQuery[], at: Date, catalogue: Promise<Map<string, PricedDrug>>): Promise<PriceResult[]> {
  const refPrices = lines.some((l) => l.source === 'catalogue') ? await catalogue : new Map<string, PricedDrug>();
  return Promise.all(
    lines.map(async (l): Promise<PriceResult> => {
      if (l.source === 'listing') {
        const entry = await findListingEntry(l.drugId, l.distributorOrgId, at);
        if (!entry) {
          return { ok: false, code: 'DISTRIBUTOR_NOT_LISTED', message: msg('errorCodes.DISTRIBUTOR_NOT_LISTED', { value: l.index + 1 }) };
        }
        if (l.refId && l.refId !== String(entry.listingId)) {
          return { ok: false, code: 'LISTING_CHANGED', message: msg('errorCodes.LISTING_CHANGED', { value: l.index + 1 }) };
        }
        return { ok: true, unitPriceFen: entry.unitPriceFen, refId: String(entry.listingId) };
      }
      if (l.source === 'catalogue') {
        const ref = refPrices.get(l.drugId)?.price;
        if (!ref) return { ok: false, code: 'NO_REFERENCE_PRICE', message: msg('errorCodes.NO_REFERENCE_PRICE', { value: l.index + 1 }) };
        return { ok: true, unitPriceFen: ref.priceFen };
      }
      if (!l.refId) return { ok: false, code: 'CONTRACT_REQUIRED', message: msg('errorCodes.CONTRACT_REQUIRED', { value: l.index + 1 }) };
      const r = await resolveContractPrice({ contractId: l.refId, drugId: l.drugId, hospitalOrgId: l.hospitalOrgId, distributorOrgId: l.distributorOrgId, quantity: l.quantity, at });
      return r.ok ? { ok: true, unitPriceFen: r.unitPriceFen, refId: l.refId } : { ok: false, code: r.code, message: msg('errorCodes.LINE_PROBLEM', { line: l.index + 1, problem: { msg: r.message.key, params: r.message.params } }) };
    }),
  );
}

/** Whether the distributor still has a current listing for the drug (a rejection then refuses a listed hospital). */
export async function stillListed(drugId: string, distributorOrgId: string, at: Date): Promise<boolean> {
  return (await findListingEntry(drugId, distributorOrgId, at)) !== null;
}
