// Orders placed per second through the API (POST /api/v1/orders, 10 catalogue lines each, one
// pharmacist, sequential) against a baseline that inserts the same order documents directly with
// Mongoose — no HTTP, no validation, no credit gate, no price lookup, no jobs, audit or
// notifications — measured in the same run against the same embedded engine and Redis.
import { Types } from 'mongoose';
import type { Actor } from '../server/platform/auth';
import { createDrug } from '../server/modules/catalogue/catalogue.service';
import { generateValidGtin13, gs1CheckDigit } from '../server/modules/catalogue/catalogue.codes';
import { ensureDefaultCommitment } from '../server/modules/credit';
import { createOrganisation, createUser, login } from '../server/modules/identity';
import { Order } from '../server/modules/orders';
import { type BenchRow, opsPerSecond } from './lib';
import { startBenchApp } from './harness';

const MS = Number(process.env.BENCH_MS ?? 3000);
const LINES = 10;

const SYSTEM: Actor = { id: '000000000000000000000000', sessionId: 'bench', email: 'bench@local', name: 'bench', role: 'operator', orgId: '000000000000000000000000', orgType: 'operator', orgName: 'bench' };

async function json(url: string, init: { method?: string; token: string; body?: unknown; key?: string }): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { Authorization: `Bearer ${init.token}`, 'Content-Type': 'application/json', ...(init.key ? { 'Idempotency-Key': init.key } : {}) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

export default async function ordersBench(): Promise<BenchRow[]> {
  const bench = await startBenchApp('orders');
  const { runId, app } = bench;
  const base = `${app.url}/api/v1`;
  try {
    // A hospital pharmacist, a distributor that signed the commitment, ten drugs with reference prices.
    const hospital = (await createOrganisation(SYSTEM, { name: `bench-hospital-${runId}`, type: 'hospital', hospitalLevel: 2, address: '清远市清城区 1 号' })) as unknown as { id: string };
    const distributorOrg = (await createOrganisation(SYSTEM, { name: `bench-distributor-${runId}`, type: 'distributor' })) as unknown as { id: string };
    await createUser(SYSTEM, { orgId: hospital.id, name: 'bench pharmacist', email: `ph-${runId}@bench.local`, role: 'pharmacist', password: 'bench-password-1' });
    await createUser(SYSTEM, { orgId: distributorOrg.id, name: 'bench distributor', email: `di-${runId}@bench.local`, role: 'distributor', password: 'bench-password-1' });
    const pharmacist = (await login(`ph-${runId}@bench.local`, 'bench-password-1', { ip: 'bench' })).token;
    const distributor = (await login(`di-${runId}@bench.local`, 'bench-password-1', { ip: 'bench' })).token;
    await ensureDefaultCommitment();
    const letter = await json(`${base}/credit/commitment`, { token: distributor });
    const signed = await json(`${base}/credit/commitment/sign`, { method: 'POST', token: distributor, body: { versionId: letter.body.version.id, textSha256: letter.body.textSha256 } });
    if (signed.status !== 201) throw new Error(`signing failed: ${signed.status} ${JSON.stringify(signed.body)}`);
    const drugIds: string[] = [];
    for (let i = 0; i < LINES; i += 1) {
      const enterprise = String(20_000 + i);
      const body = `869${enterprise}${String(40_000 + i).padStart(5, '0')}`;
      const drug = await createDrug(SYSTEM, {
        genericNameZh: `基准药品${i}`,
        genericNameEn: `Bench drug ${i}`,
        dosageForm: '片剂',
        formClass: 'oral_solid',
        specification: '0.25g',
        packUnit: '盒',
        manufacturer: '基准制药',
        nhsaCode: `XA01ABD${String(100 + i)}A0020101${enterprise}`,
        standardCode: body + gs1CheckDigit(body),
        gtin: generateValidGtin13(700_000_000 + i),
        tracePrefix: String(5_000_000 + i),
        categories: { shortage: false, vbp: false, regular: true },
        referencePriceFen: 1000 + i,
        effectiveFrom: new Date(Date.now() - 86_400_000).toISOString(),
      });
      drugIds.push(drug.id);
    }
    const cart = { urgency: 'regular', lines: drugIds.map((drugId, i) => ({ drugId, distributorOrgId: distributorOrg.id, source: 'catalogue', quantity: 1 + i })) };

    // Warm up both paths, then measure each for MS.
    let n = 0;
    const placeOne = async () => {
      n += 1;
      const res = await json(`${base}/orders`, { method: 'POST', token: pharmacist, body: cart, key: `bench-${runId}-${n}` });
      if (res.status !== 201) throw new Error(`placing failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.data[0];
    };
    const template = await placeOne();
    const stored = await Order.findById(template.id).lean();
    const baselineDoc = () => ({ ...stored!, _id: new Types.ObjectId(), orderNo: `BENCH-${runId}-${(n += 1)}` });
    for (let i = 0; i < 20; i += 1) await Order.create(baselineDoc());

    const api = await opsPerSecond(placeOne, MS, 30);
    const direct = await opsPerSecond(() => Order.create(baselineDoc()), MS, 30);
    return [
      {
        name: `orders: placed through the API (${LINES} lines each)`,
        value: api,
        unit: 'orders/s',
        baselineName: 'direct Mongoose insert of the same order document (no rules)',
        baseline: direct,
        ratio: api / direct,
        ratioNote: 'API / baseline, higher is better',
      },
    ];
  } finally {
    await bench.close();
  }
}
