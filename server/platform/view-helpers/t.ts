import { hasMessage, t as translate } from '../i18n';
import { rootLang, type Options } from './types';

/**
 * `{{t "nav.orders"}}`, `{{t "home.welcome" name=user.name}}`; several positional parts are joined
 * with dots, so `{{t "roles" user.role}}` looks up `roles.<role>`. The language is `@root.lang`.
 * `default="…"` is returned when no catalogue has the key (for open-ended values such as HTTP statuses).
 */
export function t(...args: unknown[]): string {
  const options = args.pop() as Options;
  const key = args.filter((a) => a !== undefined && a !== null && a !== '').map(String).join('.');
  const lang = rootLang(options);
  const { default: fallback, ...vars } = (options.hash ?? {}) as Record<string, unknown>;
  if (fallback !== undefined && !hasMessage(lang, key)) return String(fallback);
  return translate(lang, key, vars);
}
