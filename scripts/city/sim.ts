// The city's months, through the running app: the engine (a child process with its own data
// directory), Redis and the app in the `all` role (HTTP, sockets, jobs, sweeps) on a settable
// business clock. Every organisation, user, drug, round, tender, order, shipment, acceptance,
// payment, breach, appeal and repair goes through the HTTP API as the person who would do it;
// deadlines, closes, due-date settlements, interest and sanctions are the app's own jobs, released
// as simulated time passes (time-machine.ts). Only the first operator is bootstrapped through the
// identity service, as `npm start` does with the demo data.
import { existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { startRole, type Running } from '../../server/boot';
import { spawnEngine, type SpawnedEngine } from '../../server/engine/spawn';
import { createOrganisation, createUser } from '../../server/modules/identity';
import type { Actor } from '../../server/platform/auth';
import { SettableClock } from '../../server/platform/clock';
import { loadConfig } from '../../server/platform/config';
import { createLogger } from '../../server/platform/logger';
import { ensureRedis } from '../../server/platform/redis';
import { generateCity, MAX_LINE_QTY, monthsToDays, Rng, type City, type CityDrug } from './generator';
import { TimeMachine } from './time-machine';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

export interface SimOptions {
  seed: string;
  scale: number;
  months: number;
  /** first simulated day, YYYY-MM-DD (Asia/Shanghai) */
  start: string;
  /** days after the last month with no new trade, so its invoices reach their due date (default 31) */
  runOffDays: number;
  /** keep the engine's data directory here (and write city.json for `npm start -- --city`) */
  keepDir?: string;
  onProgress?: (p: Progress) => void;
  /** called at the end of each simulated month, and for month 1 and the last month with the probe */
  onMonth?: (m: MonthSample) => void;
}

export interface Progress {
  day: number;
  days: number;
  simDate: string;
  orders: number;
  wallMs: number;
  phase: string;
}

export interface ProbeResult {
  name: string;
  p50: number;
  p99: number;
  n: number;
}

export interface MonthSample {
  month: number;
  simDate: string;
  wallMs: number;
  documents: Record<string, number>;
  engineRssMb: number;
  diskMb: number;
  ordersPlaced: number;
  probe?: ProbeResult[];
}

export interface Counters {
  ordersPlaced: number;
  ordersRefused: number;
  confirmed: number;
  shipped: number;
  delivered: number;
  accepted: number;
  qualityRefusals: number;
  paidEarly: number;
  repayments: number;
  prepayments: number;
  quotes: number;
  appeals: number;
  appealDecisions: number;
  repairs: number;
  repairDecisions: number;
  lateConfirmations: number;
  lateDeliveries: number;
  bySource: Record<string, number>;
  httpErrors: Record<string, number>;
  httpCalls: number;
  httpMs: number;
  timeMachineMs: number;
  jobsReleased: number;
  byRoute: Record<string, { n: number; ms: number }>;
}

export interface SimResult {
  city: City;
  months: MonthSample[];
  counters: Counters;
  wallMs: number;
  setupMs: number;
  dbpath: string;
  endsAt: string;
  /** end of the trading months (before the run-off) */
  tradedTo: string;
  start: string;
  /** the open connection to the city's database (closed by stop()) */
  db: mongoose.mongo.Db;
  operatorToken: string;
  baseUrl: string;
  stop(): Promise<void>;
}

interface Reply {
  status: number;
  // NOTE: replies are read loosely; their shapes are checked by the modules' own tests.
  body: any;
}

class Http {
  calls = 0;
  ms = 0;
  errors: Record<string, number> = {};
  samples: string[] = [];
  /** time spent per kind of call (method and route), for where the run's time goes */
  byRoute: Record<string, { n: number; ms: number }> = {};
  constructor(readonly base: string) {}

  async call(token: string | undefined, method: string, p: string, body?: unknown, expect?: number[]): Promise<Reply> {
    const t0 = performance.now();
    const res = await fetch(`${this.base}${p}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(120_000),
    });
    const text = await res.text();
    this.calls += 1;
    const took = performance.now() - t0;
    this.ms += took;
    const route = `${method} ${p.replace(/[a-f0-9]{24}/g, ':id').replace(/\?.*$/, '')}`;
    const r = (this.byRoute[route] ??= { n: 0, ms: 0 });
    r.n += 1;
    r.ms += took;
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (res.status >= 300 && !(expect ?? []).includes(res.status)) {
      const key = `${method} ${p.replace(/[a-f0-9]{24}/g, ':id').replace(/\?.*$/, '')} ${res.status} ${parsed?.error?.code ?? ''}`.trim();
      this.errors[key] = (this.errors[key] ?? 0) + 1;
      if (this.samples.length < 30) this.samples.push(`${key}: ${text.slice(0, 300)}`);
    }
    return { status: res.status, body: parsed };
  }
}

interface User {
  email: string;
  token: string;
  orgId: string;
  signedInAt: number;
}

interface LiveOrder {
  id: string;
  hospital: number;
  distributor: number;
  urgent: boolean;
  lines: { lineNo: number; drugId: string; confirmedQty: number }[];
  /** simulated day on which the distributor acts on it next */
  confirmOn: number;
  deliverOn?: number;
  state: 'placed' | 'confirmed' | 'shipped' | 'delivered';
}

const SYSTEM: Actor = { id: '000000000000000000000000', sessionId: 'city', email: 'city@gpo', name: 'city bootstrap', role: 'operator', orgId: '000000000000000000000000', orgType: 'operator', orgName: 'city' };

/** Runs `fn` over `items` with at most `n` at a time. */
async function pool<T>(items: readonly T[], n: number, fn: (x: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

/** The start of a simulated day at `hour` (Asia/Shanghai). */
function at(startDay: string, day: number, hour: number): Date {
  return new Date(new Date(`${startDay}T00:00:00+08:00`).getTime() + day * DAY + hour * HOUR);
}

function shanghaiDay(d: Date): string {
  return new Date(d.getTime() + 8 * HOUR).toISOString().slice(0, 10);
}

export function dirSizeBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? dirSizeBytes(p) : statSync(p).size;
  }
  return total;
}

export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

/** Starts the engine, Redis and the app on a clock at the city's first day. */
async function startStack(opts: SimOptions, dbpath: string) {
  // NOTE: CITY_PROFILE_DIR profiles the engine process too (the sim's own process: node --cpu-prof).
  const profileDir = process.env.CITY_PROFILE_DIR;
  const engine: SpawnedEngine = await spawnEngine({ port: 0, dbpath, ...(profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}) });
  const logger = createLogger('silent', 'gpo-city');
  const redis = await ensureRedis({ url: process.env.REDIS_URL, autostart: true, dataDir: path.join(ROOT, 'data'), logger });
  const clock = new SettableClock(at(opts.start, 0, 7));
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    MONGODB_DB: 'gpo',
    QUEUE_PREFIX: `city${process.pid}${Date.now().toString(36)}`,
    LOG_LEVEL: process.env.CITY_LOG_LEVEL ?? 'silent',
    JWT_SECRET: 'city-secret-0123456789abcdef0123456789abcdef',
    DEMO_MODE: 'false',
    SESSION_TTL_HOURS: String(24 * 30),
    LOGIN_RATE_LIMIT: '1000',
    QUOTE_RATE_LIMIT: '100000',
    // NOTE: the sim runs the sweeps itself after each move of the clock.
    SCHEDULE_SWEEP_MS: '3600000',
    PDF_WORKERS: '0',
  });
  const running: Running = await startRole({ config, logger, role: 'all', mongoUri: engine.uri, redisUrl: redis.url, clock });
  const tm = new TimeMachine(running, clock, redis.url);
  return { engine, running, clock, tm, redisUrl: redis.url };
}

/** Generates the city and runs it for `months` simulated months. */
export async function runCity(opts: SimOptions): Promise<SimResult> {
  const wall0 = Date.now();
  const city = generateCity({ seed: opts.seed, scale: opts.scale, months: opts.months });
  const days = monthsToDays(opts.months);
  const dbpath = opts.keepDir ? path.resolve(opts.keepDir, 'mongo') : mkdtempSync(path.join(os.tmpdir(), 'gpo-city-'));
  if (opts.keepDir && existsSync(dbpath) && readdirSync(dbpath).length) throw new Error(`${opts.keepDir} already holds a city; remove it or choose another directory`);
  mkdirSync(dbpath, { recursive: true });
  const { engine, running, tm } = await startStack(opts, dbpath);
  const http = new Http(running.url!.replace('localhost', '127.0.0.1'));
  const rng = new Rng(`sim:${opts.seed}`);
  const counters: Counters = {
    ordersPlaced: 0, ordersRefused: 0, confirmed: 0, shipped: 0, delivered: 0, accepted: 0, qualityRefusals: 0, paidEarly: 0, repayments: 0, prepayments: 0, quotes: 0,
    appeals: 0, appealDecisions: 0, repairs: 0, repairDecisions: 0, lateConfirmations: 0, lateDeliveries: 0, bySource: {}, httpErrors: http.errors, httpCalls: 0, httpMs: 0, timeMachineMs: 0, jobsReleased: 0, byRoute: http.byRoute,
  };
  const progress = (day: number, phase: string) =>
    opts.onProgress?.({ day, days, simDate: shanghaiDay(tm.now()), orders: counters.ordersPlaced, wallMs: Date.now() - wall0, phase });
  const move = async (to: Date) => {
    const t0 = Date.now();
    await tm.moveTo(to);
    counters.timeMachineMs += Date.now() - t0;
  };
  const parallel = 4;

  // ---- the cast ----------------------------------------------------------------------------------
  progress(0, 'admitting organisations');
  const login = async (email: string): Promise<User> => {
    const r = await http.call(undefined, 'POST', '/api/v1/auth/login', { email, password: city.password });
    if (r.status !== 200) throw new Error(`sign-in of ${email} failed: ${r.status} ${JSON.stringify(r.body)}`);
    return { email, token: r.body.token, orgId: r.body.user.orgId, signedInAt: tm.now().getTime() };
  };
  const opOrg = (await createOrganisation(SYSTEM, { name: city.operator.orgName, type: 'operator' })) as unknown as { id: string };
  await createUser(SYSTEM, { orgId: opOrg.id, name: city.operator.name, email: city.operator.email, role: 'operator', password: city.password });
  let operator = await login(city.operator.email);
  const fresh = async (u: User): Promise<User> => (tm.now().getTime() - u.signedInAt > 25 * DAY ? Object.assign(u, await login(u.email)) : u);
  const must = async (r: Promise<Reply>, what: string, ok = [200, 201]): Promise<Reply> => {
    const res = await r;
    if (!ok.includes(res.status)) throw new Error(`${what} failed: ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
    return res;
  };
  const admit = async (name: string, type: string, extra: Record<string, unknown>, users: { email: string; role: string; name: string }[]) => {
    const org = await must(http.call(operator.token, 'POST', '/api/v1/organisations', { name, type, ...extra }), `admitting ${name}`);
    for (const u of users) await must(http.call(operator.token, 'POST', '/api/v1/users', { orgId: org.body.id, name: u.name, email: u.email, role: u.role, password: city.password }), `creating ${u.email}`);
    return org.body.id as string;
  };

  const bankIds: string[] = [];
  const bankUsers: User[] = [];
  for (const b of city.banks) {
    bankIds.push(await admit(b.name, 'bank', {}, [{ email: b.email, role: 'bank_officer', name: `${b.name}信贷员` }]));
    bankUsers.push(await login(b.email));
  }
  const hospitalIds: string[] = new Array(city.hospitals.length);
  const pharmacists: User[] = new Array(city.hospitals.length);
  const finance: User[] = new Array(city.hospitals.length);
  await pool(city.hospitals, parallel, async (h, i) => {
    hospitalIds[i] = await admit(h.name, 'hospital', { hospitalLevel: h.level, address: h.address }, [
      { email: h.pharmacistEmail, role: 'pharmacist', name: `${h.name}药剂科` },
      { email: h.financeEmail, role: 'hospital_finance', name: `${h.name}财务科` },
    ]);
    pharmacists[i] = await login(h.pharmacistEmail);
    finance[i] = await login(h.financeEmail);
  });
  const distributorIds: string[] = new Array(city.distributors.length);
  const distributors: User[] = new Array(city.distributors.length);
  for (const [i, d] of city.distributors.entries()) {
    distributorIds[i] = await admit(d.name, 'distributor', {}, [{ email: d.email, role: 'distributor', name: `${d.name}销售部` }]);
    distributors[i] = await login(d.email);
  }
  const commitmentBody = readFileSync(path.join(ROOT, 'templates/commitments/default.zh.hbs'), 'utf8');
  await must(http.call(operator.token, 'POST', '/api/v1/credit/commitment-versions', { title: '药品集团采购配送企业违约惩戒承诺书', body: commitmentBody }), 'publishing the commitment');
  const signCommitment = async (u: User) => {
    const preview = await must(http.call(u.token, 'GET', '/api/v1/credit/commitment'), 'reading the commitment');
    await must(http.call(u.token, 'POST', '/api/v1/credit/commitment/sign', { versionId: preview.body.version.id, textSha256: preview.body.textSha256 }), 'signing the commitment');
  };
  await pool(distributors, parallel, (u) => signCommitment(u));
  // NOTE: the quiet period before a repair is a platform setting; a short run shortens it so repairs happen.
  const quietDays = opts.months >= 4 ? 60 : 7;
  await must(http.call(operator.token, 'PATCH', '/api/v1/settings', { credit: { repairQuietDays: quietDays } }), 'settings');

  progress(0, 'catalogue');
  const drugIds: string[] = new Array(city.drugs.length);
  const effectiveFrom = new Date(at(opts.start, 0, 0).getTime() - 30 * DAY).toISOString();
  await pool(city.drugs, parallel, async (d, i) => {
    const { no: _no, kind, referenceFen, weight: _w, ...fields } = d;
    const r = await must(
      http.call(operator.token, 'POST', '/api/v1/catalogue/drugs', { ...fields, categories: { shortage: kind === 'shortage', vbp: kind === 'vbp', regular: kind === 'regular' }, referencePriceFen: referenceFen, effectiveFrom }),
      `adding drug ${d.genericNameZh}`,
    );
    drugIds[i] = r.body.id;
  });
  const drugIndex = new Map(drugIds.map((id, i) => [id, i]));

  progress(0, 'guarantee lines');
  const monthlyFen = (i: number) => Math.round((city.yearlyPurchaseFen * city.hospitals[i]!.weight) / 12);
  await pool(city.hospitals, parallel, async (h, i) => {
    const bank = bankUsers[h.bank]!;
    const applied = await must(http.call(finance[i]!.token, 'POST', '/api/v1/finance/lines', { bankOrgId: bankIds[h.bank], amountFen: h.lineFen, termMonths: 12 }), 'applying for a line');
    await must(http.call(bank.token, 'GET', `/api/v1/finance/lines/${applied.body.id}/review`), 'reviewing a line');
    await must(
      http.call(bank.token, 'POST', `/api/v1/finance/lines/${applied.body.id}/approve`, { limitFen: h.lineFen, annualRateBp: city.banks[h.bank]!.annualRateBp, maxTenorDays: 90, expiresOn: `${Number(opts.start.slice(0, 4)) + 3}-12-31` }),
      'approving a line',
    );
    // NOTE: working capital prepaid by the insurance fund, plus one extra month (DESIGN.md §1).
    await must(http.call(operator.token, 'POST', `/api/v1/finance/accounts/${hospitalIds[i]}/prepayments`, { amountFen: Math.max(100_00, Math.round(monthlyFen(i) * (h.prepaymentCover < 1 ? h.prepaymentCover : 1 + h.prepaymentCover))), reference: `YB-${opts.start.slice(0, 7)}-${h.no}` }), 'prepayment');
    counters.prepayments += 1;
  });
  const setupMs = Date.now() - wall0;

  // ---- the days ----------------------------------------------------------------------------------
  const live: LiveOrder[] = [];
  const roundIds: (string | undefined)[] = [];
  const listingCache = new Map<string, { day: number; choices: any[] }>();
  const contractsOf = new Map<number, Map<string, { id: string; distributorOrgId: string }>>();
  let suspended = new Set<string>();
  let vbpDeclarationId: string | undefined;
  let vbpTender: { id: string; lines: { id: string; drugId: string }[] } | undefined;
  let vbpContractsLoaded = false;
  const distributorOf = new Map(distributorIds.map((id, i) => [id, i]));
  const totalWeight = city.drugs.reduce((a, d) => a + d.weight, 0);
  const drugWeights = city.drugs.map((d) => d.weight);
  const appealed = new Set<string>();
  const months: MonthSample[] = [];
  let monthWall = Date.now();
  let traceSerial = 0;
  const traceCodes = (prefix: string, n: number) => Array.from({ length: n }, () => `${prefix}${String(++traceSerial).padStart(13, '0')}`);

  const sample = async (month: number, probe: boolean): Promise<MonthSample> => {
    const db = mongoose.connection.db!;
    const documents: Record<string, number> = {};
    for (const c of await db.listCollections({}, { nameOnly: true }).toArray()) documents[c.name] = await db.collection(c.name).estimatedDocumentCount();
    const m: MonthSample = { month, simDate: shanghaiDay(tm.now()), wallMs: Date.now() - monthWall, documents, engineRssMb: rssMb(engine.pid), diskMb: Math.round(dirSizeBytes(dbpath) / 2 ** 20), ordersPlaced: counters.ordersPlaced };
    if (probe) m.probe = await runProbe();
    monthWall = Date.now();
    return m;
  };

  // The fixed probe of the hot reads: the same requests at month 1 and at the last month.
  const runProbe = async (): Promise<ProbeResult[]> => {
    operator = await fresh(operator);
    const ph = await fresh(pharmacists[0]!);
    const fin = await fresh(finance[0]!);
    const dist = await fresh(distributors[0]!);
    const bank = await fresh(bankUsers[city.hospitals[0]!.bank]!);
    const lines = await http.call(bank.token, 'GET', '/api/v1/finance/lines');
    const lineId = lines.body?.data?.[0]?.id as string | undefined;
    const cookie = await pageCookie(http.base, city.operator.email, city.password);
    const reads: [string, string, string | undefined, boolean][] = [
      ['orders list (hospital)', '/api/v1/orders?limit=30', ph.token, false],
      ['orders list (distributor)', '/api/v1/orders?limit=30', dist.token, false],
      ['orders list (operator)', '/api/v1/orders?limit=30', operator.token, false],
      ['listings (hospital)', '/api/v1/listings?limit=30', ph.token, false],
      ['listings of a drug', `/api/v1/orders/listings?drugId=${drugIds[0]}`, ph.token, false],
      ['invoices (hospital finance)', '/api/v1/finance/invoices?limit=30', fin.token, false],
      ['invoices (distributor)', '/api/v1/finance/invoices?limit=30', dist.token, false],
      ['bank: line review', `/api/v1/finance/lines/${lineId}/review`, bank.token, false],
      ['bank: summary', '/api/v1/finance/bank/summary', bank.token, false],
      ['credit standing (distributor)', '/api/v1/credit/standing', dist.token, false],
      ['credit public list', '/api/v1/credit/public', dist.token, false],
      ['operator: orders page', '/orders', cookie, true],
      ['operator: organisations page', '/admin/organisations', cookie, true],
      ['operator: credit page', '/credit', cookie, true],
      ['operator: dashboard page', '/dashboard', cookie, true],
    ];
    const out: ProbeResult[] = [];
    for (const [name, p, auth, page] of reads) {
      const ms: number[] = [];
      const n = page ? 8 : 20;
      for (let k = 0; k < n; k += 1) {
        const t0 = performance.now();
        const res = await fetch(`${http.base}${p}`, { headers: page ? { cookie: auth ?? '' } : { authorization: `Bearer ${auth}` } });
        await res.arrayBuffer();
        if (res.status !== 200) http.errors[`probe ${name} ${res.status}`] = (http.errors[`probe ${name} ${res.status}`] ?? 0) + 1;
        ms.push(performance.now() - t0);
      }
      ms.sort((a, b) => a - b);
      out.push({ name, n, p50: ms[Math.floor((n - 1) * 0.5)]!, p99: ms[Math.min(n - 1, Math.ceil(n * 0.99) - 1)]! });
    }
    return out;
  };

  const cheapestListing = async (hospital: number, drug: number, day: number): Promise<any | undefined> => {
    const id = drugIds[drug]!;
    let c = listingCache.get(id);
    if (!c || c.day !== day) {
      const r = await http.call(pharmacists[hospital]!.token, 'GET', `/api/v1/orders/listings?drugId=${id}`);
      c = { day, choices: r.body?.data ?? [] };
      listingCache.set(id, c);
    }
    return c.choices.find((x) => !x.credit?.suspended && !suspended.has(x.distributorOrgId));
  };

  const placeOrders = async (day: number) => {
    const dailyFen = city.yearlyPurchaseFen / 365;
    const weekday = new Date(at(opts.start, day, 12).getTime()).getUTCDay();
    const dayFactor = weekday === 0 || weekday === 6 ? 0.4 : 1.16;
    const carts: { hospital: number; urgent: boolean; lines: any[] }[] = [];
    for (const [h, hosp] of city.hospitals.entries()) {
      const expectedLines = (dailyFen * dayFactor * hosp.weight) / city.lineValueFen;
      const nLines = rng.poisson(expectedLines);
      if (!nLines) continue;
      // NOTE: a day's lines go out as carts of up to 6 lines (one order per distributor each).
      for (let left = nLines; left > 0; left -= 6) carts.push({ hospital: h, urgent: rng.chance(0.08), lines: Array.from({ length: Math.min(6, left) }, () => rng.weighted(drugWeights, totalWeight)) });
    }
    await pool(carts, parallel, async (cart) => {
      const h = cart.hospital;
      const ph = (pharmacists[h] = await fresh(pharmacists[h]!));
      const lines: any[] = [];
      const seen = new Set<number>();
      for (const d of cart.lines as number[]) {
        if (seen.has(d)) continue;
        seen.add(d);
        const drug = city.drugs[d]!;
        const quantity = Math.max(1, Math.min(MAX_LINE_QTY, Math.round((city.lineValueFen / drug.referenceFen) * (0.4 + rng.next() * 1.2))));
        const contract = drug.kind === 'vbp' ? contractsOf.get(h)?.get(drugIds[d]!) : undefined;
        if (contract && !suspended.has(contract.distributorOrgId)) {
          lines.push({ drugId: drugIds[d], distributorOrgId: contract.distributorOrgId, source: 'contract', refId: contract.id, quantity });
          continue;
        }
        const listing = drug.kind === 'shortage' ? await cheapestListing(h, d, day) : undefined;
        if (listing) {
          lines.push({ drugId: drugIds[d], distributorOrgId: listing.distributorOrgId, source: 'listing', refId: listing.listingId, quantity });
          continue;
        }
        const candidates = distributorIds.filter((id) => !suspended.has(id));
        if (!candidates.length) continue;
        lines.push({ drugId: drugIds[d], distributorOrgId: candidates[(h * 7 + d) % candidates.length], source: 'catalogue', quantity });
      }
      if (!lines.length) return;
      const r = await http.call(ph.token, 'POST', '/api/v1/orders', { urgency: cart.urgent ? 'urgent' : 'regular', lines }, [422]);
      if (r.status !== 201) {
        counters.ordersRefused += 1;
        return;
      }
      for (const o of r.body.data as any[]) {
        counters.ordersPlaced += 1;
        for (const l of o.lines) counters.bySource[l.source.kind] = (counters.bySource[l.source.kind] ?? 0) + 1;
        const dist = distributorOf.get(o.distributorOrgId)!;
        const late = rng.chance(city.distributors[dist]!.missRate);
        if (late) counters.lateConfirmations += 1;
        live.push({ id: o.id, hospital: h, distributor: dist, urgent: cart.urgent, lines: o.lines.map((l: any) => ({ lineNo: l.lineNo, drugId: l.drugId, confirmedQty: l.quantity })), confirmOn: late ? day + 2 : day, state: 'placed' });
      }
    });
  };

  const confirmOrders = async (day: number) => {
    const due = live.filter((o) => o.state === 'placed' && o.confirmOn <= day);
    await pool(due, parallel, async (o) => {
      const d = (distributors[o.distributor] = await fresh(distributors[o.distributor]!));
      const r = await http.call(d.token, 'POST', `/api/v1/orders/${o.id}/confirm`, {}, [409, 422]);
      if (r.status === 200) {
        o.state = 'confirmed';
        counters.confirmed += 1;
        const lateDelivery = rng.chance(city.distributors[o.distributor]!.missRate);
        if (lateDelivery) counters.lateDeliveries += 1;
        o.deliverOn = lateDelivery ? day + 4 : o.urgent ? day : day + rng.int(0, 1);
      } else o.state = 'delivered'; // cancelled or refused: out of the flow
    });
  };

  const shipOrders = async (day: number) => {
    const due = live.filter((o) => o.state === 'confirmed' && (o.deliverOn ?? day) <= day + 1);
    await pool(due, parallel, async (o) => {
      const d = distributors[o.distributor]!;
      const expiry = shanghaiDay(new Date(tm.now().getTime() + 400 * DAY));
      const lines = o.lines.map((l) => ({ lineNo: l.lineNo, quantity: l.confirmedQty, batchNo: `B${shanghaiDay(tm.now()).replace(/-/g, '')}${l.lineNo}`, expiryDate: expiry, codes: traceCodes(city.drugs[drugIndex.get(l.drugId)!]!.tracePrefix, l.confirmedQty) }));
      const r = await http.call(d.token, 'POST', `/api/v1/orders/${o.id}/ship`, { carrier: '顺丰医药', trackingNo: `SF${o.id.slice(-10)}`, lines });
      if (r.status === 201) {
        o.state = 'shipped';
        counters.shipped += 1;
        await http.call(d.token, 'POST', `/api/v1/orders/${o.id}/tracking`, { kind: 'departed', location: '清远市配送中心' });
      }
    });
  };

  const deliverOrders = async (day: number) => {
    const due = live.filter((o) => o.state === 'shipped' && (o.deliverOn ?? day) <= day);
    await pool(due, parallel, async (o) => {
      const r = await http.call(distributors[o.distributor]!.token, 'POST', `/api/v1/orders/${o.id}/tracking`, { kind: 'delivered', location: city.hospitals[o.hospital]!.name });
      if (r.status === 201) {
        o.state = 'delivered';
        counters.delivered += 1;
      }
    });
  };

  const acceptOrders = async () => {
    const due = live.filter((o) => o.state === 'delivered' && counters.delivered > 0);
    await pool(due, parallel, async (o) => {
      const ph = (pharmacists[o.hospital] = await fresh(pharmacists[o.hospital]!));
      const s = await http.call(ph.token, 'GET', `/api/v1/orders/${o.id}/shipment`, undefined, [404]);
      o.state = 'placed';
      o.confirmOn = Number.POSITIVE_INFINITY; // done with it
      if (s.status !== 200) return;
      const quality = rng.chance(0.003);
      const lines = (s.body.lines as any[]).map((l, k) => {
        const refuse = quality && k === 0 && l.quantity > 1 ? 1 : 0;
        return { lineNo: l.lineNo, acceptedQty: l.quantity - refuse, refusedQty: refuse, ...(refuse ? { refusalReason: 'quality' } : {}), batchNo: l.batchNo, expiryDate: l.expiryDate, codes: l.codes.slice(0, l.quantity - refuse) };
      });
      const r = await http.call(ph.token, 'POST', `/api/v1/orders/${o.id}/acceptance`, { lines });
      if (r.status === 201) {
        counters.accepted += 1;
        if (lines.some((l) => l.refusedQty)) counters.qualityRefusals += 1;
      }
    });
    for (let i = live.length - 1; i >= 0; i -= 1) if (live[i]!.confirmOn === Number.POSITIVE_INFINITY) live.splice(i, 1);
  };

  const financeDay = async (day: number) => {
    const weekday = new Date(at(opts.start, day, 12).getTime()).getUTCDay();
    await pool(city.hospitals, parallel, async (h, i) => {
      // NOTE: finance looks at its open invoices on working days and pays about a third early.
      if (weekday === 0 || weekday === 6) return;
      const f = (finance[i] = await fresh(finance[i]!));
      if (!rng.chance(0.35)) return;
      const open = await http.call(f.token, 'GET', '/api/v1/finance/invoices?status=open&limit=30');
      for (const inv of (open.body?.data ?? []) as any[]) {
        if (!rng.chance(0.3)) continue;
        const r = await http.call(f.token, 'POST', `/api/v1/finance/invoices/${inv.id}/pay`, {}, [409, 422]);
        if (r.status === 200 || r.status === 201) counters.paidEarly += 1;
      }
      if (weekday === 1) {
        const acc = await http.call(f.token, 'GET', '/api/v1/finance/account');
        const owed = (acc.body?.debt?.principalOutstandingFen ?? 0) + (acc.body?.debt?.interestOutstandingFen ?? 0);
        if (owed > 0) {
          const amountFen = Math.max(1, Math.round(owed * (0.3 + rng.next() * 0.7)));
          const r = await http.call(f.token, 'POST', '/api/v1/finance/repayments', { amountFen, source: 'transfer', reference: `HK-${shanghaiDay(tm.now())}-${h.no}` }, [422]);
          if (r.status === 201) counters.repayments += 1;
        }
      }
    });
  };

  const monthlyPrepayments = async (day: number) => {
    await pool(city.hospitals, parallel, async (h, i) => {
      const r = await http.call(operator.token, 'POST', `/api/v1/finance/accounts/${hospitalIds[i]}/prepayments`, { amountFen: Math.max(100_00, Math.round(monthlyFen(i) * h.prepaymentCover)), reference: `YB-${shanghaiDay(at(opts.start, day, 9)).slice(0, 7)}-${h.no}` });
      if (r.status === 201) counters.prepayments += 1;
    });
  };

  const openRound = async (r: (typeof city.rounds)[number]) => {
    const opensAt = new Date(tm.now().getTime() + 60_000);
    const closesAt = new Date(tm.now().getTime() + 2 * HOUR);
    const created = await must(
      http.call(operator.token, 'POST', '/api/v1/rounds', {
        title: `清远市第${r.no}轮短缺药品报价（${r.drugs.length} 个品种）`,
        lines: r.drugs.map((d) => ({ drugId: drugIds[d] })),
        opensAt: opensAt.toISOString(),
        closesAt: closesAt.toISOString(),
        visibility: 'rank',
        antiSniping: { windowSec: 120, extendSec: 120, maxExtensions: 3 },
        listingValidityDays: 200,
      }),
      'creating a round',
    );
    await must(http.call(operator.token, 'POST', `/api/v1/rounds/${created.body.id}/schedule`), 'scheduling a round');
    roundIds[r.no - 1] = created.body.id;
    return created.body.id as string;
  };

  const quoteRound = async (r: (typeof city.rounds)[number], id: string) => {
    const board = await must(http.call(operator.token, 'GET', `/api/v1/rounds/${id}`), 'reading a round');
    const lineOf = new Map((board.body.lines as any[]).map((l) => [l.drugId, l.lineId]));
    // Opening quotes, then the final ones: live bidding, each revision lower than the last.
    for (const stage of ['openingFen', 'finalFen'] as const) {
      const jobs = r.drugs.flatMap((d, k) => r.quotes[k]!.map((q) => ({ d, q })));
      await pool(jobs, parallel, async ({ d, q }) => {
        const u = (distributors[q.distributor] = await fresh(distributors[q.distributor]!));
        if (stage === 'finalFen' && q.finalFen >= q.openingFen) return;
        const res = await http.call(u.token, 'POST', `/api/v1/rounds/${id}/quotes`, { lineId: lineOf.get(drugIds[d]), priceFen: q[stage] }, [403, 409, 422]);
        if (res.status === 201) counters.quotes += 1;
      });
    }
  };

  const vbpStep = async (day: number) => {
    const v = city.vbp;
    if (!v.drugs.length) return;
    if (day === v.declarationDay) {
      const r = await must(
        http.call(operator.token, 'POST', '/api/v1/vbp/declarations', { title: '清远市药品带量采购报量', drugIds: v.drugs.map((d) => drugIds[d]), deadline: at(opts.start, v.deadlineDay, 17).toISOString() }),
        'opening a declaration',
      );
      vbpDeclarationId = r.body.id;
    }
    if (vbpDeclarationId && day === v.declarationDay + 1) {
      await pool(city.hospitals, parallel, async (h, i) => {
        const ph = (pharmacists[i] = await fresh(pharmacists[i]!));
        const entries = v.drugs.map((d) => {
          const yearly = Math.max(10, Math.round((city.yearlyPurchaseFen * h.weight * (city.drugs[d]!.weight / totalWeight)) / city.drugs[d]!.referenceFen));
          return { drugId: drugIds[d], quantity: yearly, reason: '按本院年度用药计划申报' };
        });
        await http.call(ph.token, 'PUT', `/api/v1/vbp/declarations/${vbpDeclarationId}/entries`, { entries }, [422]);
      });
    }
    if (vbpDeclarationId && day === v.deadlineDay + 1) {
      const r = await must(
        http.call(operator.token, 'POST', '/api/v1/vbp/tenders', {
          title: '清远市药品带量采购招标',
          declarationId: vbpDeclarationId,
          closesAt: at(opts.start, v.tenderClosesDay, 10).toISOString(),
          lines: v.drugs.map((d, k) => ({ drugId: drugIds[d], ceilingFen: v.ceilingsFen[k] })),
          followWindowSec: 86_400,
        }),
        'opening a tender',
      );
      vbpTender = { id: r.body.id, lines: (r.body.lines as any[]).map((l) => ({ id: l.id, drugId: l.drugId })) };
      const bids = v.drugs.flatMap((d, k) => v.bids[k]!.map((b) => ({ d, b })));
      await pool(bids, parallel, async ({ d, b }) => {
        const lineId = vbpTender!.lines.find((l) => l.drugId === drugIds[d])?.id;
        await http.call(distributors[b.distributor]!.token, 'POST', `/api/v1/vbp/tenders/${vbpTender!.id}/bids`, { lineId, priceFen: b.priceFen }, [403, 422]);
      });
    }
    if (vbpTender && day === v.tenderClosesDay) {
      // The bid opening is a job at the closing time; the follow-price offers go out to those who missed.
      const t = await http.call(operator.token, 'GET', `/api/v1/vbp/tenders/${vbpTender.id}`);
      if (t.body?.status === 'bidding') await http.call(operator.token, 'POST', `/api/v1/vbp/tenders/${vbpTender.id}/open`, undefined, [409, 422]);
      await pool(distributors, parallel, async (u) => {
        const view = await http.call(u.token, 'GET', `/api/v1/vbp/tenders/${vbpTender!.id}`);
        for (const line of (view.body?.lines ?? []) as any[]) {
          if (line.mayAcceptFollowPrice) await http.call(u.token, 'POST', `/api/v1/vbp/tenders/${vbpTender!.id}/lines/${line.id}/follow-price`, { accept: rng.chance(0.6) }, [404, 409, 422]);
        }
      });
    }
    if (vbpTender && day >= v.tenderClosesDay + 2 && !vbpContractsLoaded) {
      const t = await http.call(operator.token, 'GET', `/api/v1/vbp/tenders/${vbpTender.id}`);
      if (t.body?.status === 'awaiting_acceptance') await http.call(operator.token, 'POST', `/api/v1/vbp/tenders/${vbpTender.id}/finalise`, undefined, [409, 422]);
      await pool(city.hospitals, parallel, async (_h, i) => {
        const r = await http.call(pharmacists[i]!.token, 'GET', '/api/v1/vbp/contracts?limit=200');
        const mine = new Map<string, { id: string; distributorOrgId: string }>();
        for (const c of (r.body?.data ?? []) as any[]) if (c.status === 'active') mine.set(c.drugId, { id: c.id, distributorOrgId: c.distributorOrgId });
        contractsOf.set(i, mine);
      });
      vbpContractsLoaded = [...contractsOf.values()].some((m) => m.size > 0) || day > v.tenderClosesDay + 6;
    }
  };

  const creditDay = async (day: number) => {
    // Distributors appeal some breaches within the window; the operator rules on appeals a few days later.
    const breaches = await http.call(operator.token, 'GET', '/api/v1/credit/breaches?status=active&limit=200');
    for (const b of (breaches.body?.data ?? []) as any[]) {
      if (appealed.has(b.id)) continue;
      appealed.add(b.id);
      const dist = distributorOf.get(b.orgId);
      if (dist === undefined || !rng.chance(0.25)) continue;
      const r = await http.call(distributors[dist]!.token, 'POST', `/api/v1/credit/breaches/${b.id}/appeal`, { statement: '该订单因医院临时变更收货时间导致延误，附医院确认说明，申请撤销。' }, [409, 422]);
      if (r.status === 201) counters.appeals += 1;
    }
    {
      const appeals = await http.call(operator.token, 'GET', '/api/v1/credit/appeals?status=pending');
      for (const a of (appeals.body?.data ?? []) as any[]) {
        if (a.status && a.status !== 'pending') continue;
        const voidIt = rng.chance(0.4);
        const r = await http.call(operator.token, 'POST', `/api/v1/credit/appeals/${a.id}/decision`, { decision: voidIt ? 'void' : 'uphold', reason: voidIt ? '经核实，延误系医院原因，撤销该失信记录。' : '经核实，延误属配送企业责任，维持原认定。' }, [409, 422]);
        if (r.status === 200) counters.appealDecisions += 1;
      }
    }
    // Weekly: a distributor with points lost and a quiet period behind it applies for repair; the operator approves.
    if (day % 7 === 5) {
      const pub = await http.call(operator.token, 'GET', '/api/v1/credit/public');
      const standings = (pub.body?.data ?? []) as any[];
      suspended = new Set(standings.filter((s) => s.suspended || (s.sanctions ?? []).some((x: any) => x.kind === 'suspension')).map((s) => s.orgId));
      for (const s of standings) {
        const dist = distributorOf.get(s.orgId);
        if (dist === undefined || (s.score ?? 100) >= 100 || !rng.chance(0.3)) continue;
        const last = s.lastBreachAt ? new Date(s.lastBreachAt).getTime() : 0;
        if (last && tm.now().getTime() - last < quietDays * DAY) continue;
        const r = await http.call(distributors[dist]!.token, 'POST', '/api/v1/credit/repairs', { report: '已完成配送流程整改：增加夜间值班与订单超时预警，并对相关人员进行培训。', apology: '我司对配送延误造成的影响向相关医疗机构公开致歉。' }, [409, 422]);
        if (r.status === 201) counters.repairs += 1;
      }
      const repairs = await http.call(operator.token, 'GET', '/api/v1/credit/repairs?status=pending');
      for (const rep of (repairs.body?.data ?? []) as any[]) {
        if (rep.status && rep.status !== 'pending') continue;
        const r = await http.call(operator.token, 'POST', `/api/v1/credit/repairs/${rep.id}/decision`, { decision: 'approve', reason: '整改材料齐全，静默期内无新增失信记录，准予修复。' }, [409, 422]);
        if (r.status === 200) counters.repairDecisions += 1;
      }
    }
  };

  for (let day = 0; day < days; day += 1) {
    const month = Math.floor(day / 30.4) + 1;
    await move(at(opts.start, day, 8));
    if (day > 0 && shanghaiDay(tm.now()).endsWith('-01')) await monthlyPrepayments(day);
    operator = await fresh(operator);
    progress(day, 'morning');
    const round = city.rounds.find((r) => r.day === day);
    let roundId: string | undefined;
    if (round) roundId = await openRound(round);
    await vbpStep(day);
    await acceptOrders();
    await move(at(opts.start, day, 9));
    if (round && roundId) await quoteRound(round, roundId);
    await placeOrders(day);
    await move(at(opts.start, day, 11));
    await confirmOrders(day);
    await move(at(opts.start, day, 15));
    await shipOrders(day);
    await financeDay(day);
    await move(at(opts.start, day, 18));
    await deliverOrders(day);
    await creditDay(day);
    progress(day + 1, 'evening');
    const endOfMonth = Math.floor((day + 1) / 30.4) + 1 !== month || day === days - 1;
    if (endOfMonth) {
      const last = day === days - 1;
      const m = await sample(month, month === 1 || last);
      months.push(m);
      opts.onMonth?.(m);
    }
  }
  // The last deliveries are accepted; then a run-off of one payment term with no new trade, so the
  // invoices of the last month reach their due date and are settled (or advanced) by their jobs.
  await move(at(opts.start, days, 10));
  await acceptOrders();
  const tradedTo = tm.now().toISOString();
  for (let d = 1; d <= opts.runOffDays; d += 1) {
    // NOTE: the orders already placed are still confirmed, shipped, delivered and accepted in the
    // first days of the run-off, so the end of trading does not look like missed deliveries.
    if (d <= 5 && live.length) {
      await move(at(opts.start, days + d - 1, 11));
      await confirmOrders(days + d - 1);
      await move(at(opts.start, days + d - 1, 15));
      await shipOrders(days + d - 1);
      await move(at(opts.start, days + d - 1, 18));
      await deliverOrders(days + d - 1);
      await move(at(opts.start, days + d, 8));
      await acceptOrders();
    }
    await move(at(opts.start, days + d, 1));
    progress(days, `run-off day ${d}/${opts.runOffDays}`);
  }
  counters.httpCalls = http.calls;
  counters.httpMs = Math.round(http.ms);
  counters.jobsReleased = tm.released;
  const endsAt = tm.now().toISOString();
  operator = await login(city.operator.email);

  if (opts.keepDir) {
    writeFileSync(
      path.resolve(opts.keepDir, 'city.json'),
      `${JSON.stringify(
        {
          seed: city.seed,
          scale: city.scale,
          months: opts.months,
          start: opts.start,
          endsAt,
          password: city.password,
          logins: [
            { role: 'operator', email: city.operator.email, org: city.operator.orgName },
            ...city.hospitals.slice(0, 3).flatMap((h) => [
              { role: 'pharmacist', email: h.pharmacistEmail, org: h.name },
              { role: 'hospital_finance', email: h.financeEmail, org: h.name },
            ]),
            ...city.distributors.slice(0, 2).map((d) => ({ role: 'distributor', email: d.email, org: d.name })),
            ...city.banks.slice(0, 1).map((b) => ({ role: 'bank_officer', email: b.email, org: b.name })),
          ],
        },
        null,
        2,
      )}\n`,
    );
  }

  return {
    city,
    months,
    counters,
    wallMs: Date.now() - wall0,
    setupMs,
    dbpath,
    endsAt,
    tradedTo,
    start: opts.start,
    db: mongoose.connection.db!,
    operatorToken: operator.token,
    baseUrl: http.base,
    async stop() {
      await tm.close().catch(() => undefined);
      await running.close();
      await engine.stop();
    },
  };
}

/** Signs in through the login form's API and returns the session cookie for page requests. */
async function pageCookie(base: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  await res.text();
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

export type { CityDrug };
