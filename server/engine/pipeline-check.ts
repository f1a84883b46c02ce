// Up-front validation of an aggregation pipeline, as mongod parses the whole pipeline before it
// reads anything: stage shape, unknown stages (40324), refused stages, and every $match filter
// (so `{$match: {a: {$bogus: 1}}}` fails on an empty or missing collection too).
import { err, notSupported } from './errors';
import { compileFilter } from './matcher';
import { type Doc, isPlainObject } from './values';

/** Stages mingo runs for the engine (plus the engine's own $match/$sort/$lookup). */
const RUNNABLE = new Set([
  '$addFields', '$bucket', '$bucketAuto', '$count', '$densify', '$documents', '$facet', '$fill', '$graphLookup', '$group',
  '$limit', '$lookup', '$match', '$project', '$redact', '$replaceRoot', '$replaceWith', '$sample', '$set', '$setWindowFields',
  '$skip', '$sort', '$sortByCount', '$unionWith', '$unset', '$unwind',
]);

/** Stages mongod knows that the engine refuses (115 CommandNotSupported, not 40324). */
export const UNSUPPORTED_STAGES = new Set([
  '$changeStreamSplitLargeEvent', '$geoNear', '$search', '$searchMeta', '$vectorSearch', '$collStats', '$indexStats',
  '$currentOp', '$listSessions', '$listLocalSessions', '$planCacheStats', '$out', '$merge', '$listSearchIndexes',
  '$shardedDataDistribution', '$listCatalog', '$listSampledQueries',
]);

export function checkPipeline(stages: unknown[], nested = false): void {
  for (let i = 0; i < stages.length; i++) {
    const st = stages[i];
    if (!isPlainObject(st) || Object.keys(st).length !== 1) throw err(40323, 'A pipeline stage specification object must contain exactly one field.');
    const name = Object.keys(st)[0]!;
    const arg = st[name];
    if (name === '$changeStream') {
      if (nested || i !== 0) throw err(40602, '$changeStream is only valid as the first stage in a pipeline.');
      continue;
    }
    if (UNSUPPORTED_STAGES.has(name)) throw notSupported(`aggregation stage ${name}`);
    if (!RUNNABLE.has(name)) throw err(40324, `Unrecognized pipeline stage name: '${name}'`);
    if (name === '$match') {
      if (!isPlainObject(arg)) throw err(15959, 'the match filter must be an expression in an object');
      compileFilter(arg);
    } else if (name === '$facet' && isPlainObject(arg)) {
      for (const sub of Object.values(arg)) if (Array.isArray(sub)) checkPipeline(sub, true);
    } else if ((name === '$lookup' || name === '$unionWith') && isPlainObject(arg) && Array.isArray((arg as Doc).pipeline)) {
      checkPipeline((arg as Doc).pipeline as unknown[], true);
    }
  }
}
