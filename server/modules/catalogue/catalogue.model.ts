import mongoose, { Schema, Types, type InferSchemaType } from 'mongoose';
import { nameSearchKeys } from '../../platform/search';

export const FORM_CLASSES = ['oral_solid', 'small_volume_injection', 'large_volume_injection', 'other'] as const;
export type FormClass = (typeof FORM_CLASSES)[number];

export const DRUG_CATEGORIES = ['shortage', 'vbp', 'regular'] as const;
export type DrugCategory = (typeof DRUG_CATEGORIES)[number];

const DrugSchema = new Schema(
  {
    genericNameZh: { type: String, required: true, trim: true },
    genericNameEn: { type: String, required: true, trim: true },
    dosageForm: { type: String, required: true, trim: true },
    formClass: { type: String, enum: FORM_CLASSES, required: true },
    specification: { type: String, required: true, trim: true },
    packUnit: { type: String, required: true, trim: true },
    manufacturer: { type: String, required: true, trim: true },
    nhsaCode: { type: String, required: true },
    standardCode: { type: String, required: true },
    gtin: { type: String },
    tracePrefix: { type: String, required: true },
    categories: {
      shortage: { type: Boolean, required: true, default: false },
      vbp: { type: Boolean, required: true, default: false },
      regular: { type: Boolean, required: true, default: false },
    },
    active: { type: Boolean, required: true, default: true },
    /** Lower-cased names and maker, for case-insensitive substring search. */
    searchText: { type: String, required: true },
    /** Pinyin initials and full pinyin of the Chinese name (platform/search.ts), for type-ahead search. */
    nameInitials: { type: String },
    namePinyin: { type: String },
    demoKey: { type: String },
  },
  { timestamps: true, collection: 'drugs' },
);
DrugSchema.index({ nhsaCode: 1 }, { unique: true });
DrugSchema.index({ standardCode: 1 }, { unique: true });
DrugSchema.index({ tracePrefix: 1 }, { unique: true });
DrugSchema.index({ gtin: 1 }, { unique: true, partialFilterExpression: { gtin: { $type: 'string' } } });
DrugSchema.index({ genericNameZh: 1, _id: 1 });
// NOTE: the dashboard counts the shortage drugs covered by rounds.
DrugSchema.index({ 'categories.shortage': 1 });
DrugSchema.index({ nameInitials: 1 });
DrugSchema.index({ namePinyin: 1 });
// NOTE: whichever path creates a drug (service, import, seed), its search keys follow its name.
DrugSchema.pre('validate', function () {
  if (this.genericNameZh && (this.isModified('genericNameZh') || !this.nameInitials)) Object.assign(this, nameSearchKeys(this.genericNameZh));
});

const ReferencePriceSchema = new Schema(
  {
    drugId: { type: Schema.Types.ObjectId, ref: 'Drug', required: true },
    priceFen: { type: Number, required: true },
    effectiveFrom: { type: Date, required: true },
    note: { type: String, trim: true },
    createdAt: { type: Date, required: true },
    createdBy: { type: Schema.Types.ObjectId },
  },
  { versionKey: false, collection: 'reference_prices' },
);
ReferencePriceSchema.index({ drugId: 1, effectiveFrom: -1 }, { unique: true });

export type DrugDoc = InferSchemaType<typeof DrugSchema> & { _id: Types.ObjectId; createdAt: Date; updatedAt: Date };
export type ReferencePriceDoc = InferSchemaType<typeof ReferencePriceSchema> & { _id: Types.ObjectId };

export const Drug = mongoose.models.Drug ?? mongoose.model('Drug', DrugSchema);
export const ReferencePrice = mongoose.models.ReferencePrice ?? mongoose.model('ReferencePrice', ReferencePriceSchema);
