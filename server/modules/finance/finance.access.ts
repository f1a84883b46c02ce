import { Types } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { NotFoundError, ValidationError } from '../../platform/errors';
import { getOrganisation } from '../identity';
import { GuaranteeLine } from './finance.model';
import { msg } from '../../platform/messages';

const HOSPITAL_NOT_FOUND = () => new NotFoundError({ code: 'HOSPITAL_NOT_FOUND', message: msg('errorCodes.HOSPITAL_NOT_FOUND') });

/** Hospitals a bank may see: those with a line application (any status) at that bank. */
export async function hospitalsOfBank(bankOrgId: string): Promise<string[]> {
  const ids = await GuaranteeLine.distinct('hospitalOrgId', { bankOrgId: new Types.ObjectId(bankOrgId) });
  return ids.map(String);
}

/**
 * Tenancy for hospital finance data: the operator sees every hospital, a hospital only itself, a
 * bank only hospitals that applied to it; anything else is a 404 (never a hint that it exists).
 */
export async function assertHospitalVisible(actor: Actor, hospitalOrgId: string): Promise<void> {
  if (!Types.ObjectId.isValid(hospitalOrgId)) throw HOSPITAL_NOT_FOUND();
  if (actor.role === 'operator') {
    const org = await getOrganisation(hospitalOrgId);
    if (!org || org.type !== 'hospital') throw HOSPITAL_NOT_FOUND();
    return;
  }
  if (actor.orgType === 'hospital') {
    if (actor.orgId !== hospitalOrgId) throw HOSPITAL_NOT_FOUND();
    return;
  }
  if (actor.role === 'bank_officer') {
    const seen = await GuaranteeLine.exists({ bankOrgId: new Types.ObjectId(actor.orgId), hospitalOrgId: new Types.ObjectId(hospitalOrgId) });
    if (!seen) throw HOSPITAL_NOT_FOUND();
    return;
  }
  throw HOSPITAL_NOT_FOUND();
}

/** The hospital a request is about: the caller's own for hospital users, else the named one (checked). */
export async function resolveHospital(actor: Actor, hospitalOrgId: string | undefined): Promise<string> {
  if (actor.orgType === 'hospital') {
    if (hospitalOrgId && hospitalOrgId !== actor.orgId) throw HOSPITAL_NOT_FOUND();
    return actor.orgId;
  }
  if (!hospitalOrgId) throw new ValidationError({ code: 'HOSPITAL_REQUIRED', message: msg('errorCodes.HOSPITAL_REQUIRED'), details: [{ path: 'hospitalOrgId', message: 'required' }] });
  await assertHospitalVisible(actor, hospitalOrgId);
  return hospitalOrgId;
}

/** An active organisation of the given type, or a 404/400 that says what is wrong. */
export async function requireOrg(orgId: string, type: 'hospital' | 'bank' | 'distributor', path: string) {
  const org = await getOrganisation(orgId);
  if (!org || !org.active) throw new NotFoundError({ code: `${type.toUpperCase()}_NOT_FOUND`, message: msg(`errorCodes.${type.toUpperCase()}_NOT_FOUND`), details: [{ path, message: 'not found' }] });
  if (org.type !== type) {
    throw new ValidationError({ code: `NOT_A_${type.toUpperCase()}`, message: msg(`errorCodes.ORG_NOT_${type.toUpperCase()}`), details: [{ path, message: `must be a ${type}` }] });
  }
  return org;
}
