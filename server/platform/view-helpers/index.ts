import type Handlebars from 'handlebars';
import { date } from './date';
import { datetime } from './datetime';
import { eq } from './eq';
import { formState } from './form-state';
import { json } from './json';
import { money } from './money';
import { or } from './or';
import { percentBp } from './percent-bp';
import { statusBadge } from './status-badge';
import { t } from './t';
import { unreadBadge } from './unread-badge';
import { urlWithQuery } from './url-with-query';

/** Registers every view helper on a Handlebars instance (pages, text templates and tests share them). */
export function registerViewHelpers(hbs: typeof Handlebars): void {
  hbs.registerHelper({ date, datetime, eq, formState, json, money, or, percentBp, statusBadge, t, unreadBadge, urlWithQuery });
}
