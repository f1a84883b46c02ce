// Pure rules of shortage-drug quotation rounds: quote validity, ranking, anti-sniping,
// anonymous aliases and the round report. No I/O; times are parameters.

import { createHmac } from 'node:crypto';
import { BASIS_POINTS, isFen, mulDiv, reductionBasisPoints } from '../../platform/money';
import { addSeconds } from '../../platform/time';
import { msg, type Message } from '../../platform/messages';

/** Platform defaults for a round; every one can be overridden per round. */
export const QUOTATION_DEFAULTS = {
  minDecrementBp: 50,
  windowSec: 120,
  extendSec: 120,
  maxExtensions: 10,
  // NOTE: no source gives a number for "quoted clearly below reference" (明显低于参考价; seed 000
  // reports 44 of 274 drugs, the example being −32%); 20% is a platform choice.
  clearlyBelowBp: 2000,
} as const;

export type RuleRefusal<C extends string> = {
  ok: false;
  code: C;
  message: Message;
  details: Record<string, unknown>;
};

/**
 * Smallest allowed step between a distributor's consecutive quotes: decrementBp of the reference
 * price rounded UP to whole fen (so the step is never below the percentage), and at least 1 fen.
 */
export function minimumDecrementFen(referenceFen: number, decrementBasisPoints: number = QUOTATION_DEFAULTS.minDecrementBp): number {
  if (!isFen(referenceFen)) throw new RangeError(`referenceFen must be a fen amount, got ${referenceFen}.`);
  if (!Number.isSafeInteger(decrementBasisPoints) || decrementBasisPoints < 0) {
    throw new RangeError(`decrementBasisPoints must be a non-negative integer, got ${decrementBasisPoints}.`);
  }
  return Math.max(1, mulDiv(referenceFen, decrementBasisPoints, BASIS_POINTS, 'ceil'));
}

export type QuoteRefusalCode = 'INVALID_PRICE' | 'ABOVE_REFERENCE' | 'NOT_BELOW_PREVIOUS' | 'INSUFFICIENT_DECREMENT';

export interface QuoteCheckInput {
  priceFen: number;
  referenceFen: number;
  /** The distributor's own current quote on this line, if any. */
  previousPriceFen?: number | null;
  minDecrementFen: number;
}

/** Decides whether a quote (or a revision) is acceptable on a line. */
export function checkQuote(input: QuoteCheckInput): { ok: true } | RuleRefusal<QuoteRefusalCode> {
  const { priceFen, referenceFen, minDecrementFen } = input;
  const previousPriceFen = input.previousPriceFen ?? null;
  if (!isFen(referenceFen) || referenceFen < 1) throw new RangeError(`referenceFen must be positive fen, got ${referenceFen}.`);
  if (!Number.isSafeInteger(minDecrementFen) || minDecrementFen < 1) {
    throw new RangeError(`minDecrementFen must be at least 1, got ${minDecrementFen}.`);
  }
  const details = { priceFen, referenceFen, previousPriceFen, minDecrementFen };
  if (!isFen(priceFen) || priceFen < 1) {
    return refuse('INVALID_PRICE', msg('errorCodes.INVALID_PRICE'), details);
  }
  if (priceFen > referenceFen) {
    return refuse('ABOVE_REFERENCE', msg('errorCodes.ABOVE_REFERENCE', { reference: { fen: referenceFen } }), { ...details, maxAllowedFen: referenceFen });
  }
  if (previousPriceFen !== null) {
    const maxAllowedFen = previousPriceFen - minDecrementFen;
    if (priceFen >= previousPriceFen) {
      return refuse('NOT_BELOW_PREVIOUS', msg('errorCodes.NOT_BELOW_PREVIOUS', { previous: { fen: previousPriceFen } }), { ...details, maxAllowedFen });
    }
    if (priceFen > maxAllowedFen) {
      return refuse(
        'INSUFFICIENT_DECREMENT',
        msg('errorCodes.INSUFFICIENT_DECREMENT', { step: { fen: minDecrementFen }, max: { fen: maxAllowedFen } }),
        { ...details, maxAllowedFen },
      );
    }
  }
  return { ok: true };
}

