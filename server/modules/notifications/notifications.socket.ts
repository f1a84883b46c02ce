import type { Logger } from '../../platform/logger';
import { onCommand, type AppSocket } from '../../platform/realtime';
import { NotificationReadPayload } from './notifications.schemas';
import { markRead, unreadCount } from './notifications.service';

/** Socket handlers: mark read; on connect, the unread count so a reconnecting client catches up. */
export function notificationSocket(logger: Logger) {
  return (socket: AppSocket): void => {
    onCommand(socket, logger, 'notification:read', NotificationReadPayload, (p, actor) => markRead(actor, p.id));
  };
}

export async function sessionReady(socket: AppSocket): Promise<void> {
  const a = socket.data.actor;
  const { unread, unreadCapped } = await unreadCount(a.id);
  socket.emit('session:ready', { userId: a.id, orgId: a.orgId, role: a.role, unreadNotifications: unread, unreadNotificationsCapped: unreadCapped });
}
