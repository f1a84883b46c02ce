// The city run's report: per simulated month the wall time, documents per collection, engine memory
// and disk; the fixed probe of the hot reads at month 1 and at the last month; the ledger check (the
// same checkLedger as `npm run ledger:check`), the exactly-once checks from the database, and the
// figures the bureau would quote (savings against reference prices, timely payment, advances).
import os from 'node:os';
import { checkLedger } from '../../server/modules/finance';
import { formatFen } from '../../server/platform/money';
import { cityTotals } from './generator';
import type { ProbeResult, SimResult } from './sim';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Figures {
  purchasesFen: number;
  annualisedPurchasesFen: number;
  savingsBp: number | null;
  expectedSavingsBp: number;
  invoicesDue: number;
  paidByDueDate: number;
  paidByDueDateBp: number | null;
  paidEarly: number;
  settledFromAccount: number;
  settledWithAdvance: number;
  overdue: number;
  medianDaysToPayment: number | null;
  advancedFen: number;
  guaranteeLinesFen: number;
  roundsPublished: number;
  listingsClearlyBelow: number;
  breaches: number;
  breachesByCode: Record<string, number>;
  appeals: number;
  repairs: number;
}

export interface CityReport {
  checks: Check[];
  figures: Figures;
  text: string;
  /** the table kept in README (figures measured on this machine) */
  readmeTable: string;
  ok: boolean;
}

