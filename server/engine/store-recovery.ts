// Rebuilding the store at start-up: journal records replayed in order, snapshot documents loaded
// in bulk. Nothing here validates or journals: the records were valid when they were written.
import type { UUID } from 'bson';
import type { Store } from './store';
import type { Collection } from './store-types';
import { type Doc, keyOf } from './values';

/** Applies one journal record (a committed change set or a catalog change). */
export function replayRecord(store: Store, rec: Doc): void {
  switch (rec.op) {
    case 'w': {
      const ts = ++store.clock;
      for (const o of rec.ops as Doc[]) {
        const c = store.ensureCollNoJournal(o.db as string, o.coll as string);
        if (o.d) {
          const d = o.d as Doc;
          store.applyCommitted(c, keyOf(d._id), d, ts);
        } else if (o.id !== undefined) store.applyCommitted(c, keyOf(o.id), null, ts);
      }
      return;
    }
    case 'cc':
      if (!store.coll(rec.db as string, rec.coll as string)) store.createCollection(rec.db as string, rec.coll as string, (rec.options as Doc) ?? {}, rec.uuid as UUID, false);
      return;
    case 'dc':
      store.dropCollection(rec.db as string, rec.coll as string, false);
      return;
    case 'dd':
      store.dropDatabase(rec.db as string, false);
      return;
    case 'rc':
      if (store.coll(rec.fromDb as string, rec.from as string)) {
        store.renameCollection(rec.fromDb as string, rec.from as string, rec.toDb as string, rec.to as string, !!rec.dropTarget, false);
      }
      return;
    case 'ci': {
      const c = store.ensureCollNoJournal(rec.db as string, rec.coll as string);
      try {
        store.createIndex(c, rec.spec as Doc, false);
      } catch {
        /* an index that failed at the time was never journaled; ignore */
      }
      return;
    }
    case 'di': {
      const c = store.coll(rec.db as string, rec.coll as string);
      if (c && c.indexes.some((i) => i.name === rec.name)) store.dropIndex(c, rec.name as string, false);
      return;
    }
  }
}

/**
 * Loads a collection's documents from a snapshot into the collection and its indexes. A key seen
 * twice (a document changed while the snapshot was written) carries the same version both times.
 */
export function loadDocs(c: Collection, docs: Doc[]): void {
  for (const d of docs) {
    const key = keyOf(d._id);
    if (c.docs.has(key)) continue;
    c.docs.set(key, { doc: d, ts: 0 });
    for (const ix of c.indexes) ix.add(d, key);
  }
}
