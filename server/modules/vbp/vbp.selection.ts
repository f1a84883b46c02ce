// National VBP winner selection with the 11th-batch defaults, agreed volume, hospital
// allocation and completion monitoring (shortlist by bidder count, the 1.8 × anchor price test, the
// low-price floors by dosage form, agreed-volume shares 50/60/70/80%).
// All prices are integer fen per unit comparable price (单位可比价: per tablet/capsule for oral solids,
// per ampoule/vial/bag for injections), the same unit as the ceiling and the low-price floors.

import { BASIS_POINTS, divide, formatFen, isFen, toSafeNumber } from '../../platform/money';

export type DosageFormClass = 'oral_solid' | 'small_volume_injection' | 'large_volume_injection' | 'other';

/** An exact fraction numerator/denominator (denominator > 0). */
export interface Ratio {
  numerator: number;
  denominator: number;
}

export interface SelectionRules {
  /** Shortlist size by number of valid bidders: entry i is for i + 1 bidders, the last entry for more. */
  shortlistByBidderCount: readonly number[];
  /** A shortlisted price wins directly when ≤ spreadMultiple × anchor (1.8). */
  spreadMultiple: Ratio;
  /** anchor = max(anchorMeanShare × mean shortlisted price, lowest price) (50%). */
  anchorMeanShare: Ratio;
  /** A shortlisted price at or under its form's floor wins directly; null = no floor. */
  lowPriceFloorFen: Readonly<Record<DosageFormClass, number | null>>;
  /** The highest valid bid never wins when there is more than one valid bidder. */
  highestBidNeverWins: boolean;
  /**
   * Price a missed shortlisted bidder may accept when only ONE bid won directly: the 11th batch uses
   * 1.8 × anchor ('spread_limit'); 'highest_direct' uses that winner's own price.
   */
  singleDirectWinnerFollowPrice: 'spread_limit' | 'highest_direct';
  /**
   * 11th batch, 1–2 bidders: the price test becomes "drop vs ceiling ≥ share × the average drop of the
   * other varieties". Applied only when selectWinners receives otherVarietiesAverageDropBp.
   */
  fewBidders: { maxValidBidders: number; shareOfAverageDrop: Ratio };
  /** Agreed-volume share (bp of declared demand) by number of winners; the last entry for more. */
  volumeShareBpByWinnerCount: readonly number[];
  /** Contract term in years by number of winners; the last entry for more. */
  termYearsByWinnerCount: readonly number[];
}

/** 11th national batch defaults. */
export const DEFAULT_SELECTION_RULES: SelectionRules = Object.freeze({
  shortlistByBidderCount: Object.freeze([1, 2, 2, 3, 3, 3, 4, 5, 6, 6, 7, 8, 8, 9, 9, 10]),
  spreadMultiple: Object.freeze({ numerator: 18, denominator: 10 }),
  anchorMeanShare: Object.freeze({ numerator: 1, denominator: 2 }),
  lowPriceFloorFen: Object.freeze({
    oral_solid: 10,
    small_volume_injection: 100,
    large_volume_injection: 200,
    other: null,
  }),
  highestBidNeverWins: true,
  singleDirectWinnerFollowPrice: 'spread_limit',
  fewBidders: Object.freeze({ maxValidBidders: 2, shareOfAverageDrop: Object.freeze({ numerator: 1, denominator: 2 }) }),
  volumeShareBpByWinnerCount: Object.freeze([5000, 6000, 7000, 8000]),
  termYearsByWinnerCount: Object.freeze([1, 1, 2, 3]),
});

export interface VbpBid {
  bidId: string;
  distributorId: string;
  priceFen: number;
  submittedAt: Date;
}

export type BidOutcomeKind = 'won_direct' | 'won_by_accepting' | 'lost' | 'invalid';

export type SelectionReasonCode =
  | 'INVALID_PRICE'
  | 'ABOVE_CEILING'
  | 'NOT_SHORTLISTED'
  | 'WITHIN_SPREAD'
  | 'ABOVE_SPREAD'
  | 'AT_OR_BELOW_FLOOR'
  | 'DROP_SUFFICIENT'
  | 'DROP_INSUFFICIENT'
  | 'HIGHEST_BID_EXCLUDED'
  | 'ACCEPTED_FOLLOW_PRICE'
  | 'DID_NOT_ACCEPT_FOLLOW_PRICE'
  | 'NO_DIRECT_WINNER';

