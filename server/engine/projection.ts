// find/findAndModify projections: inclusion, exclusion, $slice, $elemMatch, positional `a.$`,
// and (through mingo) aggregation expressions.
import { Aggregator } from 'mingo/aggregator';
import { err, notSupported } from './errors';
import { compileFieldTest, compileFilter, firstMatchingIndex } from './matcher';
import { mingoOptions } from './mingo-ctx';
import { type Doc, fromMingo, setField, isNumeric, isPlainObject, toMingo, toNumber } from './values';

type Tree = { [k: string]: Tree | true };

export type Projector = (doc: Doc) => Doc;

function addPath(tree: Tree, parts: string[]): void {
  let t = tree;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i]!;
    const n = t[p];
    if (n === true) return;
    if (!n) t[p] = Object.create(null) as Tree;
    t = t[p] as Tree;
  }
  t[parts[parts.length - 1]!] = true;
}

function include(v: unknown, tree: Tree): unknown {
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const e of v) {
      if (isPlainObject(e) || Array.isArray(e)) out.push(include(e, tree));
    }
    return out;
  }
  if (!isPlainObject(v)) return undefined;
  const out: Doc = {};
  for (const k of Object.keys(v)) {
    const t = tree[k];
    if (!t) continue;
    if (t === true) setField(out, k, v[k]);
    else {
      const sub = include(v[k], t);
      if (sub !== undefined) setField(out, k, sub);
    }
  }
  return out;
}

function exclude(v: unknown, tree: Tree): unknown {
  if (Array.isArray(v)) return v.map((e) => (isPlainObject(e) || Array.isArray(e) ? exclude(e, tree) : e));
  if (!isPlainObject(v)) return v;
  const out: Doc = {};
  for (const k of Object.keys(v)) {
    const t = tree[k];
    if (t === true) continue;
    setField(out, k, t ? exclude(v[k], t) : v[k]);
  }
  return out;
}

function isExpression(v: unknown): boolean {
  if (typeof v === 'string') return true;
  if (isPlainObject(v)) {
    const ks = Object.keys(v);
    if (ks.length === 1 && (ks[0] === '$slice' || ks[0] === '$elemMatch')) return false;
    if (ks.length === 1 && ks[0] === '$meta') throw notSupported(`projection {$meta: ${JSON.stringify(v.$meta)}}`);
    return true;
  }
  return !(typeof v === 'number' || typeof v === 'boolean' || isNumeric(v));
}

