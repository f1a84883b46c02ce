// createIndexes, listIndexes, dropIndexes.
import type { EngineState, Handler } from './engine-context';
import { cursorReply } from './cmd-cursors';
import { OK, collName } from './cmd-util';
import { err } from './errors';
import { type Doc, isPlainObject, keyOf } from './values';

async function createIndexes(eng: EngineState, cmd: Doc, db: string): Promise<Doc> {
  const name = collName(cmd, 'createIndexes');
  if (!Array.isArray(cmd.indexes) || cmd.indexes.length === 0) throw err('BadValue', 'Must specify at least one index to create');
  const existed = !!eng.store.coll(db, name);
  const c = eng.store.ensureColl(db, name);
  const before = c.indexes.length;
  let created = 0;
  for (const spec of cmd.indexes as Doc[]) {
    if (!isPlainObject(spec)) throw err('TypeMismatch', 'index specification must be an object');
    if (eng.store.createIndex(c, spec)) created++;
  }
  await eng.hooks.durable();
  const r: Doc = { numIndexesBefore: before, numIndexesAfter: c.indexes.length, createdCollectionAutomatically: !existed, ok: OK() };
  if (created === 0) r.note = 'all indexes already exist';
  return r;
}

function listIndexes(eng: EngineState, cmd: Doc, db: string): Doc {
  const name = collName(cmd, 'listIndexes');
  const c = eng.store.coll(db, name);
  if (!c) throw err('NamespaceNotFound', `ns does not exist: ${db}.${name}`);
  const specs = c.indexes.map((i) => ({ ...i.spec }));
  return cursorReply(eng, `${db}.${name}`, specs, (cmd.cursor as Doc | undefined)?.batchSize, false);
}

async function dropIndexes(eng: EngineState, cmd: Doc, db: string, field: string): Promise<Doc> {
  const name = collName(cmd, field);
  const c = eng.store.coll(db, name);
  if (!c) throw err('NamespaceNotFound', `ns not found ${db}.${name}`);
  const was = c.indexes.length;
  const which = cmd.index;
  if (which === '*') {
    for (const ix of [...c.indexes]) if (!ix.isId) eng.store.dropIndex(c, ix.name);
  } else if (typeof which === 'string') {
    eng.store.dropIndex(c, which);
  } else if (Array.isArray(which)) {
    for (const n of which) eng.store.dropIndex(c, String(n));
  } else if (isPlainObject(which)) {
    const ix = c.indexes.find((i) => keyOf(i.spec.key) === keyOf(which));
    if (!ix) throw err('IndexNotFound', `can't find index with key: ${JSON.stringify(which)}`);
    eng.store.dropIndex(c, ix.name);
  } else throw err('BadValue', 'invalid index name spec');
  await eng.hooks.durable();
  return { nIndexesWas: was, ok: OK() };
}

export const indexCommands: Record<string, Handler> = {
  createIndexes: (eng, cmd, ctx) => createIndexes(eng, cmd, ctx.db),
  listIndexes: (eng, cmd, ctx) => listIndexes(eng, cmd, ctx.db),
  dropIndexes: (eng, cmd, ctx) => dropIndexes(eng, cmd, ctx.db, ctx.name),
  deleteIndexes: (eng, cmd, ctx) => dropIndexes(eng, cmd, ctx.db, ctx.name),
};
