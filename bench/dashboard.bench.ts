// The operator dashboard over 100k orders (plus invoices, advances, listings and breaches, inserted
// directly): GET /api/v1/dashboard for the last 12 months, sequential, against the same
// aggregations run directly on the collections through the driver in the same run (the baseline:
// no HTTP, auth, Mongoose, lookups of listings/contracts/tenders, grades or shaping). Also prints
// where the time goes: each aggregation alone, and the API's total.
import { Types } from 'mongoose';
import mongoose from 'mongoose';
import type { Actor } from '../server/platform/auth';
import { rebuildStandingRecords } from '../server/modules/credit';
import { dashboardPeriod, dashboardPipelines } from '../server/modules/dashboard';
import { createOrganisation, createUser, login } from '../server/modules/identity';
import { type BenchRow, percentile } from './lib';
import { startBenchApp } from './harness';

const ORDERS = Number(process.env.BENCH_DASHBOARD_ORDERS ?? 100_000);
const INVOICES = Math.round(ORDERS * 0.8);
const RUNS = Number(process.env.BENCH_DASHBOARD_RUNS ?? 20);
const DAY = 86_400_000;
const SYSTEM: Actor = { id: '000000000000000000000000', sessionId: 'bench', email: 'bench@local', name: 'bench', role: 'operator', orgId: '000000000000000000000000', orgType: 'operator', orgName: 'bench' };

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

