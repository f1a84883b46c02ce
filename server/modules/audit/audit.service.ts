import { AuditEntry, type AuditEntryDoc } from '../../platform/audit-log';
import { hasMessage, t, type Lang } from '../../platform/i18n';
import { renderMessage } from '../../platform/messages';
import { trusted } from '../../platform/mongo';
import { beforeCursor, pageOf } from '../../platform/pagination';
import type { AuditQueryInput } from './audit.schemas';

function shanghaiDayStart(day: string): Date {
  return new Date(`${day}T00:00:00+08:00`);
}

/** Operator: the audit log, newest first, filtered, one cursor page at a time, summaries in `lang`. */
export async function listAudit(q: AuditQueryInput, lang: Lang) {
  const filter: Record<string, unknown> = {};
  if (q.action) filter.action = q.action;
  if (q.targetType) filter.targetType = q.targetType;
  if (q.targetId) filter.targetId = q.targetId;
  if (q.actor) filter.actorName = q.actor;
  if (q.from || q.to) {
    filter.at = trusted({
      ...(q.from ? { $gte: shanghaiDayStart(q.from) } : {}),
      ...(q.to ? { $lt: new Date(shanghaiDayStart(q.to).getTime() + 86_400_000) } : {}),
    });
  }
  const rows = await AuditEntry.find({ ...filter, ...beforeCursor('at', q.cursor) })
    .sort({ at: -1, _id: -1 })
    .limit(q.limit + 1)
    .lean<AuditEntryDoc[]>();
  const page = pageOf(rows, q.limit, (r) => r.at);
  return {
    data: page.rows.map((r) => ({
      id: String(r._id),
      at: r.at.toISOString(),
      actorName: r.actorName ?? undefined,
      orgName: r.orgName ?? undefined,
      action: r.action,
      actionName: hasMessage(lang, `auditActions.${r.action.replace(/\./g, '_')}`) ? t(lang, `auditActions.${r.action.replace(/\./g, '_')}`) : r.action,
      targetType: r.targetType,
      targetId: r.targetId ?? undefined,
      summary: typeof r.summary === 'string' ? r.summary : renderMessage(lang, r.summary),
      requestId: r.requestId ?? undefined,
    })),
    nextCursor: page.nextCursor,
  };
}
