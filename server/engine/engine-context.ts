// The engine's shared state and the types every command family works with. The dispatcher
// (commands.ts) imports the families and the families import only this file, so the command
// layer has no import circle.
import type { Long } from 'bson';
import type { ChangeLog, ChangeStream } from './changes';
import type { ReplSet } from './replset';
import type { Store, Txn } from './store';
import type { Doc } from './values';

export interface ConnInfo {
  id: number;
  remote: string;
  /** host:port this connection reached (what hello reports as `me`) */
  local?: string;
}

export interface EngineHooks {
  /** resolves when everything journaled so far is as durable as the fsync policy promises (force: fsynced) */
  durable(force?: boolean): Promise<void>;
  port(): number;
  /** with a dbpath: the journal's figures, and a compaction on demand (the `compact` command) */
  persistence?: { stats(): Doc; compact(): Promise<void> };
}

export interface Cursor {
  id: Long;
  ns: string;
  docs: Doc[];
  pos: number;
  lastUse: number;
  stream?: ChangeStream;
}

export interface Session {
  key: string;
  lsid: Doc;
  txnNumber: bigint | null;
  txn: Txn | null;
  lastUse: number;
  /** the last retryable write: its number and its reply (pending while the first attempt runs) */
  retry: { txnNumber: bigint; reply: Promise<Doc>; settle: (d: Doc) => void } | null;
}

/** What a command handler sees of the engine: storage, cursors, sessions, the set and its change log. */
export interface EngineState {
  readonly store: Store;
  readonly cursors: Map<string, Cursor>;
  readonly sessions: Map<string, Session>;
  readonly startedAt: number;
  readonly repl: ReplSet;
  readonly changes: ChangeLog;
  hooks: EngineHooks;
  log: (msg: string) => void;
  /** host:port the set's member is known as, for a client that reached `conn` */
  me(conn: ConnInfo): string;
}

export interface Ctx {
  name: string;
  db: string;
  txn: Txn | null;
  conn: ConnInfo;
  session: Session | null;
  /** set while a retryable write's first attempt runs */
  retrying?: boolean;
}

export type Handler = (eng: EngineState, cmd: Doc, ctx: Ctx) => Doc | Promise<Doc>;
