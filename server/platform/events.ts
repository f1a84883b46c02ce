import mongoose, { Schema, Types } from 'mongoose';
import { z } from 'zod';
import { now, platform } from './context';
import { defineJob } from './queues';

/**
 * Durable domain events (an outbox): each fact is stored once under a unique key, then dispatched by
 * a job to the modules that subscribe. Subscribers must be idempotent; a repeated fact is a no-op.
 */
interface DomainEventRecord {
  _id: Types.ObjectId;
  type: string;
  key: string;
  payload: Record<string, unknown>;
  occurredAt: Date;
  dispatchedAt?: Date;
}

const DomainEventSchema = new Schema<DomainEventRecord>(
  {
    type: { type: String, required: true },
    key: { type: String, required: true, unique: true },
    payload: { type: Schema.Types.Mixed, required: true },
    occurredAt: { type: Date, required: true },
    dispatchedAt: Date,
  },
  { versionKey: false, collection: 'domain_events' },
);
DomainEventSchema.index({ type: 1, occurredAt: -1 });

export const DomainEvent = mongoose.models.DomainEvent ?? mongoose.model<DomainEventRecord>('DomainEvent', DomainEventSchema);

export const dispatchDomainEventJob = defineJob('events.dispatch', z.object({ eventId: z.string().regex(/^[a-f0-9]{24}$/) }).strict());

type Subscriber = (event: { type: string; key: string; payload: Record<string, unknown>; occurredAt: Date }) => Promise<void>;
const subscribers = new Map<string, Subscriber[]>();

/** Subscribes a module to a domain event type (called once at start-up). */
export function subscribe(type: string, fn: Subscriber): void {
  subscribers.set(type, [...(subscribers.get(type) ?? []), fn]);
}

/** Records a fact exactly once (by `key`) and schedules its dispatch; returns whether it was new. */
export async function recordDomainEvent(type: string, key: string, payload: Record<string, unknown>, occurredAt: Date = now()): Promise<boolean> {
  const res = await DomainEvent.updateOne(
    { key },
    { $setOnInsert: { type, key, payload, occurredAt } },
    { upsert: true },
  );
  const existing = await DomainEvent.findOne({ key }, { _id: 1, dispatchedAt: 1 }).lean<Pick<DomainEventRecord, '_id' | 'dispatchedAt'>>();
  if (existing && !existing.dispatchedAt) {
    await platform().queues.enqueue(dispatchDomainEventJob, { eventId: String(existing._id) }, { jobId: `event-${String(existing._id)}` });
  }
  return res.upsertedCount === 1;
}

/** Runs every subscriber of a stored event, then marks it dispatched. Safe to run twice. */
export async function dispatchDomainEvent(eventId: string): Promise<void> {
  const event = await DomainEvent.findById(eventId).lean<DomainEventRecord>();
  if (!event || event.dispatchedAt) return;
  for (const fn of subscribers.get(event.type) ?? []) {
    await fn({ type: event.type, key: event.key, payload: event.payload, occurredAt: event.occurredAt });
  }
  await DomainEvent.updateOne({ _id: event._id }, { $set: { dispatchedAt: now() } });
}
