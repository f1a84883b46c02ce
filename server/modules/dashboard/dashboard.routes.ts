import { downloadRoute, XLSX_CONTENT_TYPE, type ApiRouter } from '../../platform/http';
import { dashboardXlsx } from './dashboard.exports';
import { DashboardQuery, DashboardView } from './dashboard.schemas';
import { dashboard } from './dashboard.service';

export function dashboardRoutes(api: ApiRouter): void {
  api.route(
    {
      method: 'get',
      path: '/dashboard',
      summary: "The bureau's dashboard over a period: savings against reference prices, payment timeliness, supply and credit (operator only)",
      tags: ['dashboard'],
      auth: ['operator'],
      query: DashboardQuery,
      response: DashboardView,
    },
    ({ actor, query }) => dashboard(actor, query),
  );
  downloadRoute(
    api,
    { path: '/dashboard/export.xlsx', summary: "The dashboard's tables as Excel, one sheet per table, for the same filters (operator only)", tags: ['dashboard'], auth: ['operator'], query: DashboardQuery, contentType: XLSX_CONTENT_TYPE },
    ({ actor, query, lang }) => dashboardXlsx(actor, query, lang),
  );
}
