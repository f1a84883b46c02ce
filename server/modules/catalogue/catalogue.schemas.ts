import { IsoDateTime, ObjectIdString, PageQuery, PositiveFen, z } from '../../platform/schemas';
import { DRUG_CATEGORIES, FORM_CLASSES } from './catalogue.model';

const text = (max: number) => z.string().trim().min(1).max(max);

export const FormClassSchema = z.enum(FORM_CLASSES);
export const DrugCategorySchema = z.enum(DRUG_CATEGORIES);

export const DrugCategories = z
  .object({ shortage: z.boolean().default(false), vbp: z.boolean().default(false), regular: z.boolean().default(false) })
  .strict()
  .refine((c) => c.shortage || c.vbp || c.regular, 'validationIssues.categoryRequired');

/** The editable fields of a drug; code formats are checked by the service (one message per code). */
export const DrugFields = z
  .object({
    genericNameZh: text(100),
    genericNameEn: text(160),
    dosageForm: text(40),
    formClass: FormClassSchema,
    specification: text(120),
    packUnit: text(40),
    manufacturer: text(160),
    nhsaCode: z.string().trim().toUpperCase().min(1).max(40),
    standardCode: z.string().trim().min(1).max(40),
    gtin: z.string().trim().max(20).optional(),
    tracePrefix: z.string().trim().min(1).max(20),
    categories: DrugCategories,
  })
  .strict();

export const CreateDrugBody = DrugFields.extend({
  referencePriceFen: PositiveFen.optional(),
  effectiveFrom: IsoDateTime.optional(),
})
  .strict()
  .openapi('CreateDrug');
export type CreateDrugInput = z.infer<typeof CreateDrugBody>;

export const UpdateDrugBody = DrugFields.partial().extend({ active: z.boolean().optional() }).strict().openapi('UpdateDrug');
export type UpdateDrugInput = z.infer<typeof UpdateDrugBody>;

export const ReferencePriceBody = z
  .object({ priceFen: PositiveFen, effectiveFrom: IsoDateTime, note: z.string().trim().max(200).optional() })
  .strict()
  .openapi('ReferencePriceInput');
export type ReferencePriceInput = z.infer<typeof ReferencePriceBody>;

export const DrugListQuery = PageQuery.extend({
  q: z.string().trim().max(100).optional(),
  code: z.string().trim().max(40).optional(),
  dosageForm: z.string().trim().max(40).optional(),
  formClass: FormClassSchema.optional(),
  category: DrugCategorySchema.optional(),
  active: z.enum(['true', 'false', 'all']).default('true'),
}).strict();
export type DrugListQueryInput = z.infer<typeof DrugListQuery>;

export const ExportQuery = DrugListQuery.omit({ cursor: true, limit: true })
  .extend({ format: z.enum(['csv', 'xlsx']).default('csv') })
  .strict();

export const ImportQuery = z.object({ dryRun: z.enum(['true', 'false']).default('false') }).strict();

export const DrugView = z
  .object({
    id: ObjectIdString,
    genericNameZh: z.string(),
    genericNameEn: z.string(),
    dosageForm: z.string(),
    formClass: FormClassSchema,
    specification: z.string(),
    packUnit: z.string(),
    manufacturer: z.string(),
    nhsaCode: z.string(),
    standardCode: z.string(),
    gtin: z.string().optional(),
    tracePrefix: z.string(),
    categories: z.object({ shortage: z.boolean(), vbp: z.boolean(), regular: z.boolean() }),
    active: z.boolean(),
    referencePriceFen: z.number().int().nullable(),
    referencePriceFrom: z.string().nullable(),
  })
  .openapi('Drug');

export const DrugList = z.object({ data: z.array(DrugView), nextCursor: z.string().nullable() });

export const ReferencePriceView = z
  .object({ id: z.string(), drugId: z.string(), priceFen: z.number().int(), effectiveFrom: z.string(), effectiveTo: z.string().nullable(), note: z.string().optional() })
  .openapi('ReferencePrice');

export const ImportReport = z
  .object({
    imported: z.number().int(),
    dryRun: z.boolean(),
    rows: z.number().int(),
    errors: z.array(z.object({ row: z.number().int(), field: z.string().optional(), code: z.string(), message: z.string() })),
  })
  .openapi('CatalogueImportReport');
