// The dashboard's tables as one Excel workbook: a sheet per table, the same figures the page and the
// PDF show for the same filters, headers in the reader's language.
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import type { DownloadFile } from '../../platform/http';
import type { Lang } from '../../platform/i18n';
import { businessDay } from '../../platform/time';
import { sheetOf, xlsxWorkbook, type SheetColumn } from '../../platform/tabular';
import type { DashboardData, DashboardQueryInput } from './dashboard.schemas';
import { dashboard } from './dashboard.service';

type Savings = DashboardData['savings'];
type Totals = Savings['total'];

/** The columns every savings table ends with: quantity, at reference, paid, saved, reduction. */
function totalsColumns<R extends Totals>(): SheetColumn<R>[] {
  return [
    { header: 'dashboard.cols.quantity', kind: 'integer', value: (r) => r.quantity },
    { header: 'dashboard.cols.referenceTotal', kind: 'money', value: (r) => r.referenceTotalFen },
    { header: 'dashboard.cols.paidTotal', kind: 'money', value: (r) => r.paidTotalFen },
    { header: 'dashboard.cols.saved', kind: 'money', value: (r) => r.savedFen },
    { header: 'dashboard.cols.reduction', kind: 'percent', value: (r) => r.reductionBp },
  ];
}

type RoundLine = Savings['rounds'][number]['lines'][number] & { roundNo: string };
type PricePoint = Savings['priceHistory'][number]['points'][number] & { drugName: string };
type BreachRow = { month: string; type: string; count: number };

