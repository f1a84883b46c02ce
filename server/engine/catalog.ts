// The catalogue: databases, their collections and the collections' indexes. Every change is
// journaled as one catalog record (unless replayed from the journal or loaded from a snapshot).
import type { UUID } from 'bson';
import { err } from './errors';
import { normalizeIndexSpec, sameIndexOptions } from './index-spec';
import { Index } from './indexes';
import { Collection, type JournalSink, dupKeyError, validateCollectionName, validateDbName } from './store-types';
import { type Doc, formatValue, keyOf } from './values';

export class Catalog {
  readonly dbs = new Map<string, Map<string, Collection>>();
  journal: JournalSink | null = null;

  /** Called before a collection leaves the catalogue (the store aborts transactions that wrote to it). */
  protected collectionDropping(_c: Collection): void {}

  coll(db: string, name: string): Collection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /** Returns the collection, creating it implicitly (as an insert or createIndexes does). */
  ensureColl(db: string, name: string): Collection {
    const c = this.coll(db, name);
    if (c) return c;
    return this.createCollection(db, name, {});
  }

  /** Returns the collection, creating it without a journal record (recovery, snapshot loading). */
  ensureCollNoJournal(db: string, name: string): Collection {
    return this.coll(db, name) ?? this.createCollection(db, name, {}, undefined, false);
  }

  createCollection(db: string, name: string, options: Doc, uuid?: UUID, journal = true): Collection {
    validateDbName(db);
    validateCollectionName(db, name);
    if (this.coll(db, name)) throw err('NamespaceExists', `Collection ${db}.${name} already exists.`);
    let colls = this.dbs.get(db);
    if (!colls) this.dbs.set(db, (colls = new Map()));
    const c = new Collection(db, name, options, uuid);
    colls.set(name, c);
    if (journal) this.journal?.append({ op: 'cc', db, coll: name, options, uuid: c.uuid });
    return c;
  }

  dropCollection(db: string, name: string, journal = true): boolean {
    const colls = this.dbs.get(db);
    const c = colls?.get(name);
    if (!colls || !c) return false;
    this.collectionDropping(c);
    colls.delete(name);
    if (colls.size === 0) this.dbs.delete(db);
    if (journal) this.journal?.append({ op: 'dc', db, coll: name });
    return true;
  }

  dropDatabase(db: string, journal = true): void {
    const colls = this.dbs.get(db);
    if (!colls) return;
    for (const name of [...colls.keys()]) this.dropCollection(db, name, false);
    this.dbs.delete(db);
    if (journal) this.journal?.append({ op: 'dd', db });
  }

  renameCollection(fromDb: string, from: string, toDb: string, to: string, dropTarget: boolean, journal = true): void {
    const src = this.coll(fromDb, from);
    if (!src) throw err('NamespaceNotFound', 'source namespace does not exist');
    validateCollectionName(toDb, to);
    if (this.coll(toDb, to)) {
      if (!dropTarget) throw err('NamespaceExists', 'target namespace exists');
      this.dropCollection(toDb, to, false);
    }
    const dst = this.createCollection(toDb, to, src.options, undefined, false);
    dst.indexes = src.indexes;
    for (const [k, v] of src.docs) dst.docs.set(k, v);
    this.dropCollection(fromDb, from, false);
    if (journal) this.journal?.append({ op: 'rc', fromDb, from, toDb, to, dropTarget });
  }

  /** Creates an index; returns false if an identical one exists. */
  createIndex(c: Collection, raw: Doc, journal = true): boolean {
    const spec = normalizeIndexSpec(raw, c.defaultCollation);
    for (const ix of c.indexes) {
      const sameKey = keyOf(ix.spec.key) === keyOf(spec.key);
      if (ix.name === spec.name) {
        if (sameKey && sameIndexOptions(ix.spec, spec)) return false;
        if (ix.isId && sameKey) return false;
        throw err(
          'IndexKeySpecsConflict',
          `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${formatValue(spec)}, existing index: ${formatValue(ix.spec)}`,
        );
      }
      // the same key pattern under another collation is another index (as on mongod)
      if (sameKey && keyOf(ix.spec.partialFilterExpression ?? null) === keyOf(spec.partialFilterExpression ?? null) && keyOf(ix.spec.collation ?? null) === keyOf(spec.collation ?? null)) {
        if (sameIndexOptions(ix.spec, spec)) {
          throw err('IndexOptionsConflict', `Index already exists with a different name: ${ix.name}`);
        }
        throw err('IndexOptionsConflict', `An equivalent index already exists with the same name but different options. Requested index: ${formatValue(spec)}, existing index: ${formatValue(ix.spec)}`);
      }
    }
    const ix = new Index(spec);
    for (const [id, v] of c.docs) {
      for (const k of ix.keys(v.doc)) {
        if (ix.unique) {
          for (const _h of ix.holders(k, id)) throw dupKeyError(c, ix, k);
        }
        ix.list.insert({ k, id });
      }
    }
    c.indexes.push(ix);
    if (journal) this.journal?.append({ op: 'ci', db: c.db, coll: c.name, spec: spec as unknown as Doc });
    return true;
  }

  dropIndex(c: Collection, name: string, journal = true): void {
    const i = c.indexes.findIndex((x) => x.name === name);
    if (i < 0) throw err('IndexNotFound', `index not found with name [${name}]`);
    if (c.indexes[i]!.isId) throw err('InvalidOptions', 'cannot drop _id index');
    c.indexes.splice(i, 1);
    if (journal) this.journal?.append({ op: 'di', db: c.db, coll: c.name, name });
  }
}
