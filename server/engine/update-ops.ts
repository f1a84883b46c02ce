// The update operators ($set, $inc, $push, $pull, …) applied to a copy of a document, with
// positional paths ($, $[], $[id]) and MongoDB's result types and error codes.
import { Timestamp } from 'bson';
import { err } from './errors';
import { compileFieldTest, compileFilter, firstMatchingIndex, type Pred } from './matcher';
import { bsonTypeNumber } from './matcher';
import { parseSort, sortDocs } from './sorting';
import { type Doc, arith, clone, compareValues, formatValue, setField, isNumeric, isPlainObject, keyOf, toNumber, valuesEqual, zeroLike } from './values';

export interface UpdateCtx {
  filter: Doc;
  arrayFilters?: Doc[];
  /** true when the update builds an upserted document ($setOnInsert applies, `$` is illegal) */
  isInsert: boolean;
  now?: Date;
}

const TYPE_NAMES: Record<number, string> = {
  1: 'double',
  2: 'string',
  3: 'object',
  4: 'array',
  5: 'binData',
  7: 'objectId',
  8: 'bool',
  9: 'date',
  10: 'null',
  11: 'regex',
  16: 'int',
  17: 'timestamp',
  18: 'long',
  19: 'decimal',
};

export function typeName(v: unknown): string {
  return TYPE_NAMES[bsonTypeNumber(v)] ?? 'object';
}

function dollarTopLevel(field: string, path: string) {
  return err(
    'DollarPrefixedFieldName',
    `The dollar ($) prefixed field '${field}' in '${path}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`,
  );
}

/** A replacement of an existing document may not have top-level $-prefixed fields (an upsert's may). */
export function validateReplacement(u: Doc): void {
  for (const k of Object.keys(u)) if (k.startsWith('$')) throw dollarTopLevel(k, k);
}

type Container = Doc | unknown[];
type Target = [Container, string | number];

export const KNOWN_OPS = new Set([
  '$set',
  '$unset',
  '$inc',
  '$mul',
  '$min',
  '$max',
  '$currentDate',
  '$rename',
  '$push',
  '$addToSet',
  '$pop',
  '$pull',
  '$pullAll',
  '$setOnInsert',
  '$bit',
]);

function getAt(c: Container, k: string | number): unknown {
  return (c as Record<string | number, unknown>)[k];
}

function hasAt(c: Container, k: string | number): boolean {
  if (Array.isArray(c)) return (k as number) < c.length;
  return Object.prototype.hasOwnProperty.call(c, k as string);
}

function setAt(c: Container, k: string | number, v: unknown): void {
  if (Array.isArray(c)) {
    const i = k as number;
    while (c.length < i) c.push(null);
    c[i] = v;
  } else setField(c as Doc, k as string, v);
}

function idOf(doc: Doc): string {
  return `{ _id: ${formatValue(doc._id)} }`;
}

export class Applier {
  private afPreds = new Map<string, Pred>();
  private usedIdents = new Set<string>();

  constructor(
    private readonly original: Doc,
    private readonly doc: Doc,
    private readonly ctx: UpdateCtx,
  ) {
    for (const af of ctx.arrayFilters ?? []) {
      if (!isPlainObject(af)) throw err('TypeMismatch', 'arrayFilters must be objects');
      const keys = Object.keys(af);
      if (keys.length === 0) throw err('FailedToParse', 'Cannot use an expression without a top-level field name in arrayFilters');
      const ident = keys[0]!.split('.')[0]!;
      for (const k of keys) {
        if (k.split('.')[0] !== ident) throw err('FailedToParse', `Error parsing array filter :: caused by :: Expected a single top-level field name, found '${ident}' and '${k.split('.')[0]}'`);
      }
      if (this.afPreds.has(ident)) throw err('FailedToParse', `Found multiple array filters with the same top-level field name ${ident}`);
      this.afPreds.set(ident, compileFilter(af));
    }
  }

