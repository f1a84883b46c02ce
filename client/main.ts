import type { NotificationPayload } from '../server/platform/realtime.events';
import { listenForActions, registerAction } from './lib/actions';
import { changeUnreadCount, setUnreadCount } from './lib/bell';
import { t } from './lib/i18n';
import { initPickers } from './lib/picker';
import { getSocket } from './lib/socket';
import { showToast } from './lib/toast';

// NOTE: the indicator waits a moment so a quick server restart or network blip stays silent.
const RECONNECT_INDICATOR_DELAY_MS = 2000;

function showConnectionState(connected: boolean): void {
  const el = document.querySelector<HTMLElement>('[data-conn-status]');
  if (el) el.hidden = connected;
}

function connectRealtime(): void {
  const socket = getSocket();
  let indicatorTimer: ReturnType<typeof setTimeout> | undefined;

  const lost = () => {
    indicatorTimer ??= setTimeout(() => showConnectionState(false), RECONNECT_INDICATOR_DELAY_MS);
  };
  socket.on('connect', () => {
    if (indicatorTimer) clearTimeout(indicatorTimer);
    indicatorTimer = undefined;
    showConnectionState(true);
  });
  socket.on('disconnect', (reason) => {
    if (reason !== 'io client disconnect') lost();
  });
  socket.on('connect_error', () => {
    // A refused handshake (expired session) is final: socket.io stops retrying, so say nothing.
    if (socket.active) lost();
  });

  socket.on('session:ready', (session: { unreadNotifications: number; unreadNotificationsCapped?: boolean }) => {
    setUnreadCount(session.unreadNotifications, session.unreadNotificationsCapped === true);
  });
  socket.on('notification:created', (n: NotificationPayload) => {
    changeUnreadCount(1);
    showToast({ title: n.title || t('newNotification'), body: n.body, href: n.link, linkLabel: t('view'), dismissLabel: t('dismiss'), tone: 'info' });
    document.dispatchEvent(new CustomEvent<NotificationPayload>('app:notification', { detail: n }));
  });
}

registerAction('history-back', () => {
  if (history.length > 1) history.back();
  else location.assign('/');
});

listenForActions();
initPickers();
if (document.body.dataset.authenticated === 'true') connectRealtime();
