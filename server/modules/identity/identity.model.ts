import mongoose, { Schema, Types, type InferSchemaType } from 'mongoose';
import { OrgTypes, Roles } from '../../platform/schemas';
import { nameSearchKeys } from '../../platform/search';

const OrganisationSchema = new Schema(
  {
    name: { type: String, required: true, trim: true },
    type: { type: String, enum: OrgTypes, required: true },
    hospitalLevel: { type: Number, enum: [1, 2, 3] },
    address: { type: String, trim: true },
    creditCode: { type: String, trim: true },
    contactPhone: { type: String, trim: true },
    active: { type: Boolean, required: true, default: true },
    /** Pinyin initials and full pinyin of the name (platform/search.ts), for type-ahead search. */
    nameInitials: { type: String },
    namePinyin: { type: String },
    demoKey: { type: String },
  },
  { timestamps: true, collection: 'organisations' },
);
OrganisationSchema.index({ name: 1 }, { unique: true });
OrganisationSchema.index({ creditCode: 1 }, { unique: true, partialFilterExpression: { creditCode: { $type: 'string' } } });
OrganisationSchema.index({ type: 1, name: 1 });
OrganisationSchema.index({ nameInitials: 1 });
OrganisationSchema.index({ namePinyin: 1 });
// NOTE: whichever path creates an organisation (service, seed, factory), its search keys follow its name.
OrganisationSchema.pre('validate', function () {
  if (this.name && (this.isModified('name') || !this.nameInitials)) Object.assign(this, nameSearchKeys(this.name));
});

const UserSchema = new Schema(
  {
    orgId: { type: Schema.Types.ObjectId, ref: 'Organisation', required: true },
    email: { type: String, required: true, lowercase: true, trim: true },
    name: { type: String, required: true, trim: true },
    role: { type: String, enum: Roles, required: true },
    passwordHash: { type: String, required: true },
    disabled: { type: Boolean, required: true, default: false },
    lastLoginAt: Date,
    // NOTE: the language the user last chose; live notifications are rendered in it.
    lang: { type: String, enum: ['zh', 'en'] },
    /** Pinyin initials and full pinyin of the name (platform/search.ts), for the operator's user search. */
    nameInitials: { type: String },
    namePinyin: { type: String },
  },
  { timestamps: true, collection: 'users' },
);
UserSchema.index({ email: 1 }, { unique: true });
UserSchema.index({ orgId: 1, role: 1 });
// NOTE: the operator's user list pages by creation time.
UserSchema.index({ createdAt: -1, _id: -1 });
UserSchema.index({ nameInitials: 1 });
UserSchema.index({ namePinyin: 1 });
UserSchema.pre('validate', function () {
  if (this.name && (this.isModified('name') || !this.nameInitials)) Object.assign(this, nameSearchKeys(this.name));
});

const SessionSchema = new Schema(
  {
    _id: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    revokedAt: Date,
    ip: String,
    userAgent: String,
  },
  { versionKey: false, collection: 'sessions' },
);
SessionSchema.index({ userId: 1 });
SessionSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export type OrganisationDoc = InferSchemaType<typeof OrganisationSchema> & { _id: Types.ObjectId };
export type UserDoc = InferSchemaType<typeof UserSchema> & { _id: Types.ObjectId };
export type SessionDoc = InferSchemaType<typeof SessionSchema>;

export const Organisation = mongoose.models.Organisation ?? mongoose.model('Organisation', OrganisationSchema);
export const User = mongoose.models.User ?? mongoose.model('User', UserSchema);
export const Session = mongoose.models.Session ?? mongoose.model('Session', SessionSchema);
