// Drugs with their reference prices, remembered briefly, so placing an order does not read the
// drugs and their prices from the database every time. An entry holds a drug's contract fields and
// its whole price history, so the price in force is worked out for any moment without a read. A
// changed drug or a new reference price drops the drug here and in every other process (over the
// Redis eviction channel) right after its commit; an entry never outlives PRICED_DRUG_MAX_AGE_MS,
// so an eviction lost while Redis was away costs at most that much staleness. Unknown drugs are not
// remembered (a new drug is found at once).
import { Types } from 'mongoose';
import { DrugChanged } from '../../events/catalogue';
import { now } from '../../platform/context';
import { evict, onEviction } from '../../platform/evictions';
import { trusted } from '../../platform/mongo';
import { onCommitted } from '../../platform/relay';
import { outsideUnitOfWork } from '../../platform/unit-of-work';
import { Drug, ReferencePrice } from './catalogue.model';
import { CONTRACT_FIELDS, type DrugInfo } from './catalogue.service';

const TOPIC = 'catalogue.drug';
export const PRICED_DRUG_MAX_AGE_MS = 10_000;
const MAX_ENTRIES = 50_000;

interface Entry {
  drug: DrugInfo;
  /** Newest first. */
  prices: { priceFen: number; effectiveFrom: Date }[];
  until: number;
}

export interface PricedDrug {
  drug: DrugInfo;
  /** The reference price in force at the asked moment, if any. */
  price?: { priceFen: number; effectiveFrom: Date };
}

const entries = new Map<string, Entry>();
/** Bumped by every eviction, so a read that started before an eviction is not stored after it. */
let generation = 0;

onEviction(TOPIC, (drugId) => {
  generation += 1;
  if (drugId === '*') entries.clear();
  else entries.delete(drugId);
});

const priced = (e: Entry, at: Date): PricedDrug => {
  const price = e.prices.find((p) => p.effectiveFrom.getTime() <= at.getTime());
  return price ? { drug: e.drug, price } : { drug: e.drug };
};

/** The known drugs among `ids` with the reference price in force at `at`: from memory, the rest in one read of drugs and one of prices. */
export async function pricedDrugs(ids: readonly string[], at: Date): Promise<Map<string, PricedDrug>> {
  const result = new Map<string, PricedDrug>();
  const clock = now().getTime();
  const missing: Types.ObjectId[] = [];
  for (const id of new Set(ids)) {
    const hit = entries.get(id);
    if (hit && clock < hit.until) result.set(id, priced(hit, at));
    else if (Types.ObjectId.isValid(id)) missing.push(new Types.ObjectId(id));
  }
  if (missing.length === 0) return result;
  const seen = generation;
  // NOTE: read outside the caller's transaction: its snapshot may predate a change already evicted,
  // and remembering that would outlive the eviction.
  const [drugs, prices] = await outsideUnitOfWork(() =>
    Promise.all([
      Drug.find({ _id: trusted({ $in: missing }) }, CONTRACT_FIELDS).lean<DrugInfo[]>(),
      ReferencePrice.find({ drugId: trusted({ $in: missing }) }, { drugId: 1, priceFen: 1, effectiveFrom: 1 }).sort({ effectiveFrom: -1 }).lean<{ drugId: Types.ObjectId; priceFen: number; effectiveFrom: Date }[]>(),
    ]),
  );
  const pricesOf = new Map<string, Entry['prices']>();
  for (const p of prices) {
    const list = pricesOf.get(String(p.drugId)) ?? [];
    list.push({ priceFen: p.priceFen, effectiveFrom: p.effectiveFrom });
    pricesOf.set(String(p.drugId), list);
  }
  const store = generation === seen;
  if (store && entries.size + drugs.length > MAX_ENTRIES) entries.clear();
  for (const drug of drugs) {
    const id = String(drug._id);
    const entry: Entry = { drug: Object.freeze(drug), prices: pricesOf.get(id) ?? [], until: clock + PRICED_DRUG_MAX_AGE_MS };
    if (store) entries.set(id, entry);
    result.set(id, priced(entry, at));
  }
  return result;
}

/** The drug is read afresh everywhere. */
export function forgetDrug(drugId: string): void {
  evict(TOPIC, drugId);
}

/** A changed drug or a new reference price drops the drug from every process's memory, right after the commit (and again on redelivery). */
export const drugEvictions = [onCommitted(DrugChanged, 'catalogue.drug.forget-on-change', (e) => forgetDrug(e.payload.drugId))];
