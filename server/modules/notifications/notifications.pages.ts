import type { Router } from 'express';
import { assertRole } from '../../platform/auth';
import type { Lang } from '../../platform/i18n';
import { parse } from '../../platform/validate';
import { NotificationListQuery } from './notifications.schemas';
import { listNotifications } from './notifications.service';

export function notificationPages(router: Router): void {
  router.get('/notifications', async (req, res) => {
    assertRole(req.actor, 'any');
    const q = parse(NotificationListQuery, req.query, 'query');
    const page = await listNotifications(req.actor, q, res.locals.lang as Lang);
    res.render('notifications', { title: 'notifications', notifications: page.data, unreadCount: page.unread, unreadCapped: page.unreadCapped, nextCursor: page.nextCursor });
  });
}
