/** Audit log: the append-only record of every state change (written by each command's unit of work), browsable by the operator. */
import { defineModule } from '../../platform/module';
import { auditPages } from './audit.pages';
import { auditRoutes } from './audit.routes';

export { listAudit } from './audit.service';

export const auditModule = defineModule({ name: 'audit', api: auditRoutes, pages: auditPages });

