// The relay hands committed domain events to their subscribers: at once, in the process that
// committed them, and again from a sweep for whatever a crash (or a failing subscriber) left
// undispatched. Each subscriber's receipt is recorded on the event: a transactional subscriber writes
// it in the same transaction as its effect (exactly once), the others after their idempotent work.
import type { z } from 'zod';
import { now } from './context';
import { handleError } from './error-handler';
import { eventSpec, OutboxEvent, toDomainEvent, type DomainEvent, type EventRelay, type EventSpec, type OutboxRecord } from './events';
import type { Logger } from './logger';
import { trusted } from './mongo';
import { runWithContext } from './request-context';
import { withCommand, type UnitOfWork } from './unit-of-work';

/**
 * What follows from an event. A transactional subscriber runs in its own unit of work and records
 * its receipt in it, so its effect happens exactly once however often the event is delivered; the
 * others must be idempotent (a push, a deduplicated notification, a job with a deterministic id).
 */
export interface Subscriber {
  readonly name: string;
  readonly event: EventSpec;
  readonly transactional: boolean;
  /** Runs synchronously in the committing process right after the commit (a cache eviction). */
  readonly local?: (event: DomainEvent) => void;
  handle(event: DomainEvent, uow?: UnitOfWork): Promise<void>;
}

/** A subscriber whose writes, further events and receipt commit in one transaction (exactly once). */
export function onEventInTransaction<S extends z.ZodType>(
  spec: EventSpec<S>,
  name: string,
  handle: (event: DomainEvent<z.output<S>>, uow: UnitOfWork) => Promise<void>,
): Subscriber {
  return { name, event: spec, transactional: true, handle: handle as Subscriber['handle'] };
}

/** A subscriber for idempotent work (pushes, deduplicated notifications, deterministic jobs): at least once. */
export function onEvent<S extends z.ZodType>(spec: EventSpec<S>, name: string, handle: (event: DomainEvent<z.output<S>>) => Promise<void> | void): Subscriber {
  return { name, event: spec, transactional: false, handle: async (e) => handle(e as DomainEvent<z.output<S>>) };
}

/**
 * A synchronous reaction in the committing process, before the command returns: dropping a cached
 * answer the event made stale (the process's own and, through evictions, the others'). Runs again
 * when the sweep redelivers an event a crash left behind, so it must be idempotent and cheap.
 */
export function onCommitted<S extends z.ZodType>(spec: EventSpec<S>, name: string, react: (event: DomainEvent<z.output<S>>) => void): Subscriber {
  const local = (e: DomainEvent) => react(e as DomainEvent<z.output<S>>);
  return { name, event: spec, transactional: false, local, handle: async (e) => local(e) };
}

/** Checks the subscribers at start-up: names unique, every event declared. */
export function checkSubscribers(subscribers: readonly Subscriber[]): Map<string, Subscriber[]> {
  const names = new Set<string>();
  const byEvent = new Map<string, Subscriber[]>();
  for (const s of subscribers) {
    if (names.has(s.name)) throw new Error(`subscriber "${s.name}" is registered twice`);
    names.add(s.name);
    if (eventSpec(s.event.name) !== s.event) throw new Error(`subscriber "${s.name}" listens to an undeclared event "${s.event.name}"`);
    byEvent.set(s.event.name, [...(byEvent.get(s.event.name) ?? []), s]);
  }
  return byEvent;
}

class AlreadyHandled extends Error {}

const CLAIM_MS = 30_000;
const RELAY_CONCURRENCY = 8;
const STREAM_FIELDS = ['orderId', 'roundId', 'invoiceId', 'advanceId', 'tenderId', 'contractId', 'declarationId', 'lineId', 'sanctionId', 'orgId', 'hospitalOrgId'];

/** What an event is about (its first id field), so events about one thing keep their order. */
function streamOf(e: DomainEvent): string {
  const payload = e.payload as Record<string, unknown>;
  for (const f of STREAM_FIELDS) if (typeof payload[f] === 'string') return `${f}:${payload[f] as string}`;
  return e.type;
}
const MAX_BACKOFF_MS = 3_600_000;

