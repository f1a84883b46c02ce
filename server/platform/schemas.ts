import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { Types } from 'mongoose';
import { z } from 'zod';

extendZodWithOpenApi(z);

/** A 24-hex MongoDB id as a string; rejects anything else (including operator objects). */
// NOTE: no regex flags in schemas: OpenAPI patterns are flagless ECMA-262 (openApiDocument checks).
export const ObjectIdString = z
  .string()
  .regex(/^[a-fA-F0-9]{24}$/, 'validationIssues.hexId')
  .refine((s) => Types.ObjectId.isValid(s), 'validationIssues.hexId')
  .openapi({ example: '665f1c2e8b3f4a0012ab34cd' });

/** An amount in integer fen (CNY cents): no fractions, no negatives, no absurd sizes. */
export const Fen = z
  .number()
  .int()
  .min(0)
  .max(1_000_000_000_000)
  .openapi({ description: 'integer fen (CNY cents)', example: 195000 });

/** A strictly positive amount in fen. */
export const PositiveFen = Fen.refine((v) => v > 0, 'validationIssues.positive');

export const IsoDateTime = z.iso.datetime({ offset: true }).openapi({ example: '2026-11-23T08:00:00+08:00' });

export const Roles = ['operator', 'pharmacist', 'hospital_finance', 'distributor', 'bank_officer'] as const;
export const RoleSchema = z.enum(Roles);
export type Role = z.infer<typeof RoleSchema>;

export const OrgTypes = ['operator', 'hospital', 'distributor', 'bank'] as const;
export const OrgTypeSchema = z.enum(OrgTypes);
export type OrgType = z.infer<typeof OrgTypeSchema>;

/** Which roles belong to which organisation type. */
export const ROLES_BY_ORG_TYPE: Record<OrgType, readonly Role[]> = {
  operator: ['operator'],
  hospital: ['pharmacist', 'hospital_finance'],
  distributor: ['distributor'],
  bank: ['bank_officer'],
};

/** Cursor pagination query shared by every list endpoint. */
export const PageQuery = z
  .object({
    cursor: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

export const IdParams = z.object({ id: ObjectIdString }).strict();

/** The error body every 4xx/5xx carries. */
export const ErrorResponse = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), details: z.array(z.unknown()), requestId: z.string().optional() }),
  })
  .openapi('Error');

export { z };
