/** Audit log: the append-only record of every state change (written by each command's unit of work), browsable by the operator. */
import { defineModule } from '../../platform/module';
import { auditPages } from './audit.pages';
import { auditRoutes } from './audit.routes';

export { listAudit } from './audit.service';

export const auditModule = defineModule({ name: 'audit', api: auditRoutes, pages: auditPages });

// TRANSITION: modules not yet moved to units of work still write their audit entry after their
// commit with an English summary; removed once every module commits its audit with its command.
import { auditDocument, AuditEntry, type AuditActor } from '../../platform/audit-log';
import { now } from '../../platform/context';
import { currentRequestId } from '../../platform/request-context';
export async function recordAudit(actor: AuditActor, input: { action: string; targetType: string; targetId?: string; summary: string }): Promise<void> {
  await AuditEntry.create({ ...auditDocument(actor, { ...input, summary: { key: input.action } }, now(), currentRequestId()), summary: input.summary });
}
