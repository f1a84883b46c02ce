import type { Redis } from 'ioredis';
import type { Config } from './config';
import type { DbHealth } from './db-health';
import type { EventRelay } from './events';
import type { Logger } from './logger';
import type { Queues } from './queues';
import type { Broadcaster } from './realtime';
import { systemClock, type Clock } from './clock';

export { systemClock, type Clock } from './clock';

/** The platform services a feature module uses: config, logger, Redis, the job queue, live broadcasts, the clock. */
export interface Platform {
  config: Readonly<Config>;
  logger: Logger;
  redis: Redis;
  queues: Queues;
  broadcaster: Broadcaster;
  clock: Clock;
  /** Hands committed domain events to their subscribers. */
  relay: EventRelay;
  /** Whether the database can be used right now. */
  db: DbHealth;
}

let current: Platform | undefined;

// NOTE: one process runs one app, so the composition root installs the platform once and module
// services read it here instead of threading every dependency through every call.
export function setPlatform(p: Platform): void {
  current = p;
}

export function platform(): Platform {
  if (!current) throw new Error('platform not initialised: createApp() or startWorker() installs it');
  return current;
}

export function now(): Date {
  return (current?.clock ?? systemClock).now();
}
