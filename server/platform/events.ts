// Domain events: facts a command commits together with its state change (the transactional outbox,
// unit-of-work.ts), handed to subscribers after the commit by the relay (relay.ts). Events are typed
// like jobs: one zod schema per event name, declared once; subscribers get the parsed payload.
import mongoose, { Schema, Types } from 'mongoose';
import type { z } from 'zod';

/** An event's name and payload schema (JSON-friendly: times as ISO strings). */
export interface EventSpec<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly schema: S;
}

const knownEvents = new Map<string, EventSpec>();

/** Declares one of the app's domain events; names are unique across the app. */
export function defineEvent<S extends z.ZodType>(name: string, schema: S): EventSpec<S> {
  if (knownEvents.has(name)) throw new Error(`event "${name}" is declared twice`);
  const spec = { name, schema };
  knownEvents.set(name, spec);
  return spec;
}

export function eventSpec(name: string): EventSpec | undefined {
  return knownEvents.get(name);
}

/** A committed event as a subscriber sees it. */
export interface DomainEvent<P = unknown> {
  id: string;
  type: string;
  /** The fact's identity: the same key is stored (and handled) once. */
  key: string;
  payload: P;
  occurredAt: Date;
  requestId?: string;
}

export type EventOf<E extends EventSpec> = DomainEvent<z.output<E['schema']>>;

export interface OutboxRecord {
  _id: Types.ObjectId;
  type: string;
  key: string;
  payload: Record<string, unknown>;
  occurredAt: Date;
  requestId?: string;
  /** Subscribers that have handled the event. */
  handled: string[];
  dispatchedAt?: Date;
  attempts: number;
  nextAttemptAt?: Date;
  lastError?: string;
  /** A relay working on the event holds it until then (so a sweep elsewhere leaves it alone). */
  claimedUntil?: Date;
}

const OutboxSchema = new Schema<OutboxRecord>(
  {
    type: { type: String, required: true },
    key: { type: String, required: true, unique: true },
    payload: { type: Schema.Types.Mixed, required: true },
    occurredAt: { type: Date, required: true },
    requestId: String,
    handled: { type: [String], default: [] },
    dispatchedAt: Date,
    attempts: { type: Number, default: 0 },
    nextAttemptAt: Date,
    lastError: String,
    claimedUntil: Date,
  },
  { versionKey: false, collection: 'outbox_events', minimize: false },
);
OutboxSchema.index({ type: 1, occurredAt: -1 });
// NOTE: the sweep looks only at undispatched events; a partial index keeps that lookup small however
// long the history grows.
OutboxSchema.index({ occurredAt: 1 }, { partialFilterExpression: { dispatchedAt: { $exists: false } }, name: 'undispatched_occurredAt' });

export const OutboxEvent = mongoose.models.OutboxEvent ?? mongoose.model<OutboxRecord>('OutboxEvent', OutboxSchema);

/** Where a committed unit of work hands its new events (the relay, installed on the platform). */
export interface EventRelay {
  afterCommit(events: readonly DomainEvent[]): void;
}

export function toDomainEvent(r: Pick<OutboxRecord, '_id' | 'type' | 'key' | 'payload' | 'occurredAt' | 'requestId'>): DomainEvent {
  return { id: String(r._id), type: r.type, key: r.key, payload: r.payload, occurredAt: r.occurredAt, requestId: r.requestId };
}
