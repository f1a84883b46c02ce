// What one committed batch of quote changes tells each room of a round's live board, as deltas: one
// `round:lines` push per room per commit, carrying every line the commit changed as that room's
// viewers may see it. Pure: the subscriber that pushes (quotation.subscribers.ts) and the tests call it.
import type { z } from 'zod';
import type { QuotesCommitted } from '../../events/quotation';
import type { RoundLineDelta, RoundLinesPayload } from '../../platform/realtime.events';
import type { RoundRecord } from './quotation.model';

type Committed = z.output<typeof QuotesCommitted.schema>;

/** The pushes of one commit: the operators' room, the distributors' room (best mode only), and each distributor's own room. */
export interface CommitPushes {
  operator: RoundLinesPayload;
  distributors: RoundLinesPayload | null;
  orgs: Map<string, RoundLinesPayload>;
}

type MovedRun = Committed['moved'][number];

/** A distributor's final rank on a line after a commit moved it. */
export interface MovedRank {
  lineId: string;
  distributorOrgId: string;
  rank: number;
}

const ORG_ID_LENGTH = 24;

/** The moved ranks of one line (in rank order) as runs of consecutive ranks. */
export function movedRuns(lineId: string, moved: readonly { distributorOrgId: string; rank: number }[]): MovedRun[] {
  const runs: MovedRun[] = [];
  let run: { fromRank: number; orgs: string[] } | undefined;
  for (const m of moved) {
    if (run && m.rank === run.fromRank + run.orgs.length) run.orgs.push(m.distributorOrgId);
    else {
      if (run) runs.push({ lineId, fromRank: run.fromRank, orgs: run.orgs.join('') });
      run = { fromRank: m.rank, orgs: [m.distributorOrgId] };
    }
  }
  if (run) runs.push({ lineId, fromRank: run.fromRank, orgs: run.orgs.join('') });
  return runs;
}

/** Each distributor named in the runs, with its final rank. */
export function movedRanks(runs: readonly MovedRun[]): MovedRank[] {
  const out: MovedRank[] = [];
  for (const run of runs) {
    for (let i = 0; i * ORG_ID_LENGTH < run.orgs.length; i += 1) {
      out.push({ lineId: run.lineId, distributorOrgId: run.orgs.slice(i * ORG_ID_LENGTH, (i + 1) * ORG_ID_LENGTH), rank: run.fromRank + i });
    }
  }
  return out;
}

function entry(lines: Map<string, RoundLineDelta>, lineId: string): RoundLineDelta {
  let line = lines.get(lineId);
  if (!line) {
    line = { lineId };
    lines.set(lineId, line);
  }
  return line;
}

/**
 * Splits a commit into per-room deltas. The operator gets every quote change by alias (with each
 * quote's rank after the commit when it is that distributor's last change on the line) and each
 * changed line's count and best price; a distributor gets its own latest quote per line (rank hidden
 * in `sealed` mode) and, where others moved it, its final rank; in `best` mode every distributor gets
 * the changed lines' anonymous best price and count. In `sealed` mode a distributor hears only its
 * own quotes.
 */
export function commitPushes(round: Pick<RoundRecord, '_id' | 'visibility' | 'lines'>, commit: Pick<Committed, 'seq' | 'changes' | 'moved'>): CommitPushes {
  const roundId = String(round._id);
  const sealed = round.visibility === 'sealed';
  const decrement = new Map(round.lines.map((l) => [String(l._id), l.minDecrementFen]));
  const moved = movedRanks(commit.moved);
  const finalRank = new Map(moved.map((m) => [`${m.lineId}:${m.distributorOrgId}`, m.rank]));
  const lastChange = new Map<string, number>();
  commit.changes.forEach((c, i) => lastChange.set(`${c.lineId}:${c.distributorOrgId}`, i));

  const operatorLines = new Map<string, RoundLineDelta>();
  const bestLines = new Map<string, RoundLineDelta>();
  const orgLines = new Map<string, Map<string, RoundLineDelta>>();
  const linesOf = (orgId: string) => {
    let lines = orgLines.get(orgId);
    if (!lines) {
      lines = new Map();
      orgLines.set(orgId, lines);
    }
    return lines;
  };

  commit.changes.forEach((c, i) => {
    if (!decrement.has(c.lineId)) return;
    const key = `${c.lineId}:${c.distributorOrgId}`;
    const last = lastChange.get(key) === i;
    const rank = c.rank === null ? null : last ? (finalRank.get(key) ?? c.rank) : c.rank;
    const op = entry(operatorLines, c.lineId);
    op.quoteCount = c.quoteCount;
    op.bestPriceFen = c.bestPriceFen;
    (op.quotes ??= []).push({ alias: c.alias, priceFen: c.own.priceFen, receivedAt: c.own.receivedAt, seq: c.seq, rank, status: c.own.status });
    if (round.visibility === 'best') {
      const known = bestLines.get(c.lineId);
      if (known || c.bestChanged || c.kind !== 'revised') {
        const best = known ?? entry(bestLines, c.lineId);
        best.bestPriceFen = c.bestPriceFen;
        best.quoteCount = c.quoteCount;
      }
    }
    if (last) {
      const own = entry(linesOf(c.distributorOrgId), c.lineId);
      own.own = { ...c.own, rank: sealed ? null : rank };
      own.nextMaxPriceFen = c.own.priceFen - decrement.get(c.lineId)!;
    }
  });
  if (!sealed) {
    for (const m of moved) {
      if (lastChange.has(`${m.lineId}:${m.distributorOrgId}`) || !decrement.has(m.lineId)) continue;
      entry(linesOf(m.distributorOrgId), m.lineId).rank = m.rank;
    }
  }
  const push = (lines: Map<string, RoundLineDelta>): RoundLinesPayload => ({ roundId, seq: commit.seq, lines: [...lines.values()] });
  return {
    operator: push(operatorLines),
    distributors: bestLines.size ? push(bestLines) : null,
    orgs: new Map([...orgLines].map(([orgId, lines]) => [orgId, push(lines)])),
  };
}
