// The everyday ("hot") reads at 2k orders and again at 40k: the same requests through the API, with
// p50/p99 and the documents the engine examined for each (serverStatus metrics.queryExecutor, the
// smallest difference over the runs, so a background job's read does not count). Orders, breaches,
// notifications and expired listings are inserted directly and grow in proportion; what a person
// sees today (open orders, unread notifications, current listings) stays the same size, as in a
// city where last year's orders are closed. Goal: documents examined the same at 40k as at 2k.
//
// Knobs: BENCH_HOTREADS_SMALL / BENCH_HOTREADS_LARGE (orders), BENCH_HOTREADS_RUNS (timed runs per
// read), BENCH_HOTREADS_ONLY (a substring of the reads to run).
import mongoose, { Types } from 'mongoose';
import type { Actor } from '../server/platform/auth';
import { rebuildStandingRecords } from '../server/modules/credit';
import { createOrganisation, createUser, login } from '../server/modules/identity';
import { type BenchRow, percentile } from './lib';
import { startBenchApp } from './harness';

const SMALL = Number(process.env.BENCH_HOTREADS_SMALL ?? 2_000);
const LARGE = Number(process.env.BENCH_HOTREADS_LARGE ?? 40_000);
const RUNS = Number(process.env.BENCH_HOTREADS_RUNS ?? 30);
const ONLY = process.env.BENCH_HOTREADS_ONLY;
const DAY = 86_400_000;
/** orders a year: the largest size spans about a year */
const STEP_MS = Math.floor((365 * DAY) / Math.max(LARGE, 1));
/** the most recent orders are still open; everything older is closed */
const OPEN_TAIL = 300;
const OPEN_STATES = ['placed', 'confirmed', 'shipped', 'delivered'] as const;
const SYSTEM: Actor = { id: '000000000000000000000000', sessionId: 'bench', email: 'bench@local', name: 'bench', role: 'operator', orgId: '000000000000000000000000', orgType: 'operator', orgName: 'bench' };

interface Probe {
  name: string;
  path: () => string;
  token: () => string;
}

interface Measured {
  p50: number;
  p99: number;
  docs: number;
  keys: number;
}

