/** Platform settings: the configurable defaults (deadlines, payment term, credit windows, bidding). */
import { defineModule } from '../../platform/module';
import { settingsEvictions } from './settings.cache';
import { settingsRoutes } from './settings.routes';

export { getSettings, updateSettings } from './settings.service';
export type { PlatformSettingsValue } from './settings.schemas';

export const settingsModule = defineModule({ name: 'settings', api: settingsRoutes, subscribers: settingsEvictions });
