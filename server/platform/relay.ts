// The relay hands committed domain events to their subscribers: at once, in the process that
// committed them, and again from a sweep for whatever a crash (or a failing subscriber) left
// undispatched. Each subscriber's receipt is recorded on the event: a transactional subscriber writes
// it in the same transaction as its effect (exactly once), the others after their idempotent work.
import { Types } from 'mongoose';
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
  /** Handles several events of its type dispatched together in one call (an idempotent subscriber). */
  readonly handleBatch?: (events: DomainEvent[]) => Promise<void>;
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
 * An idempotent subscriber (at least once, like `onEvent`) that takes the events of its type
 * dispatched together — the facts of one commit, or of one sweep — in one call, so a command that
 * commits many facts at once (a settlement batch) costs one insert, one bulk job add or one read
 * instead of one per fact. Events about the same thing still arrive in commit order.
 */
export function onEvents<S extends z.ZodType>(spec: EventSpec<S>, name: string, handle: (events: DomainEvent<z.output<S>>[]) => Promise<void> | void): Subscriber {
  const handleBatch = async (events: DomainEvent[]) => handle(events as DomainEvent<z.output<S>>[]);
  return { name, event: spec, transactional: false, handleBatch, handle: async (e) => handleBatch([e]) };
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
/** How long the receipts of finished dispatches wait to be written together, and at most how many go in one write. */
const RECEIPT_DELAY_MS = 50;
const RECEIPT_BATCH = 500;

type ReceiptWrite = { updateOne: { filter: { _id: Types.ObjectId }; update: Record<string, unknown> } };

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
  /** Events this process has handed over after their commit and not finished dispatching (the sweep leaves them alone). */
  private readonly queued = new Set<string>();
  /** Receipts of finished dispatches not written yet (their events are in `queued` until written). */
  private receipts: { write: ReceiptWrite; id: string; type: string }[] = [];
  private receiptTimer: NodeJS.Timeout | undefined;
  private readonly receiptWrites = new Set<Promise<void>>();
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
    // so a later status never overtakes an earlier one on its way to a watcher: the commit's facts are
    // dispatched together once every earlier dispatch on any of their streams is done; different
    // commits about different things go in parallel, a few at a time.
    const keys = [...new Set(events.map(streamOf))];
    const previous = Promise.all(keys.map((key) => this.streams.get(key)));
    for (const e of events) this.queued.add(e.id);
    const run = previous.then(() =>
      this.withSlot(async () => {
        try {
          await this.dispatchGroup(events.map((event) => ({ event, handled: [], attempts: 0 })));
        } catch (err) {
          // NOTE: no receipt is waiting for an event whose dispatch failed this way; the sweep has it.
          for (const e of events) if (!this.receipts.some((r) => r.id === e.id)) this.queued.delete(e.id);
          throw err;
        }
        if (this.measureLag) this.stats.lagMs.push(performance.now() - committedAt);
      }),
    );
    const tail = run.catch(() => undefined);
    for (const key of keys) {
      this.streams.set(key, tail);
      void tail.then(() => {
        if (this.streams.get(key) === tail) this.streams.delete(key);
      });
    }
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run)).catch(() => undefined);
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

  /** Waits for the events handed over so far and writes their receipts (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0 || this.receipts.length > 0 || this.receiptWrites.size > 0) {
      await Promise.allSettled([...this.inFlight]);
      void this.writeReceipts();
      await Promise.allSettled([...this.receiptWrites]);
    }
  }

  /**
   * Keeps the receipts of a finished dispatch for one write with those of the next few dispatches
   * (RECEIPT_DELAY_MS, RECEIPT_BATCH). A receipt not yet written only means a crash now would leave
   * the event to the sweep, which redelivers it to subscribers that are idempotent or have their
   * receipt in their own transaction: no effect happens twice that was once.
   */
  private keepReceipts(items: { write: ReceiptWrite; id: string; type: string }[]): void {
    for (const r of items) this.queued.add(r.id);
    this.receipts.push(...items);
    if (this.receipts.length >= RECEIPT_BATCH) void this.writeReceipts();
    else if (!this.receiptTimer) {
      this.receiptTimer = setTimeout(() => void this.writeReceipts(), RECEIPT_DELAY_MS);
      this.receiptTimer.unref();
    }
  }

  /** Writes the kept receipts in one unordered bulk write (through the driver: complete, typed updates). */
  private writeReceipts(): Promise<void> {
    clearTimeout(this.receiptTimer);
    this.receiptTimer = undefined;
    const batch = this.receipts;
    if (batch.length === 0) return Promise.resolve();
    this.receipts = [];
    const write: Promise<void> = OutboxEvent.collection
      .bulkWrite(
        batch.map((r) => r.write),
        { ordered: false },
      )
      .then(
        () => undefined,
        (err: unknown) => {
          handleError(err, this.logger, { relay: 'mark', event: batch[0]!.type, events: batch.length });
        },
      )
      .finally(() => {
        for (const r of batch) this.queued.delete(r.id);
        this.receiptWrites.delete(write);
      });
    this.receiptWrites.add(write);
    return write;
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
    const claimedRecords: OutboxRecord[] = [];
    for (const record of due) {
      // NOTE: an event this process committed is still waiting for its turn in this relay (a busy
      // moment, not a crash): dispatching it here too would only do its work twice.
      if (this.queued.has(String(record._id))) continue;
      const claimed = await OutboxEvent.updateOne(
        { _id: record._id, dispatchedAt: trusted({ $exists: false }), $or: [{ claimedUntil: trusted({ $exists: false }) }, { claimedUntil: trusted({ $lte: at }) }] },
        { $set: { claimedUntil: new Date(at.getTime() + CLAIM_MS) } },
      );
      if (claimed.modifiedCount > 0) claimedRecords.push(record);
    }
    if (claimedRecords.length > 0) {
      await this.dispatchGroup(
        claimedRecords.map((record) => ({ event: toDomainEvent(record), handled: record.handled ?? [], attempts: record.attempts ?? 0 })),
        true,
      );
    }
    return claimedRecords.length;
  }

  /**
   * Dispatches events together, in layers: the first event of each stream, then the second … so events
   * about one thing keep their order. In a layer each subscriber takes all the events of its type that
   * it has not handled: one call for a batch subscriber, one call per event otherwise, one unit of work
   * per event for a transactional one. The receipts and outcomes of all the events are then recorded in
   * one bulk write; an event a subscriber failed is left to the sweep, with a growing pause.
   */
  private async dispatchGroup(items: { event: DomainEvent; handled: readonly string[]; attempts: number }[], redelivery = false): Promise<void> {
    const layers: (typeof items)[] = [];
    const depth = new Map<string, number>();
    for (const item of items) {
      const key = streamOf(item.event);
      const n = depth.get(key) ?? 0;
      depth.set(key, n + 1);
      (layers[n] ??= []).push(item);
    }
    for (const layer of layers) await this.dispatchLayer(layer, redelivery);
  }

  private async dispatchLayer(items: { event: DomainEvent; handled: readonly string[]; attempts: number }[], redelivery: boolean): Promise<void> {
    interface Progress {
      event: DomainEvent;
      typed: DomainEvent;
      attempts: number;
      done: Set<string>;
      newlyDone: string[];
      failed?: unknown;
    }
    const progress: Progress[] = items.map(({ event, handled, attempts }) => {
      const spec = eventSpec(event.type);
      const p: Progress = { event, typed: event, attempts, done: new Set(handled), newlyDone: [] };
      try {
        // NOTE: right after its commit an event's payload is the one its schema returned at emit time
        // (`UnitOfWork.emit`); only a stored fact read back by the sweep is parsed again.
        if (spec && redelivery) p.typed = { ...event, payload: spec.schema.parse(event.payload) };
      } catch (err) {
        // NOTE: a stored fact its schema no longer accepts fails alone; the others of the group go on.
        p.failed = err;
        handleError(err, this.logger, { relay: 'parse', event: event.type, key: event.key });
      }
      return p;
    });
    const byType = new Map<string, Progress[]>();
    for (const p of progress) if (p.failed === undefined) byType.set(p.event.type, [...(byType.get(p.event.type) ?? []), p]);
    const first = items[0]!.event;
    await runWithContext({ requestId: first.requestId ? `${first.requestId}>${first.type}` : `event:${first.type}` }, async () => {
      for (const [type, list] of byType) {
        for (const s of this.byEvent.get(type) ?? []) {
          const pending = list.filter((p) => !p.done.has(s.name));
          if (pending.length === 0) continue;
          // NOTE: a local reaction already ran right after the commit in this process; only a
          // redelivery by the sweep (the committing process may have died) runs it again.
          if (s.local && !redelivery) {
            for (const p of pending) p.done.add(s.name);
            continue;
          }
          const failed = (p: Progress, err: unknown) => {
            if (err instanceof AlreadyHandled) {
              p.done.add(s.name);
              return;
            }
            p.failed ??= err;
            this.stats.failures += 1;
            handleError(err, this.logger, { subscriber: s.name, event: p.event.type, key: p.event.key });
          };
          const succeeded = (p: Progress) => {
            p.done.add(s.name);
            if (!s.transactional) p.newlyDone.push(s.name);
          };
          if (s.handleBatch && !s.transactional) {
            try {
              await s.handleBatch(pending.map((p) => p.typed));
              pending.forEach(succeeded);
            } catch (err) {
              for (const p of pending) failed(p, err);
            }
            continue;
          }
          for (const p of pending) {
            try {
              if (s.transactional) await this.runTransactional(s, p.typed);
              else await s.handle(p.typed);
              succeeded(p);
            } catch (err) {
              failed(p, err);
            }
          }
        }
      }
    });
    // NOTE: one write records, for every event of the layer (and of the dispatches finished in the
    // next moments), the receipts of the non-transactional subscribers and the outcome; a failure
    // leaves the event to the sweep, with a growing pause.
    const at = now();
    const receipts = progress.map((p) => {
      const subscribers = this.byEvent.get(p.event.type) ?? [];
      const complete = subscribers.every((s) => p.done.has(s.name));
      if (complete) this.stats.dispatched += 1;
      const update: Record<string, unknown> = complete
        ? { $set: { dispatchedAt: at }, $unset: { claimedUntil: 1 } }
        : {
            $set: { nextAttemptAt: new Date(at.getTime() + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (p.attempts + 1))), lastError: String((p.failed as Error | undefined)?.message ?? p.failed).slice(0, 500) },
            $inc: { attempts: 1 },
          };
      if (p.newlyDone.length > 0) update.$addToSet = { handled: { $each: p.newlyDone } };
      return { write: { updateOne: { filter: { _id: new Types.ObjectId(p.event.id) }, update } }, id: p.event.id, type: p.event.type };
    });
    this.keepReceipts(receipts);
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
