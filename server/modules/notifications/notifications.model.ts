import mongoose, { Schema, Types } from 'mongoose';
import type { Message } from '../../platform/messages';

const NotificationSchema = new Schema(
  {
    userId: { type: Schema.Types.ObjectId, required: true },
    orgId: { type: Schema.Types.ObjectId, required: true },
    kind: { type: String, required: true },
    // NOTE: messages { key, params }, rendered in the reader's language when read; notifications
    // stored before messages existed hold Chinese text.
    title: { type: Schema.Types.Mixed, required: true },
    body: { type: Schema.Types.Mixed, required: true },
    link: { type: String },
    createdAt: { type: Date, required: true },
    readAt: { type: Date },
    /** When a read notification is deleted: READ_RETENTION_DAYS after it was read (TTL index). */
    expiresAt: { type: Date },
    dedupeKey: { type: String },
  },
  { versionKey: false, collection: 'notifications' },
);
NotificationSchema.index({ userId: 1, createdAt: -1, _id: -1 });
NotificationSchema.index({ userId: 1, readAt: 1 });
// NOTE: the database deletes a read notification once its expiresAt passes, on the database's own clock.
NotificationSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });
NotificationSchema.index({ userId: 1, dedupeKey: 1 }, { unique: true, partialFilterExpression: { dedupeKey: { $type: 'string' } } });

export interface NotificationDoc {
  _id: Types.ObjectId;
  userId: Types.ObjectId;
  orgId: Types.ObjectId;
  kind: string;
  title: Message | string;
  body: Message | string;
  link?: string;
  createdAt: Date;
  readAt?: Date;
  expiresAt?: Date;
  dedupeKey?: string;
}

/** Read notifications are kept this long after they were read; unread ones are kept until read. */
export const READ_RETENTION_DAYS = 90;

/** When a notification read at `readAt` expires. */
export function readExpiry(readAt: Date): Date {
  return new Date(readAt.getTime() + READ_RETENTION_DAYS * 24 * 3600_000);
}
export const Notification = mongoose.models.Notification ?? mongoose.model('Notification', NotificationSchema);
