// What a command needs of an organisation (name, type, active, address), remembered briefly, so
// placing an order does not read the hospital and the distributors every time. Organisations are
// not changed after they are created today; a change added later must call `forgetOrganisation`
// after its commit (here and, over the Redis eviction channel, in every other process). An entry
// never outlives ORG_MAX_AGE_MS; an unknown organisation is not remembered (a new one is found at once).
import { Types } from 'mongoose';
import { now } from '../../platform/context';
import { evict, onEviction } from '../../platform/evictions';
import { trusted } from '../../platform/mongo';
import { outsideUnitOfWork } from '../../platform/unit-of-work';
import { Organisation, type OrganisationDoc } from './identity.model';

const TOPIC = 'identity.organisation';
export const ORG_MAX_AGE_MS = 30_000;
const MAX_ENTRIES = 50_000;

export type OrganisationSummary = Readonly<Pick<OrganisationDoc, '_id' | 'name' | 'type' | 'active' | 'address'>>;

const entries = new Map<string, { org: OrganisationSummary; until: number }>();
/** Bumped by every eviction, so a read that started before an eviction is not stored after it. */
let generation = 0;

onEviction(TOPIC, (orgId) => {
  generation += 1;
  if (orgId === '*') entries.clear();
  else entries.delete(orgId);
});

/** The known organisations among `ids` (name, type, active, address): from memory, the rest in one read. */
export async function organisationSummaries(ids: readonly string[]): Promise<OrganisationSummary[]> {
  const clock = now().getTime();
  const found: OrganisationSummary[] = [];
  const missing: Types.ObjectId[] = [];
  for (const id of new Set(ids)) {
    const hit = entries.get(id);
    if (hit && clock < hit.until) found.push(hit.org);
    else if (Types.ObjectId.isValid(id)) missing.push(new Types.ObjectId(id));
  }
  if (missing.length === 0) return found;
  const seen = generation;
  // NOTE: read outside the caller's transaction: its snapshot may predate a change already evicted.
  const rows = await outsideUnitOfWork(() => Organisation.find({ _id: trusted({ $in: missing }) }, { name: 1, type: 1, active: 1, address: 1 }).lean<OrganisationSummary[]>());
  const store = generation === seen;
  if (store && entries.size + rows.length > MAX_ENTRIES) entries.clear();
  for (const row of rows) {
    const org = Object.freeze(row);
    if (store) entries.set(String(org._id), { org, until: clock + ORG_MAX_AGE_MS });
    found.push(org);
  }
  return found;
}

/** The organisation is read afresh everywhere. */
export function forgetOrganisation(orgId: string): void {
  evict(TOPIC, orgId);
}
