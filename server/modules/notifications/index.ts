/** Notifications: stored per user, pushed live, listed on a page, marked read. */
export { notifyUsers, notifyOrganisation, notifyRoles, unreadCount, type NotificationInput } from './notifications.service';
export { notificationRoutes } from './notifications.routes';
export { notificationPages } from './notifications.pages';
export { notificationSocket, sessionReady } from './notifications.socket';
