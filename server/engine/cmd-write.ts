// Writes: insert, update (operators, replacement, pipeline, upsert), delete, findAndModify, and
// MongoDB 8's cross-collection `bulkWrite` (many statements on many collections in one command).
// Each statement is atomic; a non-transactional statement that meets a transaction's lock waits.
import { Long, ObjectId, calculateObjectSize } from 'bson';
import type { EngineState, Handler } from './engine-context';
import { commandCollation, readDocs } from './cmd-read';
import { MAX_BATCH, MAX_BSON, OK, collName, intOpt } from './cmd-util';
import { CODES, ServerError, err, toServerError } from './errors';
import { compileFilter } from './matcher';
import { compileProjection } from './projection';
import { Blocked, type Txn, type WriteKind } from './store';
import { applyUpdate, buildUpsert, isOperatorUpdate, topLevelFieldsOf } from './update';
import { type Doc, identical, isPlainObject, keyOf } from './values';
import { cameInLargeMessage } from './wire';

/** What a change stream reports: a replacement document is a 'replace', operators and pipelines an 'update'. */
function writeKind(upd: unknown): WriteKind {
  return Array.isArray(upd) || isOperatorUpdate(upd) ? 'update' : 'replace';
}

/**
 * The BSON size of each document an update produced, while it is stored: the next update of it
 * measures only the top-level fields it may change (a round's compare-and-set on its sequence does
 * not measure its 50 lines again). Documents not updated yet are not in it.
 */
const updatedSizes = new WeakMap<Doc, number>();

/** Bytes of one top-level field as a BSON element (type, name, value); 0 when absent. */
function fieldSize(doc: Doc, k: string): number {
  return Object.prototype.hasOwnProperty.call(doc, k) ? calculateObjectSize({ [k]: doc[k] }) - 5 : 0;
}

/** The result of an update within 16 MiB, or BSONObjectTooLarge. `fields`: the top-level fields it may have changed, when known. */
function checkUpdatedSize(before: Doc, doc: Doc, fields: Set<string> | null): Doc {
  const known = fields ? updatedSizes.get(before) : undefined;
  let size: number;
  if (known === undefined || !fields) size = calculateObjectSize(doc);
  else {
    size = known;
    for (const k of fields) size += fieldSize(doc, k) - fieldSize(before, k);
  }
  if (size > MAX_BSON) throw err('BSONObjectTooLarge', `Resulting document after update is larger than ${MAX_BSON}`);
  updatedSizes.set(doc, size);
  return doc;
}

function checkUpsertSize(doc: Doc): Doc {
  if (calculateObjectSize(doc) > MAX_BSON) throw err(17420, `Document to upsert is larger than ${MAX_BSON}`);
  return doc;
}

async function statement<T>(fn: () => T): Promise<T> {
  for (;;) {
    try {
      return fn();
    } catch (e) {
      if (e instanceof Blocked) {
        await e.until;
        continue;
      }
      throw e;
    }
  }
}

function writeErrorOf(eng: EngineState, e: unknown, index: number): Doc {
  const se = toServerError(e);
  if (!(e instanceof ServerError)) eng.log(`write failed: ${(e as Error)?.stack ?? String(e)}`);
  return se.toWriteError(index);
}

function isFatalInTxn(e: unknown, txn: Txn | null): boolean {
  return !!txn && e instanceof ServerError && (e.code === CODES.WriteConflict || e.code === CODES.NoSuchTransaction);
}

function prepareInsert(doc: unknown): Doc {
  if (!isPlainObject(doc)) throw err('TypeMismatch', 'document to insert must be an object');
  let d = doc;
  if (!('_id' in d)) d = { _id: new ObjectId(), ...d };
  else if (Object.keys(d)[0] !== '_id') {
    const { _id, ...rest } = d;
    d = { _id, ...rest };
  }
  const id = d._id;
  if (Array.isArray(id)) throw err('InvalidIdField', "The '_id' value cannot be of type array");
  if (id instanceof RegExp) throw err('InvalidIdField', "The '_id' value cannot be of type regex");
  if (id === undefined) throw err('InvalidIdField', "The '_id' value cannot be undefined");
  if (isPlainObject(id) && Object.keys(id).some((k) => k.startsWith('$'))) throw err('DollarPrefixedFieldName', "_id fields may not contain '$'-prefixed fields");
  return d;
}

