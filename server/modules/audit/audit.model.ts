import mongoose, { Schema, Types, type InferSchemaType } from 'mongoose';

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
    summary: { type: String, required: true },
    requestId: { type: String },
  },
  { versionKey: false, collection: 'audit_log' },
);
AuditEntrySchema.index({ at: -1, _id: -1 });
AuditEntrySchema.index({ action: 1, at: -1 });
AuditEntrySchema.index({ targetType: 1, targetId: 1, at: -1 });
AuditEntrySchema.index({ actorId: 1, at: -1 });

export type AuditEntryDoc = InferSchemaType<typeof AuditEntrySchema> & { _id: Types.ObjectId };
export const AuditEntry = mongoose.models.AuditEntry ?? mongoose.model('AuditEntry', AuditEntrySchema);
