import Handlebars from 'handlebars';
import { hasMessage, t } from '../i18n';
import { rootLang, type Options } from './types';

export type BadgeTone = 'neutral' | 'info' | 'success' | 'warning' | 'danger';

const TONES: Readonly<Record<string, BadgeTone>> = {
  placed: 'info',
  confirmed: 'info',
  partially_confirmed: 'warning',
  shipped: 'info',
  in_transit: 'info',
  delivered: 'info',
  accepted: 'success',
  partially_accepted: 'warning',
  rejected: 'danger',
  refused: 'danger',
  cancelled: 'neutral',
  draft: 'neutral',
  scheduled: 'neutral',
  open: 'success',
  closed: 'neutral',
  published: 'success',
  expired: 'neutral',
  active: 'success',
  disabled: 'neutral',
  pending: 'warning',
  approved: 'success',
  overdue: 'danger',
  paid: 'success',
  settled: 'success',
  signed: 'success',
  suspended: 'danger',
  unread: 'info',
  read: 'neutral',
};

/** The colour family of a status value (unknown values are neutral). */
export function statusTone(status: string): BadgeTone {
  return Object.hasOwn(TONES, status) ? (TONES[status] as BadgeTone) : 'neutral';
}

/**
 * `{{statusBadge order.status kind="order"}}` → a coloured badge labelled from `<kind>Status.<status>`,
 * else `status.<status>`, else the raw value; `tone="danger"` overrides the colour.
 */
export function statusBadge(status: unknown, options: Options): Handlebars.SafeString {
  const value = status === undefined || status === null ? '' : String(status);
  const lang = rootLang(options);
  const kind = typeof options.hash?.kind === 'string' ? options.hash.kind : undefined;
  const keys = [kind ? `${kind}Status.${value}` : undefined, `status.${value}`].filter((k): k is string => !!k);
  const key = keys.find((k) => hasMessage(lang, k));
  const label = key ? t(lang, key) : value;
  const tone = typeof options.hash?.tone === 'string' ? options.hash.tone : statusTone(value);
  const esc = Handlebars.Utils.escapeExpression;
  return new Handlebars.SafeString(
    `<span class="badge badge--${esc(tone)}" data-status="${esc(value)}">${esc(label)}</span>`,
  );
}
