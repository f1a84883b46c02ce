// The worker's tables: every module's job handlers (declared in each module's index.ts, one per job
// spec, checked at worker start-up: no job without a handler, none with two) and every sweep, the
// platform's outbox sweep first.
import { featureModules } from '../server/modules/registry';
import type { JobHandler } from '../server/platform/queues';
import type { Relay } from '../server/platform/relay';
import { defineSweep, type Sweep } from '../server/platform/sweeps';

export const jobHandlers: JobHandler[] = featureModules.flatMap((m) => m.jobs ?? []);

/** The sweeps a worker runs: undispatched events older than one interval, then each module's. */
export function sweepsOf(relay: Relay, outboxIntervalMs: number): Sweep[] {
  return [defineSweep('outbox', 'outbox', () => relay.sweep(outboxIntervalMs)), ...featureModules.flatMap((m) => m.sweeps ?? [])];
}
