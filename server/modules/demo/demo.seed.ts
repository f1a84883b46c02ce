import type { Logger } from '../../platform/logger';
import type { FeatureModule } from '../../platform/module';
import { DEMO_ORGS } from './demo.data';

/** Loads every module's demo data, in registry order; running it again changes nothing. */
export async function seedDemoData(logger: Logger, modules: readonly FeatureModule[]): Promise<void> {
  for (const m of modules) await m.demo?.(logger);
  logger.info({ organisations: DEMO_ORGS.length }, 'demo data ready');
}