  finish(): void {
    for (const ident of this.afPreds.keys()) {
      if (!this.usedIdents.has(ident)) throw err('FailedToParse', `The array filter for identifier '${ident}' was not used in the update ${formatValue({})}`);
    }
  }

  /** Replaces a `$` segment by the index of the first array element the query matched. */
  resolvePositional(path: string): string[] {
    const parts = path.split('.');
    const i = parts.indexOf('$');
    if (i === -1) return parts;
    if (this.ctx.isInsert) throw err('BadValue', `The positional operator did not find the match needed from the query.`);
    if (parts.indexOf('$', i + 1) !== -1) throw err('BadValue', `Too many positional (i.e. '$') elements found in path '${path}'`);
    const arrayPath = parts.slice(0, i).join('.');
    const idx = firstMatchingIndex(this.ctx.filter, this.original, arrayPath);
    if (idx < 0) throw err('BadValue', 'The positional operator did not find the match needed from the query.');
    parts[i] = String(idx);
    return parts;
  }

  targets(path: string, create: boolean): Target[] {
    const parts = this.resolvePositional(path);
    for (const p of parts) if (p === '') throw err('BadValue', `The update path '${path}' contains an empty field name, which is not allowed.`);
    const out: Target[] = [];
    const walk = (node: unknown, i: number, parentKey: string): void => {
      const seg = parts[i]!;
      const last = i === parts.length - 1;
      if (seg.startsWith('$[') && seg.endsWith(']')) {
        if (!Array.isArray(node)) {
          if (node === undefined && !create) return;
          throw err('BadValue', `The path '${parts.slice(0, i).join('.')}' must exist in the document in order to apply array updates.`);
        }
        const ident = seg.slice(2, -1);
        let pred: Pred | undefined;
        if (ident) {
          pred = this.afPreds.get(ident);
          if (!pred) throw err('BadValue', `No array filter found for identifier '${ident}' in path '${path}'`);
          this.usedIdents.add(ident);
        }
        for (let j = 0; j < node.length; j++) {
          if (pred && !pred({ [ident]: node[j] })) continue;
          if (last) out.push([node, j]);
          else descend(node, j, i);
        }
        return;
      }
      // since 5.0 a $-prefixed name is an ordinary field below the top level ('prefs.$each');
      // at the top level only an insert (an upsert) may create one
      if (seg.startsWith('$') && i === 0 && create && !this.ctx.isInsert) throw dollarTopLevel(seg, path);
      if (Array.isArray(node)) {
        if (!/^\d+$/.test(seg)) {
          if (create) throw err('PathNotViable', `Cannot create field '${seg}' in element {${parentKey}: ${formatValue(node)}}`);
          return;
        }
        const j = Number(seg);
        if (last) out.push([node, j]);
        else descend(node, j, i);
        return;
      }
      if (isPlainObject(node)) {
        if (last) out.push([node, seg]);
        else descend(node, seg, i);
        return;
      }
      if (create) throw err('PathNotViable', `Cannot create field '${seg}' in element {${parentKey}: ${formatValue(node)}}`);
    };
    const descend = (c: Container, key: string | number, i: number): void => {
      let child = hasAt(c, key) ? getAt(c, key) : undefined;
      if (child === undefined) {
        if (!create) return;
        const next = parts[i + 1]!;
        if (next.startsWith('$[')) throw err('BadValue', `The path '${parts.slice(0, i + 1).join('.')}' must exist in the document in order to apply array updates.`);
        child = {};
        setAt(c, key, child);
      }
      if (!isPlainObject(child) && !Array.isArray(child)) {
        if (create) throw err('PathNotViable', `Cannot create field '${parts[i + 1]}' in element {${String(key)}: ${formatValue(child)}}`);
        return;
      }
      walk(child, i + 1, String(key));
    };
    walk(this.doc, 0, '');
    return out;
  }

