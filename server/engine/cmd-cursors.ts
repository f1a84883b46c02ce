// Cursors: the first batch of a result, getMore and killCursors. A query cursor holds its whole
// result (taken when the query ran); a change-stream cursor holds a position in the change log
// and waits (awaitData) for new events on getMore.
import { Long, calculateObjectSize } from 'bson';
import type { EngineState, Handler } from './engine-context';
import { MAX_BSON, OK, intOpt, newCursorId } from './cmd-util';
import { err } from './errors';
import { type Doc, toNumber } from './values';

export function batch(docs: Doc[], from: number, max: number): Doc[] {
  const out: Doc[] = [];
  let bytes = 0;
  for (let i = from; i < docs.length && out.length < max; i++) {
    const sz = calculateObjectSize(docs[i]!);
    if (out.length > 0 && bytes + sz > MAX_BSON - 64 * 1024) break;
    bytes += sz;
    out.push(docs[i]!);
  }
  return out;
}

export function cursorReply(eng: EngineState, ns: string, docs: Doc[], batchSize: unknown, singleBatch: boolean): Doc {
  const bs = batchSize === undefined || batchSize === null ? 101 : intOpt(batchSize, 'batchSize', 101);
  if (bs < 0) throw err('BadValue', 'Batch size for cursor must be non-negative');
  const first = batch(docs, 0, singleBatch ? docs.length : bs === 0 ? 0 : bs);
  let id = Long.ZERO;
  if (!singleBatch && first.length < docs.length) {
    id = newCursorId();
    eng.cursors.set(id.toString(), { id, ns, docs, pos: first.length, lastUse: Date.now() });
  }
  return { cursor: { firstBatch: first, id, ns }, ok: OK() };
}

async function getMore(eng: EngineState, cmd: Doc, db: string): Promise<Doc> {
  const idv = cmd.getMore;
  const id = idv instanceof Long ? idv : Long.fromNumber(toNumber(idv));
  const c = eng.cursors.get(id.toString());
  const ns = `${db}.${String(cmd.collection)}`;
  if (!c) throw err('CursorNotFound', `cursor id ${id.toString()} not found`);
  if (c.ns !== ns) throw err('Unauthorized', `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${c.ns}`);
  const bs = cmd.batchSize === undefined ? Number.MAX_SAFE_INTEGER : intOpt(cmd.batchSize, 'batchSize', 0) || Number.MAX_SAFE_INTEGER;
  c.lastUse = Date.now();
  if (c.stream) {
    const maxWait = cmd.maxTimeMS === undefined ? 1000 : Math.max(0, toNumber(cmd.maxTimeMS));
    const r = await c.stream.next(bs, maxWait);
    c.lastUse = Date.now();
    if (r.closed || !eng.cursors.has(id.toString())) eng.cursors.delete(id.toString());
    const outId = r.closed ? Long.ZERO : c.id;
    return { cursor: { nextBatch: r.docs, id: outId, ns: c.ns, postBatchResumeToken: r.token }, ok: OK() };
  }
  const next = batch(c.docs, c.pos, bs);
  c.pos += next.length;
  let outId = c.id;
  if (c.pos >= c.docs.length) {
    eng.cursors.delete(id.toString());
    outId = Long.ZERO;
  }
  return { cursor: { nextBatch: next, id: outId, ns: c.ns }, ok: OK() };
}

function killCursors(eng: EngineState, cmd: Doc): Doc {
  const killed: Long[] = [];
  const notFound: Long[] = [];
  for (const idv of (cmd.cursors as unknown[]) ?? []) {
    const id = idv instanceof Long ? idv : Long.fromNumber(toNumber(idv));
    const c = eng.cursors.get(id.toString());
    if (c) {
      c.stream?.close();
      eng.cursors.delete(id.toString());
      killed.push(id);
    } else notFound.push(id);
  }
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: OK() };
}

/** Drops the query cursors of a namespace (or every namespace under a `db.` prefix); change streams see the drop as events. */
export function closeCursorsFor(eng: EngineState, prefix: string): void {
  for (const [k, c] of eng.cursors) if (!c.stream && (c.ns === prefix || c.ns.startsWith(prefix))) eng.cursors.delete(k);
}

export const cursorCommands: Record<string, Handler> = {
  getMore: (eng, cmd, ctx) => getMore(eng, cmd, ctx.db),
  killCursors: (eng, cmd) => killCursors(eng, cmd),
};
