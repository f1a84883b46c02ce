import type { Request, Router } from 'express';
import { assertRole } from '../../platform/auth';
import { now } from '../../platform/context';
import { t, type Lang } from '../../platform/i18n';
import { businessDay } from '../../platform/time';
import { parse } from '../../platform/validate';
import { drugChoice } from '../catalogue';
import { getOrganisation } from '../identity';
import { CHART_IDS, chartOptions } from './dashboard.charts';
import { dashboardReportPdf } from './dashboard.pdf';
import { DashboardQuery, type DashboardQueryInput } from './dashboard.schemas';
import { dashboard } from './dashboard.service';

/** The query without empty values and the language switch (forms send empty fields). */
function cleanQuery(query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([k, v]) => v !== '' && k !== 'lang'));
}

function queryOf(req: Request): DashboardQueryInput {
  return parse(DashboardQuery, cleanQuery(req.query as Record<string, unknown>), 'query');
}

/** Period presets as [key, from, to] business days, ending today (Asia/Shanghai). */
function presets(today: string): [string, string, string][] {
  const [y, m] = [Number(today.slice(0, 4)), Number(today.slice(5, 7))];
  const monthsBack = (n: number) => {
    const k = y * 12 + (m - 1) - n;
    return `${Math.floor(k / 12)}-${String((k % 12) + 1).padStart(2, '0')}-01`;
  };
  return [
    ['thisMonth', monthsBack(0), today],
    ['last3', monthsBack(2), today],
    ['last12', monthsBack(11), today],
    ['thisYear', `${y}-01-01`, today],
  ];
}

export function dashboardPages(router: Router): void {
  router.get('/dashboard', async (req, res) => {
    assertRole(req.actor, ['operator']);
    const lang = res.locals.lang as Lang;
    const q = queryOf(req);
    // NOTE: the drug and distributor filters are type-ahead pickers; only the chosen ones are loaded.
    const [data, drug, distributor] = await Promise.all([dashboard(req.actor, q), drugChoice(q.drugId), q.distributorId ? getOrganisation(q.distributorId) : null]);
    const keep = new URLSearchParams(Object.entries({ hospitalLevel: q.hospitalLevel, drugId: q.drugId, distributorId: q.distributorId }).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]));
    const href = (from: string, to: string) => `/dashboard?${new URLSearchParams({ from, to, ...Object.fromEntries(keep) }).toString()}`;
    const pdfQuery = new URLSearchParams({ from: data.from, to: data.to, ...Object.fromEntries(keep) }).toString();
    res.render('dashboard/index', {
      title: t(lang, 'dashboard.title'),
      data,
      charts: chartOptions(data, lang),
      chartIds: CHART_IDS,
      pdfHref: `/dashboard/report.pdf?${pdfQuery}`,
      presets: presets(businessDay(now())).map(([key, from, to]) => ({ label: t(lang, `dashboard.filters.${key}`), href: href(from, to), active: from === data.from && to === data.to })),
      levels: [1, 2, 3].map((level) => ({ level, label: t(lang, 'dashboard.filters.level', { level }), selected: q.hospitalLevel === level })),
      drug,
      distributor: distributor ? { id: String(distributor._id), label: distributor.name } : null,
      totalReference: data.savings.total.referenceTotalFen,
    });
  });

  router.get('/dashboard/report.pdf', async (req, res) => {
    assertRole(req.actor, ['operator']);
    const pdf = await dashboardReportPdf(req.actor, queryOf(req));
    res.set('Content-Type', 'application/pdf');
    res.set('Content-Disposition', `inline; filename="dashboard-${businessDay(now())}.pdf"`);
    res.send(pdf);
  });
}
