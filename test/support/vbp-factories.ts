// VBP factories through the real API: declarations, hospital demand, tenders, bids, and a whole
// awarded tender. Business time is moved with the test clock (reset after each test), so a
// declaration closes and bids open without waiting.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { buildTradingDistributor } from './credit-factories';
import { buildUser, type TestUser } from './factories';
import { testApp, testClock } from './global';
import { buildDrug, type BuiltDrug, type DrugOverrides } from './quotation-factories';

const HOUR = 3_600_000;
let operator: TestUser | undefined;

/** An operator user shared by the VBP factories (created once per run). */
export async function vbpOperator(): Promise<TestUser> {
  operator ??= await buildUser('operator');
  return operator;
}

export const tag = () => randomBytes(3).toString('hex');

/** A catalogue drug flagged for VBP (oral solid unless told). */
export function buildVbpDrug(overrides: DrugOverrides = {}): Promise<BuiltDrug> {
  return buildDrug({ formClass: 'oral_solid', dosageForm: '片剂', specification: '10mg', packUnit: '片', categories: { shortage: false, vbp: true }, ...overrides });
}

export { until } from './wait';

/**
 * Waits until the consequences committed so far have been handed to their subscribers in this
 * process (notifications, pushes, scheduled jobs follow a command just after its commit).
 */
export const settled = () => testApp().relay.idle();

/** Clock time (business "now" of the app). */
export const clockNow = () => testClock.now();

export interface Declaration {
  id: string;
  deadline: string;
  drugs: { drugId: string; nhsaCode: string }[];
}

/** Opens a declaration (deadline an hour ahead of the clock unless told). */
export async function openDeclaration(drugs: BuiltDrug[], opts: { deadline?: Date; minShareOfLastYearBp?: number; title?: string; lastYearFrom?: Date; lastYearTo?: Date } = {}): Promise<Declaration> {
  const op = await vbpOperator();
  const res = await op.api().post('/api/v1/vbp/declarations', {
    title: opts.title ?? `报量测试 ${tag()}`,
    drugIds: drugs.map((d) => d.id),
    deadline: (opts.deadline ?? new Date(clockNow().getTime() + HOUR)).toISOString(),
    ...(opts.minShareOfLastYearBp !== undefined ? { minShareOfLastYearBp: opts.minShareOfLastYearBp } : {}),
    ...(opts.lastYearFrom ? { lastYearFrom: opts.lastYearFrom.toISOString() } : {}),
    ...(opts.lastYearTo ? { lastYearTo: opts.lastYearTo.toISOString() } : {}),
  });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body;
}

export async function declare(pharmacist: TestUser, declarationId: string, entries: Record<string, unknown>[]) {
  return pharmacist.api().put(`/api/v1/vbp/declarations/${declarationId}/entries`, { entries });
}

/** Moves the clock past a moment (e.g. a deadline). */
export function passTime(to: Date | string, extraMs = 1000): void {
  const target = new Date(to).getTime() + extraMs;
  const gap = target - clockNow().getTime();
  if (gap > 0) testClock.advance(gap);
}

export interface TenderScenario {
  drug: BuiltDrug;
  declarationId: string;
  tenderId: string;
  lineId: string;
  hospitals: TestUser[];
  distributors: TestUser[];
  bidIds: string[];
  tender: Record<string, any>;
}

/**
 * A whole tender for one drug: hospitals declare `demands`, the declaration closes, a tender with
 * `ceilingFen` opens, one trading distributor per price bids, the clock passes the opening and the
 * operator opens it. Follow-price answers (by bidder index) then finalise it when all have answered.
 */
export async function tenderScenario(opts: {
  demands: number[];
  prices: number[];
  ceilingFen?: number;
  formClass?: DrugOverrides['formClass'];
  preferred?: (number | null)[];
  tender?: Record<string, unknown>;
  open?: boolean;
}): Promise<TenderScenario> {
  const op = await vbpOperator();
  const drug = await buildVbpDrug({ formClass: opts.formClass ?? 'oral_solid' });
  const hospitals = await Promise.all(opts.demands.map(() => buildUser('pharmacist')));
  // NOTE: the first one alone: on a fresh database it publishes the commitment version the others sign.
  const first = opts.prices.length ? [await buildTradingDistributor()] : [];
  const distributors = [...first, ...(await Promise.all(opts.prices.slice(1).map(() => buildTradingDistributor())))];
  const decl = await openDeclaration([drug]);
  for (const [i, h] of hospitals.entries()) {
    const pref = opts.preferred?.[i];
    const res = await declare(h, decl.id, [{ drugId: drug.id, quantity: opts.demands[i], ...(pref !== undefined && pref !== null ? { preferredDistributorOrgId: distributors[pref]!.org.id } : {}) }]);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
  }
  passTime(decl.deadline);
  const created = await op.api().post('/api/v1/vbp/tenders', {
    title: `招标测试 ${tag()}`,
    declarationId: decl.id,
    closesAt: new Date(clockNow().getTime() + HOUR).toISOString(),
    lines: [{ drugId: drug.id, ceilingFen: opts.ceilingFen ?? 1000 }],
    ...opts.tender,
  });
  expect(created.status, JSON.stringify(created.body)).to.equal(201);
  const tenderId = created.body.id as string;
  const lineId = created.body.lines[0].id as string;
  const bidIds: string[] = [];
  for (const [i, d] of distributors.entries()) {
    const res = await d.api().post(`/api/v1/vbp/tenders/${tenderId}/bids`, { lineId, priceFen: opts.prices[i] });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    bidIds.push(res.body.id);
  }
  let tender = created.body;
  if (opts.open !== false) {
    passTime(tender.closesAt);
    const opened = await op.api().post(`/api/v1/vbp/tenders/${tenderId}/open`);
    expect(opened.status, JSON.stringify(opened.body)).to.equal(200);
    tender = opened.body;
  }
  return { drug, declarationId: decl.id, tenderId, lineId, hospitals, distributors, bidIds, tender };
}

/** Contracts of a tender as the operator sees them. */
export async function contractsOf(tenderId: string): Promise<Record<string, any>[]> {
  const op = await vbpOperator();
  const res = await op.api().get(`/api/v1/vbp/contracts?tenderId=${tenderId}&limit=200`);
  expect(res.status).to.equal(200);
  return res.body.data;
}
