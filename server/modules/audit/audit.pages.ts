import type { Router } from 'express';
import { assertRole } from '../../platform/auth';
import type { Lang } from '../../platform/i18n';
import { parse } from '../../platform/validate';
import { AuditQuery } from './audit.schemas';
import { listAudit } from './audit.service';

export function auditPages(router: Router): void {
  router.get('/admin/audit', async (req, res) => {
    assertRole(req.actor, ['operator']);
    const filters = parse(AuditQuery, req.query, 'query');
    const page = await listAudit(filters, res.locals.lang as Lang);
    res.render('admin/audit', { title: 'audit', entries: page.data, filters, nextCursor: page.nextCursor });
  });
}
