// The append-only audit log. A command writes its entry in its own transaction (unit-of-work.ts);
// the audit module lists and shows it. Summaries are messages (a key with parameters), rendered in the
// reader's language.
import mongoose, { Schema, Types, type InferSchemaType } from 'mongoose';
import type { Actor } from './auth';
import type { Message } from './messages';

const AuditEntrySchema = new Schema(
  {
    at: { type: Date, required: true },
    actorId: { type: Schema.Types.ObjectId },
    actorName: { type: String },
    orgId: { type: Schema.Types.ObjectId },
    orgName: { type: String },
    action: { type: String, required: true },
    targetType: { type: String, required: true },
    targetId: { type: String },
    // NOTE: a message { key, params }; entries written before messages existed hold English text.
    summary: { type: Schema.Types.Mixed, required: true },
    requestId: { type: String },
  },
  { versionKey: false, collection: 'audit_log' },
);
AuditEntrySchema.index({ at: -1, _id: -1 });
AuditEntrySchema.index({ action: 1, at: -1 });
AuditEntrySchema.index({ targetType: 1, targetId: 1, at: -1 });
AuditEntrySchema.index({ actorId: 1, at: -1 });

export type AuditEntryDoc = Omit<InferSchemaType<typeof AuditEntrySchema>, 'summary'> & { _id: Types.ObjectId; summary: Message | string };
export const AuditEntry = mongoose.models.AuditEntry ?? mongoose.model('AuditEntry', AuditEntrySchema);

/** Who did it: a signed-in user, or the system (a job, a subscriber). */
export type AuditActor = Pick<Actor, 'id' | 'name' | 'orgId' | 'orgName'> | null;

export interface AuditInput {
  /** `<module>.<entity>.<verb>`, e.g. `order.accepted`. */
  action: string;
  targetType: string;
  targetId?: string;
  summary: Message;
}

/** The stored document of an entry (not yet written). */
export function auditDocument(actor: AuditActor, input: AuditInput, at: Date, requestId: string | undefined): Record<string, unknown> {
  return {
    at,
    ...(actor ? { actorId: new Types.ObjectId(actor.id), actorName: actor.name, orgId: new Types.ObjectId(actor.orgId), orgName: actor.orgName } : { actorName: 'system' }),
    action: input.action,
    targetType: input.targetType,
    ...(input.targetId ? { targetId: input.targetId } : {}),
    summary: input.summary,
    ...(requestId ? { requestId } : {}),
  };
}