async function insert(eng: EngineState, cmd: Doc, db: string, txn: Txn | null): Promise<Doc> {
  const name = collName(cmd, 'insert');
  const docs = cmd.documents;
  if (!Array.isArray(docs)) throw err('TypeMismatch', "BSON field 'insert.documents' is missing but a required field");
  if (docs.length > MAX_BATCH) throw err('InvalidOptions', `Write batch sizes must be between 1 and ${MAX_BATCH}. Got ${docs.length} operations.`);
  const ordered = cmd.ordered !== false;
  const c = eng.store.ensureColl(db, name);
  let n = 0;
  const writeErrors: Doc[] = [];
  const large = cameInLargeMessage(cmd);
  for (let i = 0; i < docs.length; i++) {
    try {
      if (large) {
        const size = calculateObjectSize(docs[i] as Doc);
        if (size > MAX_BSON) throw err('BadValue', `object to insert too large. size in bytes: ${size}, max size: ${MAX_BSON}`);
      }
      const d = prepareInsert(docs[i]);
      const key = keyOf(d._id);
      await statement(() => eng.store.write(c, key, d, txn, true));
      n++;
    } catch (e) {
      if (isFatalInTxn(e, txn)) throw e;
      writeErrors.push(writeErrorOf(eng, e, i));
      if (ordered || txn) break;
    }
  }
  await eng.hooks.durable();
  const r: Doc = { n, ok: OK() };
  if (writeErrors.length) r.writeErrors = writeErrors;
  return r;
}

async function update(eng: EngineState, cmd: Doc, db: string, txn: Txn | null): Promise<Doc> {
  const name = collName(cmd, 'update');
  const updates = cmd.updates;
  if (!Array.isArray(updates)) throw err('TypeMismatch', "BSON field 'update.updates' is missing but a required field");
  const ordered = cmd.ordered !== false;
  let n = 0;
  let nModified = 0;
  const upserted: Doc[] = [];
  const writeErrors: Doc[] = [];
  for (let i = 0; i < updates.length; i++) {
    const u = updates[i] as Doc;
    try {
      const r = await statement(() => updateOne(eng, db, name, u, txn, cmd.let));
      n += r.n;
      nModified += r.modified;
      if (r.upsertedId !== undefined) upserted.push({ index: i, _id: r.upsertedId });
    } catch (e) {
      if (isFatalInTxn(e, txn)) throw e;
      writeErrors.push(writeErrorOf(eng, e, i));
      if (ordered || txn) break;
    }
  }
  await eng.hooks.durable();
  const r: Doc = { n, nModified, ok: OK() };
  if (upserted.length) r.upserted = upserted;
  if (writeErrors.length) r.writeErrors = writeErrors;
  return r;
}

function updateOne(eng: EngineState, db: string, name: string, u: Doc, txn: Txn | null, _let: unknown): { n: number; modified: number; upsertedId?: unknown } {
  if (!isPlainObject(u)) throw err('TypeMismatch', 'update statement must be an object');
  const q = (u.q as Doc) ?? {};
  if (!isPlainObject(q)) throw err('TypeMismatch', 'q must be an object');
  const upd = u.u;
  const multi = u.multi === true;
  if (multi && isPlainObject(upd) && Object.keys(upd).length && !Object.keys(upd)[0]!.startsWith('$')) {
    throw err('FailedToParse', 'multi update is not supported for replacement-style update');
  }
  const arrayFilters = u.arrayFilters as Doc[] | undefined;
  const c = eng.store.coll(db, name);
  const collation = commandCollation(u.collation, c);
  const hits = eng.store.query(c, q, txn, { hint: u.hint, limit: multi ? undefined : 1, collation });
  if (hits.length === 0) {
    if (!u.upsert) return { n: 0, modified: 0 };
    const doc = checkUpsertSize(buildUpsert(q, upd, { filter: q, arrayFilters }));
    const coll = c ?? eng.store.ensureColl(db, name);
    eng.store.write(coll, keyOf(doc._id), doc, txn, true);
    return { n: 1, modified: 0, upsertedId: doc._id };
  }
  eng.store.assertUnlocked(c!, hits.map((h) => h.key), txn);
  let modified = 0;
  const now = new Date();
  const fields = topLevelFieldsOf(upd);
  const planned = hits.map((h) => ({ h, next: checkUpdatedSize(h.doc, applyUpdate(h.doc, upd, { filter: q, arrayFilters, isInsert: false, now }), fields) }));
  for (const { h, next } of planned) {
    if (identical(next, h.doc)) continue;
    eng.store.write(c!, h.key, next, txn, false, writeKind(upd));
    modified++;
  }
  return { n: hits.length, modified };
}

