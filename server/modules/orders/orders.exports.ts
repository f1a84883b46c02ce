// The orders list and the delivery KPIs as Excel downloads: the list's own filters and scope, headers
// and labels in the reader's language.
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import type { DownloadFile } from '../../platform/http';
import { t, type Lang } from '../../platform/i18n';
import { everyPage, xlsxSheet, type SheetSpec } from '../../platform/tabular';
import { businessDay } from '../../platform/time';
import { distributorKpis, type KpiRow } from './orders.reports';
import type { OrderListQueryInput, OrderViewT, PeriodQueryInput } from './orders.schemas';
import { listOrders } from './orders.service';
import type { KpiBand } from './orders.state';

const PAGE = 200;

function orderSheet(lang: Lang): SheetSpec<OrderViewT> {
  return {
    name: 'orders.export.sheet',
    columns: [
      { header: 'orders.fields.orderNo', kind: 'code', value: (o) => o.orderNo },
      { header: 'orders.fields.hospital', kind: 'text', value: (o) => o.hospitalName },
      { header: 'orders.fields.distributor', kind: 'text', value: (o) => o.distributorName },
      { header: 'orders.fields.placedAt', kind: 'datetime', value: (o) => o.placedAt },
      { header: 'orders.fields.placedBy', kind: 'text', value: (o) => o.placedByName },
      { header: 'orders.fields.urgency', kind: 'text', value: (o) => t(lang, `orders.urgency.${o.urgency}`) },
      { header: 'orders.fields.status', kind: 'text', value: (o) => t(lang, `orderStatus.${o.status}`) },
      { header: 'orders.export.lineCount', kind: 'integer', value: (o) => o.lines.length },
      { header: 'orders.export.totalYuan', kind: 'money', value: (o) => o.totalFen },
      { header: 'orders.fields.confirmBy', kind: 'datetime', value: (o) => o.confirmBy },
      { header: 'orders.fields.respondedAt', kind: 'datetime', value: (o) => o.respondedAt },
      { header: 'orders.fields.deliverBy', kind: 'datetime', value: (o) => o.deliverBy },
      { header: 'orders.fields.shippedAt', kind: 'datetime', value: (o) => o.shippedAt },
      { header: 'orders.fields.deliveredAt', kind: 'datetime', value: (o) => o.deliveredAt },
      { header: 'orders.fields.acceptedAt', kind: 'datetime', value: (o) => o.acceptedAt },
      { header: 'orders.fields.invoiceDue', kind: 'date', value: (o) => o.invoiceDueAt },
      { header: 'orders.fields.address', kind: 'text', value: (o) => o.deliveryAddress },
      { header: 'orders.fields.note', kind: 'text', value: (o) => o.note },
    ],
  };
}

/** The caller's orders under the list's filters (all of them, page by page) as an .xlsx. */
export async function ordersXlsx(actor: Actor, q: Omit<OrderListQueryInput, 'cursor' | 'limit'>, lang: Lang): Promise<DownloadFile> {
  const rows = everyPage((cursor) => listOrders(actor, { ...q, limit: PAGE, ...(cursor ? { cursor } : {}) }));
  return { filename: `orders-${businessDay(now())}.xlsx`, body: await xlsxSheet(orderSheet(lang), rows, lang) };
}

const BAND_KEY: Record<KpiBand, string> = { '95-100': 'good', '80-95': 'fair', '<80': 'poor' };
const bandKey = (band: string | null): string => (band && Object.hasOwn(BAND_KEY, band) ? BAND_KEY[band as KpiBand] : 'none');

function kpiSheet(lang: Lang): SheetSpec<KpiRow> {
  const band = (b: string | null) => t(lang, `orders.band.${bandKey(b)}`);
  return {
    name: 'orders.export.kpiSheet',
    columns: [
      { header: 'orders.fields.distributor', kind: 'text', value: (r) => r.distributorName },
      { header: 'orders.kpi.orders', kind: 'integer', value: (r) => r.orders },
      { header: 'orders.kpi.response', kind: 'percent', value: (r) => r.responseRateBp },
      { header: 'orders.export.responseBand', kind: 'text', value: (r) => band(r.responseBand) },
      { header: 'orders.kpi.onTime', kind: 'percent', value: (r) => r.onTimeDeliveryRateBp },
      { header: 'orders.export.onTimeBand', kind: 'text', value: (r) => band(r.onTimeDeliveryBand) },
      { header: 'orders.kpi.completion', kind: 'percent', value: (r) => r.completionRateBp },
      { header: 'orders.export.completionBand', kind: 'text', value: (r) => band(r.completionBand) },
    ],
  };
}

/** The delivery KPIs per distributor for the period, as the KPI list shows them, as an .xlsx. */
export async function distributorKpisXlsx(actor: Actor, q: PeriodQueryInput, lang: Lang): Promise<DownloadFile> {
  const kpis = await distributorKpis(actor, q);
  return { filename: `delivery-kpis-${kpis.from}-${kpis.to}.xlsx`, body: await xlsxSheet(kpiSheet(lang), kpis.data, lang) };
}
