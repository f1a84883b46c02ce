/** Platform settings: the configurable defaults of DESIGN (deadlines, payment term, credit windows, bidding). */
export { getSettings, updateSettings } from './settings.service';
export { settingsRoutes } from './settings.routes';
export type { PlatformSettingsValue } from './settings.schemas';