export interface SelectionReason {
  code: SelectionReasonCode;
  params: Record<string, number | string>;
  en: string;
  zh: string;
}

export interface BidOutcome {
  bidId: string;
  distributorId: string;
  priceFen: number;
  submittedAt: Date;
  outcome: BidOutcomeKind;
  /** The contract price: own bid for direct winners, the follow price for followers, else null. */
  finalPriceFen: number | null;
  /** 1..n among valid bids (price, then earlier submission, then bidId); null when invalid. */
  rank: number | null;
  shortlisted: boolean;
  reasons: SelectionReason[];
}

export interface SelectionResult {
  validBidderCount: number;
  shortlistSize: number;
  lowestPriceFen: number | null;
  /** Mean of the shortlisted prices, exact, and rounded half-even for display. */
  meanShortlistedPrice: (Ratio & { fen: number }) | null;
  /** max(anchorMeanShare × mean, lowest), exact, and rounded half-even for display. */
  anchor: (Ratio & { fen: number }) | null;
  /** Highest whole-fen price passing the spread test: floor(spreadMultiple × anchor). */
  spreadLimitFen: number | null;
  floorFen: number | null;
  /** Whether the 1–2-bidder drop-vs-ceiling test replaced the spread test. */
  usedFewBiddersRule: boolean;
  highestDirectWinningPriceFen: number | null;
  followPriceFen: number | null;
  winnerCount: number;
  /** Valid bids in rank order, then invalid bids in input order. */
  bids: BidOutcome[];
}

export interface SelectWinnersInput {
  bids: readonly VbpBid[];
  ceilingFen: number;
  formClass: DosageFormClass;
  /** Shortlisted bids that accept the follow price if they miss the direct-win test. */
  acceptsHighestWinningPrice?: ReadonlySet<string>;
  /** Average drop vs ceiling (bp) of the other varieties' winners, for the 1–2-bidder rule. */
  otherVarietiesAverageDropBp?: number;
  rules?: SelectionRules;
}

/** Number of bids that may be shortlisted for a count of valid bidders. */
export function shortlistSize(validBidderCount: number, rules: SelectionRules = DEFAULT_SELECTION_RULES): number {
  if (!Number.isSafeInteger(validBidderCount) || validBidderCount < 0) {
    throw new RangeError(`validBidderCount must be a non-negative integer, got ${validBidderCount}.`);
  }
  if (validBidderCount === 0) return 0;
  return Math.min(validBidderCount, byCount(rules.shortlistByBidderCount, validBidderCount));
}

