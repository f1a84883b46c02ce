import type { z } from 'zod';
import type { EventSpec } from '../../server/platform/events';
import { withCommand } from '../../server/platform/unit-of-work';

/** Commits a fact through a real unit of work, as a module's command would (keyed: stored once). */
export async function publishFact<S extends z.ZodType>(spec: EventSpec<S>, payload: z.input<S>, key: string): Promise<void> {
  await withCommand(null, async (uow) => uow.emit(spec, payload, { key }));
}
