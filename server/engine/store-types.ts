// The store's data model: a collection with its committed versions and per-key history, a
// transaction with its private workspace, the change record change streams read, and the errors
// the store raises (duplicate key, invalid namespace, no such transaction).
import { UUID } from 'bson';
import { type Collation, parseCollation } from './collation';
import { ServerError, err } from './errors';
import { Index } from './indexes';
import { type Doc, formatValue } from './values';

export interface Version {
  doc: Doc;
  ts: number;
}

/** A pre-image kept for open snapshots: `v` was the committed version until clock `until`. */
export interface HistoryEntry {
  until: number;
  v: Version | null;
}

export class Collection {
  readonly docs = new Map<string, Version>();
  indexes: Index[];
  readonly history = new Map<string, HistoryEntry[]>();
  readonly uuid: UUID;
  /** the collection's default collation (create with `collation`), null for simple */
  readonly defaultCollation: Collation | null;

  constructor(
    readonly db: string,
    readonly name: string,
    public options: Doc = {},
    uuid?: UUID,
  ) {
    this.uuid = uuid ?? new UUID();
    this.defaultCollation = parseCollation(options.collation);
    this.indexes = [new Index({ v: 2, key: { _id: 1 }, name: '_id_' })];
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }
}

export type TxnState = 'active' | 'committed' | 'aborted';

export type WriteKind = 'update' | 'replace';

/** One committed document change, as change streams report it. */
export interface Change {
  coll: Collection;
  key: string;
  before: Doc | null;
  after: Doc | null;
  kind?: WriteKind;
}

export class Txn {
  state: TxnState = 'active';
  readonly writes = new Map<Collection, Map<string, Doc | null>>();
  readonly kinds = new Map<Collection, Map<string, WriteKind>>();
  /** per unique index: each key tuple (see tupleKey) the transaction's own writes hold → its record key */
  readonly uniqueKeys = new Map<Index, Map<string, string>>();
  lsid?: Doc;
  readonly ended: Promise<void>;
  private resolveEnded!: () => void;
  timer?: NodeJS.Timeout;
  abortReason?: string;

  constructor(
    readonly sessionKey: string,
    readonly txnNumber: bigint,
    readonly snapshot: number,
  ) {
    this.ended = new Promise((r) => (this.resolveEnded = r));
  }

  end(state: TxnState): void {
    this.state = state;
    if (this.timer) clearTimeout(this.timer);
    this.resolveEnded();
  }
}

/** Thrown when a non-transactional write must wait for a transaction holding a document. */
export class Blocked {
  constructor(readonly until: Promise<void>) {}
}

export interface JournalSink {
  append(rec: Doc): void;
}

export interface ReadStats {
  keys: number;
  docs: number;
  index: string | null;
}

export interface Hit {
  key: string;
  doc: Doc;
}

export function dupKeyError(coll: Collection, ix: Index, k: unknown[]): ServerError {
  const kv = ix.keyValue(k);
  const shown = '{ ' + Object.keys(kv).map((f) => `${f}: ${formatValue(kv[f])}`).join(', ') + ' }';
  return new ServerError('DuplicateKey', `E11000 duplicate key error collection: ${coll.ns} index: ${ix.name} dup key: ${shown}`, {
    keyPattern: { ...ix.spec.key },
    keyValue: kv,
  });
}

export function validateCollectionName(db: string, name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw err('InvalidNamespace', `Invalid namespace specified '${db}.'`);
  if (name.includes('$') || name.includes('\0')) throw err('InvalidNamespace', `Invalid collection name: ${name}`);
  if (name.startsWith('system.') && !['system.js', 'system.views', 'system.profile'].includes(name)) {
    throw err('InvalidNamespace', `Invalid system namespace: ${db}.${name}`);
  }
}

export function validateDbName(db: string): void {
  if (typeof db !== 'string' || db.length === 0 || /[/\\. "$*<>:|?\0]/.test(db) || db.length > 63) {
    throw err('InvalidNamespace', `Invalid database name: '${db}'`);
  }
}

export function noSuchTransaction(t: Txn | { txnNumber: bigint }): ServerError {
  const reason = t instanceof Txn && t.abortReason ? ` (${t.abortReason})` : '';
  return new ServerError('NoSuchTransaction', `Transaction with { txnNumber: ${t.txnNumber} } has been aborted.${reason}`, {}, ['TransientTransactionError']);
}
