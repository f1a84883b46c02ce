// One unit of work per command: its state change, its audit entries, its domain events (the
// transactional outbox) and, for an idempotent HTTP request, the stored reply commit in one MongoDB
// transaction. After the commit the new events go to the relay, which hands them to subscribers
// (notifications, pushes, other modules' reactions); a sweep re-hands whatever a crash left behind.
import { AsyncLocalStorage } from 'node:async_hooks';
import mongoose, { Types, type ClientSession, type Model } from 'mongoose';
import type { z } from 'zod';
import { auditDocument, AuditEntry, type AuditActor, type AuditInput } from './audit-log';
import { now, platform } from './context';
import { OutboxEvent, type DomainEvent, type EventSpec } from './events';
import { completedRecord, IdempotencyKey, markStored, openIdempotentTransaction } from './idempotency';
import { currentContext, currentRequestId, type PendingIdempotency } from './request-context';
import { parse } from './validate';
import { writeInOrder, type Write, type WriteResult } from './writes';

export interface EmitOptions {
  /**
   * The fact's identity (e.g. `order-accepted:<orderId>`): a fact already stored under the key is
   * not stored or handled again. Default: a new key per emit.
   */
  key?: string;
}

/** What a command writes with besides its own documents. */
export interface UnitOfWork {
  /** Pass to every read and write of the command. */
  readonly session: ClientSession;
  /** The command's time (the business clock when it started). */
  readonly at: Date;
  readonly actor: AuditActor;
  /** Stages a domain event; it is stored with the commit and handed to subscribers after it. */
  emit<S extends z.ZodType>(spec: EventSpec<S>, payload: z.input<S>, options?: EmitOptions): void;
  /** Stages an audit entry, written in the same transaction. */
  audit(entry: AuditInput): void;
  /**
   * Stages new documents, written with the commit (with the events, the audit entries and the stored
   * reply, all in one command). They go in as given — complete, typed documents: no Mongoose
   * defaults, casting or validation — and reads of the command do not see them.
   */
  insert<T>(model: Model<T>, docs: readonly T[]): void;
  /**
   * Writes `writes` now, in order, in ONE command together with everything staged so far (events,
   * inserts, audit entries, and the stored reply of each `replies` entry), so a command that writes
   * only at its end needs one round trip before the commit; answers the results of `writes`. The
   * commit writes only what is staged later.
   */
  writeWith(writes: readonly Write[], replies?: readonly StagedReply[]): Promise<WriteResult[]>;
}

/** An idempotent request's reply, stored in a unit of work that commits many requests at once (a batch of quotes). */
export interface StagedReply {
  pending: PendingIdempotency;
  body: unknown;
  /** Called with the reply as stored (its JSON form), once written. */
  stored(body: unknown): void;
}

interface Staged {
  type: string;
  key: string;
  payload: Record<string, unknown>;
}

class Work implements UnitOfWork {
  private readonly events: Staged[] = [];
  private readonly audits: AuditInput[] = [];
  private readonly inserts = new Map<Model<unknown>, unknown[]>();
  /** The idempotent request's reply as stored in this transaction, if any. */
  storedReply: unknown;

  constructor(
    readonly session: ClientSession,
    readonly actor: AuditActor,
    readonly at: Date,
  ) {}

  emit<S extends z.ZodType>(spec: EventSpec<S>, payload: z.input<S>, options: EmitOptions = {}): void {
    // NOTE: validating at emit time makes a malformed fact fail its command, never a subscriber later.
    const parsed = parse(spec.schema, payload, `event ${spec.name}`) as Record<string, unknown>;
    this.events.push({ type: spec.name, key: options.key ?? `${spec.name}:${new Types.ObjectId().toHexString()}`, payload: parsed });
  }

  audit(entry: AuditInput): void {
    this.audits.push(entry);
  }

  insert<T>(model: Model<T>, docs: readonly T[]): void {
    if (docs.length === 0) return;
    const key = model as unknown as Model<unknown>;
    const staged = this.inserts.get(key);
    if (staged) staged.push(...docs);
    else this.inserts.set(key, [...docs]);
  }

  private written = 0;
  private readonly fresh: DomainEvent[] = [];

  /** Everything staged and not yet written, as statements, and what to note once they are written. */
  private takeStaged(requestId: string | undefined): { writes: Write[]; written(results: readonly WriteResult[]): void } {
    const staged = this.events.slice(this.written);
    this.written = this.events.length;
    const records = staged.map((e) => ({ _id: new Types.ObjectId(), ...e, occurredAt: this.at, ...(requestId ? { requestId } : {}), handled: [], attempts: 0 }));
    // NOTE: an event is stored once under its key: an upsert that finds the key leaves the stored fact alone.
    const writes: Write[] = records.map((r) => ({ op: 'update', model: OutboxEvent, filter: { key: r.key }, update: { $setOnInsert: r }, upsert: true }));
    for (const [model, docs] of this.inserts) for (const doc of docs) writes.push({ op: 'insert', model, doc: doc as object });
    this.inserts.clear();
    for (const a of this.audits) writes.push({ op: 'insert', model: AuditEntry, doc: auditDocument(this.actor, a, this.at, requestId) });
    this.audits.length = 0;
    return {
      writes,
      written: (results) =>
        records.forEach((r, i) => {
          if (results[i]!.upserted) this.fresh.push({ id: String(r._id), type: r.type, key: r.key, payload: r.payload, occurredAt: r.occurredAt, requestId });
        }),
    };
  }

