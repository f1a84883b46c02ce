// Applying an update to a document: operator, replacement and pipeline updates, conflicting
// paths, the immutable _id, and the upsert seed document built from a filter.
import { Aggregator } from 'mingo/aggregator';
import { ObjectId } from 'bson';
import { err } from './errors';
import { mingoOptions } from './mingo-ctx';
import { type UpdateCtx, typeName, validateReplacement, KNOWN_OPS, Applier } from './update-ops';
import { type Doc, bsonTypeName, clone, formatValue, fromMingo, getField, isDBRefDoc, setField, isPlainObject, keyOf, toMingo } from './values';

export function isOperatorUpdate(u: unknown): boolean {
  if (!isPlainObject(u)) return false;
  const k = Object.keys(u);
  return k.length > 0 && k[0]!.startsWith('$');
}

function checkConflicts(paths: string[]): void {
  const sorted = paths.map((p) => p.split('.').filter((s) => s !== '$').join('.')).sort();
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (a === b || b.startsWith(a + '.')) throw err('ConflictingUpdateOperators', `Updating the path '${b}' would create a conflict at '${a}'`);
  }
}

function ensureIdFirst(doc: Doc): Doc {
  if (!('_id' in doc)) return doc;
  const keys = Object.keys(doc);
  if (keys[0] === '_id') return doc;
  const out: Doc = { _id: doc._id };
  for (const k of keys) if (k !== '_id') setField(out, k, doc[k]);
  return out;
}

function checkIdUnchanged(before: Doc, after: Doc): void {
  if ('_id' in before && (!('_id' in after) || keyOf(before._id) !== keyOf(after._id) || typeof before._id !== typeof after._id)) {
    throw err('ImmutableField', "Performing an update on the path '_id' would modify the immutable field '_id'");
  }
}

/**
 * The document an update starts from: the top-level fields it names are copied, the others are the
 * stored version's own values. Stored versions are never changed in place, so a new version may
 * share what it did not change with the old one (a round's 50 lines are not copied to move its
 * sequence), and a comparison of the two versions stops at the first shared value.
 */
function copyForUpdate(out: Doc, doc: Doc, touched: Set<string>): void {
  for (const k of Object.keys(doc)) {
    const x = doc[k];
    setField(out, k, touched.has(k) ? clone(x) : x);
  }
}

/** Applies an operator update; returns a new document (the input is left untouched). */
function applyOperators(doc: Doc, update: Doc, ctx: UpdateCtx): Doc {
  const out: Doc = {};
  const ap = new Applier(doc, out, ctx);
  const paths: string[] = [];
  for (const op of Object.keys(update)) {
    if (!KNOWN_OPS.has(op)) {
      if (op.startsWith('$')) throw err('FailedToParse', `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`);
      throw err('FailedToParse', `Unknown modifier: ${op}`);
    }
    const arg = update[op];
    if (!isPlainObject(arg)) throw err('FailedToParse', `Modifiers operate on fields but we found type ${typeName(arg)} instead. For example: {$mod: {<field>: ...}} not {${op}: ${formatValue(arg)}}`);
    if (op === '$setOnInsert' && !ctx.isInsert) {
      paths.push(...Object.keys(arg));
      continue;
    }
    for (const p of Object.keys(arg)) {
      paths.push(p);
      if (op === '$rename') paths.push(String(arg[p]));
    }
  }
  checkConflicts(paths);
  // NOTE: the update is checked above, so it names its fields
  copyForUpdate(out, doc, topLevelFieldsOf(update)!);
  for (const op of Object.keys(update)) {
    const arg = update[op] as Doc;
    if (op === '$setOnInsert' && !ctx.isInsert) continue;
    for (const p of Object.keys(arg)) {
      if (op === '$rename') ap.rename(p, arg[p] as string);
      else ap.apply(op, p, arg[p]);
    }
  }
  ap.finish();
  checkIdUnchanged(doc, out);
  return out;
}

const PIPELINE_UPDATE_STAGES = new Set(['$addFields', '$set', '$project', '$unset', '$replaceRoot', '$replaceWith']);

