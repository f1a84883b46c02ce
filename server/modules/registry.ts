import type { Router } from 'express';
import type { ApiRouter } from '../platform/http';
import type { Logger } from '../platform/logger';
import type { AppSocket, SocketModule } from '../platform/realtime';
import { auditPages, auditRoutes } from './audit';
import { cataloguePages, catalogueRoutes } from './catalogue';
import { creditPages, creditRoutes, subscribeCreditEvents } from './credit';
import { financePages, financeRoutes } from './finance';
import { identityPages, identityRoutes } from './identity';
import { settingsRoutes } from './settings';
import { vbpPages, vbpRoutes, vbpSubscribe } from './vbp';
import { notificationPages, notificationRoutes, notificationSocket, sessionReady } from './notifications';
import { quotationPages, quotationRoutes, quotationSocket } from './quotation';
import { orderPages, orderRoutes, orderSocket, scheduleOrderSweeps } from './orders';

/** What a feature module plugs into the app: JSON routes, pages, socket handlers, event subscriptions. */
export interface FeatureModule {
  name: string;
  api?: (api: ApiRouter) => void;
  pages?: (router: Router) => void;
  socket?: (logger: Logger) => SocketModule;
  onConnect?: (socket: AppSocket) => Promise<void>;
  /** Subscribes to domain events of other modules (called once at start-up, in every role). */
  subscribe?: () => void;
  /** Schedules the module's recurring jobs (called when a worker starts; idempotent). */
  onWorkerStart?: () => Promise<void>;
}

/** Every feature module, in the order their routes are mounted. */
export const featureModules: FeatureModule[] = [
  { name: 'identity', api: identityRoutes, pages: identityPages },
  { name: 'audit', api: auditRoutes, pages: auditPages },
  { name: 'settings', api: settingsRoutes },
  { name: 'notifications', api: notificationRoutes, pages: notificationPages, socket: notificationSocket, onConnect: sessionReady },
  { name: 'credit', api: creditRoutes, pages: creditPages, subscribe: subscribeCreditEvents },
  { name: 'catalogue', api: catalogueRoutes, pages: cataloguePages },
  { name: 'vbp', api: vbpRoutes, pages: vbpPages, subscribe: vbpSubscribe },
  { name: 'quotation', api: quotationRoutes, pages: quotationPages, socket: quotationSocket },
  { name: 'finance', api: financeRoutes, pages: financePages },
  { name: 'orders', api: orderRoutes, pages: orderPages, socket: orderSocket, onWorkerStart: scheduleOrderSweeps },
];