export interface RankableQuote {
  distributorId: string;
  priceFen: number;
  /** Server receipt time. */
  receivedAt: Date;
  /** Server-assigned sequence number, breaking ties within the same millisecond. */
  seq?: number;
}

/** Orders quotes by price, then earlier receipt, then lower seq, then distributorId; ranks 1..n. */
export function rankQuotes<Q extends RankableQuote>(quotes: readonly Q[]): (Q & { rank: number })[] {
  return [...quotes].sort(compareQuotes).map((quote, index) => ({ ...quote, rank: index + 1 }));
}

export function compareQuotes(a: RankableQuote, b: RankableQuote): number {
  return (
    a.priceFen - b.priceFen ||
    a.receivedAt.getTime() - b.receivedAt.getTime() ||
    (a.seq ?? 0) - (b.seq ?? 0) ||
    (a.distributorId < b.distributorId ? -1 : a.distributorId > b.distributorId ? 1 : 0)
  );
}

export interface AntiSnipingInput {
  receivedAt: Date;
  /** The round's current close (already including earlier extensions). */
  closesAt: Date;
  /** Whether this quote changed the best price of its line. */
  bestChanged: boolean;
  windowSec: number;
  extendSec: number;
  extensionsSoFar: number;
  maxExtensions: number;
}

export type AntiSnipingDecision =
  | { extend: true; newClosesAt: Date; extensionNumber: number }
  | { extend: false; reason: 'BEST_UNCHANGED' | 'OUTSIDE_WINDOW' | 'AFTER_CLOSE' | 'CAP_REACHED' };

/**
 * Whether a quote extends the round. It does when it changed the best price, arrived before the
 * close and at most windowSec before it (inclusive), and fewer than maxExtensions have happened.
 * The new close is the CURRENT close + extendSec ("extends the close by extendSec"), so
 * with the defaults (window = extension = 120 s) rivals always get at least 120 s to answer.
 */
export function antiSnipingDecision(input: AntiSnipingInput): AntiSnipingDecision {
  const received = input.receivedAt.getTime();
  const closes = input.closesAt.getTime();
  if (received >= closes) return { extend: false, reason: 'AFTER_CLOSE' };
  if (!input.bestChanged) return { extend: false, reason: 'BEST_UNCHANGED' };
  if (closes - received > input.windowSec * 1000) return { extend: false, reason: 'OUTSIDE_WINDOW' };
  if (input.extensionsSoFar >= input.maxExtensions) return { extend: false, reason: 'CAP_REACHED' };
  return {
    extend: true,
    newClosesAt: addSeconds(input.closesAt, input.extendSec),
    extensionNumber: input.extensionsSoFar + 1,
  };
}

// Letters without I and O, which read as digits.
const ALIAS_LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';

/**
 * Anonymous alias code of a distributor in one round, e.g. "K407": HMAC-SHA256 keyed with a server
 * secret, so it is stable within the round, differs between rounds and cannot be reversed without
 * the secret. 24 000 codes exist, so two distributors can collide: the service stores the alias on
 * first quote and, if another distributor of the round already holds it, retries with attempt + 1.
 */
export function anonymousAliasCode(roundId: string, distributorId: string, secret: string, attempt = 0): string {
  if (!secret) throw new RangeError('anonymousAliasCode needs a non-empty secret.');
  const digest = createHmac('sha256', secret).update(`${roundId}\u0000${distributorId}\u0000${attempt}`).digest();
  const letter = ALIAS_LETTERS[digest.readUInt32BE(0) % ALIAS_LETTERS.length]!;
  const number = digest.readUInt32BE(4) % 1000;
  return `${letter}${String(number).padStart(3, '0')}`;
}

/** Display form of an alias code: "供应商 K407" or "Supplier K407". */
export function formatAlias(code: string, lang: 'zh' | 'en' = 'zh'): string {
  return lang === 'zh' ? `供应商 ${code}` : `Supplier ${code}`;
}

/** Convenience: the displayed alias of a distributor in a round. */
export function anonymousAlias(
  roundId: string,
  distributorId: string,
  secret: string,
  options: { lang?: 'zh' | 'en'; attempt?: number } = {},
): string {
  return formatAlias(anonymousAliasCode(roundId, distributorId, secret, options.attempt ?? 0), options.lang ?? 'zh');
}