/** Runs the selection of one tender line: invalid bids out, shortlist, direct wins, followers. */
export function selectWinners(input: SelectWinnersInput): SelectionResult {
  const rules = input.rules ?? DEFAULT_SELECTION_RULES;
  const accepts = input.acceptsHighestWinningPrice ?? new Set<string>();
  const { ceilingFen } = input;
  if (!isFen(ceilingFen) || ceilingFen < 1) throw new RangeError(`ceilingFen must be positive fen, got ${ceilingFen}.`);
  assertUnique(input.bids.map((bid) => bid.bidId), 'bidId');
  assertUnique(input.bids.map((bid) => bid.distributorId), 'distributorId');

  const invalid: BidOutcome[] = [];
  const valid: VbpBid[] = [];
  for (const bid of input.bids) {
    if (!isFen(bid.priceFen) || bid.priceFen < 1) {
      invalid.push(outcomeOf(bid, 'invalid', null, null, false, [reason('INVALID_PRICE', { priceFen: bid.priceFen })]));
    } else if (bid.priceFen > ceilingFen) {
      invalid.push(outcomeOf(bid, 'invalid', null, null, false, [reason('ABOVE_CEILING', { priceFen: bid.priceFen, ceilingFen })]));
    } else {
      valid.push(bid);
    }
  }
  valid.sort(
    (a, b) =>
      a.priceFen - b.priceFen ||
      a.submittedAt.getTime() - b.submittedAt.getTime() ||
      (a.bidId < b.bidId ? -1 : a.bidId > b.bidId ? 1 : 0),
  );

  const n = valid.length;
  const k = shortlistSize(n, rules);
  const floorFen = rules.lowPriceFloorFen[input.formClass];
  const empty: SelectionResult = {
    validBidderCount: 0,
    shortlistSize: 0,
    lowestPriceFen: null,
    meanShortlistedPrice: null,
    anchor: null,
    spreadLimitFen: null,
    floorFen,
    usedFewBiddersRule: false,
    highestDirectWinningPriceFen: null,
    followPriceFen: null,
    winnerCount: 0,
    bids: invalid,
  };
  if (n === 0) return empty;

  const shortlisted = valid.slice(0, k);
  const lowest = BigInt(valid[0]!.priceFen);
  const sum = shortlisted.reduce((acc, bid) => acc + BigInt(bid.priceFen), 0n);
  // Exact rationals: mean = sum / k; meanShare = sum·a / (k·b); anchor = max(meanShare, lowest).
  const share = rules.anchorMeanShare;
  const meanShareNum = sum * BigInt(share.numerator);
  const meanShareDen = BigInt(k) * BigInt(share.denominator);
  const [anchorNum, anchorDen] = meanShareNum >= lowest * meanShareDen ? [meanShareNum, meanShareDen] : [lowest, 1n];
  const spreadNum = anchorNum * BigInt(rules.spreadMultiple.numerator);
  const spreadDen = anchorDen * BigInt(rules.spreadMultiple.denominator);
  const spreadLimitFen = toSafeNumber(divide(spreadNum, spreadDen, 'floor'));

  const usedFewBiddersRule = input.otherVarietiesAverageDropBp !== undefined && n <= rules.fewBidders.maxValidBidders;
  const maxPrice = valid[n - 1]!.priceFen;
  const allSamePrice = valid[0]!.priceFen === maxPrice;
  // NOTE: "the highest bid" is the highest PRICE: every bid at that price is excluded. When all valid
  // bids share one price, only the last-ranked (latest) bid is excluded, so that someone can win.
  const isHighest = (bid: VbpBid, index: number) =>
    rules.highestBidNeverWins && n > 1 && (allSamePrice ? index === n - 1 : bid.priceFen === maxPrice);

  interface Pending {
    bid: VbpBid;
    rank: number;
    shortlisted: boolean;
    excluded: boolean;
    direct: boolean;
    reasons: SelectionReason[];
  }
  const pending: Pending[] = valid.map((bid, index) => {
    const rank = index + 1;
    const isShortlisted = index < k;
    const reasons: SelectionReason[] = [];
    if (!isShortlisted) {
      reasons.push(reason('NOT_SHORTLISTED', { rank, shortlistSize: k, validBidderCount: n }));
      return { bid, rank, shortlisted: false, excluded: false, direct: false, reasons };
    }
    const price = BigInt(bid.priceFen);
    let passesPrice: boolean;
    if (usedFewBiddersRule) {
      // drop/ceiling ≥ s·avg/10000  ⇔  (ceiling − price)·10000·s.den ≥ s.num·avg·ceiling
      const s = rules.fewBidders.shareOfAverageDrop;
      const avg = BigInt(input.otherVarietiesAverageDropBp!);
      const requiredDropBp = toSafeNumber(divide(BigInt(s.numerator) * avg, BigInt(s.denominator), 'ceil'));
      passesPrice =
        (BigInt(ceilingFen) - price) * BigInt(BASIS_POINTS) * BigInt(s.denominator) >= BigInt(s.numerator) * avg * BigInt(ceilingFen);
      reasons.push(reason(passesPrice ? 'DROP_SUFFICIENT' : 'DROP_INSUFFICIENT', { priceFen: bid.priceFen, ceilingFen, requiredDropBp }));
    } else {
      passesPrice = price * spreadDen <= spreadNum; // price ≤ multiple × anchor, exactly
      reasons.push(reason(passesPrice ? 'WITHIN_SPREAD' : 'ABOVE_SPREAD', { priceFen: bid.priceFen, spreadLimitFen, multiple: ratioText(rules.spreadMultiple) }));
    }
    const passesFloor = floorFen !== null && bid.priceFen <= floorFen;
    if (passesFloor) reasons.push(reason('AT_OR_BELOW_FLOOR', { priceFen: bid.priceFen, floorFen: floorFen! }));
    const excluded = isHighest(bid, index);
    if (excluded) reasons.push(reason('HIGHEST_BID_EXCLUDED', { priceFen: bid.priceFen, validBidderCount: n }));
    return { bid, rank, shortlisted: true, excluded, direct: !excluded && (passesPrice || passesFloor), reasons };
  });

  const direct = pending.filter((p) => p.direct);
  const highestDirectWinningPriceFen = direct.length > 0 ? Math.max(...direct.map((p) => p.bid.priceFen)) : null;
  let followPriceFen: number | null = null;
  if (highestDirectWinningPriceFen !== null) {
    followPriceFen =
      direct.length === 1 && rules.singleDirectWinnerFollowPrice === 'spread_limit' && !usedFewBiddersRule
        ? Math.min(ceilingFen, Math.max(spreadLimitFen, highestDirectWinningPriceFen))
        : highestDirectWinningPriceFen;
  }

  const outcomes: BidOutcome[] = pending.map((p) => {
    if (p.direct) return outcomeOf(p.bid, 'won_direct', p.bid.priceFen, p.rank, true, p.reasons);
    if (!p.shortlisted || p.excluded) return outcomeOf(p.bid, 'lost', null, p.rank, p.shortlisted, p.reasons);
    if (followPriceFen === null) {
      return outcomeOf(p.bid, 'lost', null, p.rank, true, [...p.reasons, reason('NO_DIRECT_WINNER', {})]);
    }
    if (accepts.has(p.bid.bidId)) {
      return outcomeOf(p.bid, 'won_by_accepting', followPriceFen, p.rank, true, [
        ...p.reasons,
        reason('ACCEPTED_FOLLOW_PRICE', { followPriceFen }),
      ]);
    }
    return outcomeOf(p.bid, 'lost', null, p.rank, true, [...p.reasons, reason('DID_NOT_ACCEPT_FOLLOW_PRICE', { followPriceFen })]);
  });

  return {
    ...empty,
    validBidderCount: n,
    shortlistSize: k,
    lowestPriceFen: Number(lowest),
    meanShortlistedPrice: exactRatio(sum, BigInt(k)),
    anchor: exactRatio(anchorNum, anchorDen),
    spreadLimitFen,
    usedFewBiddersRule,
    highestDirectWinningPriceFen,
    followPriceFen,
    winnerCount: outcomes.filter((o) => o.outcome === 'won_direct' || o.outcome === 'won_by_accepting').length,
    bids: [...outcomes, ...invalid],
  };
}

