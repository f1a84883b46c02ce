import type { ApiRouter } from '../../platform/http';
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
}
