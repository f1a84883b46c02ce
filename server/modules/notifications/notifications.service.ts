import { Types } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { now, platform } from '../../platform/context';
import { NotFoundError } from '../../platform/errors';
import { trusted } from '../../platform/mongo';
import { beforeCursor, pageOf } from '../../platform/pagination';
import type { NotificationPayload } from '../../platform/realtime.events';
import type { Role } from '../../platform/schemas';
import { usersOf, usersWithRole } from '../identity';
import { Notification, type NotificationDoc } from './notifications.model';

export interface NotificationInput {
  kind: string;
  title: string;
  body: string;
  link?: string;
  /** The same key for the same user is stored once, so a repeated fact notifies once. */
  dedupeKey?: string;
}

function toPayload(n: NotificationDoc): NotificationPayload & { readAt?: string } {
  return {
    id: String(n._id),
    kind: n.kind,
    title: n.title,
    body: n.body,
    link: n.link ?? undefined,
    createdAt: n.createdAt.toISOString(),
    readAt: n.readAt ? n.readAt.toISOString() : undefined,
  };
}

/** Stores a notification for each user (so nothing is lost offline), then pushes it live. */
export async function notifyUsers(users: { _id: Types.ObjectId; orgId: Types.ObjectId }[], input: NotificationInput): Promise<number> {
  let created = 0;
  for (const user of users) {
    try {
      const doc = await Notification.create({ userId: user._id, orgId: user.orgId, ...input, createdAt: now() });
      created += 1;
      platform().broadcaster.toUser(String(user._id), 'notification:created', toPayload(doc.toObject() as NotificationDoc));
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
    }
  }
  return created;
}

/** Notifies every user of an organisation (optionally only some roles). */
export async function notifyOrganisation(orgId: string | Types.ObjectId, input: NotificationInput, roles?: Role[]): Promise<number> {
  return notifyUsers(await usersOf(orgId, roles), input);
}

/** Notifies every user with one of the roles, platform-wide (e.g. every pharmacist). */
export async function notifyRoles(roles: Role[], input: NotificationInput): Promise<number> {
  return notifyUsers(await usersWithRole(roles), input);
}

export async function listNotifications(actor: Actor, q: { cursor?: string; limit: number; unread?: boolean }) {
  const filter: Record<string, unknown> = { userId: new Types.ObjectId(actor.id), ...beforeCursor('createdAt', q.cursor) };
  if (q.unread) filter.readAt = trusted({ $exists: false });
  const rows = await Notification.find(filter).sort({ createdAt: -1, _id: -1 }).limit(q.limit + 1).lean<NotificationDoc[]>();
  const page = pageOf(rows, q.limit, (r) => r.createdAt);
  return { data: page.rows.map(toPayload), nextCursor: page.nextCursor, unread: await unreadCount(actor.id) };
}

export async function unreadCount(userId: string): Promise<number> {
  return Notification.countDocuments({ userId: new Types.ObjectId(userId), readAt: trusted({ $exists: false }) });
}

/** Marks one of the caller's notifications read; another user's id is simply not found. */
export async function markRead(actor: Actor, id: string): Promise<{ unread: number }> {
  const mine = { _id: new Types.ObjectId(id), userId: new Types.ObjectId(actor.id) };
  if (!(await Notification.exists(mine))) throw new NotFoundError({ code: 'NOTIFICATION_NOT_FOUND', message: 'No such notification.' });
  await Notification.updateOne({ ...mine, readAt: trusted({ $exists: false }) }, { $set: { readAt: now() } });
  return { unread: await unreadCount(actor.id) };
}

export async function markAllRead(actor: Actor): Promise<{ unread: number }> {
  await Notification.updateMany({ userId: new Types.ObjectId(actor.id), readAt: trusted({ $exists: false }) }, { $set: { readAt: now() } });
  return { unread: 0 };
}