/** The workbook's sheets for one dashboard answer. */
export function dashboardSheets(data: DashboardData, lang: Lang) {
  const roundLines: RoundLine[] = data.savings.rounds.flatMap((r) => r.lines.map((l) => ({ ...l, roundNo: r.roundNo })));
  const points: PricePoint[] = data.savings.priceHistory.flatMap((d) => d.points.map((p) => ({ ...p, drugName: d.drugName })));
  const typeName = new Map(data.credit.breachTypes.map((b) => [b.code, lang === 'en' ? b.en : b.zh]));
  const breaches: BreachRow[] = data.credit.breaches.flatMap((m) => Object.entries(m.byType).map(([code, count]) => ({ month: m.month, type: typeName.get(code) ?? code, count })));
  return [
    sheetOf({ name: 'dashboard.sheets.total', columns: totalsColumns<Totals>() }, [data.savings.total]),
    sheetOf(
      {
        name: 'dashboard.sheets.rounds',
        columns: [
          { header: 'dashboard.cols.round', kind: 'code', value: (r: RoundLine) => r.roundNo },
          { header: 'dashboard.cols.drug', kind: 'text', value: (r: RoundLine) => r.drugName },
          { header: 'dashboard.cols.reference', kind: 'money', value: (r: RoundLine) => r.referenceFen },
          { header: 'dashboard.cols.price', kind: 'money', value: (r: RoundLine) => r.unitPriceFen },
          ...totalsColumns<RoundLine>(),
        ],
      },
      roundLines,
    ),
    sheetOf({ name: 'dashboard.sheets.tenders', columns: [{ header: 'dashboard.cols.tender', kind: 'code', value: (r: Savings['tenders'][number]) => r.tenderNo }, ...totalsColumns<Savings['tenders'][number]>()] }, data.savings.tenders),
    sheetOf(
      {
        name: 'dashboard.sheets.contracts',
        columns: [
          { header: 'dashboard.cols.contract', kind: 'code', value: (r: Savings['contracts'][number]) => r.contractNo },
          { header: 'dashboard.cols.tender', kind: 'code', value: (r: Savings['contracts'][number]) => r.tenderNo },
          { header: 'dashboard.cols.drug', kind: 'text', value: (r: Savings['contracts'][number]) => r.drugName },
          { header: 'dashboard.cols.hospital', kind: 'text', value: (r: Savings['contracts'][number]) => r.hospitalName },
          { header: 'dashboard.cols.distributor', kind: 'text', value: (r: Savings['contracts'][number]) => r.distributorName },
          { header: 'dashboard.cols.ceiling', kind: 'money', value: (r: Savings['contracts'][number]) => r.ceilingFen },
          { header: 'dashboard.cols.price', kind: 'money', value: (r: Savings['contracts'][number]) => r.priceFen },
          ...totalsColumns<Savings['contracts'][number]>(),
        ],
      },
      data.savings.contracts,
    ),
    sheetOf(
      {
        name: 'dashboard.sheets.prices',
        columns: [
          { header: 'dashboard.cols.drug', kind: 'text', value: (r: PricePoint) => r.drugName },
          { header: 'dashboard.cols.round', kind: 'code', value: (r: PricePoint) => r.roundNo },
          { header: 'dashboard.cols.published', kind: 'date', value: (r: PricePoint) => r.publishedAt },
          { header: 'dashboard.cols.reference', kind: 'money', value: (r: PricePoint) => r.referenceFen },
          { header: 'dashboard.cols.best', kind: 'money', value: (r: PricePoint) => r.bestFen },
        ],
      },
      points,
    ),
    sheetOf(
      {
        name: 'dashboard.sheets.payments',
        columns: [
          { header: 'dashboard.cols.month', kind: 'code', value: (r: DashboardData['payments']['months'][number]) => r.month },
          { header: 'dashboard.cols.paidInvoices', kind: 'integer', value: (r: DashboardData['payments']['months'][number]) => r.paidInvoices },
          { header: 'dashboard.cols.medianDays', kind: 'integer', value: (r: DashboardData['payments']['months'][number]) => r.medianDays },
          { header: 'dashboard.cols.p90Days', kind: 'integer', value: (r: DashboardData['payments']['months'][number]) => r.p90Days },
          { header: 'dashboard.cols.invoicesDue', kind: 'integer', value: (r: DashboardData['payments']['months'][number]) => r.invoicesDue },
          { header: 'dashboard.cols.paidOnDueDate', kind: 'integer', value: (r: DashboardData['payments']['months'][number]) => r.paidOnDueDate },
          { header: 'dashboard.cols.share', kind: 'percent', value: (r: DashboardData['payments']['months'][number]) => r.paidOnDueDateBp },
          { header: 'dashboard.cols.advances', kind: 'integer', value: (r: DashboardData['payments']['months'][number]) => r.advances },
          { header: 'dashboard.cols.advanced', kind: 'money', value: (r: DashboardData['payments']['months'][number]) => r.advancedFen },
          { header: 'dashboard.cols.outstanding', kind: 'money', value: (r: DashboardData['payments']['months'][number]) => r.outstandingFen },
        ],
      },
      data.payments.months,
    ),
    sheetOf(
      {
        name: 'dashboard.sheets.supply',
        columns: [
          { header: 'dashboard.cols.month', kind: 'code', value: (r: DashboardData['supply']['months'][number]) => r.month },
          { header: 'dashboard.cols.deliveriesDue', kind: 'integer', value: (r: DashboardData['supply']['months'][number]) => r.deliveriesDue },
          { header: 'dashboard.cols.onTime', kind: 'integer', value: (r: DashboardData['supply']['months'][number]) => r.deliveredOnTime },
          { header: 'dashboard.cols.share', kind: 'percent', value: (r: DashboardData['supply']['months'][number]) => r.onTimeBp },
        ],
      },
      data.supply.months,
    ),
    sheetOf(
      {
        name: 'dashboard.sheets.vbp',
        columns: [
          { header: 'dashboard.cols.tender', kind: 'code', value: (r: DashboardData['supply']['vbp'][number]) => r.tenderNo },
          { header: 'dashboard.cols.drug', kind: 'text', value: (r: DashboardData['supply']['vbp'][number]) => r.drugName },
          { header: 'dashboard.cols.contracts', kind: 'integer', value: (r: DashboardData['supply']['vbp'][number]) => r.contracts },
          { header: 'dashboard.cols.agreedQty', kind: 'integer', value: (r: DashboardData['supply']['vbp'][number]) => r.agreedQty },
          { header: 'dashboard.cols.purchasedQty', kind: 'integer', value: (r: DashboardData['supply']['vbp'][number]) => r.purchasedQty },
          { header: 'dashboard.cols.completion', kind: 'percent', value: (r: DashboardData['supply']['vbp'][number]) => r.completionBp },
        ],
      },
      data.supply.vbp,
    ),
    sheetOf(
      {
        name: 'dashboard.sheets.grades',
        columns: [
          { header: 'dashboard.cols.grade', kind: 'text', value: (r: DashboardData['credit']['grades'][number]) => r.grade },
          { header: 'dashboard.cols.distributors', kind: 'integer', value: (r: DashboardData['credit']['grades'][number]) => r.distributors },
        ],
      },
      data.credit.grades,
    ),
    sheetOf(
      {
        name: 'dashboard.sheets.breaches',
        columns: [
          { header: 'dashboard.cols.month', kind: 'code', value: (r: BreachRow) => r.month },
          { header: 'dashboard.cols.type', kind: 'text', value: (r: BreachRow) => r.type },
          { header: 'dashboard.cols.count', kind: 'integer', value: (r: BreachRow) => r.count },
        ],
      },
      breaches,
    ),
  ];
}

/** The dashboard for these filters as an .xlsx (operator only, as the dashboard itself). */
export async function dashboardXlsx(actor: Actor, query: DashboardQueryInput, lang: Lang): Promise<DownloadFile> {
  const data = await dashboard(actor, query);
  return { filename: `dashboard-${data.from}-${data.to}-${businessDay(now())}.xlsx`, body: await xlsxWorkbook(dashboardSheets(data, lang), lang) };
}