export default async function dashboardBench(): Promise<BenchRow[]> {
  const bench = await startBenchApp('dashboard');
  try {
    const base = `${bench.app.url}/api/v1`;
    const runId = bench.runId;
    const operatorOrg = (await createOrganisation(SYSTEM, { name: `bench bureau ${runId}`, type: 'operator' })) as unknown as { id: string };
    await createUser(SYSTEM, { orgId: operatorOrg.id, name: 'bench operator', email: `op-${runId}@bench.local`, role: 'operator', password: 'bench-password-1' });
    const token = (await login(`op-${runId}@bench.local`, 'bench-password-1', { ip: 'bench' })).token;
    const db = mongoose.connection.db!;
    const hospitals = await Promise.all([1, 2, 3, 3, 2, 1].map(async (level, i) => (await createOrganisation(SYSTEM, { name: `bench hospital ${i} ${runId}`, type: 'hospital', hospitalLevel: level as 1 | 2 | 3, address: '示范路 1 号' })) as unknown as { id: string }));
    const distributors = await Promise.all([0, 1, 2, 3].map(async (i) => (await createOrganisation(SYSTEM, { name: `bench distributor ${i} ${runId}`, type: 'distributor' })) as unknown as { id: string }));
    const now = Date.now();
    const drugIds = Array.from({ length: 50 }, () => new Types.ObjectId());
    const roundIds = [new Types.ObjectId(), new Types.ObjectId()];
    const listings = drugIds.flatMap((drugId, d) =>
      roundIds.map((roundId, r) => ({
        _id: new Types.ObjectId(), roundId, roundNo: `R-${r}`, roundTitle: `第 ${r + 1} 轮`, lineId: new Types.ObjectId(), drugId,
        drug: { genericNameZh: `药品${d}`, genericNameEn: `Drug ${d}`, dosageForm: '注射剂', specification: '1支', packUnit: '支', manufacturer: '厂', nhsaCode: `N${d}`, standardCode: `S${d}` },
        distributorOrgId: new Types.ObjectId(distributors[d % 4]!.id), distributorName: 'd', alias: 'A', quoteId: new Types.ObjectId(),
        unitPriceFen: 200_000 - r * 10_000 - d * 100, referenceFen: 289_000, reductionBp: 3000, rank: 1, quotedAt: new Date(now - (300 - r * 150) * DAY),
        publishedAt: new Date(now - (300 - r * 150) * DAY), expiresAt: new Date(now + 365 * DAY), status: 'listed',
      })),
    );
    await db.collection('quotation_listings').insertMany(listings);

    const load = performance.now();
    const BATCH = 5_000;
    for (let b = 0; b < ORDERS; b += BATCH) {
      const orders = [];
      const invoices = [];
      for (let i = b; i < Math.min(ORDERS, b + BATCH); i += 1) {
        const placedAt = new Date(now - ((i * 7919) % 360) * DAY - (i % 86_400) * 1000);
        const listing = listings[i % listings.length]!;
        const accepted = i % 10 < 8;
        const qty = 1 + (i % 20);
        const h = hospitals[i % hospitals.length]!;
        const deliverBy = new Date(placedAt.getTime() + 4 * DAY);
        const _id = new Types.ObjectId();
        orders.push({
          _id, orderNo: `PO-${runId}-${i}`, hospitalOrgId: new Types.ObjectId(h.id), hospitalName: 'h', deliveryAddress: 'a', distributorOrgId: listing.distributorOrgId, distributorName: 'd',
          placedById: new Types.ObjectId(), placedByName: 'p', urgency: 'regular', status: accepted ? 'accepted' : 'confirmed', totalFen: qty * listing.unitPriceFen,
          lines: [{ lineNo: 1, drugId: listing.drugId, drugName: listing.drug.genericNameZh, drugNameEn: 'x', dosageForm: 'x', specification: 'x', packUnit: 'x', manufacturer: 'x', tracePrefix: '1234567', source: { kind: 'listing', refId: String(listing._id) }, quantity: qty, unitPriceFen: listing.unitPriceFen, amountFen: qty * listing.unitPriceFen, confirmedQty: qty, backorderedQty: 0, shippedQty: accepted ? qty : 0, acceptedQty: accepted ? qty : 0, refusedQty: 0 }],
          placedAt, confirmBy: new Date(placedAt.getTime() + DAY), respondedAt: new Date(placedAt.getTime() + 3_600_000), deliverBy,
          ...(accepted ? { deliveredAt: new Date(placedAt.getTime() + ((i % 5) + 1) * DAY), acceptedAt: new Date(placedAt.getTime() + 5 * DAY) } : {}), events: [],
        });
        if (accepted && invoices.length + b * 0.8 < INVOICES) {
          const acceptedAt = new Date(placedAt.getTime() + 5 * DAY);
          const dueAt = new Date(acceptedAt.getTime() + 30 * DAY);
          const paid = dueAt.getTime() < now;
          invoices.push({
            invoiceNo: `FP-${runId}-${i}`, acceptanceKey: `a-${runId}-${i}`, orderId: _id, orderNo: `PO-${runId}-${i}`, hospitalOrgId: new Types.ObjectId(h.id), distributorOrgId: listing.distributorOrgId,
            lines: [{ drugId: listing.drugId, drugName: 'x', quantity: qty, unitPriceFen: listing.unitPriceFen, amountFen: qty * listing.unitPriceFen }], amountFen: qty * listing.unitPriceFen, paidFen: paid ? qty * listing.unitPriceFen : 0,
            acceptedAt, dueAt, paymentTermDays: 30, status: paid ? 'paid' : 'open', ...(paid ? { paidAt: new Date(dueAt.getTime() - (i % 9) * DAY), paidOnTime: i % 13 !== 0 } : {}), payments: [], createdAt: acceptedAt,
          });
        }
      }
      await db.collection('orders').insertMany(orders, { ordered: false });
      if (invoices.length) await db.collection('invoices').insertMany(invoices, { ordered: false });
    }
    const advances = Array.from({ length: 2_000 }, (_, i) => {
      const advancedAt = new Date(now - ((i * 31) % 330) * DAY);
      return { hospitalOrgId: new Types.ObjectId(hospitals[i % hospitals.length]!.id), bankOrgId: new Types.ObjectId(), lineId: new Types.ObjectId(), invoiceId: new Types.ObjectId(), invoiceNo: `FP-adv-${i}`, principalFen: 100_000, principalOutstandingFen: i % 2 ? 0 : 100_000, interestAccruedFen: 0, interestPaidFen: 0, annualRateBp: 400, tenorDays: 90, advancedAt, dueAt: new Date(advancedAt.getTime() + 90 * DAY), status: i % 2 ? 'repaid' : 'outstanding', segments: [{ at: advancedAt, principalFen: 100_000 }, ...(i % 2 ? [{ at: new Date(advancedAt.getTime() + 20 * DAY), principalFen: 0 }] : [])], ...(i % 2 ? { repaidAt: new Date(advancedAt.getTime() + 20 * DAY) } : {}) };
    });
    await db.collection('finance_advances').insertMany(advances);
    await db.collection('credit_breaches').insertMany(
      Array.from({ length: 1_000 }, (_, i) => ({ orgId: new Types.ObjectId(distributors[i % 4]!.id), orgName: 'd', code: ['LATE_DELIVERY', 'LATE_CONFIRMATION', 'MANUAL'][i % 3], zh: ['延迟配送', '延迟确认', '人工记录'][i % 3], en: ['Late delivery', 'Late confirmation', 'Manual'][i % 3], severity: 'shixin', points: 2, occurredAt: new Date(now - ((i * 17) % 350) * DAY), recordedAt: new Date(now), source: 'automatic', sourceKey: `bench-${runId}-${i}`, description: 'x', status: 'active', appealDeadline: new Date(now) })),
    );
    // NOTE: the breaches went straight into the database, so the distributors' standing records are built from them (as start-up would).
    await rebuildStandingRecords(distributors.map((d) => d.id));
    const loadMs = performance.now() - load;
    await Promise.all(['orders', 'invoices', 'finance_advances', 'credit_breaches', 'quotation_listings', 'vbp_contracts'].map((c) => db.collection(c).countDocuments()));

    const period = dashboardPeriod({});
    const scope = { start: period.start, end: period.end, at: new Date() };
    const p = dashboardPipelines(scope);
    const direct = {
      purchases: () => db.collection('orders').aggregate(p.purchases as object[]).toArray(),
      deliveries: () => db.collection('orders').aggregate(p.deliveries as object[]).toArray(),
      paid: () => db.collection('invoices').aggregate(p.paid as object[]).toArray(),
      due: () => db.collection('invoices').aggregate(p.due as object[]).toArray(),
    };
    const directAll = () => Promise.all(Object.values(direct).map((f) => f()));
    const api = async () => {
      const res = await fetch(`${base}/dashboard`, { headers: { Authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { savings?: { total: { quantity: number } } };
      if (res.status !== 200) throw new Error(`dashboard answered ${res.status}: ${JSON.stringify(body)}`);
      return body;
    };
    // NOTE: warm both once (the first run pays for index pages and JIT), then alternate them.
    const first = await api();
    await directAll();
    const apiMs: number[] = [];
    const directMs: number[] = [];
    const parts: Record<string, number[]> = { purchases: [], deliveries: [], paid: [], due: [] };
    for (let r = 0; r < RUNS; r += 1) {
      apiMs.push(await timed(api));
      directMs.push(await timed(directAll));
      for (const [k, f] of Object.entries(direct)) parts[k]!.push(await timed(f));
    }
    const apiP99 = percentile(apiMs, 99);
    const directP99 = percentile(directMs, 99);
    const median = (v: number[]) => percentile(v, 50);
    process.stderr.write(
      `dashboard bench: ${ORDERS} orders, ${INVOICES} invoices loaded in ${(loadMs / 1000).toFixed(1)} s; ${first.savings?.total.quantity} units bought in the period.\n` +
        `  where the time goes (median of ${RUNS}, each aggregation alone on the collection): ${Object.entries(parts).map(([k, v]) => `${k} ${median(v).toFixed(0)} ms`).join(', ')};\n` +
        `  all four in parallel ${median(directMs).toFixed(0)} ms; the API ${median(apiMs).toFixed(0)} ms (the rest: listings/contracts/tenders lookups, price history, advances, shortage coverage, VBP contracts, grades of ${distributors.length} distributors, breaches, JSON)\n`,
    );
    return [
      { name: `dashboard API p99, ${ORDERS / 1000}k orders, 12 months`, value: apiP99, unit: 'ms', baselineName: 'the same aggregations on the collections (driver)', baseline: directP99, ratio: apiP99 / directP99, ratioNote: 'lower is better; goal ≤ 3' },
      { name: 'dashboard API median', value: median(apiMs), unit: 'ms', baselineName: 'aggregations median', baseline: median(directMs), ratio: median(apiMs) / median(directMs), ratioNote: 'lower is better' },
    ];
  } finally {
    await bench.close();
  }
}
