import type { ApiRouter } from '../../platform/http';
import { resolveLang } from '../../platform/i18n';
import { z } from '../../platform/schemas';
import { AuditEntryView, AuditQuery } from './audit.schemas';
import { listAudit } from './audit.service';

export function auditRoutes(api: ApiRouter): void {
  api.route(
    {
      method: 'get',
      path: '/audit',
      summary: 'Browse the audit log (operator)',
      tags: ['audit'],
      auth: ['operator'],
      query: AuditQuery,
      response: z.object({ data: z.array(AuditEntryView), nextCursor: z.string().nullable() }),
    },
    ({ query, req }) => listAudit(query, resolveLang(req)),
  );
}
