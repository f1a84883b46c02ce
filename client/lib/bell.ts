// The header bell's unread badge (`[data-unread-count]`), kept current by sockets and page actions.
// The server counts unread notifications up to 100 and says when it stopped there (`capped`): the
// badge then holds a lower bound and shows "99+", as it does for any count above 99.

function badges(): HTMLElement[] {
  return Array.from(document.querySelectorAll<HTMLElement>('[data-unread-count]'));
}

export function unreadCount(): number {
  const value = Number(badges()[0]?.dataset.unreadCount ?? 0);
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/** Whether the badge's count is the server's cap (the true count is that or more). */
export function unreadCapped(): boolean {
  return badges()[0]?.dataset.unreadCapped === 'true';
}

/** The badge's text: the count, or "99+" above 99 or at the server's cap. */
export function unreadLabel(count: number, capped = false): string {
  return capped || count > 99 ? '99+' : String(count);
}

/**
 * Sets the badge (hidden at zero) and announces the change as an `app:unread` event; `capped` when
 * the count is the server's cap.
 */
export function setUnreadCount(count: number, capped = false): void {
  const value = Math.max(0, Math.floor(count));
  const atCap = capped && value > 0;
  for (const el of badges()) {
    el.dataset.unreadCount = String(value);
    if (atCap) el.dataset.unreadCapped = 'true';
    else delete el.dataset.unreadCapped;
    el.textContent = unreadLabel(value, atCap);
    el.hidden = value === 0;
  }
  document.dispatchEvent(new CustomEvent('app:unread', { detail: { count: value, capped: atCap } }));
}

export function changeUnreadCount(delta: number): void {
  // NOTE: at the cap the true count is unknown (at least the cap): reading one may leave as many, so
  // it stays "99+" until the server counts again.
  if (unreadCapped()) setUnreadCount(delta < 0 ? unreadCount() : unreadCount() + delta, true);
  else setUnreadCount(unreadCount() + delta);
}
