import mongoose, { Schema } from 'mongoose';

const SettingsSchema = new Schema(
  {
    _id: { type: String, required: true },
    value: { type: Schema.Types.Mixed, required: true },
    updatedAt: { type: Date, required: true },
    updatedBy: { type: String },
  },
  { versionKey: false, collection: 'settings' },
);

export const SettingsDoc = mongoose.models.SettingsDoc ?? mongoose.model('SettingsDoc', SettingsSchema);
