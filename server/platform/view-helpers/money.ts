import { formatMoney } from './formatters';
import { rootLang, type Options } from './types';

/** `{{money fen}}` → "¥1,950.00" (integer fen in, "—" for a missing amount). */
export function money(fen: unknown, options?: Options): string {
  return formatMoney(fen, rootLang(options) === 'en' ? 'en' : 'zh');
}
