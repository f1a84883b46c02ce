import { z } from '../../platform/schemas';

export const AuditQuery = z
  .object({
    action: z.string().trim().regex(/^[a-z_.]{1,60}$/).optional(),
    actor: z.string().trim().max(100).optional(),
    targetType: z.string().trim().regex(/^[a-z_]{1,40}$/).optional(),
    targetId: z.string().trim().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
    from: z.iso.date().optional(),
    to: z.iso.date().optional(),
    cursor: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();
export type AuditQueryInput = z.infer<typeof AuditQuery>;

export const AuditEntryView = z
  .object({
    id: z.string(),
    at: z.string(),
    actorName: z.string().optional(),
    orgName: z.string().optional(),
    action: z.string(),
    targetType: z.string(),
    targetId: z.string().optional(),
    summary: z.string(),
    requestId: z.string().optional(),
  })
  .openapi('AuditEntry');