  apply(op: string, path: string, arg: unknown): void {
    switch (op) {
      case '$set':
      case '$setOnInsert':
        for (const [c, k] of this.targets(path, true)) setAt(c, k, clone(arg));
        return;
      case '$unset':
        for (const [c, k] of this.targets(path, false)) {
          if (!hasAt(c, k)) continue;
          if (Array.isArray(c)) c[k as number] = null;
          else delete (c as Doc)[k as string];
        }
        return;
      case '$inc':
      case '$mul': {
        if (!isNumeric(arg)) throw err('TypeMismatch', `Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${path}: ${formatValue(arg)}}`);
        for (const [c, k] of this.targets(path, true)) {
          if (!hasAt(c, k) || getAt(c, k) === undefined) {
            setAt(c, k, op === '$inc' ? arg : zeroLike(arg));
            continue;
          }
          const cur = getAt(c, k);
          if (!isNumeric(cur)) {
            throw err('TypeMismatch', `Cannot apply ${op} to a value of non-numeric type. ${idOf(this.original)} has the field '${String(k)}' of non-numeric type ${typeName(cur)}`);
          }
          setAt(c, k, arith(cur, arg, op === '$inc' ? 'add' : 'mul'));
        }
        return;
      }
      case '$min':
      case '$max':
        for (const [c, k] of this.targets(path, true)) {
          if (!hasAt(c, k)) {
            setAt(c, k, clone(arg));
            continue;
          }
          const cmp = compareValues(arg, getAt(c, k));
          if ((op === '$min' && cmp < 0) || (op === '$max' && cmp > 0)) setAt(c, k, clone(arg));
        }
        return;
      case '$currentDate': {
        let val: unknown = this.ctx.now ?? new Date();
        if (isPlainObject(arg)) {
          const t = arg.$type;
          if (t === 'timestamp') val = new Timestamp({ t: Math.floor(Date.now() / 1000), i: 1 });
          else if (t !== 'date') throw err('BadValue', "The '$type' string field is required to be 'date' or 'timestamp'");
        } else if (typeof arg !== 'boolean') throw err('BadValue', `${path} is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).`);
        for (const [c, k] of this.targets(path, true)) setAt(c, k, val);
        return;
      }
      case '$push':
      case '$addToSet': {
        let items: unknown[];
        let mods: Doc = {};
        if (isPlainObject(arg) && '$each' in arg) {
          if (!Array.isArray(arg.$each)) throw err('BadValue', `The argument to $each in ${op} must be an array but it was of type: ${typeName(arg.$each)}`);
          items = arg.$each;
          mods = arg;
          for (const m of Object.keys(mods)) {
            if (op === '$addToSet' && m !== '$each') throw err('BadValue', `Found unexpected fields after $each in $addToSet: ${formatValue(arg)}`);
            if (!['$each', '$slice', '$sort', '$position'].includes(m)) throw err('BadValue', `Unrecognized clause in $push: ${m}`);
          }
        } else items = [arg];
        for (const [c, k] of this.targets(path, true)) {
          let cur = hasAt(c, k) ? getAt(c, k) : undefined;
          if (cur === undefined) cur = [];
          if (!Array.isArray(cur)) {
            throw err('BadValue', `The field '${String(k)}' must be an array but is of type ${typeName(cur)} in document ${idOf(this.original)}`);
          }
          const arr = cur.slice();
          if (op === '$addToSet') {
            for (const it of items) if (!arr.some((e) => valuesEqual(e, it) && keyOf(e) === keyOf(it))) arr.push(clone(it));
          } else {
            const add = items.map(clone);
            if (mods.$position !== undefined) {
              let pos = toNumber(mods.$position);
              if (pos < 0) pos = Math.max(0, arr.length + pos);
              arr.splice(pos, 0, ...add);
            } else arr.push(...add);
            if (mods.$sort !== undefined) {
              const s = mods.$sort;
              if (isPlainObject(s)) {
                sortDocs(arr, parseSort(s));
              } else {
                const dir = toNumber(s);
                arr.sort((a, b) => compareValues(a, b) * dir);
              }
            }
            if (mods.$slice !== undefined) {
              const n = toNumber(mods.$slice);
              const sliced = n >= 0 ? arr.slice(0, n) : arr.slice(Math.max(0, arr.length + n));
              arr.length = 0;
              arr.push(...sliced);
            }
          }
          setAt(c, k, arr);
        }
        return;
      }
      case '$pop': {
        const n = toNumber(arg);
        if (n !== 1 && n !== -1) throw err('FailedToParse', `$pop expects 1 or -1, found: ${formatValue(arg)}`);
        for (const [c, k] of this.targets(path, false)) {
          if (!hasAt(c, k)) continue;
          const cur = getAt(c, k);
          if (!Array.isArray(cur)) throw err('TypeMismatch', `Path '${path}' contains an element of non-array type '${typeName(cur)}'`);
          setAt(c, k, n === 1 ? cur.slice(0, -1) : cur.slice(1));
        }
        return;
      }
      case '$pull':
      case '$pullAll': {
        let test: (el: unknown) => boolean;
        if (op === '$pullAll') {
          if (!Array.isArray(arg)) throw err('BadValue', `$pullAll requires an array argument but was given a ${typeName(arg)}`);
          test = (el) => arg.some((a) => valuesEqual(el, a));
        } else if (isPlainObject(arg) && Object.keys(arg).length > 0) {
          const keys = Object.keys(arg);
          if (keys.every((k) => k.startsWith('$') && !['$and', '$or', '$nor', '$expr'].includes(k))) {
            const t = compileFieldTest(arg, {});
            test = (el) => t([el]);
          } else {
            const p = compileFilter(arg);
            test = (el) => isPlainObject(el) && p(el);
          }
        } else {
          const t = compileFieldTest(arg, {});
          test = (el) => (Array.isArray(el) ? valuesEqual(el, arg) : t([el]));
        }
        for (const [c, k] of this.targets(path, false)) {
          if (!hasAt(c, k)) continue;
          const cur = getAt(c, k);
          if (!Array.isArray(cur)) throw err('BadValue', 'Cannot apply $pull to a non-array value');
          setAt(c, k, cur.filter((e) => !test(e)));
        }
        return;
      }
      case '$bit': {
        if (!isPlainObject(arg)) throw err('BadValue', '$bit needs an object');
        for (const [c, k] of this.targets(path, true)) {
          let cur = hasAt(c, k) ? getAt(c, k) : 0;
          if (!isNumeric(cur)) throw err('BadValue', `Cannot apply $bit to a value of non-integral type.`);
          for (const how of Object.keys(arg)) {
            const a = BigInt(Math.trunc(toNumber(cur)));
            const b = BigInt(Math.trunc(toNumber(arg[how])));
            const r = how === 'and' ? a & b : how === 'or' ? a | b : how === 'xor' ? a ^ b : null;
            if (r === null) throw err('BadValue', `The $bit modifier only supports 'and', 'or', and 'xor', not '${how}'`);
            cur = arith(zeroLike(cur), Number(r), 'add');
          }
          setAt(c, k, cur);
        }
        return;
      }
    }
  }

  rename(from: string, to: string): void {
    if (typeof to !== 'string') throw err('BadValue', `The 'to' field for $rename must be a string: ${from}: ${formatValue(to)}`);
    if (from === to) throw err('BadValue', `The source and target field for $rename must differ: ${from}: ${formatValue(to)}`);
    if (from.includes('$') || to.includes('$')) throw err('BadValue', '$rename does not support positional operators');
    const src = this.targets(from, false);
    if (src.length === 0) return;
    const [c, k] = src[0]!;
    if (Array.isArray(c)) throw err('BadValue', `The source field cannot be an array element, '${from}' in doc with _id: ${formatValue(this.original._id)} has an array field called '${from.split('.')[0]}'`);
    if (!hasAt(c, k)) return;
    const v = getAt(c, k);
    delete (c as Doc)[k as string];
    for (const [tc, tk] of this.targets(to, true)) {
      if (Array.isArray(tc)) throw err('BadValue', `The destination field cannot be an array element, '${to}'`);
      setAt(tc, tk, v);
    }
  }
}
