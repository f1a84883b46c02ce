// Who a session belongs to, remembered briefly, so an authenticated request does not read the
// session, the user and the organisation from the database every time. Only a live session is
// remembered; an unknown or revoked one is read afresh each time. An entry is dropped here and in
// every other process (over the Redis eviction channel) when the session is revoked or the user's
// remembered facts change, and it never outlives MAX_AGE_MS or the session's own expiry, so an
// eviction lost while Redis was away costs at most that much staleness.
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { SessionRevoked } from '../../events/identity';
import { evict, onEviction } from '../../platform/evictions';
import { onCommitted } from '../../platform/relay';

const SESSION_TOPIC = 'identity.session';
export const USER_TOPIC = 'identity.user';
const MAX_AGE_MS = 10_000;
const MAX_ENTRIES = 50_000;

interface Entry {
  actor: Actor;
  until: number;
}

const entries = new Map<string, Entry>();
/** Bumped by every eviction, so a read that started before an eviction is not stored after it. */
let generation = 0;

onEviction(SESSION_TOPIC, (sessionId) => {
  generation += 1;
  if (sessionId === '*') entries.clear();
  else entries.delete(sessionId);
});
onEviction(USER_TOPIC, (userId) => {
  generation += 1;
  if (userId === '*') entries.clear();
  else for (const [sid, e] of entries) if (e.actor.id === userId) entries.delete(sid);
});

/** `read` answered from memory while a remembered live session holds. */
export async function cachedSession(sessionId: string, read: (sessionId: string) => Promise<{ actor: Actor; expiresAt: Date } | null>): Promise<Actor | null> {
  const at = now().getTime();
  const hit = entries.get(sessionId);
  if (hit && at < hit.until) return hit.actor;
  const seen = generation;
  const live = await read(sessionId);
  if (!live) {
    entries.delete(sessionId);
    return null;
  }
  if (generation === seen) {
    if (entries.size >= MAX_ENTRIES) entries.clear();
    entries.set(sessionId, { actor: live.actor, until: Math.min(at + MAX_AGE_MS, live.expiresAt.getTime()) });
  }
  return live.actor;
}

/** A revoked session stops working in every process. */
export function forgetSession(sessionId: string): void {
  evict(SESSION_TOPIC, sessionId);
}

/** A sign-out drops the session from every process's memory, right after its commit (and again on redelivery). */
export const sessionEvictions = [onCommitted(SessionRevoked, 'identity.session.forget-on-revoke', (e) => forgetSession(e.payload.sessionId))];

/** A user's remembered facts (name, role, language, organisation) are read afresh everywhere. */
export function forgetUser(userId: string): void {
  evict(USER_TOPIC, userId);
}
