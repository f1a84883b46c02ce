// The platform settings, remembered briefly, so a hot command (placing an order) does not read them
// from the database every time. A change of the settings drops them here and in every other process
// (over the Redis eviction channel) right after its commit, and a remembered copy never outlives
// SETTINGS_MAX_AGE_MS, so an eviction lost while Redis was away costs at most that much staleness.
import { SettingsChanged } from '../../events/settings';
import { now } from '../../platform/context';
import { evict, onEviction } from '../../platform/evictions';
import { onCommitted } from '../../platform/relay';
import { outsideUnitOfWork } from '../../platform/unit-of-work';

const TOPIC = 'settings';
export const SETTINGS_MAX_AGE_MS = 5_000;

let remembered: { value: unknown; until: number } | undefined;
/** Bumped by every eviction, so a read that started before an eviction is not stored after it. */
let generation = 0;

onEviction(TOPIC, () => {
  generation += 1;
  remembered = undefined;
});

/** `read` answered from memory for up to SETTINGS_MAX_AGE_MS, or until the settings change. */
export async function cachedSettings<T>(read: () => Promise<T>): Promise<T> {
  const at = now().getTime();
  if (remembered && at < remembered.until) return remembered.value as T;
  const seen = generation;
  // NOTE: read outside the caller's transaction: its snapshot may predate a change already evicted,
  // and remembering that would outlive the eviction.
  const value = await outsideUnitOfWork(read);
  if (generation === seen) remembered = { value, until: at + SETTINGS_MAX_AGE_MS };
  return value;
}

/** Changed settings are read afresh everywhere. */
export function forgetSettings(): void {
  evict(TOPIC, '*');
}

/** A settings change drops the remembered copy in every process, right after its commit (and again on redelivery). */
export const settingsEvictions = [onCommitted(SettingsChanged, 'settings.forget-on-change', () => forgetSettings())];
