// The mingo context the engine evaluates aggregation stages and expressions with: mingo's own
// operators, except $match / $sort (replaced by the engine's MongoDB-exact matcher and ordering),
// numeric accumulators that keep int/long/double/decimal apart, and stages that write or need
// server features refused with a clear error.
import { Context, ProcessingMode, evalExpr } from 'mingo/core';
import { Lazy } from 'mingo/lazy';
import * as accumulatorOperators from 'mingo/operators/accumulator';
import * as expressionOperators from 'mingo/operators/expression';
import * as pipelineOperators from 'mingo/operators/pipeline';
import * as projectionOperators from 'mingo/operators/projection';
import * as queryOperators from 'mingo/operators/query';
import * as windowOperators from 'mingo/operators/window';
import type { CollectionResolver, Options } from 'mingo/types';
import { notSupported } from './errors';
import { compileFilter } from './matcher';
import { parseSort, sortDocs } from './sorting';
import { arith, compareValues, isNumeric, numType, toNumber, makeDouble } from './values';
import { Decimal128 } from 'bson';

type AnyFn = (...args: any[]) => any; // eslint-disable-line @typescript-eslint/no-explicit-any

const $match: AnyFn = (coll, expr, options) => {
  const p = compileFilter(expr, { exprOptions: options });
  return coll.filter((o: unknown) => p(o));
};

const $sort: AnyFn = (coll, spec) => {
  const keys = parseSort(spec);
  return coll.transform((arr: unknown[]) => Lazy(sortDocs(arr, keys)));
};

const refuse = (name: string): AnyFn => () => {
  throw notSupported(`aggregation stage ${name}`);
};

const push = accumulatorOperators.$push as AnyFn;

function sumValues(values: unknown[]): unknown {
  let acc: unknown = 0;
  for (const v of values) if (isNumeric(v)) acc = arith(acc, v, 'add');
  return acc;
}

const $sum: AnyFn = (coll: unknown[], expr, options) => {
  if (typeof expr === 'number') return sumValues(coll.map(() => expr));
  return sumValues(push(coll, expr, options));
};

const $avg: AnyFn = (coll: unknown[], expr, options) => {
  const nums = (push(coll, expr, options) as unknown[]).filter(isNumeric);
  if (nums.length === 0) return null;
  const total = sumValues(nums);
  if (numType(total) === 'decimal') {
    const d = Number((total as Decimal128).toString()) / nums.length;
    return Decimal128.fromString(String(d));
  }
  return toNumber(total) / nums.length;
};

const pick = (dir: 1 | -1): AnyFn => (coll: unknown[], expr, options) => {
  let best: unknown = null;
  let found = false;
  for (const v of push(coll, expr, options) as unknown[]) {
    if (v === null || v === undefined) continue;
    if (!found || compareValues(v, best) * dir > 0) {
      best = v;
      found = true;
    }
  }
  return best;
};

// ---- BSON-aware arithmetic and comparison expressions (int64 / decimal128 operands stay exact)
const argsOf = (obj: unknown, expr: unknown, options: unknown, name: string): unknown[] => {
  const args = evalExpr(obj, expr, options as never);
  if (!Array.isArray(args)) throw new Error(`${name} expression must resolve to an array`);
  return args;
};

const $add: AnyFn = (obj, expr, options) => {
  let acc: unknown = 0;
  let date: Date | null = null;
  for (const v of argsOf(obj, expr, options, '$add')) {
    if (v === null || v === undefined) return null;
    if (v instanceof Date) {
      if (date) throw new Error('only one date allowed in an $add expression');
      date = v;
      continue;
    }
    if (!isNumeric(v)) throw new Error(`$add only supports numeric or date types, not ${typeof v}`);
    acc = arith(acc, v, 'add');
  }
  return date ? new Date(date.getTime() + toNumber(acc)) : acc;
};

const $multiply: AnyFn = (obj, expr, options) => {
  let acc: unknown = 1;
  for (const v of argsOf(obj, expr, options, '$multiply')) {
    if (v === null || v === undefined) return null;
    if (!isNumeric(v)) throw new Error(`$multiply only supports numeric types, not ${typeof v}`);
    acc = arith(acc, v, 'mul');
  }
  return acc;
};

const $subtract: AnyFn = (obj, expr, options) => {
  const [a, b] = argsOf(obj, expr, options, '$subtract');
  if (a === null || a === undefined || b === null || b === undefined) return null;
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  if (a instanceof Date && isNumeric(b)) return new Date(a.getTime() - toNumber(b));
  if (!isNumeric(a) || !isNumeric(b)) throw new Error("$subtract only supports numeric or date types");
  return arith(a, arith(b, -1, 'mul'), 'add');
};

const $divide: AnyFn = (obj, expr, options) => {
  const [a, b] = argsOf(obj, expr, options, '$divide');
  if (a === null || a === undefined || b === null || b === undefined) return null;
  if (!isNumeric(a) || !isNumeric(b)) throw new Error('$divide only supports numeric types');
  if (toNumber(b) === 0) throw new Error("can't $divide by zero");
  const q = toNumber(a) / toNumber(b);
  if (numType(a) === 'decimal' || numType(b) === 'decimal') return Decimal128.fromString(String(q));
  return q;
};

/** Aggregation comparison: BSON order, with a missing value below null. */
const cmpAgg = (a: unknown, b: unknown): number => {
  if (a === undefined && b !== undefined) return -1;
  if (b === undefined && a !== undefined) return 1;
  return compareValues(a, b);
};
const comparison = (name: string, test: (c: number) => unknown): AnyFn => (obj, expr, options) => {
  const args = argsOf(obj, expr, options, name);
  if (args.length !== 2) throw new Error(`Expression ${name} takes exactly 2 arguments.`);
  return test(cmpAgg(args[0], args[1]));
};

let ctx: Context | undefined;

export function engineContext(): Context {
  if (ctx) return ctx;
  ctx = Context.init({
    accumulator: { ...(accumulatorOperators as Record<string, AnyFn>), $sum, $avg, $min: pick(-1), $max: pick(1) } as never,
    expression: {
      ...(expressionOperators as Record<string, AnyFn>),
      $add,
      $subtract,
      $multiply,
      $divide,
      $eq: comparison('$eq', (c) => c === 0),
      $ne: comparison('$ne', (c) => c !== 0),
      $gt: comparison('$gt', (c) => c > 0),
      $gte: comparison('$gte', (c) => c >= 0),
      $lt: comparison('$lt', (c) => c < 0),
      $lte: comparison('$lte', (c) => c <= 0),
      $cmp: comparison('$cmp', (c) => (c < 0 ? -1 : c > 0 ? 1 : 0)),
    } as never,
    pipeline: {
      ...(pipelineOperators as Record<string, AnyFn>),
      $match,
      $sort,
      $out: refuse('$out'),
      $merge: refuse('$merge'),
    } as never,
    projection: projectionOperators as never,
    query: queryOperators as never,
    window: windowOperators as never,
  });
  return ctx;
}

export function mingoOptions(extra: { collectionResolver?: CollectionResolver; variables?: Record<string, unknown> } = {}): Options {
  return {
    idKey: '_id',
    processingMode: ProcessingMode.CLONE_OFF,
    useStrictMode: true,
    scriptEnabled: false,
    failOnError: true,
    context: engineContext(),
    ...extra,
  } as Options;
}

export { makeDouble };