const shanghaiDay = (iso: string) => new Date(new Date(iso).getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;
const pct = (bp: number | null) => (bp === null ? '–' : `${(bp / 100).toFixed(2)} %`);

/** Checks and figures from the city's database and API, then the printed report. */
export async function buildReport(sim: SimResult, opts: { loadAverage?: number[] } = {}): Promise<CityReport> {
  const db = sim.db;
  const checks: Check[] = [];

  const ledger = await checkLedger();
  checks.push({ name: 'ledger: every balance equals its journal, every entry sums to zero', ok: ledger.ok, detail: `${ledger.entries} entries, ${ledger.accounts} accounts, ${ledger.mismatches.length} mismatches, ${ledger.unbalancedEntries.length} unbalanced` });

  const paidTwice = await db
    .collection('finance_entries')
    .aggregate([{ $match: { kind: { $in: ['settlement', 'invoice_payment'] } } }, { $group: { _id: '$invoiceId', n: { $sum: 1 } } }, { $match: { n: { $gt: 1 } } }])
    .toArray();
  const paymentEntries = await db.collection('finance_entries').countDocuments({ kind: { $in: ['settlement', 'invoice_payment'] } });
  checks.push({ name: 'no invoice paid twice', ok: paidTwice.length === 0, detail: `${paymentEntries} payment entries, ${paidTwice.length} invoices with more than one` });

  const invoicesPerOrder = await db.collection('finance_invoices').aggregate([{ $group: { _id: '$orderId', n: { $sum: 1 } } }, { $match: { n: { $gt: 1 } } }]).toArray();
  checks.push({ name: 'at most one invoice per order', ok: invoicesPerOrder.length === 0, detail: `${invoicesPerOrder.length} orders with more` });

  const breachesTwice = await db
    .collection('credit_breaches')
    .aggregate([{ $match: { source: 'automatic' } }, { $group: { _id: { code: '$code', orgId: '$orgId', ref: '$reference' }, n: { $sum: 1 } } }, { $match: { n: { $gt: 1 } } }])
    .toArray();
  const breaches = await db.collection('credit_breaches').countDocuments({});
  const breachCodes = await db.collection('credit_breaches').aggregate([{ $group: { _id: '$code', n: { $sum: 1 } } }]).toArray();
  checks.push({ name: 'no breach twice for the same fact', ok: breachesTwice.length === 0, detail: `${breaches} breaches, ${breachesTwice.length} facts with more than one` });

  const accepted = await db.collection('orders').find({ status: { $in: ['accepted', 'partially_accepted'] } }, { projection: { _id: 1 } }).toArray();
  const invoiced = new Set((await db.collection('finance_invoices').find({}, { projection: { orderId: 1 } }).toArray()).map((i) => String(i.orderId)));
  const notInvoiced = accepted.filter((o) => !invoiced.has(String(o._id)));
  checks.push({ name: 'every accepted order invoiced', ok: notInvoiced.length === 0 && accepted.length > 0, detail: `${accepted.length} accepted orders, ${notInvoiced.length} without an invoice` });

  const rounds = await db.collection('quotation_rounds').find({}, { projection: { _id: 1, status: 1 } }).toArray();
  const closes = await db.collection('quotation_events').aggregate([{ $match: { type: 'closed' } }, { $group: { _id: '$roundId', n: { $sum: 1 } } }]).toArray();
  const closedTwice = closes.filter((c) => c.n > 1);
  const published = rounds.filter((r) => r.status === 'published').length;
  checks.push({ name: 'every round closed once and published', ok: closedTwice.length === 0 && published === rounds.length && rounds.length > 0, detail: `${rounds.length} rounds, ${published} published, ${closedTwice.length} closed more than once` });

  const c = sim.counters;
  const flowOk = c.ordersPlaced > 0 && c.accepted > 0;
  const invoices = await db.collection('finance_invoices').find({}, { projection: { amountFen: 1, status: 1, dueAt: 1, acceptedAt: 1, settlement: 1, paidAt: 1, paidOnTime: 1 } }).toArray();
  const settled = invoices.filter((i) => i.settlement?.outcome);
  checks.push({ name: 'orders placed, accepted, invoiced and settled', ok: flowOk && invoices.length > 0 && (settled.length > 0 || c.paidEarly > 0), detail: `${c.ordersPlaced} placed, ${c.accepted} accepted, ${invoices.length} invoices, ${c.paidEarly} paid early, ${settled.length} settled at the due date` });
  const httpErrors = Object.values(c.httpErrors).reduce((a, b) => a + b, 0);
  checks.push({ name: 'no unexpected API error', ok: httpErrors === 0, detail: httpErrors ? Object.entries(c.httpErrors).map(([k, n]) => `${k} ×${n}`).join('; ').slice(0, 400) : `${c.httpCalls} calls` });

  // ---- figures ----
  const dash = await fetch(`${sim.baseUrl}/api/v1/dashboard?from=${sim.start}&to=${shanghaiDay(sim.endsAt)}`, { headers: { authorization: `Bearer ${sim.operatorToken}` } });
  const dashboard = dash.status === 200 ? ((await dash.json()) as any) : undefined;
  if (!dashboard) checks.push({ name: 'the dashboard answers for the whole run', ok: false, detail: `${dash.status} ${(await dash.text()).slice(0, 200)}` });
  const endMs = new Date(sim.endsAt).getTime();
  const due = invoices.filter((i) => new Date(i.dueAt).getTime() <= endMs);
  const paidByDue = due.filter((i) => i.status === 'paid' && (i.paidOnTime ?? new Date(i.paidAt).getTime() <= new Date(i.dueAt).getTime()));
  const days: number[] = [];
  for (const i of invoices) if (i.status === 'paid' && i.paidAt && i.acceptedAt) days.push((new Date(i.paidAt).getTime() - new Date(i.acceptedAt).getTime()) / 86_400_000);
  days.sort((a, b) => a - b);
  const advances = await db.collection('finance_advances').aggregate([{ $group: { _id: null, fen: { $sum: '$principalFen' }, n: { $sum: 1 } } }]).toArray();
  const lines = await db.collection('finance_lines').aggregate([{ $match: { status: 'active' } }, { $group: { _id: null, fen: { $sum: '$limitFen' } } }]).toArray();
  const purchasesFen = invoices.reduce((a, i) => a + (i.amountFen ?? 0), 0);
  const simDays = Math.max(1, Math.round((new Date(sim.tradedTo).getTime() - new Date(`${sim.start}T00:00:00+08:00`).getTime()) / 86_400_000));
  const listings = await db.collection('quotation_listings').find({}, { projection: { unitPriceFen: 1, referenceFen: 1, roundId: 1, drugId: 1 } }).toArray();
  const bestByLine = new Map<string, { best: number; ref: number }>();
  for (const l of listings) {
    const k = `${l.roundId}:${l.drugId}`;
    const b = bestByLine.get(k);
    if (!b || l.unitPriceFen < b.best) bestByLine.set(k, { best: l.unitPriceFen, ref: l.referenceFen });
  }
  const figures: Figures = {
    purchasesFen,
    annualisedPurchasesFen: Math.round((purchasesFen * 365) / simDays),
    savingsBp: dashboard?.savings?.total?.reductionBp ?? null,
    expectedSavingsBp: sim.city.expectedReductionBp,
    invoicesDue: due.length,
    paidByDueDate: paidByDue.length,
    paidByDueDateBp: due.length ? Math.round((paidByDue.length * 10_000) / due.length) : null,
    paidEarly: c.paidEarly,
    settledFromAccount: settled.filter((i) => i.settlement.outcome === 'paid_from_account').length,
    settledWithAdvance: settled.filter((i) => i.settlement.outcome === 'paid_with_advance').length,
    overdue: invoices.filter((i) => i.status === 'overdue').length,
    medianDaysToPayment: days.length ? Math.round(days[Math.floor(days.length / 2)]! * 10) / 10 : null,
    advancedFen: advances[0]?.fen ?? 0,
    guaranteeLinesFen: lines[0]?.fen ?? 0,
    roundsPublished: published,
    listingsClearlyBelow: [...bestByLine.values()].filter((b) => b.best <= b.ref * 0.8).length,
    breaches,
    breachesByCode: Object.fromEntries(breachCodes.map((b) => [String(b._id), b.n as number])),
    appeals: c.appeals,
    repairs: c.repairDecisions,
  };

  const text = render(sim, checks, figures, opts.loadAverage ?? os.loadavg());
  return { checks, figures, text: text.full, readmeTable: text.readme, ok: checks.every((x) => x.ok) };
}

const SHOWN = ['orders', 'shipments', 'trace_codes', 'acceptances', 'finance_invoices', 'finance_entries', 'finance_advances', 'notifications', 'audit_log', 'outbox_events', 'quotation_quotes', 'credit_breaches'];

function render(sim: SimResult, checks: Check[], f: Figures, load: number[]): { full: string; readme: string } {
  const t = cityTotals(sim.city);
  const out: string[] = [];
  const first = sim.months[0];
  const last = sim.months[sim.months.length - 1];
  const cpu = os.cpus();
  out.push(
    `City seed ${sim.city.seed}, scale ${sim.city.scale}, ${sim.city.months} month(s) — run ${new Date().toISOString().slice(0, 16)}Z, ${cpu.length} cores (${cpu[0]?.model ?? 'cpu'}), Node ${process.version}, load average ${load.map((x) => x.toFixed(1)).join(' / ')}`,
  );
  out.push(
    `${t.hospitals} hospitals (level 1/2/3: ${t.byLevel.join('/')}), ${t.distributors} distributors, ${t.banks} banks, ${t.drugs} drugs (${t.shortageDrugs} shortage, ${t.vbpDrugs} VBP), ${t.rounds} rounds planned; guarantee lines ${formatFen(t.guaranteeLinesFen)}; purchases planned ${formatFen(t.yearlyPurchaseFen)} a year.`,
  );
  out.push(`Setup (organisations, users, drugs, lines) ${minutes(sim.setupMs)}; whole run ${minutes(sim.wallMs)}; ${sim.counters.httpCalls} API calls (${minutes(sim.counters.httpMs)} waiting on them); ${sim.counters.jobsReleased} delayed jobs released by simulated time (${minutes(sim.counters.timeMachineMs)} moving the clock and waiting for the app to go quiet).`);
  out.push('');
  out.push(`| month | simulated to | wall | orders placed | ${SHOWN.join(' | ')} | all documents | engine RSS MB | disk MB |`);
  out.push(`|---:|---|---:|---:|${SHOWN.map(() => '---:').join('|')}|---:|---:|---:|`);
  for (const m of sim.months) {
    const all = Object.values(m.documents).reduce((a, b) => a + b, 0);
    out.push(`| ${m.month} | ${m.simDate} | ${minutes(m.wallMs)} | ${m.ordersPlaced} | ${SHOWN.map((s) => m.documents[s] ?? 0).join(' | ')} | ${all} | ${m.engineRssMb} | ${m.diskMb} |`);
  }
  const probeTable: string[] = [];
  if (first?.probe) {
    const lastProbe = last && last !== first ? last.probe : undefined;
    probeTable.push(`| hot read | month 1 p50 ms | month 1 p99 ms | ${lastProbe ? `month ${last!.month} p50 ms | month ${last!.month} p99 ms | p99 ratio |` : ''}`);
    probeTable.push(`|---|---:|---:|${lastProbe ? '---:|---:|---:|' : ''}`);
    for (const p of first.probe) {
      const q: ProbeResult | undefined = lastProbe?.find((x) => x.name === p.name);
      probeTable.push(`| ${p.name} | ${fmt(p.p50)} | ${fmt(p.p99)} | ${q ? `${fmt(q.p50)} | ${fmt(q.p99)} | ${(q.p99 / p.p99).toFixed(2)} |` : ''}`);
    }
    out.push('', ...probeTable);
  }
  const checkTable = ['| check | result | detail |', '|---|---|---|', ...checks.map((c) => `| ${c.name} | ${c.ok ? 'ok' : 'FAILED'} | ${c.detail} |`)];
  out.push('', ...checkTable);
  const c = sim.counters;
  const figuresText = [
    `Purchases ${formatFen(f.purchasesFen)} (annualised ${formatFen(f.annualisedPurchasesFen)}); savings against reference prices ${pct(f.savingsBp)} (generator's expected value-weighted listing reduction ${pct(f.expectedSavingsBp)}; model city 12.29 %).`,
    `Invoices due by the end ${f.invoicesDue}: paid by their due date ${f.paidByDueDate} (${pct(f.paidByDueDateBp)}); paid early ${f.paidEarly}, settled at the due date from the account ${f.settledFromAccount}, with a bank advance ${f.settledWithAdvance}, overdue ${f.overdue}; median days from acceptance to payment ${f.medianDaysToPayment ?? '–'}.`,
    `Bank advances ${formatFen(f.advancedFen)} within guarantee lines of ${formatFen(f.guaranteeLinesFen)}; ${f.roundsPublished} rounds published, ${f.listingsClearlyBelow} lines with a best price ≥ 20 % under reference.`,
    `Orders: ${c.ordersPlaced} placed (${Object.entries(c.bySource).map(([k, n]) => `${k} lines ${n}`).join(', ')}), ${c.ordersRefused} carts refused, ${c.confirmed} confirmed, ${c.shipped} shipped, ${c.delivered} delivered, ${c.accepted} accepted (${c.qualityRefusals} with a quality refusal); ${c.quotes} quotes; ${c.lateConfirmations} late confirmations and ${c.lateDeliveries} late deliveries planted; ${f.breaches} breaches (${Object.entries(f.breachesByCode).map(([k, n]) => `${k} ${n}`).join(', ')}), ${c.appeals} appeals (${c.appealDecisions} decided), ${c.repairs} repair applications (${c.repairDecisions} approved); ${c.repayments} repayments, ${c.prepayments} prepayments.`,
  ];
  out.push('', ...figuresText);
  const months = sim.months.filter((m) => m.month > 0);
  const perMonth = months.length ? months.reduce((a, m) => a + m.wallMs, 0) / months.length : 0;
  const yearAtScale1 = (sim.setupMs + perMonth * 12) / sim.city.scale;
  const extrapolation = `Extrapolated, linear in volume: a year at scale ${sim.city.scale} ≈ ${minutes(sim.setupMs + perMonth * 12)}; a year at scale 1 ≈ ${(yearAtScale1 / 3_600_000).toFixed(1)} h (goal 30 min).`;
  const routes = Object.entries(sim.counters.byRoute ?? {}).sort((a, b) => b[1].ms - a[1].ms).slice(0, 10);
  const whereTime = routes.length
    ? ['| API call (where the time goes) | calls | total min | mean ms |', '|---|---:|---:|---:|', ...routes.map(([k, r]) => `| ${k} | ${r.n} | ${(r.ms / 60_000).toFixed(1)} | ${fmt(r.ms / r.n)} |`)]
    : [];
  out.push('', ...whereTime);
  out.push('', extrapolation);
  const readme = [out[0]!, '', out.slice(3, 5 + sim.months.length).join('\n'), '', ...probeTable, '', ...checkTable, '', ...figuresText, '', ...whereTime, '', extrapolation].join('\n');
  return { full: out.join('\n'), readme };
}
