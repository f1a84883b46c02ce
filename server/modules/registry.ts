import type { FeatureModule } from '../platform/module';
import { auditModule } from './audit';
import { catalogueModule } from './catalogue';
import { creditModule } from './credit';
import { dashboardModule } from './dashboard';
import { financeModule } from './finance';
import { identityModule } from './identity';
import { notificationsModule } from './notifications';
import { ordersModule } from './orders';
import { quotationModule } from './quotation';
import { settingsModule } from './settings';
import { vbpModule } from './vbp';

/**
 * Every feature module, in the order their routes are mounted and their demo data is loaded (a
 * module's demo data may build on an earlier module's).
 */
export const featureModules: readonly FeatureModule[] = [
  identityModule,
  auditModule,
  settingsModule,
  notificationsModule,
  catalogueModule,
  creditModule,
  quotationModule,
  vbpModule,
  financeModule,
  ordersModule,
  dashboardModule,
];
