import type { ApiRouter } from '../../platform/http';
import { PlatformSettings, PlatformSettingsPatch } from './settings.schemas';
import { getSettings, updateSettings } from './settings.service';

export function settingsRoutes(api: ApiRouter): void {
  api.route({ method: 'get', path: '/settings', summary: 'Platform settings (defaults for rounds, orders, credit, finance)', tags: ['settings'], auth: 'any', response: PlatformSettings }, () => getSettings());
  api.route(
    { method: 'patch', path: '/settings', summary: 'Change platform settings (operator)', tags: ['settings'], auth: ['operator'], body: PlatformSettingsPatch, response: PlatformSettings },
    ({ actor, body }) => updateSettings(actor, body),
  );
}
