import type { z } from 'zod';
import type { EventSpec } from '../../server/platform/events';
import { withCommand } from '../../server/platform/unit-of-work';
import { testApp } from './global';

/** Commits a fact through a real unit of work, as a module's command would (keyed: stored once). */
export async function publishFact<S extends z.ZodType>(spec: EventSpec<S>, payload: z.input<S>, key: string): Promise<void> {
  await withCommand(null, async (uow) => uow.emit(spec, payload, { key }));
}

/**
 * Runs `fn` as if the process crashed right after each commit, before the relay dispatched: what
 * `fn` commits stays undispatched in the outbox. Then `redeliver()` is what the sweep does after a
 * restart.
 */
export async function withLostDispatch<T>(fn: () => Promise<T>): Promise<T> {
  const relay = testApp().relay;
  await relay.idle();
  relay.dropAfterCommit = true;
  try {
    return await fn();
  } finally {
    relay.dropAfterCommit = false;
  }
}

/** Dispatches every undispatched event now (the outbox sweep, with no grace period), twice over. */
export async function redeliver(): Promise<void> {
  const relay = testApp().relay;
  await relay.sweep(0, 10_000);
  await relay.idle();
}