function applyPipeline(doc: Doc, pipeline: unknown[], ctx: UpdateCtx): Doc {
  for (const st of pipeline) {
    if (!isPlainObject(st)) throw err('FailedToParse', 'pipeline stages must be objects');
    const name = Object.keys(st)[0]!;
    if (!PIPELINE_UPDATE_STAGES.has(name)) {
      throw err('InvalidOptions', `${name} is not allowed to be used within an update`);
    }
  }
  const input = toMingo(doc) as Doc;
  const agg = new Aggregator(pipeline as Doc[], mingoOptions({ variables: { NOW: ctx.now ?? new Date() } }));
  const res = agg.run([input]) as Doc[];
  const outRaw = (fromMingo(res[0] ?? {}) as Doc) ?? {};
  // keep the exact stored value (int/double/long flavour) of fields the pipeline did not change
  const out: Doc = {};
  for (const k of Object.keys(outRaw)) {
    const v = outRaw[k];
    const before = getField(doc, k);
    if (before !== undefined && keyOf(toMingo(before)) === keyOf(v) && bsonTypeName(before) !== undefined) setField(out, k, before);
    else setField(out, k, v);
  }
  if (!('_id' in out) && '_id' in doc) out._id = doc._id;
  checkIdUnchanged(doc, out);
  return ensureIdFirst(out);
}

/**
 * The top-level fields an operator update may change (the first segment of each path it names, and
 * of each `$rename` target), or null for a replacement or a pipeline, which may change any.
 */
export function topLevelFieldsOf(update: unknown): Set<string> | null {
  if (!isOperatorUpdate(update)) return null;
  const fields = new Set<string>();
  for (const [op, arg] of Object.entries(update as Doc)) {
    if (!isPlainObject(arg)) return null;
    for (const [p, to] of Object.entries(arg)) {
      fields.add(p.split('.', 1)[0]!);
      if (op === '$rename') fields.add(String(to).split('.', 1)[0]!);
    }
  }
  return fields;
}

/** Applies any kind of update (operators, replacement, pipeline) and returns the new document. */
export function applyUpdate(doc: Doc, update: unknown, ctx: UpdateCtx): Doc {
  if (Array.isArray(update)) return applyPipeline(doc, update, ctx);
  if (!isPlainObject(update)) throw err('FailedToParse', 'Update argument must be either an object or an array');
  if (isOperatorUpdate(update)) return ensureIdFirst(applyOperators(doc, update, ctx));
  validateReplacement(update);
  const out = clone(update);
  if ('_id' in doc) {
    if ('_id' in out) checkIdUnchanged(doc, out);
    else out._id = doc._id;
  }
  return ensureIdFirst(out);
}

/** The document an upsert starts from: the equality conditions of the filter. */
export function upsertSeed(filter: Doc): Doc {
  const seed: Doc = {};
  const add = (path: string, value: unknown) => {
    const parts = path.split('.');
    let cur: Doc = seed;
    for (let i = 0; i < parts.length - 1; i++) {
      const nxt = getField(cur, parts[i]!);
      if (!isPlainObject(nxt)) {
        if (nxt !== undefined) return;
        setField(cur, parts[i]!, {});
      }
      cur = getField(cur, parts[i]!) as Doc;
    }
    setField(cur, parts[parts.length - 1]!, clone(value));
  };
  const visit = (f: Doc) => {
    for (const k of Object.keys(f)) {
      const v = f[k];
      if (k === '$and' && Array.isArray(v)) {
        for (const s of v) if (isPlainObject(s)) visit(s);
        continue;
      }
      if (k.startsWith('$')) continue;
      if (v instanceof RegExp) continue;
      if (isPlainObject(v) && Object.keys(v).length > 0 && Object.keys(v)[0]!.startsWith('$') && !isDBRefDoc(v)) {
        if ('$eq' in v) add(k, v.$eq);
        else if (Array.isArray(v.$in) && v.$in.length === 1 && !(v.$in[0] instanceof RegExp)) add(k, v.$in[0]);
        continue;
      }
      add(k, v);
    }
  };
  visit(filter);
  return seed;
}

/** Builds the document inserted by an upsert. */
export function buildUpsert(filter: Doc, update: unknown, ctx: Omit<UpdateCtx, 'isInsert'>): Doc {
  let doc: Doc;
  if (isPlainObject(update) && !isOperatorUpdate(update)) {
    doc = clone(update);
    const seed = upsertSeed(filter);
    if (!('_id' in doc) && '_id' in seed) doc._id = seed._id;
  } else {
    const seed = upsertSeed(filter);
    doc = Array.isArray(update) ? applyPipeline(seed, update, { ...ctx, isInsert: true }) : applyOperators(seed, update as Doc, { ...ctx, isInsert: true });
    if ('_id' in seed && !('_id' in doc)) doc._id = seed._id;
  }
  if (!('_id' in doc)) doc._id = new ObjectId();
  return ensureIdFirst(doc);
}

export { ensureIdFirst };
