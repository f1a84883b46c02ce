import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { msg } from '../../platform/messages';
import { withCommand } from '../../platform/unit-of-work';
import { SettingsChanged } from '../../events/settings';
import { cachedSettings } from './settings.cache';
import { SettingsDoc } from './settings.model';
import { PlatformSettings, type PlatformSettingsPatchInput, type PlatformSettingsValue } from './settings.schemas';

const KEY = 'platform';
const SECTIONS = ['orders', 'finance', 'credit', 'quotation'] as const;

/** The current platform settings: stored values over the defaults (remembered briefly, settings.cache.ts). */
export async function getSettings(): Promise<PlatformSettingsValue> {
  // NOTE: callers get their own copy, so one that changes what it got cannot change the cache.
  return structuredClone(await cachedSettings(readSettings));
}

async function readSettings(): Promise<PlatformSettingsValue> {
  const doc = await SettingsDoc.findById(KEY).lean<{ value: Record<string, unknown> }>();
  return PlatformSettings.parse(doc?.value ?? {});
}

/** Operator: changes some settings; the result is validated whole before it is stored. */
export async function updateSettings(actor: Pick<Actor, 'id' | 'name' | 'orgId' | 'orgName'> | null, patch: PlatformSettingsPatchInput): Promise<PlatformSettingsValue> {
  const current = await readSettings();
  const merged = PlatformSettings.parse({
    orders: { ...current.orders, ...patch.orders },
    finance: { ...current.finance, ...patch.finance },
    credit: { ...current.credit, ...patch.credit },
    quotation: { ...current.quotation, ...patch.quotation },
  });
  return withCommand(actor, async (uow) => {
    await SettingsDoc.updateOne({ _id: KEY }, { $set: { value: merged, updatedAt: now(), updatedBy: actor?.id } }, { upsert: true, session: uow.session });
    uow.audit({ action: 'settings.update', targetType: 'settings', targetId: KEY, summary: msg('admin.summaries.settingsChanged', { sections: { list: Object.keys(patch) } }) });
    uow.emit(SettingsChanged, { sections: SECTIONS.filter((s) => patch[s] !== undefined) });
    return merged;
  });
}