/** Agreed-volume share of declared demand, in basis points, for a number of winners (0 → 0). */
export function agreedVolumeShare(winnerCount: number, rules: SelectionRules = DEFAULT_SELECTION_RULES): number {
  return winnerCount === 0 ? 0 : byCount(rules.volumeShareBpByWinnerCount, winnerCount);
}

/** Contract term in years for a number of winners (0 → 0). */
export function contractTermYears(winnerCount: number, rules: SelectionRules = DEFAULT_SELECTION_RULES): number {
  return winnerCount === 0 ? 0 : byCount(rules.termYearsByWinnerCount, winnerCount);
}

export interface HospitalDemand {
  hospitalId: string;
  declaredQty: number;
  /** A winner the hospital reported volume for by brand (按品牌报量). */
  preferredDistributorId?: string | null;
}

export interface HospitalAllocation {
  hospitalId: string;
  distributorId: string;
  declaredQty: number;
  agreedQty: number;
  basis: 'preferred' | 'rank_rotation';
}

/**
 * Assigns every hospital to one winner. A hospital that named a winner gets it; the others are
 * taken largest declared quantity first (then hospitalId) and handed to the winners round-robin in
 * rank order, so the first-ranked winner picks first. A preference for a non-winner is ignored and
 * reported. agreedQty = declaredQty × shareBp / 10000 rounded half to even. Output follows the
 * input order of hospitals.
 */
