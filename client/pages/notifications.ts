import type { NotificationPayload } from '../../server/platform/realtime.events';
import { registerAction } from '../lib/actions';
import { api } from '../lib/api';
import { changeUnreadCount, setUnreadCount, unreadCapped, unreadCount, unreadLabel } from '../lib/bell';
import { toastError } from '../lib/errors';
import { formatDateTime } from '../lib/format';
import { t } from '../lib/i18n';
import { showToast } from '../lib/toast';

/** Both read routes answer with the user's remaining unread count (counted up to 100: `unreadCapped`). */
interface UnreadReply {
  unread: number;
  unreadCapped?: boolean;
}

function markItemRead(item: Element): void {
  item.classList.remove('is-unread');
  item.querySelector('.notice__unread')?.remove();
  item.querySelector('[data-action="notification-read"]')?.remove();
}

function renderSummary(count: number, capped: boolean): void {
  const summary = document.querySelector<HTMLElement>('[data-unread-summary]');
  if (summary) {
    summary.textContent = t('unreadSummary', { count: unreadLabel(count, capped) });
    summary.hidden = count === 0;
  }
  const all = document.querySelector<HTMLButtonElement>('[data-action="notifications-read-all"]');
  if (all) {
    all.toggleAttribute('data-stay-disabled', count === 0);
    all.disabled = count === 0;
  }
}

registerAction('notification-read', async (el) => {
  const id = el.dataset.id;
  if (!id) return;
  let reply: UnreadReply | undefined;
  try {
    reply = await api<UnreadReply>('POST', `/api/v1/notifications/${encodeURIComponent(id)}/read`);
  } catch (err) {
    toastError(err);
    return;
  }
  const item = el.closest('[data-notification-id]');
  if (item) markItemRead(item);
  if (typeof reply?.unread === 'number') setUnreadCount(reply.unread, reply.unreadCapped === true);
  else changeUnreadCount(-1);
});

registerAction('notifications-read-all', async () => {
  try {
    await api('POST', '/api/v1/notifications/read-all');
  } catch (err) {
    toastError(err);
    return;
  }
  for (const item of document.querySelectorAll('[data-notification-id].is-unread')) markItemRead(item);
  setUnreadCount(0);
  showToast({ tone: 'success', body: t('allMarkedRead'), timeoutMs: 3000, dismissLabel: t('dismiss') });
});

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Builds the same markup as templates/pages/notifications.hbs for a notification pushed live. */
function prepend(n: NotificationPayload): void {
  const list = document.querySelector('[data-notification-list]');
  if (!list) return; // NOTE: with no list yet the page shows its empty state; the toast is enough.
  const item = element('li', 'notice is-unread');
  item.dataset.notificationId = n.id;
  const dot = element('span', 'notice__dot');
  dot.setAttribute('aria-hidden', 'true');
  const head = element('div', 'notice__head');
  head.append(element('span', 'notice__title', n.title), element('span', 'badge badge--info notice__unread', t('unread')));
  const time = element('time', '', formatDateTime(n.createdAt));
  time.dateTime = n.createdAt;
  const meta = element('div', 'notice__meta');
  meta.append(time);
  if (n.link) {
    const a = element('a', '', t('view'));
    a.href = n.link;
    meta.append(a);
  }
  const content = element('div', 'notice__content');
  content.append(head, element('p', 'notice__body', n.body), meta);
  const button = element('button', 'btn btn--ghost btn--sm', t('markRead'));
  button.type = 'button';
  button.dataset.action = 'notification-read';
  button.dataset.id = n.id;
  const actions = element('div', 'notice__actions');
  actions.append(button);
  item.append(dot, content, actions);
  list.prepend(item);
}

document.addEventListener('app:notification', (e) => prepend((e as CustomEvent<NotificationPayload>).detail));
document.addEventListener('app:unread', (e) => {
  const { count, capped } = (e as CustomEvent<{ count: number; capped: boolean }>).detail;
  renderSummary(count, capped);
});
const summary = document.querySelector<HTMLElement>('[data-unread-summary]');
// NOTE: the page's own count is authoritative on load; it also corrects the header bell.
if (summary) setUnreadCount(Number(summary.dataset.count ?? 0) || 0, summary.dataset.capped === 'true');
else setUnreadCount(unreadCount(), unreadCapped());
