// Query matcher: compiles a filter (field conditions, $and/$or/$nor, $expr) into a predicate over
// documents with MongoDB query semantics; the value tests themselves are in ./match-values.
import { evalExpr } from 'mingo/core';
import { bsonTypeNumber } from './bson-types';
import type { Collation } from './collation';
import { err, notSupported } from './errors';
import { expand, isOperatorObject, toRegExp, isRegexValue, regexTest, eqTest, cmpTest, typeTest } from './match-values';
import { exprOptions } from './mingo-ops';
import { pathValues } from './paths';
import { type Doc, compareValues, isNumeric, isPlainObject, toMingo, toNumber } from './values';

export type Pred = (doc: unknown) => boolean;

export interface MatchOptions {
  /** inside $elemMatch: $ref/$id/$db are field names of an embedded DBRef, not operators */
  dbrefFields?: boolean;
  /** mingo options (variables for $$var in $expr inside $lookup pipelines) */
  exprOptions?: unknown;
  /** the query's collation: string equality and ranges compare under it (null or absent: binary) */
  collation?: Collation | null;
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