export interface ReportLineInput {
  lineId: string;
  referenceFen: number;
  /** The valid final quotes of the line (withdrawn and superseded quotes excluded). */
  quotes: readonly RankableQuote[];
}

export interface ReportLine {
  lineId: string;
  referenceFen: number;
  quoteCount: number;
  bestPriceFen: number | null;
  bestDistributorId: string | null;
  /** (reference − best) / reference in basis points, half-even; null without quotes. */
  reductionBp: number | null;
  clearlyBelowReference: boolean;
}

export interface RoundReport {
  lines: ReportLine[];
  overall: {
    lineCount: number;
    quoteCount: number;
    quotedLineCount: number;
    distributorCount: number;
    linesWithoutQuotes: string[];
    linesClearlyBelowReference: string[];
    clearlyBelowBp: number;
    /** Unweighted mean of the quoted lines' reductions, half-even; null when nothing was quoted. */
    averageReductionBp: number | null;
    /** Reference total vs best-price total over quoted lines (one unit of each), half-even. */
    totalReferenceFen: number;
    totalBestFen: number;
    totalReductionBp: number | null;
  };
}

/** Per-line and overall figures of a closed round. */
export function roundReport(
  lines: readonly ReportLineInput[],
  options: { clearlyBelowBp?: number } = {},
): RoundReport {
  const clearlyBelowBp = options.clearlyBelowBp ?? QUOTATION_DEFAULTS.clearlyBelowBp;
  const distributors = new Set<string>();
  const reportLines = lines.map((line): ReportLine => {
    for (const quote of line.quotes) distributors.add(quote.distributorId);
    const best = line.quotes.length > 0 ? rankQuotes(line.quotes)[0]! : null;
    const reductionBp = best ? reductionBasisPoints(best.priceFen, line.referenceFen) : null;
    return {
      lineId: line.lineId,
      referenceFen: line.referenceFen,
      quoteCount: line.quotes.length,
      bestPriceFen: best?.priceFen ?? null,
      bestDistributorId: best?.distributorId ?? null,
      reductionBp,
      clearlyBelowReference: reductionBp !== null && reductionBp >= clearlyBelowBp,
    };
  });
  const quoted = reportLines.filter((line) => line.bestPriceFen !== null);
  const totalReferenceFen = quoted.reduce((sum, line) => sum + line.referenceFen, 0);
  const totalBestFen = quoted.reduce((sum, line) => sum + line.bestPriceFen!, 0);
  return {
    lines: reportLines,
    overall: {
      lineCount: reportLines.length,
      quoteCount: reportLines.reduce((sum, line) => sum + line.quoteCount, 0),
      quotedLineCount: quoted.length,
      distributorCount: distributors.size,
      linesWithoutQuotes: reportLines.filter((line) => line.quoteCount === 0).map((line) => line.lineId),
      linesClearlyBelowReference: reportLines.filter((line) => line.clearlyBelowReference).map((line) => line.lineId),
      clearlyBelowBp,
      averageReductionBp:
        quoted.length === 0 ? null : mulDiv(quoted.reduce((sum, line) => sum + line.reductionBp!, 0), 1, quoted.length, 'half_even'),
      totalReferenceFen,
      totalBestFen,
      totalReductionBp: totalReferenceFen === 0 ? null : reductionBasisPoints(totalBestFen, totalReferenceFen),
    },
  };
}

/** Longest wait (ms) before a stale batch is decided again. */
export const STALE_RETRY_CAP_MS = 64;

/**
 * How long a batch that lost the round's compare-and-set to another process waits before it is
 * decided again: a random time up to 2, 4, 8 … ms, at most STALE_RETRY_CAP_MS ("full jitter"), so
 * processes that met on the round's sequence do not meet again at once.
 */
export function staleRetryDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(STALE_RETRY_CAP_MS, 2 ** (Math.max(0, attempt) + 1));
  return Math.min(ceiling - 1, Math.floor(random() * ceiling));
}

function refuse<C extends string>(code: C, message: Message, details: Record<string, unknown>): RuleRefusal<C> {
  return { ok: false, code, message, details };
}