export interface RelayStats {
  dispatched: number;
  failures: number;
  /** commit → last subscriber done, per event dispatched right after its commit (ms) */
  lagMs: number[];
}

export class Relay implements EventRelay {
  private readonly byEvent: Map<string, Subscriber[]>;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly streams = new Map<string, Promise<void>>();
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private closed = false;
  readonly stats: RelayStats = { dispatched: 0, failures: 0, lagMs: [] };
  /** Collect commit → done lag (a bench turns it on). */
  measureLag = false;
  /**
   * Fault injection (tests, drills): drop the dispatch right after commit, as a crash between the
   * commit and the dispatch would; the events stay in the outbox for the sweep.
   */
  dropAfterCommit = false;

  constructor(
    subscribers: readonly Subscriber[],
    private readonly logger: Logger,
    /** Fault drill: kill the process right after committing one of these events (config FAULT_CRASH_AFTER_COMMIT). */
    private readonly crashAfterCommit: readonly string[] = [],
  ) {
    this.byEvent = checkSubscribers(subscribers);
  }

  /** Adds a subscriber after start-up (a test's own event, an optional feature); names stay unique. */
  subscribe(subscriber: Subscriber): void {
    const all = [...[...this.byEvent.values()].flat(), subscriber];
    checkSubscribers(all);
    this.byEvent.set(subscriber.event.name, [...(this.byEvent.get(subscriber.event.name) ?? []), subscriber]);
  }

  /** Hands new events to their subscribers now, in commit order, without making the command wait. */
  afterCommit(events: readonly DomainEvent[]): void {
    if (this.crashAfterCommit.length > 0 && events.some((e) => this.crashAfterCommit.includes(e.type))) {
      this.logger.fatal({ events: events.map((e) => e.type) }, 'fault drill: crashing after the commit, before the dispatch');
      process.kill(process.pid, 'SIGKILL');
    }
    this.runLocal(events);
    if (this.closed || this.dropAfterCommit) return;
    const committedAt = performance.now();
    // NOTE: events about one thing (an order, a round, an invoice …) are handed over in commit order,
    // so a later status never overtakes an earlier one on its way to a watcher; different things go
    // in parallel, a few at a time.
    const byStream = new Map<string, DomainEvent[]>();
    for (const e of events) {
      const key = streamOf(e);
      byStream.set(key, [...(byStream.get(key) ?? []), e]);
    }
    for (const [key, list] of byStream) {
      const previous = this.streams.get(key) ?? Promise.resolve();
      const run = previous.then(() =>
        this.withSlot(async () => {
          for (const e of list) await this.dispatchOne(e);
          if (this.measureLag) this.stats.lagMs.push(performance.now() - committedAt);
        }),
      );
      const tail = run.catch(() => undefined);
      this.streams.set(key, tail);
      void tail.then(() => {
        if (this.streams.get(key) === tail) this.streams.delete(key);
      });
      this.inFlight.add(run);
      void run.finally(() => this.inFlight.delete(run)).catch(() => undefined);
    }
  }

  private runLocal(events: readonly DomainEvent[]): void {
    for (const e of events) {
      for (const s of this.byEvent.get(e.type) ?? []) {
        if (!s.local) continue;
        try {
          s.local(e);
        } catch (err) {
          handleError(err, this.logger, { subscriber: s.name, event: e.type, key: e.key });
        }
      }
    }
  }

