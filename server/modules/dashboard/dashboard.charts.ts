// ECharts options for the dashboard's charts, built from the dashboard's data in the reader's
// language. Plain JSON (no functions): the page embeds them for the browser, and the PDF report
// renders the same options to SVG on the server. No I/O.
import { t as translate, type Lang } from '../../platform/i18n';
import type { DashboardData } from './dashboard.schemas';

export const CHART_IDS = ['savings', 'prices', 'paymentDays', 'advances', 'delivery', 'vbp', 'grades', 'breaches'] as const;
export type ChartId = (typeof CHART_IDS)[number];
export type ChartOptions = Record<ChartId, Record<string, unknown>>;

const yuan = (fen: number) => Math.round(fen) / 100;
const pct = (bp: number | null) => (bp === null ? null : bp / 100);
const MAX_PRICE_LINES = 8;
const COLOURS = ['#1f6feb', '#d9480f', '#2f9e44', '#9c36b5', '#e8590c', '#0c8599', '#c2255c', '#5c940d'];

/** The chart options of a dashboard, with series and axis names from `dashboard.charts.*` in the reader's language. */
export function chartOptions(d: DashboardData, lang: Lang): ChartOptions {
  const t = (key: string) => translate(lang, `dashboard.charts.${key}`);
  const base = { animation: false, color: COLOURS, textStyle: { fontFamily: 'sans-serif' }, grid: { left: 72, right: 56, top: 56, bottom: 64 }, tooltip: { trigger: 'axis' } };
  const legend = { top: 8, type: 'scroll' };
  const months = d.payments.months.map((m) => m.month);
  const savingsRows = [...d.savings.rounds.map((r) => ({ label: r.roundNo, fen: r.savedFen })), ...d.savings.tenders.map((r) => ({ label: r.tenderNo, fen: r.savedFen }))];
  const roundNos = [...new Map(d.savings.priceHistory.flatMap((h) => h.points).sort((a, b) => a.publishedAt.localeCompare(b.publishedAt)).map((p) => [p.roundNo, p.roundNo])).keys()];
  const breachSeries = d.credit.breachTypes.map((bt) => ({ name: lang === 'en' ? bt.en : bt.zh, type: 'bar', stack: 'breaches', data: d.credit.breaches.map((m) => m.byType[bt.code] ?? 0) }));
  return {
    savings: {
      ...base,
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'category', data: savingsRows.map((r) => r.label), axisLabel: { rotate: savingsRows.length > 4 ? 30 : 0 } },
      yAxis: { type: 'value', name: t('yuan') },
      series: [{ name: t('saved'), type: 'bar', data: savingsRows.map((r) => yuan(r.fen)), label: { show: savingsRows.length <= 8, position: 'top' } }],
    },
    prices: {
      ...base,
      legend,
      xAxis: { type: 'category', data: roundNos },
      yAxis: { type: 'value', name: t('yuan'), scale: true },
      series: d.savings.priceHistory.slice(0, MAX_PRICE_LINES).map((h) => ({ name: h.drugName, type: 'line', connectNulls: true, data: roundNos.map((no) => { const p = h.points.find((x) => x.roundNo === no); return p ? yuan(p.bestFen) : null; }) })),
    },
    paymentDays: {
      ...base,
      legend,
      xAxis: { type: 'category', data: months },
      yAxis: [{ type: 'value', name: t('days') }, { type: 'value', name: '%', min: 0, max: 100 }],
      series: [
        { name: t('medianDays'), type: 'line', data: d.payments.months.map((m) => m.medianDays) },
        { name: t('p90Days'), type: 'line', data: d.payments.months.map((m) => m.p90Days) },
        { name: t('paidOnDueDate'), type: 'bar', yAxisIndex: 1, data: d.payments.months.map((m) => pct(m.paidOnDueDateBp)) },
      ],
    },
    advances: {
      ...base,
      legend,
      xAxis: { type: 'category', data: months },
      yAxis: { type: 'value', name: t('yuan') },
      series: [
        { name: t('advanced'), type: 'bar', data: d.payments.months.map((m) => yuan(m.advancedFen)) },
        { name: t('outstanding'), type: 'line', data: d.payments.months.map((m) => yuan(m.outstandingFen)) },
      ],
    },
    delivery: {
      ...base,
      legend,
      xAxis: { type: 'category', data: d.supply.months.map((m) => m.month) },
      yAxis: [{ type: 'value', name: t('orders') }, { type: 'value', name: '%', min: 0, max: 100 }],
      series: [
        { name: t('deliveriesDue'), type: 'bar', data: d.supply.months.map((m) => m.deliveriesDue) },
        { name: t('onTime'), type: 'line', yAxisIndex: 1, data: d.supply.months.map((m) => pct(m.onTimeBp)) },
      ],
    },
    vbp: {
      ...base,
      xAxis: { type: 'category', data: d.supply.vbp.map((v) => `${v.tenderNo} ${v.drugName}`), axisLabel: { rotate: d.supply.vbp.length > 3 ? 30 : 0 } },
      yAxis: { type: 'value', name: '%', min: 0 },
      series: [{ name: t('completion'), type: 'bar', data: d.supply.vbp.map((v) => pct(v.completionBp)), markLine: { silent: true, symbol: 'none', data: [{ yAxis: 80 }] } }],
    },
    grades: {
      ...base,
      tooltip: { trigger: 'item' },
      xAxis: { type: 'category', data: d.credit.grades.map((g) => g.grade) },
      yAxis: { type: 'value', name: t('distributors'), minInterval: 1 },
      series: [{ name: t('distributors'), type: 'bar', data: d.credit.grades.map((g) => g.distributors), label: { show: true, position: 'top' } }],
    },
    breaches: {
      ...base,
      legend,
      xAxis: { type: 'category', data: d.credit.breaches.map((m) => m.month) },
      yAxis: { type: 'value', name: t('breaches'), minInterval: 1 },
      series: breachSeries.length ? breachSeries : [{ name: t('breaches'), type: 'bar', data: d.credit.breaches.map((m) => m.total) }],
    },
  };
}
