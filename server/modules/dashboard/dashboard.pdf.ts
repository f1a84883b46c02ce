// Loads the dashboard for the PDF report and renders it in the PDF worker pool, in Chinese.
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { t } from '../../platform/i18n';
import { Drug } from '../catalogue';
import { Organisation } from '../identity';
import { renderDocument } from '../../platform/pdf-pool';
import { DashboardReportDocument } from './dashboard.documents';
import type { DashboardQueryInput } from './dashboard.schemas';
import { dashboard } from './dashboard.service';

/** The dashboard report PDF (Chinese) for the same filters as the page. Operators only. */
export async function dashboardReportPdf(actor: Actor, q: DashboardQueryInput): Promise<Buffer> {
  const data = await dashboard(actor, q);
  const [drug, distributor] = await Promise.all([
    q.drugId ? Drug.findById(q.drugId, { genericNameZh: 1, specification: 1 }).lean<{ genericNameZh: string; specification: string }>() : null,
    q.distributorId ? Organisation.findById(q.distributorId, { name: 1 }).lean<{ name: string }>() : null,
  ]);
  const filterLabels = [
    ...(q.hospitalLevel ? [`${t('zh', 'dashboard.filters.hospitalLevel')}：${t('zh', 'dashboard.filters.level', { level: q.hospitalLevel })}`] : []),
    ...(q.drugId ? [`${t('zh', 'dashboard.filters.drug')}：${drug ? `${drug.genericNameZh} ${drug.specification}` : q.drugId}`] : []),
    ...(q.distributorId ? [`${t('zh', 'dashboard.filters.distributor')}：${distributor?.name ?? q.distributorId}`] : []),
  ];
  return renderDocument(DashboardReportDocument, { data, at: now().toISOString(), filterLabels }, 'zh');
}
