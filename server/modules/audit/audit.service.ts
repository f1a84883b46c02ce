import { Types } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { trusted } from '../../platform/mongo';
import { beforeCursor, pageOf } from '../../platform/pagination';
import { currentRequestId } from '../../platform/request-context';
import { AuditEntry, type AuditEntryDoc } from './audit.model';
import type { AuditQueryInput } from './audit.schemas';

export interface AuditInput {
  action: string;
  targetType: string;
  targetId?: string;
  summary: string;
}

/** Appends one entry to the audit log (append-only: nothing updates or deletes entries). */
export async function recordAudit(actor: Pick<Actor, 'id' | 'name' | 'orgId' | 'orgName'> | null, input: AuditInput): Promise<void> {
  await AuditEntry.create({
    at: now(),
    actorId: actor ? new Types.ObjectId(actor.id) : undefined,
    actorName: actor?.name ?? 'system',
    orgId: actor ? new Types.ObjectId(actor.orgId) : undefined,
    orgName: actor?.orgName,
    ...input,
    requestId: currentRequestId(),
  });
}

function shanghaiDayStart(day: string): Date {
  return new Date(`${day}T00:00:00+08:00`);
}

/** Operator: the audit log, newest first, filtered, one cursor page at a time. */
export async function listAudit(q: AuditQueryInput) {
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
      targetType: r.targetType,
      targetId: r.targetId ?? undefined,
      summary: r.summary,
      requestId: r.requestId ?? undefined,
    })),
    nextCursor: page.nextCursor,
  };
}
