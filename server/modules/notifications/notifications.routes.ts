import type { ApiRouter } from '../../platform/http';
import { resolveLang } from '../../platform/i18n';
import { IdParams, z } from '../../platform/schemas';
import { NotificationListQuery, NotificationView, UnreadCountView } from './notifications.schemas';
import { listNotifications, markAllRead, markRead } from './notifications.service';

export function notificationRoutes(api: ApiRouter): void {
  api.route(
    {
      method: 'get',
      path: '/notifications',
      summary: 'My notifications, newest first',
      tags: ['notifications'],
      auth: 'any',
      query: NotificationListQuery,
      response: z.object({ data: z.array(NotificationView), nextCursor: z.string().nullable() }).extend(UnreadCountView.shape),
    },
    ({ actor, query, req }) => listNotifications(actor, query, resolveLang(req)),
  );
  api.route(
    { method: 'post', path: '/notifications/:id/read', summary: 'Mark a notification read', tags: ['notifications'], auth: 'any', params: IdParams, response: UnreadCountView },
    ({ actor, params }) => markRead(actor, params.id),
  );
  api.route(
    { method: 'post', path: '/notifications/read-all', summary: 'Mark all my notifications read', tags: ['notifications'], auth: 'any', response: UnreadCountView },
    ({ actor }) => markAllRead(actor),
  );
}
