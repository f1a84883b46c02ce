/** The operator's dashboard: savings, payment timeliness, supply and credit over a period, as a page, JSON and a PDF report. */
import { defineModule } from '../../platform/module';
import { dashboardPages } from './dashboard.pages';
import { dashboardRoutes } from './dashboard.routes';

export { dashboard, dashboardPipelines, dashboardPeriod } from './dashboard.service';

export const dashboardModule = defineModule({ name: 'dashboard', api: dashboardRoutes, pages: dashboardPages });
