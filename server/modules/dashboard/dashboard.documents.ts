// The dashboard as a PDF report: the same sections as the page, each chart rendered to SVG by
// ECharts on the server (no DOM) and drawn into the PDF with the embedded CJK font, each followed by
// its table. A pure layout from the dashboard's plain data, rendered in a PDF worker.
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import SVGtoPDF from 'svg-to-pdfkit';
import { t, type Lang } from '../../platform/i18n';
import { definePdf } from '../../platform/pdf-documents';
import type { PdfKit } from '../../platform/pdf';
import { formatPercentBp } from '../../platform/view-helpers/formatters';
import { chartOptions, type ChartId, type ChartOptions } from './dashboard.charts';
import type { DashboardData } from './dashboard.schemas';

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, MarkLineComponent, SVGRenderer]);

export interface DashboardReport {
  data: DashboardData;
  /** ISO instant the figures were read; it is the document date. */
  at: string;
  filterLabels: string[];
}

const CHART_HEIGHT = 220;

/** One chart as an SVG string, rendered without a DOM. */
export function chartSvg(option: Record<string, unknown>, width: number, height: number): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    const { tooltip: _interactiveOnly, ...still } = option;
    chart.setOption({ ...still, textStyle: { fontFamily: 'cjk' } });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

function drawChart(kit: PdfKit, doc: PDFKit.PDFDocument, options: ChartOptions, id: ChartId): void {
  const width = Math.floor(kit.contentWidth);
  kit.ensureSpace(CHART_HEIGHT + 8);
  const svg = chartSvg(options[id], width, CHART_HEIGHT);
  SVGtoPDF(doc, svg, doc.page.margins.left, doc.y, { width, height: CHART_HEIGHT, assumePt: true, fontCallback: (_family, bold) => (bold ? 'cjk-bold' : 'cjk') });
  doc.y += CHART_HEIGHT + 8;
  doc.x = doc.page.margins.left;
}

const bpText = (bp: number | null) => (bp === null ? '—' : formatPercentBp(bp));
const numText = (n: number | null) => (n === null ? '—' : String(n));

export const DashboardReportDocument = definePdf<DashboardReport>('dashboard.report', (r, lang: Lang) => {
  const tr = (key: string, vars?: Record<string, unknown>) => t(lang, `dashboard.${key}`, vars);
  const col = (key: string, align: 'left' | 'right' = 'right') => ({ header: tr(`cols.${key}`), align });
  const d = r.data;
  const options = chartOptions(d, lang);
  return {
    meta: { title: tr('reportTitle'), subject: tr('period', { from: d.from, to: d.to }), date: new Date(r.at) },
    draw(kit, doc) {
      const m = (fen: number) => kit.money(fen);
      kit.heading(tr('reportTitle'), 1);
      kit.paragraph(tr('period', { from: d.from, to: d.to }), { align: 'center' });
      if (r.filterLabels.length) kit.paragraph(r.filterLabels.join(' · '), { align: 'center', muted: true });

      kit.heading(tr('sections.savings'), 2);
      kit.keyValues(
        [
          [tr('kpi.saved'), m(d.savings.total.savedFen)],
          [tr('kpi.reduction'), bpText(d.savings.total.reductionBp)],
          [tr('kpi.spend'), m(d.savings.total.paidTotalFen)],
          [tr('kpi.reference'), m(d.savings.total.referenceTotalFen)],
        ],
        { columns: 2 },
      );
      drawChart(kit, doc, options, 'savings');
      kit.table({
        columns: [col('round', 'left'), col('quantity'), col('reference'), col('price'), col('saved'), col('reduction')],
        rows: [
          ...d.savings.rounds.flatMap((rd) => [
            [`${rd.roundNo} ${rd.title}`, String(rd.quantity), m(rd.referenceTotalFen), m(rd.paidTotalFen), m(rd.savedFen), bpText(rd.reductionBp)],
            ...rd.lines.map((l) => [`  ${l.drugName}`, String(l.quantity), m(l.referenceFen), m(l.unitPriceFen), m(l.savedFen), bpText(l.reductionBp)]),
          ]),
          ...d.savings.tenders.map((td) => [`${td.tenderNo} ${td.title}`, String(td.quantity), m(td.referenceTotalFen), m(td.paidTotalFen), m(td.savedFen), bpText(td.reductionBp)]),
          ...d.savings.contracts.map((c) => [`  ${c.contractNo} ${c.drugName} ${c.hospitalName}`, String(c.quantity), m(c.ceilingFen), m(c.priceFen), m(c.savedFen), bpText(c.reductionBp)]),
        ],
      });
      kit.heading(tr('sections.prices'), 3);
      drawChart(kit, doc, options, 'prices');
      kit.table({ columns: [col('drug', 'left'), col('round', 'left'), col('reference'), col('best')], rows: d.savings.priceHistory.flatMap((h) => h.points.map((p) => [h.drugName, p.roundNo, m(p.referenceFen), m(p.bestFen)])) });

      kit.heading(tr('sections.payments'), 2);
      drawChart(kit, doc, options, 'paymentDays');
      kit.table({
        columns: [col('month', 'left'), col('paidInvoices'), col('medianDays'), col('p90Days'), col('invoicesDue'), col('paidOnDueDate'), col('share')],
        rows: d.payments.months.map((p) => [p.month, String(p.paidInvoices), numText(p.medianDays), numText(p.p90Days), String(p.invoicesDue), String(p.paidOnDueDate), bpText(p.paidOnDueDateBp)]),
      });
      kit.heading(tr('sections.advances'), 3);
      drawChart(kit, doc, options, 'advances');
      kit.table({ columns: [col('month', 'left'), col('advances'), col('advanced'), col('outstanding')], rows: d.payments.months.map((p) => [p.month, String(p.advances), m(p.advancedFen), m(p.outstandingFen)]) });

      kit.heading(tr('sections.supply'), 2);
      drawChart(kit, doc, options, 'delivery');
      kit.table({ columns: [col('month', 'left'), col('deliveriesDue'), col('onTime'), col('share')], rows: d.supply.months.map((s) => [s.month, String(s.deliveriesDue), String(s.deliveredOnTime), bpText(s.onTimeBp)]) });
      kit.heading(tr('sections.shortage'), 3);
      kit.keyValues([
        [tr('cols.shortageDrugs'), String(d.supply.shortage.drugs)],
        [tr('cols.covered'), `${d.supply.shortage.covered}（${bpText(d.supply.shortage.coveredBp)}）`],
      ]);
      kit.heading(tr('sections.vbp'), 3);
      drawChart(kit, doc, options, 'vbp');
      kit.table({
        columns: [col('tender', 'left'), col('drug', 'left'), col('contracts'), col('agreedQty'), col('purchasedQty'), col('completion')],
        rows: d.supply.vbp.map((v) => [v.tenderNo, v.drugName, String(v.contracts), String(v.agreedQty), String(v.purchasedQty), bpText(v.completionBp)]),
      });

      kit.heading(tr('sections.credit'), 2);
      drawChart(kit, doc, options, 'grades');
      kit.table({ columns: [col('grade', 'left'), col('distributors')], rows: d.credit.grades.map((g) => [g.grade, String(g.distributors)]) });
      kit.heading(tr('sections.breaches'), 3);
      drawChart(kit, doc, options, 'breaches');
      kit.table({ columns: [col('type', 'left'), col('count')], rows: d.credit.breachTypes.map((b) => [lang === 'en' ? b.en : b.zh, String(b.count)]) });
      kit.paragraph(tr('pdfFooter', { at: kit.datetime(r.at) }), { muted: true, size: 8.5 });
    },
  };
});
