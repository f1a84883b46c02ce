// Factories for the catalogue and quotation rounds, through the real API: drugs with valid unique
// codes, rounds opened now and closing soon, and published listings other modules can order from.
import { randomInt } from 'node:crypto';
import { gs1CheckDigit, generateValidGtin13 } from '../../server/modules/catalogue/catalogue.codes';
import { buildTradingDistributor } from './credit-factories';
import { buildUser, type TestUser } from './factories';
import { testClock } from './global';
import { until } from './wait';

let counter = randomInt(0, 40_000);
let operator: TestUser | undefined;

/** An operator user shared by these factories (created once per run). */
export async function catalogueOperator(): Promise<TestUser> {
  operator ??= await buildUser('operator');
  return operator;
}

/** Valid, run-unique codes for a new drug (NHSA code and 本位码 share the enterprise code). */
export function uniqueDrugCodes(): { nhsaCode: string; standardCode: string; gtin: string; tracePrefix: string } {
  counter += 1;
  const n = counter;
  const enterprise = String(10_000 + (n % 90_000)).padStart(5, '0');
  const nameCode = `D${String(n % 1000).padStart(3, '0')}`;
  const body = `869${enterprise}${String(n % 100_000).padStart(5, '0')}`;
  return {
    nhsaCode: `XB01AD${nameCode}A0020101${enterprise}`,
    standardCode: body + gs1CheckDigit(body),
    gtin: generateValidGtin13(500_000_000 + n),
    tracePrefix: String(2_000_000 + n),
  };
}

export interface DrugOverrides {
  genericNameZh?: string;
  genericNameEn?: string;
  dosageForm?: string;
  formClass?: 'oral_solid' | 'small_volume_injection' | 'large_volume_injection' | 'other';
  specification?: string;
  packUnit?: string;
  manufacturer?: string;
  categories?: { shortage?: boolean; vbp?: boolean; regular?: boolean };
  /** Reference price in force from `effectiveFrom` (default: a week ago); null for none. */
  referencePriceFen?: number | null;
  effectiveFrom?: Date;
}

export interface BuiltDrug {
  id: string;
  genericNameZh: string;
  genericNameEn: string;
  nhsaCode: string;
  standardCode: string;
  gtin?: string;
  tracePrefix: string;
  referencePriceFen: number | null;
}

/** The body of a valid "create drug" request (unique codes), with overrides. */
export function drugBody(overrides: DrugOverrides = {}): Record<string, unknown> {
  const codes = uniqueDrugCodes();
  const body: Record<string, unknown> = {
    genericNameZh: overrides.genericNameZh ?? `测试药品${counter}注射液`,
    genericNameEn: overrides.genericNameEn ?? `Test Drug ${counter} Injection`,
    dosageForm: overrides.dosageForm ?? '注射剂',
    formClass: overrides.formClass ?? 'small_volume_injection',
    specification: overrides.specification ?? '2ml:10mg',
    packUnit: overrides.packUnit ?? '支',
    manufacturer: overrides.manufacturer ?? '测试制药有限公司',
    ...codes,
    categories: { shortage: true, vbp: false, regular: false, ...overrides.categories },
  };
  const price = overrides.referencePriceFen === undefined ? 289_000 : overrides.referencePriceFen;
  if (price !== null) {
    body.referencePriceFen = price;
    body.effectiveFrom = (overrides.effectiveFrom ?? new Date(testClock.now().getTime() - 7 * 86_400_000)).toISOString();
  }
  return body;
}

