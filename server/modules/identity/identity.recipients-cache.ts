// Who in an organisation receives its notifications (the users of some roles, with their language),
// remembered briefly, so every placed order does not read the distributor's users again. An
// organisation's entries are dropped here and in every other process (over the Redis eviction
// channel) right after a user joins it, and every entry when a user's remembered facts change (a
// language chosen); an entry never outlives RECIPIENTS_MAX_AGE_MS, so an eviction lost while Redis
// was away costs at most that much staleness.
import type { Types } from 'mongoose';
import { UserCreated } from '../../events/identity';
import { now } from '../../platform/context';
import { evict, onEviction } from '../../platform/evictions';
import { onCommitted } from '../../platform/relay';
import { outsideUnitOfWork } from '../../platform/unit-of-work';
import { USER_TOPIC } from './identity.session-cache';

const TOPIC = 'identity.recipients';
export const RECIPIENTS_MAX_AGE_MS = 10_000;
const MAX_ENTRIES = 10_000;

export interface Recipient {
  readonly _id: Types.ObjectId;
  readonly orgId: Types.ObjectId;
  readonly lang?: string | null;
}

interface Entry {
  orgId: string;
  users: readonly Recipient[];
  until: number;
}

/** `${orgId}|${roles}` → the recipients. */
const entries = new Map<string, Entry>();
/** Bumped by every eviction, so a read that started before an eviction is not stored after it. */
let generation = 0;

function forgetOrg(orgId: string): void {
  generation += 1;
  if (orgId === '*') entries.clear();
  else for (const [key, e] of entries) if (e.orgId === orgId) entries.delete(key);
}
onEviction(TOPIC, forgetOrg);
// NOTE: a user's language is part of what is remembered; user evictions are rare, so all go.
onEviction(USER_TOPIC, () => forgetOrg('*'));

/** `read` answered from memory while the organisation's remembered recipients hold. */
export async function cachedRecipients(orgId: string, roles: readonly string[] | undefined, read: () => Promise<Recipient[]>): Promise<readonly Recipient[]> {
  const key = `${orgId}|${roles?.join(',') ?? '*'}`;
  const at = now().getTime();
  const hit = entries.get(key);
  if (hit && at < hit.until) return hit.users;
  const seen = generation;
  // NOTE: read outside the caller's transaction: its snapshot may predate a change already evicted,
  // and remembering that would outlive the eviction.
  const users = Object.freeze((await outsideUnitOfWork(read)).map((u) => Object.freeze({ _id: u._id, orgId: u.orgId, lang: u.lang })));
  if (generation === seen) {
    if (entries.size >= MAX_ENTRIES) entries.clear();
    entries.set(key, { orgId, users, until: at + RECIPIENTS_MAX_AGE_MS });
  }
  return users;
}

/** The organisation's recipients are read afresh everywhere. */
export function forgetRecipients(orgId: string): void {
  evict(TOPIC, orgId);
}

/** A new user receives the organisation's next notification: its remembered recipients go, right after the commit (and again on redelivery). */
export const recipientEvictions = [onCommitted(UserCreated, 'identity.recipients.forget-on-new-user', (e) => forgetRecipients(e.payload.orgId))];
