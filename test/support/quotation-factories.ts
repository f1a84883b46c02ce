// Factories for the catalogue and quotation rounds, through the real API: drugs with valid unique
// codes, rounds opened now and closing soon, and published listings other modules can order from.
import { randomInt } from 'node:crypto';
import { gs1CheckDigit, generateValidGtin13 } from '../../server/modules/catalogue/catalogue.codes';
import { buildUser, type TestUser } from './factories';

let counter = randomInt(0, 40_000);
let operator: TestUser | undefined;

/** An operator user shared by these factories (created once per run). */
export async function catalogueOperator(): Promise<TestUser> {
  operator ??= await buildUser('operator');
  return operator;
}

/** Valid, run-unique codes for a new drug (NHSA code and 本位码 share the enterprise code). */
export function uniqueDrugCodes(): { nhsaCode: string; standardCode: string; gtin: string; tracePrefix: string } {
  counter += 1;
  const n = counter;
  const enterprise = String(10_000 + (n % 90_000)).padStart(5, '0');
  const nameCode = `D${String(n % 1000).padStart(3, '0')}`;
  const body = `869${enterprise}${String(n % 100_000).padStart(5, '0')}`;
  return {
    nhsaCode: `XB01AD${nameCode}A0020101${enterprise}`,
    standardCode: body + gs1CheckDigit(body),
    gtin: generateValidGtin13(500_000_000 + n),
    tracePrefix: String(2_000_000 + n),
  };
}

export interface DrugOverrides {
  genericNameZh?: string;
  genericNameEn?: string;
  dosageForm?: string;
  formClass?: 'oral_solid' | 'small_volume_injection' | 'large_volume_injection' | 'other';
  specification?: string;
  packUnit?: string;
  manufacturer?: string;
  categories?: { shortage?: boolean; vbp?: boolean; regular?: boolean };
  /** Reference price in force from `effectiveFrom` (default: a week ago); null for none. */
  referencePriceFen?: number | null;
  effectiveFrom?: Date;
}

export interface BuiltDrug {
  id: string;
  genericNameZh: string;
  genericNameEn: string;
  nhsaCode: string;
  standardCode: string;
  gtin?: string;
  tracePrefix: string;
  referencePriceFen: number | null;
}

/** The body of a valid "create drug" request (unique codes), with overrides. */
export function drugBody(overrides: DrugOverrides = {}): Record<string, unknown> {
  const codes = uniqueDrugCodes();
  const body: Record<string, unknown> = {
    genericNameZh: overrides.genericNameZh ?? `测试药品${counter}注射液`,
    genericNameEn: overrides.genericNameEn ?? `Test Drug ${counter} Injection`,
    dosageForm: overrides.dosageForm ?? '注射剂',
    formClass: overrides.formClass ?? 'small_volume_injection',
    specification: overrides.specification ?? '2ml:10mg',
    packUnit: overrides.packUnit ?? '支',
    manufacturer: overrides.manufacturer ?? '测试制药有限公司',
    ...codes,
    categories: { shortage: true, vbp: false, regular: false, ...overrides.categories },
  };
  const price = overrides.referencePriceFen === undefined ? 289_000 : overrides.referencePriceFen;
  if (price !== null) {
    body.referencePriceFen = price;
    body.effectiveFrom = (overrides.effectiveFrom ?? new Date(Date.now() - 7 * 86_400_000)).toISOString();
  }
  return body;
}

/** Adds a drug to the catalogue through the operator API (default reference price ¥2,890.00). */
export async function buildDrug(overrides: DrugOverrides = {}): Promise<BuiltDrug> {
  const op = await catalogueOperator();
  const res = await op.api().post('/api/v1/catalogue/drugs', drugBody(overrides));
  if (res.status !== 201) throw new Error(`creating a drug failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as BuiltDrug;
}
