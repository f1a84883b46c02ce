// The mingo context the engine evaluates aggregation stages and expressions with: mingo's own
// operators, except $match / $sort (replaced by the engine's MongoDB-exact matcher and ordering),
// numeric accumulators that keep int/long/double/decimal apart, and stages that write or need
// server features refused with a clear error.
import { Context, ProcessingMode } from 'mingo/core';
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

let ctx: Context | undefined;

export function engineContext(): Context {
  if (ctx) return ctx;
  ctx = Context.init({
    accumulator: { ...(accumulatorOperators as Record<string, AnyFn>), $sum, $avg, $min: pick(-1), $max: pick(1) } as never,
    expression: expressionOperators as never,
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
