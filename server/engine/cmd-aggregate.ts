// aggregate (with change streams handed to ./changes) and explain.
import { Aggregator } from 'mingo/aggregator';
import type { EngineState, Handler } from './engine-context';
import { cursorReply } from './cmd-cursors';
import { commandCollation, count, find, readDocs } from './cmd-read';
import { OK, SERVER_VERSION } from './cmd-util';
import { type Collation, parseCollation } from './collation';
import { err, notSupported } from './errors';
import { mingoOptions } from './mingo-ctx';
import { openChangeStream } from './changes';
import { checkPipeline } from './pipeline-check';
import type { Hit, ReadStats, Txn } from './store';
import { type Doc, fromMingo, isNumeric, isPlainObject, toMingo, toNumber } from './values';

/**
 * countDocuments() sends [$match, ($skip, $limit,) {$group: {_id: <constant>, n: {$sum: 1}}}]:
 * answer it without materialising the documents for mingo.
 */
function countOnly(stages: Doc[], total: number): Doc[] | null {
  let n = total;
  for (let i = 0; i < stages.length; i++) {
    const st = stages[i]!;
    if ('$skip' in st && isNumeric(st.$skip)) n = Math.max(0, n - toNumber(st.$skip));
    else if ('$limit' in st && isNumeric(st.$limit)) n = Math.min(n, toNumber(st.$limit));
    else if ('$group' in st && i === stages.length - 1) {
      const g = st.$group as Doc;
      const keys = Object.keys(g);
      if (keys.length !== 2 || !('_id' in g)) return null;
      const id = g._id;
      if (id !== null && (typeof id === 'string' ? id.startsWith('$') : typeof id === 'object')) return null;
      const field = keys.find((k) => k !== '_id')!;
      const acc = g[field] as Doc;
      if (!isPlainObject(acc) || Object.keys(acc).length !== 1 || !isNumeric(acc.$sum) || toNumber(acc.$sum) !== 1) return null;
      return n === 0 ? [] : [{ _id: id, [field]: n }];
    } else return null;
  }
  return null;
}

/**
 * After the leading $match stages (up to `from`): an optional $sort, then $skip/$limit stages with at
 * least one $limit. They are answered by the read itself (in index order when an index gives the
 * sort), which stops after skip + limit documents instead of handing every match to the pipeline.
 */
function readWindow(stages: Doc[], from: number): { sort?: Doc; skip: number; limit: number; end: number } | null {
  let i = from;
  let sort: Doc | undefined;
  const st = stages[i];
  if (st && '$sort' in st) {
    const spec = st.$sort;
    if (!isPlainObject(spec) || Object.keys(spec).length === 0 || !Object.values(spec).every((d) => isNumeric(d) && Math.abs(toNumber(d)) === 1)) return null;
    sort = spec;
    i++;
  }
  let skip = 0;
  let limit: number | undefined;
  for (; i < stages.length; i++) {
    const s = stages[i]!;
    if ('$skip' in s && isNumeric(s.$skip) && toNumber(s.$skip) >= 0) {
      const n = Math.floor(toNumber(s.$skip));
      skip += n;
      if (limit !== undefined) limit = Math.max(0, limit - n);
    } else if ('$limit' in s && isNumeric(s.$limit) && toNumber(s.$limit) > 0) {
      const n = Math.floor(toNumber(s.$limit));
      limit = limit === undefined ? n : Math.min(limit, n);
    } else break;
  }
  if (limit === undefined) return null;
  return { ...(sort ? { sort } : {}), skip, limit, end: i };
}