/** Adds a drug to the catalogue through the operator API (default reference price ¥2,890.00). */
export async function buildDrug(overrides: DrugOverrides = {}): Promise<BuiltDrug> {
  const op = await catalogueOperator();
  const res = await op.api().post('/api/v1/catalogue/drugs', drugBody(overrides));
  if (res.status !== 201) throw new Error(`creating a drug failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as BuiltDrug;
}

export interface RoundLineInfo {
  lineId: string;
  no: number;
  drugId: string;
  referenceFen: number;
  minDecrementFen: number;
}

export interface BuiltRound {
  id: string;
  no: string;
  status: string;
  opensAt: string;
  closesAt: string;
  lines: RoundLineInfo[];
  drugs: BuiltDrug[];
}

export interface RoundOptions {
  /** Number of lines (a new drug each), or existing drugs. */
  lines?: number;
  drugs?: BuiltDrug[];
  referenceFen?: number;
  visibility?: 'rank' | 'best' | 'sealed';
  /** Close this many ms after now (default 60 s); the round opens now. */
  closesInMs?: number;
  opensInMs?: number;
  minDecrementBp?: number;
  /** Default: no extensions (window 1 s, maxExtensions 0) so factory rounds close on time. */
  antiSniping?: { windowSec?: number; extendSec?: number; maxExtensions?: number };
  listingValidityDays?: number;
  title?: string;
  /** Leave the round a draft instead of scheduling it. */
  draft?: boolean;
}


/** Creates (and unless `draft`, schedules) a round over new or given drugs; resolves once it is open. */
export async function buildOpenRound(opts: RoundOptions = {}): Promise<BuiltRound> {
  const op = await catalogueOperator();
  const drugs = opts.drugs ?? (await Promise.all(Array.from({ length: opts.lines ?? 1 }, () => buildDrug(opts.referenceFen ? { referencePriceFen: opts.referenceFen } : {}))));
  const at = testClock.now().getTime();
  const body = {
    title: opts.title ?? `测试报价轮次 ${counter}`,
    lines: drugs.map((d) => ({ drugId: d.id, ...(opts.drugs && opts.referenceFen ? { referenceFen: opts.referenceFen } : {}) })),
    opensAt: new Date(at + (opts.opensInMs ?? 0)).toISOString(),
    closesAt: new Date(at + (opts.closesInMs ?? 60_000)).toISOString(),
    visibility: opts.visibility ?? 'rank',
    ...(opts.minDecrementBp !== undefined ? { minDecrementBp: opts.minDecrementBp } : {}),
    antiSniping: { windowSec: 1, extendSec: 1, maxExtensions: 0, ...opts.antiSniping },
    ...(opts.listingValidityDays ? { listingValidityDays: opts.listingValidityDays } : {}),
  };
  const created = await op.api().post('/api/v1/rounds', body);
  if (created.status !== 201) throw new Error(`creating a round failed: ${created.status} ${JSON.stringify(created.body)}`);
  const id = created.body.id as string;
  if (!opts.draft) {
    const scheduled = await op.api().post(`/api/v1/rounds/${id}/schedule`);
    if (scheduled.status !== 200) throw new Error(`scheduling a round failed: ${scheduled.status} ${JSON.stringify(scheduled.body)}`);
    if (!opts.opensInMs) {
      await until(async () => ((await op.api().get(`/api/v1/rounds/${id}`)).body.round.status === 'open' ? true : undefined), 5000, 'the round to open');
    }
  }
  const board = await op.api().get(`/api/v1/rounds/${id}`);
  return {
    id,
    no: board.body.round.no,
    status: board.body.round.status,
    opensAt: board.body.round.opensAt,
    closesAt: board.body.round.closesAt,
    lines: board.body.lines.map((l: RoundLineInfo) => ({ lineId: l.lineId, no: l.no, drugId: l.drugId, referenceFen: l.referenceFen, minDecrementFen: l.minDecrementFen })),
    drugs,
  };
}

/** Quotes through the HTTP API; throws unless accepted. */
export async function quote(user: TestUser, roundId: string, lineId: string, priceFen: number): Promise<{ quoteId: string; rank: number | null; seq: number }> {
  const res = await user.api().post(`/api/v1/rounds/${roundId}/quotes`, { lineId, priceFen });
  if (res.status !== 201) throw new Error(`quote refused: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Distributors that may trade, built one after another (signing the commitment in force). */
export async function tradingDistributors(n: number): Promise<TestUser[]> {
  const users: TestUser[] = [];
  for (let i = 0; i < n; i += 1) users.push(await buildTradingDistributor());
  return users;
}

/** Waits until the round reaches a status (polling the API as the operator). */
export async function waitForRoundStatus(roundId: string, status: string, ms = 10_000): Promise<void> {
  const op = await catalogueOperator();
  await until(async () => ((await op.api().get(`/api/v1/rounds/${roundId}`)).body.round?.status === status ? true : undefined), ms, `round ${roundId} to be ${status}`);
}

export interface PublishedRound extends BuiltRound {
  distributors: TestUser[];
}

/**
 * A published listing to order from: a short round over new drugs (or given ones) where each
 * distributor (trading distributors are built when not given) quotes `prices[d][line]` fen; resolves
 * once the round is published. Default: one line, one distributor quoting ¥1,950.00.
 *
 * NOTE: the round must stay open while the quotes are made and close soon after, and on a loaded
 * machine quoting can outlast a short window: without a given `closesInMs` or drugs, a round that
 * closed before its quotes were in is left and one over new drugs built with a longer window (1.5 s,
 * 4 s, then 10 s).
 */
export async function publishRoundWithQuotes(opts: RoundOptions & { distributors?: TestUser[]; prices?: (number | null)[][] } = {}): Promise<PublishedRound> {
  const prices = opts.prices ?? [[195_000]];
  const distributors = opts.distributors ?? (await tradingDistributors(prices.length));
  // NOTE: given drugs are not retried: the closed round would publish a second listing of them.
  const windows = opts.closesInMs !== undefined || opts.drugs ? [opts.closesInMs ?? 1500] : [1500, 4000, 10_000];
  for (const [attempt, closesInMs] of windows.entries()) {
    const last = attempt === windows.length - 1;
    const round = await buildOpenRound({ ...opts, closesInMs });
    let tooLate = false;
    quoting: for (const [d, row] of prices.entries()) {
      for (const [i, price] of row.entries()) {
        if (price === null) continue;
        try {
          await quote(distributors[d]!, round.id, round.lines[i]!.lineId, price);
        } catch (err) {
          if (last || !/ROUND_CLOSED/.test((err as Error).message)) throw err;
          tooLate = true;
          break quoting;
        }
      }
    }
    if (tooLate) continue;
    await waitForRoundStatus(round.id, 'published');
    return { ...round, status: 'published', distributors };
  }
  throw new Error('unreachable: the last window either publishes or throws');
}
