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

export const NotificationReadPayload = z.object({ id: ObjectIdString }).strict();
