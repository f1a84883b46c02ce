// Loads the dashboard for the PDF report and renders it in the PDF worker pool, in Chinese.
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { t } from '../../platform/i18n';
import { renderDocument } from '../../platform/pdf-pool';
import { DashboardReportDocument } from './dashboard.documents';
import type { DashboardQueryInput } from './dashboard.schemas';
import { dashboard } from './dashboard.service';

/** The dashboard report PDF (Chinese) for the same filters as the page. Operators only. */
export async function dashboardReportPdf(actor: Actor, q: DashboardQueryInput): Promise<Buffer> {
  const data = await dashboard(actor, q);
  const filterLabels = [
    ...(q.hospitalLevel ? [`${t('zh', 'dashboard.filters.hospitalLevel')}：${t('zh', 'dashboard.filters.level', { level: q.hospitalLevel })}`] : []),
    ...(q.drugId ? [`${t('zh', 'dashboard.filters.drug')}：${q.drugId}`] : []),
    ...(q.distributorId ? [`${t('zh', 'dashboard.filters.distributor')}：${q.distributorId}`] : []),
  ];
  return renderDocument(DashboardReportDocument, { data, at: now().toISOString(), filterLabels }, 'zh');
}