  async writeWith(own: readonly Write[], replies: readonly StagedReply[] = []): Promise<WriteResult[]> {
    const staged = this.takeStaged(currentRequestId());
    const records = replies.map((r) => completedRecord(r.pending, r.body, this.at));
    const results = await writeInOrder(this.session, [...staged.writes, ...own, ...records.map((doc): Write => ({ op: 'insert', model: IdempotencyKey, doc }))]);
    staged.written(results);
    replies.forEach((r, i) => r.stored(records[i]!.body));
    return results.slice(staged.writes.length, staged.writes.length + own.length);
  }

  /**
   * Writes the staged records in the transaction, all in one command (the transaction was begun by
   * its opening read); returns the events that are new.
   */
  async flush(result: unknown): Promise<DomainEvent[]> {
    const staged = this.takeStaged(currentRequestId());
    const pending = currentContext()?.idempotency;
    const writes = staged.writes;
    if (pending && !pending.stored) {
      const record = completedRecord(pending, result, this.at);
      writes.push({ op: 'insert', model: IdempotencyKey, doc: record });
      this.storedReply = record.body;
    }
    staged.written(await writeInOrder(this.session, writes));
    return this.fresh;
  }
}

const current = new AsyncLocalStorage<Work>();
const TRANSACTION_OPENER = new Types.ObjectId('000000000000000000000000');

/**
 * Runs `fn` outside any unit of work the caller is in (its own transactions, not the caller's): for
 * work shared by many requests, such as a batch of quotes committed together, or a counter whose
 * increments must stand whatever becomes of the caller's transaction.
 */
export function outsideUnitOfWork<T>(fn: () => T | PromiseLike<T>): Promise<T> {
  const mongooseStore = (mongoose as unknown as { transactionAsyncLocalStorage?: AsyncLocalStorage<unknown> }).transactionAsyncLocalStorage;
  // NOTE: a mongoose query runs when it is awaited, and takes the transaction it runs in from the
  // context of that moment: its `then` is called here, outside, or it would join the caller's
  // transaction (an order-number block taken in a request's transaction went back with its abort,
  // while the numbers had gone to other requests: duplicate order numbers after a crash).
  const outside = () =>
    new Promise<T>((resolve, reject) => {
      const result = fn();
      if (isThenable(result)) result.then(resolve, reject);
      else resolve(result);
    });
  return current.exit(() => (mongooseStore ? mongooseStore.exit(outside) : outside()));
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** The unit of work the caller runs in, if any. */
export function currentUnitOfWork(): UnitOfWork | undefined {
  return current.getStore();
}

export interface CommandOptions {
  /**
   * The command awaits one statement of its own before any other (e.g. its compare-and-set), so that
   * statement starts the transaction and the opening read is left out: one round trip less. Ignored
   * for an idempotent request, whose key lookup opens the transaction.
   */
  opensItself?: boolean;
}

/**
 * Runs a command in one transaction with its audit entries, events and stored reply. A command
 * called from inside another joins it (one transaction for both). The transaction is retried on
 * transient conflicts, so `fn` must only write through `uow.session`.
 */
export async function withCommand<T>(actor: AuditActor, fn: (uow: UnitOfWork) => Promise<T>, options: CommandOptions = {}): Promise<T> {
  const outer = current.getStore();
  if (outer) return fn(outer);
  let committed: DomainEvent[] = [];
  let work: Work | undefined;
  const pending = currentContext()?.idempotency;
  const result = await mongoose.connection.transaction(async (session) => {
    // NOTE: the first statement of a transaction starts it on the server; reads the command issues in
    // parallel (Promise.all) must not race to be that first statement. An idempotent request's lookup
    // of its key is that statement (a reply stored meanwhile ends the command as a replay).
    if (pending?.lookupInTransaction && !pending.stored) await openIdempotentTransaction(session, pending);
    else if (!options.opensItself) await OutboxEvent.findOne({ _id: TRANSACTION_OPENER }, { _id: 1 }).session(session).lean();
    work = new Work(session, actor, now());
    const attempt = work;
    const value = await current.run(attempt, () => fn(attempt));
    committed = await attempt.flush(value);
    return value;
  });
  if (pending && !pending.stored) markStored(pending, work!.storedReply);
  if (committed.length > 0) platform().relay.afterCommit(committed);
  return result;
}
