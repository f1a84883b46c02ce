// Collations: locale-aware string comparison through ICU's Intl.Collator (Node ships full ICU).
// A collation is parsed once into a spec filled with mongod's defaults (what listIndexes and
// listCollections show) and a string order; `null` stands for the simple (binary) collation.
import { err, notSupported } from './errors';
import { type Doc, type StringOrder, isNumeric, isPlainObject, toNumber } from './values';

export type { StringOrder };

export interface Collation {
  /** the full specification, defaults filled in as mongod reports them */
  readonly spec: Doc;
  /** canonical text of the spec: two collations are the same when their keys are */
  readonly key: string;
  readonly compare: StringOrder;
}

/** The ICU version mongod 7.0 reports in a collation spec. */
const ICU_VERSION = '57.1';

const FIELDS: Record<string, (v: unknown) => boolean> = {
  locale: (v) => typeof v === 'string',
  caseLevel: (v) => typeof v === 'boolean',
  caseFirst: (v) => v === 'upper' || v === 'lower' || v === 'off',
  strength: (v) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 5,
  numericOrdering: (v) => typeof v === 'boolean',
  alternate: (v) => v === 'non-ignorable' || v === 'shifted',
  maxVariable: (v) => v === 'punct' || v === 'space',
  normalization: (v) => typeof v === 'boolean',
  backwards: (v) => typeof v === 'boolean',
  version: (v) => typeof v === 'string',
};

const cache = new Map<string, Collation>();

function numberValue(v: unknown): unknown {
  return isNumeric(v) ? toNumber(v) : v;
}

function describe(raw: Doc): string {
  return `{ ${Object.entries(raw).map(([k, v]) => `${k}: ${JSON.stringify(numberValue(v))}`).join(', ')} }`;
}

/**
 * Parses a `collation` option: null for none or `{locale: 'simple'}`, else the collation. Refuses
 * unknown fields (40415), invalid values and locales ICU does not know (BadValue) as mongod does,
 * and `backwards: true` (French secondary ordering, which Intl.Collator cannot express).
 */
export function parseCollation(raw: unknown): Collation | null {
  if (raw === undefined || raw === null) return null;
  if (!isPlainObject(raw)) throw err('TypeMismatch', "BSON field 'collation' is the wrong type, expected type 'object'");
  for (const k of Object.keys(raw)) {
    const check = FIELDS[k];
    if (!check) throw err(40415, `BSON field 'collation.${k}' is an unknown field.`);
    if (!check(numberValue(raw[k]))) throw err('BadValue', `Field '${k}' is invalid in: ${describe(raw)}`);
  }
  if (raw.locale === undefined) throw err(40414, "BSON field 'collation.locale' is missing but a required field");
  const locale = raw.locale as string;
  if (locale === 'simple') return null;
  const spec: Doc = {
    locale,
    caseLevel: (raw.caseLevel as boolean | undefined) ?? false,
    caseFirst: (raw.caseFirst as string | undefined) ?? 'off',
    strength: (numberValue(raw.strength) as number | undefined) ?? 3,
    numericOrdering: (raw.numericOrdering as boolean | undefined) ?? false,
    alternate: (raw.alternate as string | undefined) ?? 'non-ignorable',
    maxVariable: (raw.maxVariable as string | undefined) ?? 'punct',
    normalization: (raw.normalization as boolean | undefined) ?? false,
    backwards: (raw.backwards as boolean | undefined) ?? false,
    version: ICU_VERSION,
  };
  const key = JSON.stringify(spec);
  const known = cache.get(key);
  if (known) return known;
  if (spec.backwards) throw notSupported('collation option backwards: true');
  const tag = locale.replace(/_/g, '-');
  let supported: string[];
  try {
    supported = locale === '' ? [] : Intl.Collator.supportedLocalesOf(tag);
  } catch {
    supported = [];
  }
  if (supported.length === 0) throw err('BadValue', `Field 'locale' is invalid in: ${describe(raw)}`);
  const collation: Collation = { spec, key, compare: stringOrder(tag, spec) };
  cache.set(key, collation);
  return collation;
}

function stringOrder(tag: string, spec: Doc): StringOrder {
  const strength = spec.strength as number;
  const caseLevel = spec.caseLevel as boolean;
  const sensitivity = strength === 1 ? (caseLevel ? 'case' : 'base') : strength === 2 && !caseLevel ? 'accent' : 'variant';
  const collator = new Intl.Collator(tag, {
    usage: 'sort',
    sensitivity,
    numeric: spec.numericOrdering as boolean,
    caseFirst: spec.caseFirst === 'off' ? 'false' : (spec.caseFirst as 'upper' | 'lower'),
    ignorePunctuation: spec.alternate === 'shifted',
  });
  const compare = collator.compare;
  if (strength < 5) return compare;
  // identical strength: strings equal at every level are still told apart by their code points
  return (a, b) => compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** The collation a command runs under: its own, else the collection's default, else simple. */
export function effectiveCollation(requested: unknown, collectionDefault: Collation | null | undefined): Collation | null {
  if (requested !== undefined && requested !== null) return parseCollation(requested);
  return collectionDefault ?? null;
}

/** True when two collations order strings the same way (null is simple). */
export function sameCollation(a: Collation | null, b: Collation | null): boolean {
  return (a?.key ?? null) === (b?.key ?? null);
}

/** True when a value holds a string anywhere (collation matters for comparing it). */
export function containsString(v: unknown): boolean {
  if (typeof v === 'string') return true;
  if (Array.isArray(v)) return v.some(containsString);
  if (isPlainObject(v)) return Object.values(v).some(containsString);
  return false;
}
