// Operator dashboard: draws the charts whose options the server embedded (the tables beside them are server-rendered).
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent, SVGRenderer]);

const source = document.getElementById('dashboard-charts');
const options = source?.textContent ? (JSON.parse(source.textContent) as Record<string, echarts.EChartsCoreOption>) : {};
const charts: echarts.ECharts[] = [];
for (const el of document.querySelectorAll<HTMLElement>('[data-chart]')) {
  const option = options[el.dataset.chart ?? ''];
  if (!option) continue;
  const chart = echarts.init(el, undefined, { renderer: 'svg' });
  chart.setOption(option);
  charts.push(chart);
  el.dataset.drawn = 'true';
}
const observer = new ResizeObserver(() => charts.forEach((c) => c.resize()));
document.querySelectorAll<HTMLElement>('[data-chart]').forEach((el) => observer.observe(el));
