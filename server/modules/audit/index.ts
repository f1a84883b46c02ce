/** Audit log: an append-only record of every state change, browsable by the operator. */
export { recordAudit, listAudit } from './audit.service';
export { auditRoutes } from './audit.routes';
export { auditPages } from './audit.pages';
