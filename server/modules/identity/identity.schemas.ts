import { ObjectIdString, OrgTypeSchema, RoleSchema, z } from '../../platform/schemas';

export const LoginBody = z
  .object({
    email: z.string().trim().toLowerCase().email().max(200),
    password: z.string().min(1).max(200),
  })
  .strict()
  .openapi('LoginBody');

export const LoginResponse = z
  .object({
    token: z.string(),
    expiresAt: z.string(),
    user: z.object({ id: z.string(), name: z.string(), email: z.string(), role: RoleSchema, orgId: z.string(), orgName: z.string(), orgType: OrgTypeSchema }),
  })
  .openapi('LoginResponse');

/** 统一社会信用代码: 18 characters, digits and uppercase letters except I, O, Z, S, V. */
const CreditCode = z.string().trim().regex(/^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/, 'validationIssues.creditCode');

export const CreateOrganisationBody = z
  .object({
    name: z.string().trim().min(2).max(100),
    type: OrgTypeSchema,
    hospitalLevel: z.coerce.number().int().min(1).max(3).optional(),
    address: z.string().trim().max(200).optional(),
    creditCode: CreditCode.optional(),
    contactPhone: z.string().trim().regex(/^[0-9+\- ]{5,20}$/, 'validationIssues.phone').optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.type === 'hospital' && v.hospitalLevel === undefined) ctx.addIssue({ code: 'custom', path: ['hospitalLevel'], message: 'validationIssues.hospitalLevelRequired' });
    if (v.type !== 'hospital' && v.hospitalLevel !== undefined) ctx.addIssue({ code: 'custom', path: ['hospitalLevel'], message: 'validationIssues.levelOnlyForHospitals' });
    if (v.type === 'hospital' && !v.address) ctx.addIssue({ code: 'custom', path: ['address'], message: 'validationIssues.hospitalAddressRequired' });
  })
  .openapi('CreateOrganisationBody');
export type CreateOrganisationInput = z.infer<typeof CreateOrganisationBody>;

export const Password = z
  .string()
  .min(10)
  .max(200)
  .refine((p) => /[A-Za-z]/.test(p) && /\d/.test(p), 'validationIssues.lettersAndDigits');

export const CreateUserBody = z
  .object({
    orgId: ObjectIdString,
    name: z.string().trim().min(1).max(100),
    email: z.string().trim().toLowerCase().email().max(200),
    role: RoleSchema,
    password: Password,
  })
  .strict()
  .openapi('CreateUserBody');
export type CreateUserInput = z.infer<typeof CreateUserBody>;

export const OrganisationView = z
  .object({
    id: z.string(),
    name: z.string(),
    type: OrgTypeSchema,
    hospitalLevel: z.number().optional(),
    address: z.string().optional(),
    creditCode: z.string().optional(),
    active: z.boolean(),
    userCount: z.number().int().optional(),
  })
  .openapi('Organisation');

export const UserView = z
  .object({ id: z.string(), name: z.string(), email: z.string(), role: RoleSchema, orgId: z.string(), orgName: z.string().optional(), disabled: z.boolean() })
  .openapi('User');

/** A name-ordered list's cursor (carries the last name, so longer than a time cursor). */
const KeyCursor = z.string().regex(/^[A-Za-z0-9_-]{1,800}$/);
const SearchText = z.string().trim().max(100);

export const OrgListQuery = z
  .object({ type: OrgTypeSchema.optional(), q: SearchText.optional(), cursor: KeyCursor.optional(), limit: z.coerce.number().int().min(1).max(200).default(50) })
  .strict();
export type OrgListInput = z.infer<typeof OrgListQuery>;

export const OrgSearchQuery = z
  .object({ q: SearchText.optional(), type: OrgTypeSchema.optional(), limit: z.coerce.number().int().min(1).max(50).default(20) })
  .strict()
  .openapi('OrganisationSearchQuery');
export type OrgSearchInput = z.infer<typeof OrgSearchQuery>;

export const OrgSearchHit = z
  .object({ id: z.string(), name: z.string(), type: OrgTypeSchema, hospitalLevel: z.number().optional(), label: z.string() })
  .openapi('OrganisationSearchHit');

export const UserListQuery = z
  .object({ q: SearchText.optional(), orgId: ObjectIdString.optional(), role: RoleSchema.optional(), cursor: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) })
  .strict();
export type UserListInput = z.infer<typeof UserListQuery>;