export function allocateHospitals(input: {
  winnersInRankOrder: readonly string[];
  hospitals: readonly HospitalDemand[];
  shareBp: number;
}): { allocations: HospitalAllocation[]; ignoredPreferences: string[] } {
  const { winnersInRankOrder: winners, hospitals, shareBp } = input;
  if (winners.length === 0) throw new RangeError('allocateHospitals needs at least one winner.');
  assertUnique(winners, 'winner');
  assertUnique(hospitals.map((h) => h.hospitalId), 'hospitalId');
  if (!Number.isSafeInteger(shareBp) || shareBp < 0 || shareBp > BASIS_POINTS) {
    throw new RangeError(`shareBp must be an integer in [0, 10000], got ${shareBp}.`);
  }
  const winnerSet = new Set(winners);
  const assigned = new Map<string, { distributorId: string; basis: HospitalAllocation['basis'] }>();
  const ignoredPreferences: string[] = [];
  const rotation: HospitalDemand[] = [];
  for (const hospital of hospitals) {
    if (!isFen(hospital.declaredQty)) throw new RangeError(`declaredQty of ${hospital.hospitalId} must be a non-negative integer.`);
    const preferred = hospital.preferredDistributorId;
    if (preferred && winnerSet.has(preferred)) {
      assigned.set(hospital.hospitalId, { distributorId: preferred, basis: 'preferred' });
    } else {
      if (preferred) ignoredPreferences.push(hospital.hospitalId);
      rotation.push(hospital);
    }
  }
  rotation
    .sort((a, b) => b.declaredQty - a.declaredQty || (a.hospitalId < b.hospitalId ? -1 : a.hospitalId > b.hospitalId ? 1 : 0))
    .forEach((hospital, index) => {
      assigned.set(hospital.hospitalId, { distributorId: winners[index % winners.length]!, basis: 'rank_rotation' });
    });
  const allocations = hospitals.map((hospital) => {
    const { distributorId, basis } = assigned.get(hospital.hospitalId)!;
    return {
      hospitalId: hospital.hospitalId,
      distributorId,
      declaredQty: hospital.declaredQty,
      agreedQty: toSafeNumber(divide(BigInt(hospital.declaredQty) * BigInt(shareBp), BigInt(BASIS_POINTS), 'half_even')),
      basis,
    };
  });
  return { allocations, ignoredPreferences };
}

export interface CompletionStatus {
  /** purchased / agreed in basis points, half-even; null when nothing was agreed. */
  ratioBp: number | null;
  /** agreed × elapsed share of the term, half-even (elapsed clamped to the term). */
  proRataTargetQty: number;
  /** Purchases are below the pro-rata target (exact comparison). */
  behindPace: boolean;
  /** Purchases are below checkpointShare of the pro-rata target; at term end, of the agreed total. */
  underCheckpoint: boolean;
}

/**
 * Progress of a contract at `at`. The pro-rata target grows linearly (by the millisecond) from 0 at
 * termStart to agreedQty at termEnd. behindPace warns below 100% of it; underCheckpoint alerts below
 * checkpointShare (default 80%, the national reporting floor) of it. Comparisons are exact.
 */
export function completionStatus(input: {
  agreedQty: number;
  purchasedQty: number;
  termStart: Date;
  termEnd: Date;
  at: Date;
  checkpointShare?: number;
}): CompletionStatus {
  const { agreedQty, purchasedQty } = input;
  if (!isFen(agreedQty) || !isFen(purchasedQty)) throw new RangeError('Quantities must be non-negative integers.');
  const start = input.termStart.getTime();
  const total = input.termEnd.getTime() - start;
  if (!(total > 0)) throw new RangeError('termEnd must be after termStart.');
  const checkpointBp = Math.round((input.checkpointShare ?? 0.8) * BASIS_POINTS);
  if (checkpointBp < 0 || checkpointBp > BASIS_POINTS) throw new RangeError('checkpointShare must be within [0, 1].');
  const elapsed = BigInt(Math.min(Math.max(input.at.getTime() - start, 0), total));
  const agreed = BigInt(agreedQty);
  const purchased = BigInt(purchasedQty);
  const totalMs = BigInt(total);
  // target = agreed·elapsed/total; compare purchased·total against agreed·elapsed to stay exact.
  const behindPace = purchased * totalMs < agreed * elapsed;
  const underCheckpoint = purchased * totalMs * BigInt(BASIS_POINTS) < agreed * elapsed * BigInt(checkpointBp);
  return {
    ratioBp: agreedQty === 0 ? null : toSafeNumber(divide(purchased * BigInt(BASIS_POINTS), agreed, 'half_even')),
    proRataTargetQty: toSafeNumber(divide(agreed * elapsed, totalMs, 'half_even')),
    behindPace,
    underCheckpoint,
  };
}

function byCount(table: readonly number[], count: number): number {
  if (table.length === 0) throw new RangeError('Rule table is empty.');
  return table[Math.min(count, table.length) - 1]!;
}

function exactRatio(numerator: bigint, denominator: bigint): Ratio & { fen: number } {
  return {
    numerator: toSafeNumber(numerator),
    denominator: toSafeNumber(denominator),
    fen: toSafeNumber(divide(numerator, denominator, 'half_even')),
  };
}