async function remove(eng: EngineState, cmd: Doc, db: string, txn: Txn | null): Promise<Doc> {
  const name = collName(cmd, 'delete');
  const deletes = cmd.deletes;
  if (!Array.isArray(deletes)) throw err('TypeMismatch', "BSON field 'delete.deletes' is missing but a required field");
  const ordered = cmd.ordered !== false;
  let n = 0;
  const writeErrors: Doc[] = [];
  for (let i = 0; i < deletes.length; i++) {
    const d = deletes[i] as Doc;
    try {
      n += await statement(() => deleteMatching(eng, db, name, d, intOpt(d.limit, 'limit', 0) === 1, txn));
    } catch (e) {
      if (isFatalInTxn(e, txn)) throw e;
      writeErrors.push(writeErrorOf(eng, e, i));
      if (ordered || txn) break;
    }
  }
  await eng.hooks.durable();
  const r: Doc = { n, ok: OK() };
  if (writeErrors.length) r.writeErrors = writeErrors;
  return r;
}

/** Deletes the documents of `db.name` matching `d.q` (one at most when `justOne`); returns how many. */
function deleteMatching(eng: EngineState, db: string, name: string, d: Doc, justOne: boolean, txn: Txn | null): number {
  const q = (d.q as Doc) ?? {};
  const c = eng.store.coll(db, name);
  const collation = commandCollation(d.collation, c);
  if (!c) {
    compileFilter(q);
    return 0;
  }
  const hits = eng.store.query(c, q, txn, { hint: d.hint, limit: justOne ? 1 : undefined, collation });
  eng.store.assertUnlocked(c, hits.map((h) => h.key), txn);
  for (const h of hits) eng.store.write(c, h.key, null, txn);
  return hits.length;
}

/** `db.collection` of a bulkWrite's nsInfo entry, split at the first dot. */
function namespaceOf(nsInfo: unknown[], index: unknown): { db: string; name: string } {
  const entry = typeof index === 'number' && Number.isInteger(index) ? (nsInfo[index] as Doc | undefined) : undefined;
  if (!entry || typeof entry.ns !== 'string') throw err('BadValue', `BulkWrite ops entry refers to an unknown nsInfo index ${String(index)}`);
  const dot = entry.ns.indexOf('.');
  if (dot <= 0 || dot === entry.ns.length - 1) throw err('InvalidNamespace', `Invalid namespace specified '${entry.ns}'`);
  return { db: entry.ns.slice(0, dot), name: entry.ns.slice(dot + 1) };
}

/**
 * MongoDB 8's `bulkWrite` (run on admin): `ops` of `{insert: i, document}`, `{update: i, filter,
 * updateMods, multi, upsert, …}` and `{delete: i, filter, multi, …}` on the namespaces of `nsInfo`,
 * applied in order. Answers the counts and a cursor of per-statement results (only the errors when
 * `errorsOnly`); in a transaction, or when `ordered`, the first failed statement ends the command.
 */
async function bulkWrite(eng: EngineState, cmd: Doc, txn: Txn | null): Promise<Doc> {
  const ops = cmd.ops;
  const nsInfo = cmd.nsInfo;
  if (!Array.isArray(ops)) throw err('TypeMismatch', "BSON field 'bulkWrite.ops' is missing but a required field");
  if (!Array.isArray(nsInfo)) throw err('TypeMismatch', "BSON field 'bulkWrite.nsInfo' is missing but a required field");
  if (ops.length > MAX_BATCH) throw err('InvalidOptions', `Write batch sizes must be between 1 and ${MAX_BATCH}. Got ${ops.length} operations.`);
  const ordered = cmd.ordered !== false;
  const errorsOnly = cmd.errorsOnly === true;
  const counts = { nErrors: 0, nInserted: 0, nMatched: 0, nModified: 0, nUpserted: 0, nDeleted: 0 };
  const results: Doc[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as Doc;
    try {
      if (!isPlainObject(op)) throw err('TypeMismatch', 'bulkWrite ops entries must be objects');
      if ('insert' in op) {
        const { db, name } = namespaceOf(nsInfo, op.insert);
        const d = prepareInsert(op.document);
        const c = eng.store.ensureColl(db, name);
        await statement(() => eng.store.write(c, keyOf(d._id), d, txn, true));
        counts.nInserted++;
        if (!errorsOnly) results.push({ ok: 1, idx: i, n: 1 });
      } else if ('update' in op) {
        const { db, name } = namespaceOf(nsInfo, op.update);
        const u: Doc = { q: op.filter, u: op.updateMods, multi: op.multi === true, upsert: op.upsert === true, arrayFilters: op.arrayFilters, hint: op.hint, collation: op.collation };
        const r = await statement(() => updateOne(eng, db, name, u, txn, cmd.let));
        const upserted = r.upsertedId !== undefined;
        counts.nMatched += upserted ? 0 : r.n;
        counts.nModified += r.modified;
        if (upserted) counts.nUpserted++;
        if (!errorsOnly) results.push({ ok: 1, idx: i, n: r.n, nModified: r.modified, ...(upserted ? { upserted: { _id: r.upsertedId } } : {}) });
      } else if ('delete' in op) {
        const { db, name } = namespaceOf(nsInfo, op.delete);
        const n = await statement(() => deleteMatching(eng, db, name, { q: op.filter, hint: op.hint, collation: op.collation }, op.multi !== true, txn));
        counts.nDeleted += n;
        if (!errorsOnly) results.push({ ok: 1, idx: i, n });
      } else {
        throw err('FailedToParse', `Unrecognized bulkWrite operation: ${Object.keys(op)[0] ?? '(empty)'}`);
      }
    } catch (e) {
      if (isFatalInTxn(e, txn)) throw e;
      const { index: _index, ...we } = writeErrorOf(eng, e, i);
      counts.nErrors++;
      results.push({ ok: 0, idx: i, ...we });
      if (ordered || txn) break;
    }
  }
  await eng.hooks.durable();
  return { cursor: { id: Long.ZERO, firstBatch: results, ns: 'admin.$cmd.bulkWrite' }, ...counts, ok: OK() };
}

