// The header bell's unread badge (`[data-unread-count]`), kept current by sockets and page actions.

function badges(): HTMLElement[] {
  return Array.from(document.querySelectorAll<HTMLElement>('[data-unread-count]'));
}

export function unreadCount(): number {
  const value = Number(badges()[0]?.dataset.unreadCount ?? 0);
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/** Sets the badge (hidden at zero) and announces the change as an `app:unread` event. */
export function setUnreadCount(count: number): void {
  const value = Math.max(0, Math.floor(count));
  for (const el of badges()) {
    el.dataset.unreadCount = String(value);
    el.textContent = value > 99 ? '99+' : String(value);
    el.hidden = value === 0;
  }
  document.dispatchEvent(new CustomEvent('app:unread', { detail: { count: value } }));
}

export function changeUnreadCount(delta: number): void {
  setUnreadCount(unreadCount() + delta);
}
