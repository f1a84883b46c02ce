// Job adapters: one handler per declared job, each a thin call into a module service.
// The registry is checked at worker start-up (no job without a handler, none with two).
import { dispatchDomainEvent, dispatchDomainEventJob } from '../server/platform/events';
import { handle, type JobHandler } from '../server/platform/queues';
import { expireSanction, expireSanctionJob } from '../server/modules/credit';

export const jobHandlers: JobHandler[] = [
  handle(dispatchDomainEventJob, ({ eventId }) => dispatchDomainEvent(eventId)),
  handle(expireSanctionJob, ({ sanctionId }) => expireSanction(sanctionId)),
];