  private async withSlot<T>(fn: () => Promise<T>): Promise<T> {
    while (this.active >= RELAY_CONCURRENCY) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    try {
      return await fn();
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }

  /** Waits for the events handed over so far (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }

  /**
   * Dispatches events committed more than `graceMs` ago and still undispatched (a crash between commit
   * and dispatch, or a subscriber that failed and is due for another try). Returns how many it handled.
   */
  async sweep(graceMs = 5000, limit = 200): Promise<number> {
    const at = now();
    const due = await OutboxEvent.find({
      dispatchedAt: trusted({ $exists: false }),
      occurredAt: trusted({ $lte: new Date(at.getTime() - graceMs) }),
      $and: [
        { $or: [{ nextAttemptAt: trusted({ $exists: false }) }, { nextAttemptAt: trusted({ $lte: at }) }] },
        { $or: [{ claimedUntil: trusted({ $exists: false }) }, { claimedUntil: trusted({ $lte: at }) }] },
      ],
    })
      .sort({ occurredAt: 1 })
      .limit(limit)
      .lean<OutboxRecord[]>();
    let handled = 0;
    for (const record of due) {
      const claimed = await OutboxEvent.updateOne(
        { _id: record._id, dispatchedAt: trusted({ $exists: false }), $or: [{ claimedUntil: trusted({ $exists: false }) }, { claimedUntil: trusted({ $lte: at }) }] },
        { $set: { claimedUntil: new Date(at.getTime() + CLAIM_MS) } },
      );
      if (claimed.modifiedCount === 0) continue;
      await this.dispatchOne(toDomainEvent(record), record.handled, record.attempts ?? 0, true);
      handled += 1;
    }
    return handled;
  }

  private async dispatchOne(event: DomainEvent, alreadyHandled: readonly string[] = [], attempts = 0, redelivery = false): Promise<void> {
    const subscribers = this.byEvent.get(event.type) ?? [];
    const done = new Set(alreadyHandled);
    const newlyDone: string[] = [];
    let failed: unknown;
    await runWithContext({ requestId: event.requestId ? `${event.requestId}>${event.type}` : `event:${event.type}` }, async () => {
      const spec = eventSpec(event.type);
      const typed = spec ? { ...event, payload: spec.schema.parse(event.payload) } : event;
      for (const s of subscribers) {
        if (done.has(s.name)) continue;
        // NOTE: a local reaction already ran right after the commit in this process; only a
        // redelivery by the sweep (the committing process may have died) runs it again.
        if (s.local && !redelivery) {
          done.add(s.name);
          continue;
        }
        try {
          if (s.transactional) await this.runTransactional(s, typed);
          else {
            await s.handle(typed);
            newlyDone.push(s.name);
          }
          done.add(s.name);
        } catch (err) {
          if (err instanceof AlreadyHandled) {
            done.add(s.name);
            continue;
          }
          failed ??= err;
          this.stats.failures += 1;
          handleError(err, this.logger, { subscriber: s.name, event: event.type, key: event.key });
        }
      }
    });
    const complete = subscribers.every((s) => done.has(s.name));
    if (complete) this.stats.dispatched += 1;
    // NOTE: one write records the receipts of the non-transactional subscribers and the outcome; a
    // failure leaves the event to the sweep, with a growing pause between attempts.
    const update: Record<string, unknown> = complete
      ? { $set: { dispatchedAt: now() }, $unset: { claimedUntil: 1 } }
      : {
          $set: { nextAttemptAt: new Date(now().getTime() + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (attempts + 1))), lastError: String((failed as Error | undefined)?.message ?? failed).slice(0, 500) },
          $inc: { attempts: 1 },
        };
    if (newlyDone.length > 0) update.$addToSet = { handled: { $each: newlyDone } };
    await OutboxEvent.updateOne({ _id: event.id }, update).catch((err: unknown) => handleError(err, this.logger, { relay: 'mark', event: event.type }));
  }

  private async runTransactional(s: Subscriber, event: DomainEvent): Promise<void> {
    await withCommand(null, async (uow) => {
      // NOTE: the receipt is the first write, so a concurrent second delivery conflicts here and, on
      // its retry, finds the subscriber handled.
      const receipt = await OutboxEvent.updateOne({ _id: event.id, handled: trusted({ $ne: s.name }) }, { $push: { handled: s.name } }, { session: uow.session });
      if (receipt.modifiedCount === 0) throw new AlreadyHandled();
      await s.handle(event, uow);
    });
  }
}
