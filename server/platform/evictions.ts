// Cache evictions across processes. A process that holds a cache of facts another process can change
// (a distributor's trading gate, a round's live book) registers a handler for a topic; whoever changes
// the fact calls `evict(topic, key)`: the handlers of this process run at once, and every other
// process hears it over Redis pub/sub within a round trip. Caches built on this keep a bounded life
// of their own as well, so a message lost while Redis was away costs staleness, never a wrong answer
// for long.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from './logger';

type Handler = (key: string) => void;

const handlers = new Map<string, Set<Handler>>();
const origin = randomUUID();
let publisher: Redis | undefined;
let subscriber: Redis | undefined;
let channel = 'evictions';

/** Registers what this process drops when `topic` is evicted for a key ('*' means every key). */
export function onEviction(topic: string, handler: Handler): () => void {
  const set = handlers.get(topic) ?? new Set<Handler>();
  set.add(handler);
  handlers.set(topic, set);
  return () => set.delete(handler);
}

function runLocal(topic: string, key: string): void {
  for (const h of handlers.get(topic) ?? []) h(key);
}

/** Drops `key` (or '*': everything) of `topic` here and in every other process. */
export function evict(topic: string, key: string): void {
  runLocal(topic, key);
  if (publisher) void publisher.publish(channel, JSON.stringify({ origin, topic, key })).catch(() => undefined);
}

/** Joins the eviction channel of this deployment (one per queue prefix); called once at start-up. */
export async function startEvictions(redis: Redis, prefix: string, logger: Logger): Promise<void> {
  channel = `${prefix}:evictions`;
  publisher = redis;
  subscriber = redis.duplicate();
  subscriber.on('error', (err) => logger.warn({ err: err.message }, 'eviction channel error'));
  subscriber.on('message', (_ch: string, raw: string) => {
    try {
      const m = JSON.parse(raw) as { origin: string; topic: string; key: string };
      if (m.origin !== origin) runLocal(m.topic, m.key);
    } catch {
      // NOTE: nothing but this module publishes here; a malformed message is ignored.
    }
  });
  // NOTE: after a reconnect messages sent meanwhile are lost; every cache drops everything then.
  subscriber.on('ready', () => {
    for (const topic of handlers.keys()) runLocal(topic, '*');
  });
  await subscriber.subscribe(channel);
}

export function stopEvictions(): void {
  subscriber?.disconnect();
  subscriber = undefined;
  publisher = undefined;
}