export function compileProjection(spec: unknown, filter: Doc = {}): Projector | null {
  if (spec === undefined || spec === null) return null;
  if (!isPlainObject(spec)) throw err('BadValue', 'projection must be an object');
  const keys = Object.keys(spec);
  if (keys.length === 0) return null;

  if (keys.some((k) => isExpression(spec[k]))) {
    const agg = new Aggregator([{ $project: spec }], mingoOptions());
    return (doc) => fromMingo((agg.run([toMingo(doc) as Doc]) as Doc[])[0] ?? {}) as Doc;
  }

  const incl: Tree = Object.create(null) as Tree;
  const excl: Tree = Object.create(null) as Tree;
  let mode: 'incl' | 'excl' | null = null;
  let idIncluded = true;
  const post: ((src: Doc, out: Doc) => void)[] = [];
  for (const k of keys) {
    const v = spec[k];
    if (isPlainObject(v)) {
      if ('$slice' in v) {
        const s = v.$slice;
        let skip = 0;
        let limit: number;
        if (Array.isArray(s)) {
          skip = toNumber(s[0]);
          limit = toNumber(s[1]);
          if (limit <= 0) throw err('BadValue', '$slice limit must be positive');
        } else limit = toNumber(s);
        const parts = k.split('.');
        post.push((_src, out) => {
          let c: unknown = out;
          for (let i = 0; i < parts.length - 1; i++) c = isPlainObject(c) ? c[parts[i]!] : undefined;
          if (!isPlainObject(c)) return;
          const arr = c[parts[parts.length - 1]!];
          if (!Array.isArray(arr)) return;
          let res: unknown[];
          if (Array.isArray(s)) {
            const start = skip < 0 ? Math.max(0, arr.length + skip) : skip;
            res = arr.slice(start, start + limit);
          } else res = limit >= 0 ? arr.slice(0, limit) : arr.slice(Math.max(0, arr.length + limit));
          c[parts[parts.length - 1]!] = res;
        });
        continue;
      }
      if ('$elemMatch' in v) {
        if (k.includes('.')) throw err('BadValue', 'Cannot use $elemMatch projection on a nested field.');
        const t = compileFieldTest({ $elemMatch: v.$elemMatch }, {});
        const em = v.$elemMatch as Doc;
        const keysEm = Object.keys(em);
        const valueOps = keysEm.length > 0 && keysEm.every((x) => x.startsWith('$') && !['$and', '$or', '$nor'].includes(x));
        const elTest = valueOps ? (el: unknown) => compileFieldTest(em, {})([el]) : (el: unknown) => isPlainObject(el) && compileFilter(em)(el);
        post.push((src, out) => {
          const arr = src[k];
          delete out[k];
          if (!Array.isArray(arr) || !t([arr])) return;
          const hit = arr.find(elTest);
          if (hit !== undefined) out[k] = [hit];
        });
        continue;
      }
    }
    const on = typeof v === 'boolean' ? v : toNumber(v) !== 0;
    if (k.endsWith('.$')) {
      const arrayPath = k.slice(0, -2);
      if (!on) throw err('BadValue', 'positional projection cannot be used with exclusion');
      addPath(incl, arrayPath.split('.'));
      mode = mode ?? 'incl';
      post.push((src, out) => {
        const idx = firstMatchingIndex(filter, src, arrayPath);
        if (idx < 0) throw err(51246, 'Executor error during find command :: caused by :: positional operator \'.$\' couldn\'t find a matching element in the array');
        const parts = arrayPath.split('.');
        let c: unknown = out;
        for (let i = 0; i < parts.length - 1; i++) c = isPlainObject(c) ? c[parts[i]!] : undefined;
        if (!isPlainObject(c)) return;
        const arr = c[parts[parts.length - 1]!];
        if (Array.isArray(arr)) c[parts[parts.length - 1]!] = arr.slice(idx, idx + 1);
      });
      continue;
    }
    if (k === '_id') {
      idIncluded = on;
      continue;
    }
    if (on) {
      if (mode === 'excl') throw err(31253, `Cannot do inclusion on field ${k} in exclusion projection`);
      mode = 'incl';
      addPath(incl, k.split('.'));
    } else {
      if (mode === 'incl') throw err(31254, `Cannot do exclusion on field ${k} in inclusion projection`);
      mode = 'excl';
      addPath(excl, k.split('.'));
    }
  }
  // `_id` alone in inclusion form: {_id: 1} returns only _id
  if (mode === null && keys.includes('_id') && idIncluded && post.length === 0) mode = 'incl';
  // an $elemMatch projection alone returns only _id and that field
  if (mode === null && keys.some((k) => isPlainObject(spec[k]) && '$elemMatch' in (spec[k] as Doc))) mode = 'incl';
  if (mode === 'incl') {
    if (idIncluded) incl._id = true;
    else delete incl._id;
    for (const k of keys) {
      const v = spec[k];
      if (isPlainObject(v) && '$slice' in v) addPath(incl, k.split('.'));
      if (isPlainObject(v) && '$elemMatch' in v) incl[k] = true;
    }
  } else if (!idIncluded) excl._id = true;
  return (doc) => {
    const out = (mode === 'incl' ? include(doc, incl) : exclude(doc, excl)) as Doc;
    for (const p of post) p(doc, out);
    return out;
  };
}
