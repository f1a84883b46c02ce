// Index specifications: validation of a createIndexes spec, its stored form (default name,
// options, the full collation) and when two specs describe the same index.
import { type Collation, parseCollation } from './collation';
import { err, notSupported } from './errors';
import { compileFilter } from './matcher';
import { type Doc, formatValue, isNumeric, isPlainObject, keyOf, toNumber } from './values';

export interface IndexSpec {
  v: number;
  key: Doc;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Doc;
  expireAfterSeconds?: number;
  [opt: string]: unknown;
}

const ALLOWED_OPTIONS = new Set([
  'v',
  'key',
  'name',
  'unique',
  'sparse',
  'partialFilterExpression',
  'expireAfterSeconds',
  'background',
  'ns',
  'hidden',
]);

export function defaultIndexName(key: Doc): string {
  return Object.keys(key)
    .map((k) => `${k}_${String(isNumeric(key[k]) ? toNumber(key[k]) : key[k])}`)
    .join('_');
}

/**
 * Validates a createIndexes spec and returns it in stored form; an index without a collation of
 * its own takes the collection's default (stored in full, as listIndexes shows it).
 */
export function normalizeIndexSpec(raw: Doc, collectionDefault: Collation | null = null): IndexSpec {
  if (!isPlainObject(raw.key) || Object.keys(raw.key).length === 0) throw err('CannotCreateIndex', 'Index keys cannot be empty.');
  const key: Doc = {};
  for (const f of Object.keys(raw.key)) {
    const d = raw.key[f];
    if (isNumeric(d)) {
      const n = toNumber(d);
      if (n === 0 || Number.isNaN(n)) throw err('CannotCreateIndex', `Values in the index key pattern can't be 0 or NaN: ${f}`);
      key[f] = n > 0 ? 1 : -1;
    } else if (d === 'hashed') key[f] = 'hashed';
    else if (typeof d === 'string') throw notSupported(`index type '${d}'`);
    else throw err('CannotCreateIndex', `Values in v:2 index key pattern cannot be of type ${typeof d}`);
  }
  for (const o of Object.keys(raw)) {
    if (o === 'collation') continue;
    if (!ALLOWED_OPTIONS.has(o)) {
      if (['weights', 'default_language', 'language_override', 'textIndexVersion', '2dsphereIndexVersion', 'bits', 'min', 'max', 'wildcardProjection'].includes(o)) throw notSupported(`index option '${o}'`);
      if (o === 'storageEngine' || o === 'clustered') throw notSupported(`index option '${o}'`);
      throw err('InvalidOptions', `The field '${o}' is not valid for an index specification. Specification: ${formatValue(raw)}`);
    }
  }
  const spec: IndexSpec = { v: 2, key, name: typeof raw.name === 'string' ? raw.name : defaultIndexName(key) };
  if (raw.unique) spec.unique = true;
  if (raw.sparse) spec.sparse = true;
  if (raw.partialFilterExpression !== undefined) {
    if (!isPlainObject(raw.partialFilterExpression)) throw err('CannotCreateIndex', 'partialFilterExpression must be an object');
    compileFilter(raw.partialFilterExpression);
    spec.partialFilterExpression = raw.partialFilterExpression;
  }
  if (raw.expireAfterSeconds !== undefined) spec.expireAfterSeconds = toNumber(raw.expireAfterSeconds);
  if (raw.hidden) spec.hidden = true;
  const collation = raw.collation === undefined ? collectionDefault : parseCollation(raw.collation);
  if (collation && !(Object.keys(key).join() === '_id' && spec.name === '_id_')) spec.collation = collation.spec;
  // NOTE: kept so that a rebuild from the journal does not take the collection's default instead
  else if (!collation && collectionDefault && raw.collation !== undefined) spec.collation = { locale: 'simple' };
  if (spec.name === '_id_' && (spec.unique === false || Object.keys(key).join() !== '_id')) {
    throw err('BadValue', 'The _id index name is reserved');
  }
  if (Object.keys(key).join() === '_id' && spec.name === '_id_') delete spec.unique;
  return spec;
}

export function sameIndexOptions(a: IndexSpec, b: IndexSpec): boolean {
  return (
    !!a.unique === !!b.unique &&
    !!a.sparse === !!b.sparse &&
    keyOf(a.partialFilterExpression ?? null) === keyOf(b.partialFilterExpression ?? null) &&
    (a.expireAfterSeconds ?? null) === (b.expireAfterSeconds ?? null) &&
    keyOf(a.collation ?? null) === keyOf(b.collation ?? null)
  );
}
