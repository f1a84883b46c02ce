// The mingo context the engine evaluates aggregation stages and expressions with: mingo's own
// operators with the BSON-aware ones of ./mingo-ops, except $match / $sort (replaced by the
// engine's MongoDB-exact matcher and ordering), a hashed $lookup, and stages that write refused.
import { Context, ProcessingMode, evalExpr } from 'mingo/core';
import { Aggregator } from 'mingo/aggregator';
import { Lazy } from 'mingo/lazy';
import { resolve as resolvePath } from 'mingo/util';
import * as pipelineOperators from 'mingo/operators/pipeline';
import * as projectionOperators from 'mingo/operators/projection';
import * as queryOperators from 'mingo/operators/query';
import * as windowOperators from 'mingo/operators/window';
import type { CollectionResolver, Options } from 'mingo/types';
import { type Collation, parseCollation } from './collation';
import { notSupported } from './errors';
import { compileFilter } from './matcher';
import { type AnyFn, bsonAccumulators, bsonExpressions, makeDouble } from './mingo-ops';
import { parseSort, sortDocs } from './sorting';
import { keyOf } from './values';

/** The engine's collation for the one mingo carries in its options (mingo's own spec type). */
function collationOf(options: unknown): Collation | null {
  const spec = (options as { collation?: unknown } | undefined)?.collation;
  return spec ? parseCollation(spec) : null;
}

const $match: AnyFn = (coll, expr, options) => {
  const p = compileFilter(expr, { exprOptions: options, collation: collationOf(options) });
  return coll.filter((o: unknown) => p(o));
};

const $sort: AnyFn = (coll, spec, options) => {
  const keys = parseSort(spec);
  const strings = collationOf(options)?.compare;
  return coll.transform((arr: unknown[]) => Lazy(sortDocs(arr, keys, strings)));
};

const refuse = (name: string): AnyFn => () => {
  throw notSupported(`aggregation stage ${name}`);
};

// ---- $lookup with let/pipeline: hash the foreign collection on the $expr equality of the first
// $match ({$eq: ['$field', '$$var']}, alone or inside $and) so each outer document runs the
// pipeline over its candidates only, not over the whole foreign collection.
const mingoLookup = pipelineOperators.$lookup as AnyFn;

function lookupEqPairs(stage: unknown): { path: string; v: string }[] {
  if (!stage || typeof stage !== 'object' || !('$match' in stage)) return [];
  const m = (stage as { $match: unknown }).$match as Record<string, unknown> | undefined;
  const e = m?.$expr as Record<string, unknown> | undefined;
  if (!e || typeof e !== 'object') return [];
  const conj = Array.isArray(e.$and) && Object.keys(e).length === 1 ? (e.$and as unknown[]) : [e];
  const out: { path: string; v: string }[] = [];
  for (const c of conj) {
    const eq = (c as Record<string, unknown> | null)?.$eq;
    if (!Array.isArray(eq) || eq.length !== 2 || Object.keys(c as object).length !== 1) continue;
    const [x, y] = eq;
    const field = [x, y].find((t) => typeof t === 'string' && t.startsWith('$') && !t.startsWith('$$')) as string | undefined;
    const vr = [x, y].find((t) => typeof t === 'string' && t.startsWith('$$') && !t.slice(2).includes('.')) as string | undefined;
    if (field && vr && !['$$ROOT', '$$CURRENT', '$$NOW', '$$REMOVE'].includes(vr)) out.push({ path: field.slice(1), v: vr.slice(2) });
  }
  return out;
}

const $lookup: AnyFn = (coll, expr, options) => {
  const spec = expr as Record<string, unknown>;
  const pipeline = spec.pipeline as unknown[] | undefined;
  const resolver = (options as { collectionResolver?: CollectionResolver }).collectionResolver;
  if (!Array.isArray(pipeline) || pipeline.length === 0 || typeof spec.from !== 'string' || spec.localField !== undefined || !spec.let || !resolver) {
    return mingoLookup(coll, expr, options);
  }
  const pairs = lookupEqPairs(pipeline[0]);
  if (pairs.length === 0) return mingoLookup(coll, expr, options);
  const foreign = resolver(spec.from);
  const hash = new Map<string, unknown[]>();
  for (const d of foreign) {
    const k = pairs.map((p) => keyOf(resolvePath(d, p.path))).join('|');
    const arr = hash.get(k);
    if (arr) arr.push(d);
    else hash.set(k, [d]);
  }
  const agg = new Aggregator(pipeline as never, options as never);
  const CO = (options as { constructor: { init(o: unknown): { update(l: unknown): void } } }).constructor;
  const as = spec.as as string;
  return coll.map((obj: Record<string, unknown>) => {
    const variables = (evalExpr(obj, spec.let, options as never) ?? {}) as Record<string, unknown>;
    const k = pairs.map((p) => keyOf(variables[p.v])).join('|');
    const opts = CO.init(options);
    opts.update({ root: null, variables });
    return { ...obj, [as]: agg.run((hash.get(k) ?? []) as never, opts as never) };
  });
};

let ctx: Context | undefined;

export function engineContext(): Context {
  if (ctx) return ctx;
  ctx = Context.init({
    accumulator: bsonAccumulators as never,
    expression: bsonExpressions as never,
    pipeline: {
      ...(pipelineOperators as Record<string, AnyFn>),
      $match,
      $sort,
      $lookup,
      $out: refuse('$out'),
      $merge: refuse('$merge'),
    } as never,
    projection: projectionOperators as never,
    query: queryOperators as never,
    window: windowOperators as never,
  });
  return ctx;
}

export function mingoOptions(extra: { collectionResolver?: CollectionResolver; variables?: Record<string, unknown>; collation?: Collation | null } = {}): Options {
  const { collation, ...rest } = extra;
  return {
    idKey: '_id',
    processingMode: ProcessingMode.CLONE_OFF,
    useStrictMode: true,
    scriptEnabled: false,
    failOnError: true,
    context: engineContext(),
    ...rest,
    ...(collation ? { collation: collation.spec } : {}),
  } as Options;
}

export { makeDouble };