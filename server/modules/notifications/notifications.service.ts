import { Types, type InsertManyOptions } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { now, platform } from '../../platform/context';
import { NotFoundError } from '../../platform/errors';
import { isLang, type Lang } from '../../platform/i18n';
import { msg, renderMessage, type Message } from '../../platform/messages';
import { trusted } from '../../platform/mongo';
import { beforeCursor, pageOf } from '../../platform/pagination';
import type { NotificationPayload } from '../../platform/realtime.events';
import type { Role } from '../../platform/schemas';
import { recipientsOf, usersWithRole } from '../identity';
import { Notification, readExpiry, type NotificationDoc } from './notifications.model';

export interface NotificationInput {
  kind: string;
  title: Message;
  body: Message;
  link?: string;
  /**
   * The fact the notification is about (e.g. the event key): the same key for the same user is
   * stored once, so a fact delivered twice notifies once.
   */
  dedupeKey: string;
}

interface Recipient {
  _id: Types.ObjectId;
  orgId: Types.ObjectId;
  lang?: string | null;
}

const render = (lang: Lang, m: Message | string): string => (typeof m === 'string' ? m : renderMessage(lang, m));

function toPayload(n: NotificationDoc, lang: Lang): NotificationPayload & { readAt?: string } {
  return {
    id: String(n._id),
    kind: n.kind,
    title: render(lang, n.title),
    body: render(lang, n.body),
    link: n.link ?? undefined,
    createdAt: n.createdAt.toISOString(),
    readAt: n.readAt ? n.readAt.toISOString() : undefined,
  };
}

/** Stores a notification for each user (so nothing is lost offline), then pushes it live in the user's language. */
export async function notifyUsers(users: readonly Recipient[], input: NotificationInput): Promise<number> {
  return store(users.map((user) => ({ user, input })));
}

/** Stores and pushes many notifications with one insert; a duplicate (same user, same fact) is skipped. */
async function store(notices: { user: Recipient; input: NotificationInput }[]): Promise<number> {
  if (notices.length === 0) return 0;
  const at = now();
  const docs = notices.map(({ user, input }) => ({ _id: new Types.ObjectId(), userId: user._id, orgId: user.orgId, ...input, createdAt: at }));
  let stored = docs;
  try {
    // NOTE: complete documents, inserted lean (no hydration or validation); undefined fields left out.
    await Notification.insertMany(docs, { ordered: false, lean: true, ignoreUndefined: true } as InsertManyOptions & { lean: true });
  } catch (err) {
    // NOTE: a duplicate (same user, same fact) is the redelivery of a fact already notified.
    const e = err as { code?: number; writeErrors?: { index?: number; err?: { index?: number; code?: number }; code?: number }[]; insertedDocs?: unknown[] };
    const failures = e.writeErrors ?? [];
    if (failures.length === 0 && e.code !== 11000) throw err;
    if (failures.some((w) => (w.code ?? w.err?.code) !== 11000)) throw err;
    const failed = new Set(failures.map((w) => w.index ?? w.err?.index));
    stored = docs.filter((_, i) => !failed.has(i));
  }
  const langOf = new Map(notices.map(({ user }) => [String(user._id), isLang(user.lang) ? user.lang : 'zh']));
  for (const doc of stored) {
    platform().broadcaster.toUser(String(doc.userId), 'notification:created', toPayload(doc as NotificationDoc, langOf.get(String(doc.userId)) ?? 'zh'));
  }
  return stored.length;
}

/** Notifies every user of an organisation (optionally only some roles). */
export async function notifyOrganisation(orgId: string | Types.ObjectId, input: NotificationInput, roles?: Role[]): Promise<number> {
  return notifyUsers(await recipientsOf(orgId, roles), input);
}

/**
 * Many `notifyOrganisation` calls at once (the facts of one batch): the users of each organisation
 * and role set are read once, every notification is stored with one insert, then pushed.
 */
