// Factories for orders, through the real API: a hospital pharmacist, a trading distributor, drugs
// with a reference price (catalogue orders) or a published listing, unique traceability codes, and
// helpers that walk an order through confirm → ship → deliver.
import { randomInt } from 'node:crypto';
import { expect } from 'chai';
import { buildTradingDistributor } from './credit-factories';
import { buildUser, type TestUser } from './factories';
import { testClock } from './global';
import { buildDrug, publishRoundWithQuotes, type BuiltDrug, type DrugOverrides } from './quotation-factories';

let serial = randomInt(1, 900_000) * 1_000_000;

/** `n` traceability codes never used before in this run: the drug's 7-digit prefix + 13 unique digits. */
export function traceCodes(prefix: string, n: number): string[] {
  return Array.from({ length: n }, () => {
    serial += 1;
    return `${prefix}${String(serial).padStart(13, '0')}`;
  });
}

/** A pharmacist of a new hospital (which has a delivery address). */
export function buildPharmacist(): Promise<TestUser> {
  return buildUser('pharmacist');
}

export interface OrderParties {
  pharmacist: TestUser;
  distributor: TestUser;
  drugs: BuiltDrug[];
}

/** A pharmacist, a trading distributor and `drugs` catalogue drugs with reference prices. */
export async function buildOrderParties(opts: { drugs?: number; drug?: DrugOverrides } = {}): Promise<OrderParties> {
  const [pharmacist, distributor, ...drugs] = await Promise.all([
    buildPharmacist(),
    buildTradingDistributor(),
    ...Array.from({ length: opts.drugs ?? 1 }, () => buildDrug({ referencePriceFen: 12_345, ...opts.drug })),
  ]);
  return { pharmacist: pharmacist as TestUser, distributor: distributor as TestUser, drugs: drugs as BuiltDrug[] };
}

export interface OrderJson {
  id: string;
  orderNo: string;
  status: string;
  urgency: string;
  totalFen: number;
  hospitalOrgId: string;
  distributorOrgId: string;
  lines: { lineNo: number; drugId: string; quantity: number; unitPriceFen: number; amountFen: number; confirmedQty: number; backorderedQty: number; shippedQty: number; acceptedQty: number; refusedQty: number; source: { kind: string; refId?: string } }[];
  events: { at: string; from?: string; to: string; actorName: string; actorRole: string; reason?: string }[];
  allowedMoves: string[];
  missed: { confirmation?: string; delivery?: string; notDelivered?: string };
  [k: string]: unknown;
}

/** Places one catalogue order (one line per drug, `quantity` each) and returns it. */
export async function placeCatalogueOrder(p: OrderParties, opts: { quantity?: number; urgency?: 'urgent' | 'regular' } = {}): Promise<OrderJson> {
  const res = await p.pharmacist
    .api()
    .post('/api/v1/orders', { urgency: opts.urgency ?? 'regular', lines: p.drugs.map((d) => ({ drugId: d.id, distributorOrgId: p.distributor.org.id, source: 'catalogue', quantity: opts.quantity ?? 3 })) });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body.data[0] as OrderJson;
}

/** A published listing: `prices[d]` fen quoted by distributor d for one new drug; resolves when published. */
export async function buildListing(prices: number[] = [195_000], distributors?: TestUser[]) {
  const round = await publishRoundWithQuotes({ prices: prices.map((p) => [p]), ...(distributors ? { distributors } : {}) });
  return { drug: round.drugs[0]!, distributors: round.distributors, roundId: round.id };
}

export async function confirm(distributor: TestUser, orderId: string, body: unknown = {}): Promise<OrderJson> {
  const res = await distributor.api().post(`/api/v1/orders/${orderId}/confirm`, body);
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  return res.body as OrderJson;
}

/** Ships every confirmed line in full with a batch expiring next year and fresh codes; returns the codes per line. */
export async function shipAll(distributor: TestUser, order: OrderJson, drugs: BuiltDrug[], overrides: Record<string, unknown> = {}) {
  const codes = new Map<number, string[]>();
  const lines = order.lines
    .filter((l) => l.confirmedQty > 0)
    .map((l) => {
      const prefix = drugs.find((d) => d.id === l.drugId)!.tracePrefix;
      const c = traceCodes(prefix, l.confirmedQty);
      codes.set(l.lineNo, c);
      return { lineNo: l.lineNo, quantity: l.confirmedQty, batchNo: `B${l.lineNo}-${randomInt(1000, 9999)}`, expiryDate: nextYear(), codes: c };
    });
  const res = await distributor.api().post(`/api/v1/orders/${order.id}/ship`, { carrier: '顺丰医药', trackingNo: `SF${randomInt(100000, 999999)}`, lines, ...overrides });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return { order: res.body.order as OrderJson, shipment: res.body.shipment as { id: string; lines: { lineNo: number; batchNo: string; expiryDate: string; quantity: number; codes: string[] }[] }, codes };
}

export async function track(distributor: TestUser, orderId: string, kind: 'picked' | 'departed' | 'location' | 'delivered', extra: Record<string, unknown> = {}) {
  const res = await distributor.api().post(`/api/v1/orders/${orderId}/tracking`, { kind, ...extra });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body as { order: OrderJson };
}

/** A catalogue order walked to `delivered`, with its shipment. */
export async function deliveredOrder(p: OrderParties, opts: { quantity?: number } = {}) {
  const placed = await placeCatalogueOrder(p, opts);
  const confirmed = await confirm(p.distributor, placed.id);
  const shipped = await shipAll(p.distributor, confirmed, p.drugs);
  const delivered = await track(p.distributor, placed.id, 'delivered');
  return { order: delivered.order, shipment: shipped.shipment, codes: shipped.codes };
}

/** Acceptance lines accepting everything shipped. */
export function acceptAllLines(shipment: { lines: { lineNo: number; batchNo: string; expiryDate: string; quantity: number; codes: string[] }[] }) {
  return shipment.lines.map((l) => ({ lineNo: l.lineNo, acceptedQty: l.quantity, refusedQty: 0, batchNo: l.batchNo, expiryDate: l.expiryDate, codes: l.codes }));
}

/** A business day (YYYY-MM-DD, Asia/Shanghai) about a year from now. */
export function nextYear(): string {
  return new Date(testClock.now().getTime() + 8 * 3_600_000 + 365 * 86_400_000).toISOString().slice(0, 10);
}

/** Polls until `fn` returns something truthy, failing after `ms`. */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, ms = 8000, what = 'the condition'): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
