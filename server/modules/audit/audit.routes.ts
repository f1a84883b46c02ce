import type { ApiRouter } from '../../platform/http';
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
    ({ query }) => listAudit(query),
  );
}