export async function notifyOrganisations(notices: { orgId: string; roles?: Role[]; input: NotificationInput }[]): Promise<number> {
  const usersBy = new Map<string, Promise<readonly Recipient[]>>();
  const keyOf = (n: (typeof notices)[number]) => `${n.orgId}|${n.roles?.join(',') ?? '*'}`;
  for (const n of notices) if (!usersBy.has(keyOf(n))) usersBy.set(keyOf(n), recipientsOf(n.orgId, n.roles));
  const users = new Map(await Promise.all([...usersBy].map(async ([key, list]) => [key, await list] as const)));
  return store(notices.flatMap((n) => users.get(keyOf(n))!.map((user) => ({ user, input: n.input }))));
}

/** Notifies every user with one of the roles, platform-wide (e.g. every pharmacist). */
export async function notifyRoles(roles: Role[], input: NotificationInput): Promise<number> {
  return notifyUsers(await usersWithRole(roles), input);
}

export async function listNotifications(actor: Actor, q: { cursor?: string; limit: number; unread?: boolean }, lang: Lang) {
  const filter: Record<string, unknown> = { userId: new Types.ObjectId(actor.id), ...beforeCursor('createdAt', q.cursor) };
  if (q.unread) filter.readAt = trusted({ $exists: false });
  const rows = await Notification.find(filter).sort({ createdAt: -1, _id: -1 }).limit(q.limit + 1).lean<NotificationDoc[]>();
  const page = pageOf(rows, q.limit, (r) => r.createdAt);
  return { data: page.rows.map((r) => toPayload(r, lang)), nextCursor: page.nextCursor, ...(await unreadCount(actor.id)) };
}

/** Unread notifications are counted up to this many; the bell shows "99+" from 100 on. */
export const UNREAD_COUNT_CAP = 100;

export interface UnreadCount {
  /** Unread notifications, counted up to UNREAD_COUNT_CAP. */
  unread: number;
  /** The count reached the cap: there are `unread` or more. */
  unreadCapped: boolean;
}

/**
 * A user's unread notifications, counted up to UNREAD_COUNT_CAP, so the bell on every page costs the
 * same however many are unread.
 */
export async function unreadCount(userId: string): Promise<UnreadCount> {
  const unread = await Notification.countDocuments({ userId: new Types.ObjectId(userId), readAt: trusted({ $exists: false }) }, { limit: UNREAD_COUNT_CAP });
  return { unread, unreadCapped: unread >= UNREAD_COUNT_CAP };
}

/** Marks one of the caller's notifications read; another user's id is simply not found. */
export async function markRead(actor: Actor, id: string): Promise<UnreadCount> {
  const mine = { _id: new Types.ObjectId(id), userId: new Types.ObjectId(actor.id) };
  if (!(await Notification.exists(mine))) throw new NotFoundError({ code: 'NOTIFICATION_NOT_FOUND', message: msg('errorCodes.NOTIFICATION_NOT_FOUND') });
  const at = now();
  await Notification.updateOne({ ...mine, readAt: trusted({ $exists: false }) }, { $set: { readAt: at, expiresAt: readExpiry(at) } });
  return unreadCount(actor.id);
}

export async function markAllRead(actor: Actor): Promise<UnreadCount> {
  const at = now();
  await Notification.updateMany({ userId: new Types.ObjectId(actor.id), readAt: trusted({ $exists: false }) }, { $set: { readAt: at, expiresAt: readExpiry(at) } });
  return { unread: 0, unreadCapped: false };
}

/** Gives every notification read before expiry existed its expiry (idempotent); returns how many. */
export async function backfillReadExpiry(batch = 500): Promise<number> {
  let done = 0;
  for (;;) {
    const rows = await Notification.find({ readAt: trusted({ $exists: true }), expiresAt: trusted({ $exists: false }) }, { readAt: 1 }).limit(batch).lean<{ _id: Types.ObjectId; readAt: Date }[]>();
    if (rows.length === 0) return done;
    for (const r of rows) await Notification.updateOne({ _id: r._id, expiresAt: trusted({ $exists: false }) }, { $set: { expiresAt: readExpiry(r.readAt) } });
    done += rows.length;
  }
}
