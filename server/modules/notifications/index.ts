/** Notifications: stored per user as messages, rendered in the reader's language, pushed live, listed, marked read. */
import { defineModule } from '../../platform/module';
import { notificationPages } from './notifications.pages';
import { notificationRoutes } from './notifications.routes';
import { notificationSocket, sessionReady } from './notifications.socket';
import { backfillReadExpiry } from './notifications.service';

export { notifyUsers, notifyOrganisation, notifyOrganisations, notifyRoles, unreadCount, type NotificationInput } from './notifications.service';

export const notificationsModule = defineModule({ name: 'notifications', api: notificationRoutes, pages: notificationPages, socket: notificationSocket, onConnect: sessionReady,
  migrate: async (logger) => {
    const notifications = await backfillReadExpiry();
    if (notifications) logger.info({ notifications }, 'read notifications given their expiry');
  },
});
