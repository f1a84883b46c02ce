// Query matcher: MongoDB query semantics over stored BSON values (type bracketing, array
// traversal, null-matches-missing, numeric comparison across int/long/double/decimal).
import { evalExpr } from 'mingo/core';
import type { Collation } from './collation';
import { err, notSupported } from './errors';
import { bsonTypeNumber } from './bson-types';
import { exprOptions } from './mingo-ops';
import { pathValues } from './paths';
import {
  type Doc,
  RANK,
  bsonTypeName,
  compareValues,
  isNumeric,
  isDBRefDoc,
  isPlainObject,
  numType,
  regexParts,
  toMingo,
  toNumber,
  typeRank,
  valuesEqual,
} from './values';

export type Pred = (doc: unknown) => boolean;

export interface MatchOptions {
  /** inside $elemMatch: $ref/$id/$db are field names of an embedded DBRef, not operators */
  dbrefFields?: boolean;
  /** mingo options (variables for $$var in $expr inside $lookup pipelines) */
  exprOptions?: unknown;
  /** the query's collation: string equality and ranges compare under it (null or absent: binary) */
  collation?: Collation | null;
}

/** Values plus the elements of array values (one level): what most operators test. */
function expand(values: unknown[]): unknown[] {
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

function isOperatorObject(v: unknown, allowIncompleteDBRef = false): v is Doc {
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

function isRegexValue(v: unknown): boolean {
  return v instanceof RegExp || bsonTypeName(v) === 'BSONRegExp';
}

function regexTest(re: RegExp, v: unknown): boolean {
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
function eqTest(target: unknown, collation?: Collation | null): (values: unknown[]) => boolean {
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

function cmpTest(op: '$gt' | '$gte' | '$lt' | '$lte', target: unknown, collation?: Collation | null): (values: unknown[]) => boolean {
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

function typeTest(spec: unknown): (values: unknown[]) => boolean {
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

const UNSUPPORTED_QUERY_OPS = new Set([
  '$near',
  '$nearSphere',
  '$geoWithin',
  '$geoIntersects',
  '$within',
  '$box',
  '$center',
  '$centerSphere',
  '$polygon',
  '$bitsAllSet',
  '$bitsAnySet',
  '$bitsAllClear',
  '$bitsAnyClear',
]);

/** Compiles the operator object (or plain value) of one field into a test on its path values. */
export function compileFieldTest(cond: unknown, opts: MatchOptions): (values: unknown[]) => boolean {
  const coll = opts.collation;
  if (isRegexValue(cond)) return eqTest(cond);
  if (!isOperatorObject(cond)) return eqTest(cond, coll);
  const tests: ((values: unknown[]) => boolean)[] = [];
  const c = cond as Doc;
  let regexOpts: string | undefined;
  if ('$options' in c) {
    if (!('$regex' in c)) throw err('BadValue', '$options needs a $regex');
    regexOpts = String(c.$options);
  }
  for (const op of Object.keys(c)) {
    const arg = c[op];
    switch (op) {
      case '$eq':
        tests.push(eqTest(arg, coll));
        break;
      case '$ne': {
        const t = eqTest(arg, coll);
        tests.push((vs) => !t(vs));
        break;
      }
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        tests.push(cmpTest(op, arg, coll));
        break;
      case '$in': {
        if (!Array.isArray(arg)) throw err('BadValue', '$in needs an array');
        const ts = arg.map((a) => {
          if (isOperatorObject(a)) throw err('BadValue', 'cannot nest $ under $in');
          return eqTest(a, coll);
        });
        tests.push((vs) => ts.some((t) => t(vs)));
        break;
      }
      case '$nin': {
        if (!Array.isArray(arg)) throw err('BadValue', '$nin needs an array');
        const ts = arg.map((a) => eqTest(a, coll));
        tests.push((vs) => !ts.some((t) => t(vs)));
        break;
      }
      case '$exists': {
        const want = !!(isNumeric(arg) ? toNumber(arg) : arg);
        tests.push((vs) => vs.some((v) => v !== undefined) === want);
        break;
      }
      case '$type':
        tests.push(typeTest(arg));
        break;
      case '$size': {
        if (!isNumeric(arg)) throw err('BadValue', '$size needs a number');
        const n = toNumber(arg);
        tests.push((vs) => vs.some((v) => Array.isArray(v) && v.length === n));
        break;
      }
      case '$all': {
        if (!Array.isArray(arg)) throw err('BadValue', '$all needs an array');
        if (arg.length === 0) {
          tests.push(() => false);
          break;
        }
        const ts = arg.map((a) => {
          if (isPlainObject(a) && '$elemMatch' in a) return compileFieldTest(a, opts);
          return eqTest(a, coll);
        });
        tests.push((vs) => ts.every((t) => t(vs)));
        break;
      }
      case '$elemMatch': {
        if (!isPlainObject(arg)) throw err('BadValue', '$elemMatch needs an Object');
        const keys = Object.keys(arg);
        const isValueOps =
          isOperatorObject(arg, true) && keys.every((k) => k.startsWith('$') && k !== '$and' && k !== '$or' && k !== '$nor' && k !== '$expr');
        let elTest: (el: unknown) => boolean;
        if (isValueOps) {
          const t = compileFieldTest(arg, opts);
          elTest = (el) => t([el]);
        } else {
          const p = compileFilter(arg, { ...opts, dbrefFields: true });
          elTest = (el) => isPlainObject(el) && p(el);
        }
        tests.push((vs) => vs.some((v) => Array.isArray(v) && v.some(elTest)));
        break;
      }
      case '$regex': {
        const re = toRegExp(arg, regexOpts);
        tests.push((vs) => expand(vs).some((v) => regexTest(re, v)));
        break;
      }
      case '$options':
        break;
      case '$not': {
        let t: (vs: unknown[]) => boolean;
        if (isRegexValue(arg)) t = eqTest(arg);
        else if (isOperatorObject(arg)) t = compileFieldTest(arg, opts);
        else throw err('BadValue', '$not needs a regex or a document');
        tests.push((vs) => !t(vs));
        break;
      }
      case '$mod': {
        if (!Array.isArray(arg) || arg.length !== 2) throw err('BadValue', 'malformed mod, needs to be an array of [divisor, remainder]');
        const d = Math.trunc(toNumber(arg[0]));
        const r = Math.trunc(toNumber(arg[1]));
        if (d === 0) throw err('BadValue', 'divisor cannot be 0');
        tests.push((vs) => expand(vs).some((v) => isNumeric(v) && Math.trunc(toNumber(v)) % d === r));
        break;
      }
      case '$comment':
        break;
      default:
        if (UNSUPPORTED_QUERY_OPS.has(op)) throw notSupported(`query operator ${op}`);
        throw err('BadValue', `unknown operator: ${op}`);
    }
  }
  if (tests.length === 1) return tests[0]!;
  return (vs) => tests.every((t) => t(vs));
}

/** Compiles a query filter into a predicate over documents. */
export function compileFilter(filter: unknown, opts: MatchOptions = {}): Pred {
  if (filter === undefined || filter === null) return () => true;
  if (!isPlainObject(filter)) throw err('TypeMismatch', 'filter must be an object');
  const preds: Pred[] = [];
  for (const key of Object.keys(filter)) {
    const cond = filter[key];
    if (key.startsWith('$') && !(opts.dbrefFields && (key === '$ref' || key === '$id' || key === '$db'))) {
      switch (key) {
        case '$and':
        case '$or':
        case '$nor': {
          if (!Array.isArray(cond) || cond.length === 0) throw err('BadValue', `${key} must be a nonempty array`);
          const ps = cond.map((c) => compileFilter(c, opts));
          if (key === '$and') preds.push((d) => ps.every((p) => p(d)));
          else if (key === '$or') preds.push((d) => ps.some((p) => p(d)));
          else preds.push((d) => !ps.some((p) => p(d)));
          break;
        }
        case '$expr': {
          const options = opts.exprOptions ?? exprOptions();
          preds.push((d) => {
            const r = evalExpr(toMingo(d), cond, options as never);
            return r !== null && r !== undefined && r !== false && r !== 0;
          });
          break;
        }
        case '$comment':
          break;
        case '$alwaysTrue':
          break;
        case '$alwaysFalse':
          preds.push(() => false);
          break;
        case '$where':
          throw notSupported('$where');
        case '$text':
          throw notSupported('$text search');
        case '$jsonSchema':
          throw notSupported('$jsonSchema');
        default:
          throw err('BadValue', `unknown top level operator: ${key}`);
      }
      continue;
    }
    const test = compileFieldTest(cond, opts);
    if (!key.includes('.')) {
      preds.push((d) => {
        const o = d as Doc;
        const v = Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
        return test([v]);
      });
    } else {
      const parts = key.split('.');
      preds.push((d) => test(pathValues(d, parts)));
    }
  }
  if (preds.length === 0) return () => true;
  if (preds.length === 1) return preds[0]!;
  return (d) => {
    for (const p of preds) if (!p(d)) return false;
    return true;
  };
}

/**
 * For the positional `$` operator: index of the first element of the array at `arrayPath` that
 * satisfies the filter's conditions on that array. -1 when none or the filter says nothing about it.
 */
export function firstMatchingIndex(filter: Doc, doc: Doc, arrayPath: string, opts: MatchOptions = {}): number {
  const arr = pathValues(doc, arrayPath.split('.'))[0];
  if (!Array.isArray(arr)) return -1;
  const conds: ((el: unknown) => boolean)[] = [];
  const visit = (f: Doc) => {
    for (const k of Object.keys(f)) {
      if (k === '$and' && Array.isArray(f[k])) {
        for (const sub of f[k] as unknown[]) if (isPlainObject(sub)) visit(sub);
        continue;
      }
      if (k === arrayPath) {
        const t = compileFieldTest(f[k], opts);
        const c = f[k];
        if (isPlainObject(c) && '$elemMatch' in c) {
          const em = compileFieldTest(c, opts);
          conds.push((el) => em([[el]]));
        } else conds.push((el) => t([el]));
      } else if (k.startsWith(arrayPath + '.')) {
        const rest = k.slice(arrayPath.length + 1);
        const p = compileFilter({ [rest]: f[k] }, opts);
        conds.push((el) => isPlainObject(el) && p(el));
      }
    }
  };
  visit(filter);
  if (conds.length === 0) return -1;
  return arr.findIndex((el) => conds.every((c) => c(el)));
}

export { bsonTypeNumber, compareValues, pathValues };