async function findAndModify(eng: EngineState, cmd: Doc, db: string, txn: Txn | null, field: string): Promise<Doc> {
  const name = collName(cmd, field);
  const q = (cmd.query as Doc) ?? {};
  const remove = cmd.remove === true;
  const upd = cmd.update;
  if (!remove && upd === undefined) throw err('FailedToParse', 'Either an update or remove=true must be specified');
  if (remove && upd !== undefined) throw err('FailedToParse', 'Cannot specify both an update and remove=true');
  if (remove && cmd.new) throw err('FailedToParse', 'Cannot specify both new=true and remove=true; \'remove\' always returns the deleted document');
  const proj = compileProjection(cmd.fields, q);
  const arrayFilters = cmd.arrayFilters as Doc[] | undefined;
  const result = await statement(() => {
    const c = eng.store.coll(db, name);
    const hits = readDocs(eng, c, q, txn, { sort: cmd.sort, limit: 1, hint: cmd.hint, collation: commandCollation(cmd.collation, c) });
    const hit = hits[0];
    if (remove) {
      if (!hit) return { value: null, leo: { n: 0 } };
      eng.store.assertUnlocked(c!, [hit.key], txn);
      eng.store.write(c!, hit.key, null, txn);
      return { value: hit.doc, leo: { n: 1 } };
    }
    if (!hit) {
      if (!cmd.upsert) return { value: null, leo: { n: 0, updatedExisting: false } };
      const doc = checkUpsertSize(buildUpsert(q, upd, { filter: q, arrayFilters }));
      const coll = c ?? eng.store.ensureColl(db, name);
      eng.store.write(coll, keyOf(doc._id), doc, txn, true);
      return { value: cmd.new ? doc : null, leo: { n: 1, updatedExisting: false, upserted: doc._id } };
    }
    eng.store.assertUnlocked(c!, [hit.key], txn);
    const next = checkUpdatedSize(hit.doc, applyUpdate(hit.doc, upd, { filter: q, arrayFilters, isInsert: false }), topLevelFieldsOf(upd));
    if (!identical(next, hit.doc)) eng.store.write(c!, hit.key, next, txn, false, writeKind(upd));
    return { value: cmd.new ? next : hit.doc, leo: { n: 1, updatedExisting: true } };
  });
  await eng.hooks.durable();
  const value = result.value && proj ? proj(result.value) : result.value;
  return { lastErrorObject: result.leo, value, ok: OK() };
}

export const writeCommands: Record<string, Handler> = {
  insert: (eng, cmd, ctx) => insert(eng, cmd, ctx.db, ctx.txn),
  update: (eng, cmd, ctx) => update(eng, cmd, ctx.db, ctx.txn),
  delete: (eng, cmd, ctx) => remove(eng, cmd, ctx.db, ctx.txn),
  findAndModify: (eng, cmd, ctx) => findAndModify(eng, cmd, ctx.db, ctx.txn, ctx.name),
  findandmodify: (eng, cmd, ctx) => findAndModify(eng, cmd, ctx.db, ctx.txn, ctx.name),
  bulkWrite: (eng, cmd, ctx) => {
    if (ctx.db !== 'admin') throw err('Unauthorized', 'bulkWrite may only be run against the admin database.');
    return bulkWrite(eng, cmd, ctx.txn);
  },
};
