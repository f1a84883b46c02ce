/**
 * `{{unreadBadge unreadCount unreadCapped}}`: the bell's text — the count, or "99+" from 100 on or when
 * the server's count stopped at its cap (client/lib/bell.ts shows the same).
 */
export function unreadBadge(count: unknown, capped?: unknown): string {
  const n = typeof count === 'number' && Number.isFinite(count) ? Math.max(0, Math.floor(count)) : 0;
  return capped === true || n > 99 ? '99+' : String(n);
}
