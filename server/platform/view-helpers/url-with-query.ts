import Handlebars from 'handlebars';
import type { Options } from './types';

/**
 * `{{urlWithQuery @root.currentPath filters cursor=nextCursor}}` → "/path?action=x&amp;cursor=…":
 * the path with the given query object's non-empty values, overridden by the hash arguments,
 * escaped for an HTML attribute.
 */
export function urlWithQuery(path: unknown, ...rest: unknown[]): Handlebars.SafeString {
  const options = rest.pop() as Options;
  const base = rest[0] && typeof rest[0] === 'object' ? (rest[0] as Record<string, unknown>) : {};
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...base, ...(options.hash ?? {}) })) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  }
  // NOTE: only a local absolute path is kept, so a crafted currentPath cannot point elsewhere.
  const target = typeof path === 'string' && path.startsWith('/') && !path.startsWith('//') ? (path.split(/[?#]/, 1)[0] ?? '/') : '/';
  const query = params.toString().replaceAll('&', '&amp;');
  return new Handlebars.SafeString(Handlebars.Utils.escapeExpression(target) + (query ? `?${query}` : ''));
}