function ratioText(ratio: Ratio): string {
  return String(ratio.numerator / ratio.denominator);
}

function outcomeOf(
  bid: VbpBid,
  outcome: BidOutcomeKind,
  finalPriceFen: number | null,
  rank: number | null,
  shortlisted: boolean,
  reasons: SelectionReason[],
): BidOutcome {
  return {
    bidId: bid.bidId,
    distributorId: bid.distributorId,
    priceFen: bid.priceFen,
    submittedAt: bid.submittedAt,
    outcome,
    finalPriceFen,
    rank,
    shortlisted,
    reasons,
  };
}

function assertUnique(values: readonly string[], what: string): void {
  const seen = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) throw new RangeError(`Duplicate ${what} "${value}".`);
    seen.add(value);
  }
}

const money = (fen: number | string) => (typeof fen === 'number' && Number.isSafeInteger(fen) ? formatFen(fen) : String(fen));

type Params = Record<string, number | string>;

const REASON_TEXTS: Record<SelectionReasonCode, (p: Params) => [en: string, zh: string]> = {
  INVALID_PRICE: () => ['The price must be a positive whole number of fen.', '报价须为大于零的整数（分）。'],
  ABOVE_CEILING: (p) => [
    `The price ${money(p.priceFen!)} is above the ceiling ${money(p.ceilingFen!)}; the bid is invalid.`,
    `报价 ${money(p.priceFen!)} 高于最高有效申报价 ${money(p.ceilingFen!)}，为无效报价。`,
  ],
  NOT_SHORTLISTED: (p) => [
    `Ranked ${p.rank} of ${p.validBidderCount}; only the first ${p.shortlistSize} are shortlisted.`,
    `在 ${p.validBidderCount} 家有效申报中排名第 ${p.rank}，入围名额为 ${p.shortlistSize} 家。`,
  ],
  WITHIN_SPREAD: (p) => [
    `The price is at most ${p.multiple} × the anchor price (limit ${money(p.spreadLimitFen!)}).`,
    `报价不高于锚点价的 ${p.multiple} 倍（上限 ${money(p.spreadLimitFen!)}）。`,
  ],
  ABOVE_SPREAD: (p) => [
    `The price is above ${p.multiple} × the anchor price (limit ${money(p.spreadLimitFen!)}).`,
    `报价高于锚点价的 ${p.multiple} 倍（上限 ${money(p.spreadLimitFen!)}）。`,
  ],
  AT_OR_BELOW_FLOOR: (p) => [
    `The price is at or under the low-price floor of ${money(p.floorFen!)} for its dosage form.`,
    `报价不高于该剂型的低价保护线 ${money(p.floorFen!)}。`,
  ],
  DROP_SUFFICIENT: (p) => [
    `With few bidders, the drop against the ceiling reaches the required ${p.requiredDropBp} bp.`,
    `申报企业较少，相对最高有效申报价的降幅达到要求的 ${p.requiredDropBp} 个基点。`,
  ],
  DROP_INSUFFICIENT: (p) => [
    `With few bidders, the drop against the ceiling is below the required ${p.requiredDropBp} bp.`,
    `申报企业较少，相对最高有效申报价的降幅未达到要求的 ${p.requiredDropBp} 个基点。`,
  ],
  HIGHEST_BID_EXCLUDED: () => [
    'The highest valid bid cannot win when there is more than one valid bidder.',
    '有效申报企业多于一家时，最高报价不得中选。',
  ],
  ACCEPTED_FOLLOW_PRICE: (p) => [
    `Won by accepting the highest direct-winning price ${money(p.followPriceFen!)}.`,
    `接受规则一最高中选价 ${money(p.followPriceFen!)}，获得中选资格。`,
  ],
  DID_NOT_ACCEPT_FOLLOW_PRICE: (p) => [
    `Did not accept the highest direct-winning price ${money(p.followPriceFen!)}.`,
    `未接受规则一最高中选价 ${money(p.followPriceFen!)}。`,
  ],
  NO_DIRECT_WINNER: () => ['No bid won directly, so there is no price to accept.', '无直接中选企业，无可接受的中选价。'],
};

function reason(code: SelectionReasonCode, params: Params): SelectionReason {
  const [en, zh] = REASON_TEXTS[code](params);
  return { code, params, en, zh };
}