export function aggregate(eng: EngineState, cmd: Doc, db: string, txn: Txn | null, stats?: ReadStats): Doc {
  const pipeline = cmd.pipeline;
  if (!Array.isArray(pipeline)) throw err('TypeMismatch', "'pipeline' option must be specified as an array");
  if (!cmd.cursor && !cmd.explain) throw err('FailedToParse', "The 'cursor' option is required, except for aggregate with the explain argument");
  const stages = pipeline as Doc[];
  checkPipeline(stages);
  if (stages[0] && '$changeStream' in stages[0]) return openChangeStream(eng, cmd, db, stages, !!txn);
  const collField = cmd.aggregate;
  let input: Hit[] = [];
  let rest = stages;
  let ns: string;
  let collation: Collation | null = null;
  if (typeof collField === 'string') {
    ns = `${db}.${collField}`;
    const c = eng.store.coll(db, collField);
    collation = commandCollation(cmd.collation, c);
    const leading: Doc[] = [];
    let i = 0;
    while (i < stages.length && '$match' in stages[i]! && !JSON.stringify(stages[i]).includes('$$')) {
      leading.push(stages[i]!.$match as Doc);
      i++;
    }
    const filter = leading.length === 0 ? {} : leading.length === 1 ? leading[0]! : { $and: leading };
    const window = readWindow(stages, i);
    rest = stages.slice(window ? window.end : i);
    if (window?.limit === 0) input = [];
    else if (window) input = readDocs(eng, c, filter, txn, { sort: window.sort, skip: window.skip, limit: window.limit, hint: cmd.hint, stats, collation });
    else input = eng.store.query(c, filter, txn, { hint: cmd.hint, stats, collation });
  } else {
    if (!(isNumeric(collField) && toNumber(collField) === 1)) throw err('FailedToParse', 'Invalid aggregate namespace');
    ns = `${db}.$cmd.aggregate`;
    collation = parseCollation(cmd.collation);
    if (!stages[0] || !('$documents' in stages[0])) {
      throw notSupported('collection-less aggregate other than $documents');
    }
  }
  let out: Doc[];
  const counted = countOnly(rest, input.length);
  if (rest.length === 0) out = input.map((h) => h.doc);
  else if (counted) out = counted;
  else {
    const resolver = (name: string): Doc[] => {
      const c = eng.store.coll(db, name);
      const docs: Doc[] = [];
      for (const h of eng.store.scanAll(c, txn)) docs.push(toMingo(h.doc) as Doc);
      return docs;
    };
    const agg = new Aggregator(rest, mingoOptions({ collectionResolver: resolver, variables: (cmd.let as Record<string, unknown>) ?? undefined, collation }));
    const res = agg.run(input.map((h) => toMingo(h.doc) as Doc)) as Doc[];
    out = res.map((d) => fromMingo(d) as Doc);
  }
  if (cmd.explain) return { ok: OK() };
  return cursorReply(eng, ns, out, (cmd.cursor as Doc | undefined)?.batchSize, false);
}

export function explain(eng: EngineState, cmd: Doc, db: string, txn: Txn | null): Doc {
  const inner = cmd.explain as Doc;
  if (!isPlainObject(inner)) throw err('BadValue', 'explain must be an object');
  const name = Object.keys(inner)[0]!;
  const stats: ReadStats = { keys: 0, docs: 0, index: null };
  let n = 0;
  let coll = '';
  let filter: Doc = {};
  const innerCmd = { ...inner, $db: db };
  if (name === 'find') {
    coll = String(inner.find);
    filter = (inner.filter as Doc) ?? {};
    const r = find(eng, { ...innerCmd, singleBatch: true }, db, txn, stats);
    n = ((r.cursor as Doc).firstBatch as unknown[]).length;
  } else if (name === 'count') {
    coll = String(inner.count);
    filter = (inner.query as Doc) ?? {};
    n = count(eng, innerCmd, db, txn, stats).n as number;
  } else if (name === 'aggregate') {
    coll = String(inner.aggregate);
    const first = (inner.pipeline as Doc[] | undefined)?.[0];
    filter = first && '$match' in first ? (first.$match as Doc) : {};
    const r = aggregate(eng, { ...innerCmd, cursor: { batchSize: 2 ** 31 - 1 } }, db, txn, stats);
    n = ((r.cursor as Doc).firstBatch as unknown[]).length;
  } else if (name === 'distinct' || name === 'update' || name === 'delete' || name === 'findAndModify') {
    coll = String(inner[name]);
    filter = (name === 'distinct' ? inner.query : name === 'findAndModify' ? inner.query : ((inner.updates ?? inner.deletes) as Doc[] | undefined)?.[0]?.q) as Doc ?? {};
    eng.store.query(eng.store.coll(db, coll), filter, txn, { stats });
  } else throw notSupported(`explain of '${name}'`);
  const c = eng.store.coll(db, coll);
  const ix = stats.index ? c?.indexes.find((i) => i.name === stats.index) : undefined;
  const winningPlan: Doc = ix
    ? { stage: 'FETCH', inputStage: { stage: 'IXSCAN', keyPattern: ix.spec.key, indexName: ix.name, isMultiKey: ix.multikey, direction: 'forward' } }
    : { stage: 'COLLSCAN', filter, direction: 'forward' };
  return {
    explainVersion: '1',
    queryPlanner: { namespace: `${db}.${coll}`, parsedQuery: filter, winningPlan, rejectedPlans: [] },
    executionStats: { executionSuccess: true, nReturned: n, totalKeysExamined: stats.keys, totalDocsExamined: stats.docs, executionStages: winningPlan },
    command: inner,
    serverInfo: { host: '127.0.0.1', port: eng.hooks.port(), version: SERVER_VERSION },
    ok: OK(),
  };
}

export const aggregateCommands: Record<string, Handler> = {
  aggregate: (eng, cmd, ctx) => aggregate(eng, cmd, ctx.db, ctx.txn),
  explain: (eng, cmd, ctx) => explain(eng, cmd, ctx.db, ctx.txn),
};
