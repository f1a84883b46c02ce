// Value tests of the query matcher: equality (null matches missing, arrays match by element),
// ranges with type bracketing (under a collation for strings), $type and regular expressions.
import { bsonTypeNumber } from './bson-types';
import type { Collation } from './collation';
import { err } from './errors';
import { type Doc, RANK, bsonTypeName, compareValues, isNumeric, isDBRefDoc, isPlainObject, regexParts, toNumber, typeRank } from './values';

/** Values plus the elements of array values (one level): what most operators test. */
export function expand(values: unknown[]): unknown[] {
  let hasArray = false;
  for (const v of values) if (Array.isArray(v)) hasArray = true;
  if (!hasArray) return values;
  const out: unknown[] = [];
  for (const v of values) {
    out.push(v);
    if (Array.isArray(v)) for (const e of v) out.push(e);
  }
  return out;
}

export function isOperatorObject(v: unknown, allowIncompleteDBRef = false): v is Doc {
  if (!isPlainObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys[0]!.startsWith('$') && !isDBRefDoc(v, allowIncompleteDBRef);
}

export function toRegExp(v: unknown, options?: string): RegExp {
  let source: string;
  let flags: string;
  if (v instanceof RegExp) {
    source = v.source;
    flags = v.flags;
  } else if (bsonTypeName(v) === 'BSONRegExp') {
    [source, flags] = regexParts(v);
  } else if (typeof v === 'string') {
    source = v;
    flags = '';
  } else {
    throw err('BadValue', '$regex has to be a string');
  }
  if (options !== undefined) flags = options;
  let jsFlags = '';
  for (const f of flags) {
    if (f === 'x') {
      source = source.replace(/\\#/g, '\u0000').replace(/#[^\n]*/g, '').replace(/\s+/g, '').replace(/\u0000/g, '\\#');
    } else if ('imsu'.includes(f) && !jsFlags.includes(f)) jsFlags += f;
    else if (f !== 'g' && f !== 'y' && f !== 'd' && f !== 'v') throw err(51108, `invalid flag in regex options: ${f}`);
  }
  try {
    return new RegExp(source, jsFlags);
  } catch (e) {
    throw err(51091, `Regular expression is invalid: ${(e as Error).message}`);
  }
}

export function isRegexValue(v: unknown): boolean {
  return v instanceof RegExp || bsonTypeName(v) === 'BSONRegExp';
}

export function regexTest(re: RegExp, v: unknown): boolean {
  if (typeof v === 'string') return re.test(v);
  if (bsonTypeName(v) === 'BSONSymbol') return re.test(String((v as { value: string }).value));
  if (isRegexValue(v)) {
    const [p, f] = regexParts(v);
    return p === re.source && f === re.flags.split('').sort().join('');
  }
  return false;
}

const isNullish = (v: unknown) => v === null || v === undefined;

/** Equality test on a set of path values (incl. array elements and whole arrays). */
export function eqTest(target: unknown, collation?: Collation | null): (values: unknown[]) => boolean {
  if (target === null || target === undefined) {
    return (values) => {
      for (const v of values) {
        if (v === null || v === undefined) return true;
        if (Array.isArray(v) && v.some(isNullish)) return true;
      }
      return false;
    };
  }
  if (isRegexValue(target)) {
    const re = toRegExp(target);
    return (values) => expand(values).some((v) => regexTest(re, v));
  }
  const strings = collation?.compare;
  if (typeof target === 'string' && strings) {
    const same = (v: unknown) => typeof v === 'string' && strings(v, target) === 0;
    return (values) => {
      for (const v of values) {
        if (same(v)) return true;
        if (Array.isArray(v)) for (const e of v) if (same(e)) return true;
      }
      return false;
    };
  }
  if (typeof target === 'string') {
    return (values) => {
      for (const v of values) {
        if (v === target) return true;
        if (Array.isArray(v)) for (const e of v) if (e === target) return true;
      }
      return false;
    };
  }
  const rank = typeRank(target);
  return (values) => {
    for (const v of values) {
      if (typeRank(v) === rank && compareValues(v, target, strings) === 0) return true;
      if (Array.isArray(v)) for (const e of v) if (typeRank(e) === rank && compareValues(e, target, strings) === 0) return true;
    }
    return false;
  };
}

export function cmpTest(op: '$gt' | '$gte' | '$lt' | '$lte', target: unknown, collation?: Collation | null): (values: unknown[]) => boolean {
  const strings = collation?.compare;
  if (isNullish(target)) {
    if (op === '$gte' || op === '$lte') return eqTest(null);
    return () => false;
  }
  if (isRegexValue(target)) return eqTest(target);
  const rank = typeRank(target);
  const ok =
    op === '$gt' ? (c: number) => c > 0 : op === '$gte' ? (c: number) => c >= 0 : op === '$lt' ? (c: number) => c < 0 : (c: number) => c <= 0;
  const allTypes = rank === RANK.MINKEY || rank === RANK.MAXKEY;
  return (values) => {
    for (const v of expand(values)) {
      if (v === undefined) continue;
      const rv = typeRank(v);
      if (allTypes) {
        if (ok(compareValues(v, target, strings))) return true;
        continue;
      }
      if (rv !== rank) continue;
      if (rank === RANK.NUMBER && (Number.isNaN(toNumber(v)) || Number.isNaN(toNumber(target)))) {
        // NaN only equals NaN
        if ((op === '$gte' || op === '$lte') && Number.isNaN(toNumber(v)) && Number.isNaN(toNumber(target))) return true;
        continue;
      }
      if (ok(compareValues(v, target, strings))) return true;
    }
    return false;
  };
}

const TYPE_ALIASES: Record<string, number[]> = {
  double: [1],
  string: [2],
  object: [3],
  array: [4],
  binData: [5],
  undefined: [6],
  objectId: [7],
  bool: [8],
  date: [9],
  null: [10],
  regex: [11],
  javascript: [13],
  int: [16],
  timestamp: [17],
  long: [18],
  decimal: [19],
  minKey: [-1],
  maxKey: [127],
  number: [1, 16, 18, 19],
};

export function typeTest(spec: unknown): (values: unknown[]) => boolean {
  const specs = Array.isArray(spec) ? spec : [spec];
  const wanted = new Set<number>();
  for (const s of specs) {
    if (typeof s === 'string') {
      const nums = TYPE_ALIASES[s];
      if (!nums) throw err('BadValue', `Unknown type name alias: ${s}`);
      nums.forEach((n) => wanted.add(n));
    } else if (isNumeric(s)) wanted.add(toNumber(s));
    else throw err('TypeMismatch', 'type must be represented as a number or a string');
  }
  return (values) => {
    for (const v of values) {
      if (v === undefined) continue;
      if (wanted.has(bsonTypeNumber(v))) return true;
      if (Array.isArray(v)) for (const e of v) if (wanted.has(bsonTypeNumber(e))) return true;
    }
    return false;
  };
}