export default async function hotreadsBench(): Promise<BenchRow[]> {
  const bench = await startBenchApp('hotreads');
  try {
    const base = `${bench.app.url}/api/v1`;
    const runId = bench.runId;
    const db = mongoose.connection.db!;
    const admin = db.admin();
    const password = 'bench-password-1';
    const user = async (orgId: string, role: string, tag: string) => {
      const email = `${tag}-${runId}@bench.local`;
      const u = (await createUser(SYSTEM, { orgId, name: tag, email, role: role as 'pharmacist', password })) as unknown as { id: string };
      return { id: u.id, token: (await login(email, password, { ip: 'bench' })).token };
    };
    const operatorOrg = (await createOrganisation(SYSTEM, { name: `bench bureau ${runId}`, type: 'operator' })) as unknown as { id: string };
    const hospitals = await Promise.all([3, 2, 1, 3, 2, 1].map(async (level, i) => (await createOrganisation(SYSTEM, { name: `bench hospital ${i} ${runId}`, type: 'hospital', hospitalLevel: level as 1 | 2 | 3, address: '示范路 1 号' })) as unknown as { id: string }));
    const distributors = await Promise.all([0, 1, 2, 3].map(async (i) => (await createOrganisation(SYSTEM, { name: `bench distributor ${i} ${runId}`, type: 'distributor' })) as unknown as { id: string; name: string }));
    const operator = await user(operatorOrg.id, 'operator', 'op');
    const pharmacist = await user(hospitals[0]!.id, 'pharmacist', 'ph');
    const distributor = await user(distributors[0]!.id, 'distributor', 'dist');

    // the start of the simulated year; "now" for orders of a phase is the last order's placedAt
    const wallNow = Date.now();
    const start = wallNow - 365 * DAY;
    const drugIds = Array.from({ length: 50 }, () => new Types.ObjectId());
    const listing = (drugId: Types.ObjectId, d: number, k: number, publishedAt: number, expiresAt: number) => ({
      _id: new Types.ObjectId(), roundId: new Types.ObjectId(), roundNo: `R-${k}`, roundTitle: `第 ${k} 轮`, lineId: new Types.ObjectId(), drugId,
      drug: { genericNameZh: `药品${String(d).padStart(2, '0')}`, genericNameEn: `Drug ${d}`, dosageForm: '注射剂', specification: '1支', packUnit: '支', manufacturer: '厂', nhsaCode: `N${d}`, standardCode: `S${d}` },
      distributorOrgId: new Types.ObjectId(distributors[(d + k) % 4]!.id), distributorName: distributors[(d + k) % 4]!.name, alias: 'A', quoteId: new Types.ObjectId(),
      unitPriceFen: 200_000 - d * 100 - (k % 7) * 50, referenceFen: 289_000, reductionBp: 3000, rank: 1, quotedAt: new Date(publishedAt), publishedAt: new Date(publishedAt), expiresAt: new Date(expiresAt), status: 'listed',
    });
    // current listings: 2 per drug, published a month ago, expiring in a year (the same at both sizes)
    await db.collection('quotation_listings').insertMany(drugIds.flatMap((drugId, d) => [0, 1].map((k) => listing(drugId, d, k, wallNow - 30 * DAY, wallNow + 365 * DAY))));

    let orders = 0;
    let expiredListings = 0;
    const grow = async (to: number) => {
      const BATCH = 5_000;
      // last phase's open orders are old now: closed (accepted) as in a year of real use
      const cutoff = new Date(start + (to - OPEN_TAIL) * STEP_MS);
      await db.collection('orders').updateMany({ status: { $in: [...OPEN_STATES] }, placedAt: { $lt: cutoff } }, { $set: { status: 'accepted' } });
      for (let b = orders; b < to; b += BATCH) {
        const docs = [];
        const breaches = [];
        const notes = [];
        for (let i = b; i < Math.min(to, b + BATCH); i += 1) {
          const placedAt = new Date(start + i * STEP_MS);
          const h = hospitals[i % hospitals.length]!;
          const d = distributors[i % distributors.length]!;
          const open = i >= to - OPEN_TAIL;
          const status = open ? OPEN_STATES[i % OPEN_STATES.length]! : (['accepted', 'accepted', 'accepted', 'accepted', 'accepted', 'accepted', 'partially_accepted', 'cancelled', 'rejected', 'refused'] as const)[i % 10]!;
          const qty = 1 + (i % 20);
          const drugId = drugIds[i % drugIds.length]!;
          const _id = new Types.ObjectId();
          docs.push({
            _id, orderNo: `PO-${runId}-${i}`, hospitalOrgId: new Types.ObjectId(h.id), hospitalName: 'h', deliveryAddress: 'a', distributorOrgId: new Types.ObjectId(d.id), distributorName: d.name,
            placedById: new Types.ObjectId(pharmacist.id), placedByName: 'p', urgency: i % 9 === 0 ? 'urgent' : 'regular', status, totalFen: qty * 150_000,
            lines: [{ lineNo: 1, drugId, drugName: 'x', drugNameEn: 'x', dosageForm: 'x', specification: 'x', packUnit: 'x', manufacturer: 'x', tracePrefix: '1234567', source: { kind: 'catalogue' }, quantity: qty, unitPriceFen: 150_000, amountFen: qty * 150_000, confirmedQty: qty, backorderedQty: 0, shippedQty: 0, acceptedQty: 0, refusedQty: 0 }],
            // NOTE: open orders' deadlines lie ahead on the wall clock, so the app's deadline sweep finds nothing to do during the bench
            placedAt, confirmBy: new Date(open ? wallNow + 30 * DAY : placedAt.getTime() + DAY), deliverBy: new Date(open ? wallNow + 34 * DAY : placedAt.getTime() + 4 * DAY), events: [],
          });
          // notifications: one to the hospital's pharmacist and one to the distributor's user per order of theirs; the last few unread
          const unread = i >= to - 120;
          const note = (userId: string, orgId: string) => ({ userId: new Types.ObjectId(userId), orgId: new Types.ObjectId(orgId), kind: 'order.placed', title: `订单 PO-${i}`, body: '新订单', link: `/orders/${_id}`, createdAt: placedAt, ...(unread ? {} : { readAt: placedAt, expiresAt: new Date(wallNow + 30 * DAY) }) });
          if (h === hospitals[0]) notes.push(note(pharmacist.id, h.id));
          if (d === distributors[0]) notes.push(note(distributor.id, d.id));
          if (i % 40 === 0) {
            const bd = distributors[(i / 40) % distributors.length]!;
            breaches.push({ orgId: new Types.ObjectId(bd.id), orgName: bd.name, code: 'LATE_DELIVERY', zh: '延迟配送', en: 'Late delivery', severity: 'shixin', points: 2, occurredAt: placedAt, recordedAt: new Date(placedAt.getTime() + 5 * DAY), source: 'automatic', sourceKey: `bench-${runId}-${i}`, description: 'x', status: i % 400 === 0 ? 'voided' : 'active', appealDeadline: new Date(placedAt.getTime() + 20 * DAY) });
          }
        }
        await db.collection('orders').insertMany(docs, { ordered: false });
        if (breaches.length) await db.collection('credit_breaches').insertMany(breaches, { ordered: false });
        if (notes.length) await db.collection('notifications').insertMany(notes, { ordered: false });
      }
      // older unread notifications were read meanwhile
      await db.collection('notifications').updateMany({ readAt: { $exists: false }, createdAt: { $lt: new Date(start + (to - 120) * STEP_MS) } }, { $set: { readAt: new Date(start + to * STEP_MS), expiresAt: new Date(wallNow + 30 * DAY) } });
      // listings of past rounds: expired, still 'listed' (as the app leaves them), one per 20 orders
      const wantExpired = Math.round(to / 20);
      const expired = [];
      for (let k = expiredListings; k < wantExpired; k += 1) {
        const d = k % drugIds.length;
        expired.push(listing(drugIds[d]!, d, 2 + k, start + (k % 300) * DAY, start + ((k % 300) + 60) * DAY));
      }
      if (expired.length) await db.collection('quotation_listings').insertMany(expired, { ordered: false });
      expiredListings = wantExpired;
      // NOTE: breaches inserted directly bypass the commands that keep the standing records in step;
      // the records are built from them as the start-up backfill would.
      await rebuildStandingRecords(distributors.map((x) => x.id));
      orders = to;
    };

    const get = async (path: string, token: string) => {
      const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as Record<string, unknown>;
      if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
      return body;
    };
    const examined = async () => {
      const s = (await admin.command({ serverStatus: 1 })) as { metrics?: { queryExecutor?: { scanned: unknown; scannedObjects: unknown } } };
      const q = s.metrics?.queryExecutor;
      return { keys: Number(q?.scanned ?? Number.NaN), docs: Number(q?.scannedObjects ?? Number.NaN) };
    };

    // ids a probe needs, found afresh at each size: the hospital's newest order and its second page
    let orderId = '';
    let page2 = '';
    const probes: Probe[] = [
      { name: '/me (pharmacist)', path: () => '/me', token: () => pharmacist.token },
      { name: 'hospital orders, status=placed', path: () => '/orders?status=placed&limit=30', token: () => pharmacist.token },
      { name: 'hospital orders, open', path: () => '/orders?open=true&limit=30', token: () => pharmacist.token },
      { name: 'hospital orders, page 2 (cursor)', path: () => `/orders?limit=30&cursor=${page2}`, token: () => pharmacist.token },
      { name: 'distributor orders', path: () => '/orders?limit=30', token: () => distributor.token },
      { name: 'distributor orders, status=placed', path: () => '/orders?status=placed&limit=30', token: () => distributor.token },
      { name: 'order detail', path: () => `/orders/${orderId}`, token: () => pharmacist.token },
      { name: 'notifications bell (pharmacist)', path: () => '/notifications?limit=10', token: () => pharmacist.token },
      { name: 'notifications unread (distributor)', path: () => '/notifications?unread=true&limit=10', token: () => distributor.token },
      { name: 'current listings (browse)', path: () => '/listings?limit=30', token: () => pharmacist.token },
      { name: 'current listings of a drug', path: () => `/orders/listings?drugId=${drugIds[0]}`, token: () => pharmacist.token },
      { name: 'operator breach table', path: () => '/credit/breaches?limit=30', token: () => operator.token },
      { name: "distributor's breaches", path: () => '/credit/breaches?limit=30', token: () => distributor.token },
      { name: 'credit standing (distributor)', path: () => '/credit/standing', token: () => distributor.token },
    ].filter((p) => !ONLY || p.name.includes(ONLY));

    const measure = async (): Promise<Map<string, Measured>> => {
      const first = (await get('/orders?limit=30', pharmacist.token)) as { data: { id: string }[]; nextCursor: string };
      orderId = first.data[0]!.id;
      page2 = first.nextCursor;
      const out = new Map<string, Measured>();
      for (const p of probes) {
        await get(p.path(), p.token()); // warm
        const ms: number[] = [];
        let docs = Number.POSITIVE_INFINITY;
        let keys = Number.POSITIVE_INFINITY;
        for (let r = 0; r < RUNS; r += 1) {
          const before = await examined();
          const t = performance.now();
          await get(p.path(), p.token());
          ms.push(performance.now() - t);
          const after = await examined();
          docs = Math.min(docs, after.docs - before.docs);
          keys = Math.min(keys, after.keys - before.keys);
        }
        out.set(p.name, { p50: percentile(ms, 50), p99: percentile(ms, 99), docs, keys });
      }
      return out;
    };

    let t = performance.now();
    await grow(SMALL);
    const small = await measure();
    process.stderr.write(`hotreads bench: ${SMALL} orders loaded and probed in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
    t = performance.now();
    await grow(LARGE);
    const counts = Object.fromEntries(await Promise.all(['orders', 'credit_breaches', 'notifications', 'quotation_listings'].map(async (c) => [c, await db.collection(c).countDocuments()] as const)));
    const large = await measure();
    process.stderr.write(`hotreads bench: grown to ${JSON.stringify(counts)} and probed in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);

    const k = (n: number) => `${n / 1000}k`;
    const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
    const lines = [
      `| hot read | p50 ms @${k(SMALL)} | p99 ms @${k(SMALL)} | p50 ms @${k(LARGE)} | p99 ms @${k(LARGE)} | p99 ratio | docs examined @${k(SMALL)} | docs examined @${k(LARGE)} | keys @${k(SMALL)} | keys @${k(LARGE)} |`,
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ];
    const rows: BenchRow[] = [];
    for (const p of probes) {
      const a = small.get(p.name)!;
      const b = large.get(p.name)!;
      lines.push(`| ${p.name} | ${fmt(a.p50)} | ${fmt(a.p99)} | ${fmt(b.p50)} | ${fmt(b.p99)} | ${(b.p99 / a.p99).toFixed(2)} | ${a.docs} | ${b.docs} | ${a.keys} | ${b.keys} |`);
      rows.push({ name: `hot read p99 @${k(LARGE)} orders: ${p.name} (docs examined ${a.docs} → ${b.docs})`, value: b.p99, unit: 'ms', baselineName: `the same @${k(SMALL)}`, baseline: a.p99, ratio: b.p99 / a.p99, ratioNote: 'lower is better; goal ≤ 1.5' });
    }
    process.stderr.write(`${lines.join('\n')}\n`);
    return rows;
  } finally {
    await bench.close();
  }
}
