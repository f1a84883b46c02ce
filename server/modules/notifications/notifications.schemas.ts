import { ObjectIdString, z } from '../../platform/schemas';

export const NotificationView = z
  .object({ id: z.string(), kind: z.string(), title: z.string(), body: z.string(), link: z.string().optional(), createdAt: z.string(), readAt: z.string().optional() })
  .openapi('Notification');

export const NotificationListQuery = z
  .object({
    cursor: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(30),
    unread: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  })
  .strict();

/** The unread count in replies: counted up to 100, so a count of 100 with `unreadCapped` means 100 or more. */
export const UnreadCountView = z
  .object({
    unread: z.number().int().min(0).describe('Unread notifications, counted up to 100 (100 means 100 or more; the bell shows 99+).'),
    unreadCapped: z.boolean().describe('True when the count reached 100: there are at least `unread` unread notifications.'),
  })
  .openapi('UnreadCount');

export const NotificationReadPayload = z.object({ id: ObjectIdString }).strict();
