// BSON-aware aggregation operators for mingo: numeric accumulators and arithmetic that keep
// int/long/double/decimal apart, comparisons in BSON order, and type conversion that understands
// ObjectId, Long, Decimal128 and dates. Expression evaluation ($expr in queries) needs only these,
// so this module depends on nothing of the engine's query layer (no import cycle with matcher).
import { Context, ProcessingMode, evalExpr } from 'mingo/core';
import * as accumulatorOperators from 'mingo/operators/accumulator';
import * as expressionOperators from 'mingo/operators/expression';
import type { Options } from 'mingo/types';
import { Decimal128, Long, ObjectId } from 'bson';
import { bsonTypeNumber } from './bson-types';
import { arith, compareValues, isNumeric, numType, toNumber, makeDouble } from './values';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFn = (...args: any[]) => any;

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

// ---- type conversion that understands BSON values (ObjectId, Long, Decimal128, Date …)
const TYPE_NAME_BY_NUMBER: Record<number, string> = {
  1: 'double', 2: 'string', 3: 'object', 4: 'array', 5: 'binData', 6: 'undefined', 7: 'objectId', 8: 'bool', 9: 'date',
  10: 'null', 11: 'regex', 13: 'javascript', 14: 'symbol', 16: 'int', 17: 'timestamp', 18: 'long', 19: 'decimal', [-1]: 'minKey', 127: 'maxKey',
};

function aggTypeName(v: unknown): string {
  if (v === undefined) return 'missing';
  return TYPE_NAME_BY_NUMBER[bsonTypeNumber(v)] ?? 'object';
}

class ConversionError extends Error {}

function convertTo(v: unknown, to: string): unknown {
  if (v === null || v === undefined) return null;
  const t = aggTypeName(v);
  const fail = (): never => {
    throw new ConversionError(`Unsupported conversion from ${t} to ${to} in $convert with no onError value`);
  };
  switch (to) {
    case 'string':
      if (typeof v === 'string') return v;
      if (v instanceof Date) return v.toISOString();
      if (t === 'objectId') return (v as ObjectId).toHexString();
      if (typeof v === 'boolean') return String(v);
      if (isNumeric(v)) return numType(v) === 'long' || numType(v) === 'decimal' ? String(v) : String(toNumber(v));
      return fail();
    case 'objectId':
      if (t === 'objectId') return v;
      if (typeof v === 'string' && /^[0-9a-fA-F]{24}$/.test(v)) return new ObjectId(v);
      return fail();
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (isNumeric(v)) return toNumber(v) !== 0;
      return true;
    case 'date':
      if (v instanceof Date) return v;
      if (t === 'objectId') return (v as ObjectId).getTimestamp();
      if (isNumeric(v)) return new Date(toNumber(v));
      if (typeof v === 'string') {
        const d = new Date(v);
        if (Number.isNaN(d.getTime())) return fail();
        return d;
      }
      return fail();
    case 'int': {
      const n = typeof v === 'string' ? Number(v) : typeof v === 'boolean' ? Number(v) : isNumeric(v) ? toNumber(v) : v instanceof Date ? fail() : fail();
      if (!Number.isFinite(n)) return fail();
      const i = Math.trunc(n);
      if (i < -2147483648 || i > 2147483647) return fail();
      return i;
    }
    case 'long': {
      if (numType(v) === 'long') return v;
      if (typeof v === 'string' && /^[+-]?\d+$/.test(v.trim())) return Long.fromString(v.trim());
      if (v instanceof Date) return Long.fromNumber(v.getTime());
      const n = typeof v === 'boolean' ? Number(v) : isNumeric(v) ? toNumber(v) : fail();
      if (!Number.isFinite(n)) return fail();
      return Long.fromNumber(Math.trunc(n));
    }
    case 'double': {
      if (v instanceof Date) return v.getTime();
      const n = typeof v === 'string' ? Number(v) : typeof v === 'boolean' ? Number(v) : isNumeric(v) ? toNumber(v) : fail();
      if (typeof v === 'string' && (v.trim() === '' || Number.isNaN(n))) return fail();
      return makeDouble(n);
    }
    case 'decimal': {
      if (numType(v) === 'decimal') return v;
      if (typeof v === 'string') {
        try {
          return Decimal128.fromString(v.trim());
        } catch {
          return fail();
        }
      }
      if (v instanceof Date) return Decimal128.fromString(String(v.getTime()));
      if (typeof v === 'boolean') return Decimal128.fromString(v ? '1' : '0');
      if (isNumeric(v)) return Decimal128.fromString(numType(v) === 'long' ? String(v) : String(toNumber(v)));
      return fail();
    }
  }
  throw new Error(`$convert: unsupported target type ${to}`);
}

const TO_ALIASES: Record<string, string> = { 1: 'double', 2: 'string', 7: 'objectId', 8: 'bool', 9: 'date', 16: 'int', 18: 'long', 19: 'decimal' };

const converter = (to: string): AnyFn => (obj, expr, options) => {
  const v = evalExpr(obj, Array.isArray(expr) ? expr[0] : expr, options as never);
  try {
    return convertTo(v, to);
  } catch (e) {
    if (e instanceof ConversionError) throw new Error(e.message.replace(' in $convert with no onError value', ''));
    throw e;
  }
};

const $convert: AnyFn = (obj, expr, options) => {
  const spec = expr as { input: unknown; to: unknown; onError?: unknown; onNull?: unknown };
  const input = evalExpr(obj, spec.input, options as never);
  const toRaw = evalExpr(obj, spec.to, options as never);
  const to = typeof toRaw === 'string' ? toRaw : TO_ALIASES[String(toNumber(toRaw))] ?? String(toRaw);
  if (input === null || input === undefined) return 'onNull' in spec ? evalExpr(obj, spec.onNull, options as never) : null;
  try {
    return convertTo(input, to);
  } catch (e) {
    if ('onError' in spec) return evalExpr(obj, spec.onError, options as never);
    throw e;
  }
};

const $type: AnyFn = (obj, expr, options) => aggTypeName(evalExpr(obj, Array.isArray(expr) ? expr[0] : expr, options as never));
const $isNumber: AnyFn = (obj, expr, options) => isNumeric(evalExpr(obj, Array.isArray(expr) ? expr[0] : expr, options as never));


export const bsonAccumulators = { ...(accumulatorOperators as Record<string, AnyFn>), $sum, $avg, $min: pick(-1), $max: pick(1) };

export const bsonExpressions: Record<string, AnyFn> = {
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
  $toString: converter('string'),
  $toObjectId: converter('objectId'),
  $toBool: converter('bool'),
  $toDate: converter('date'),
  $toInt: converter('int'),
  $toLong: converter('long'),
  $toDouble: converter('double'),
  $toDecimal: converter('decimal'),
  $convert,
  $type,
  $isNumber,
};

let exprCtx: Context | undefined;

/** Options for evaluating expressions alone (a query's $expr). */
export function exprOptions(): Options {
  exprCtx ??= Context.init({ accumulator: bsonAccumulators as never, expression: bsonExpressions as never });
  return { idKey: '_id', processingMode: ProcessingMode.CLONE_OFF, useStrictMode: true, scriptEnabled: false, failOnError: true, context: exprCtx } as Options;
}

export { makeDouble };
