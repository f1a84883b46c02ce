// Facts of the settings module. Each is committed with the change it states.
import { z } from 'zod';
import { defineEvent } from '../platform/events';

/** The platform settings changed: remembered copies are dropped everywhere. */
export const SettingsChanged = defineEvent('settings.changed', z.object({ sections: z.array(z.enum(['orders', 'finance', 'credit', 'quotation'])) }).strict());
