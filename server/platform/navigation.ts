export type Role = 'operator' | 'pharmacist' | 'hospital_finance' | 'distributor' | 'bank_officer';

export interface NavItem {
  href: string;
  labelKey: string;
  active: boolean;
}

type NavEntry = readonly [href: string, labelKey: string];

const HOME: NavEntry = ['/', 'nav.home'];

// NOTE: some targets are built by later modules; the nav lists the whole product per role.
const NAV_BY_ROLE: Readonly<Record<Role, readonly NavEntry[]>> = {
  operator: [
    HOME,
    ['/dashboard', 'nav.dashboard'],
    ['/catalogue', 'nav.catalogue'],
    ['/rounds', 'nav.rounds'],
    ['/vbp', 'nav.vbp'],
    ['/orders', 'nav.orders'],
    ['/credit', 'nav.credit'],
    ['/finance', 'nav.finance'],
    ['/admin/organisations', 'nav.organisations'],
    ['/admin/audit', 'nav.audit'],
    ['/api/docs', 'nav.api'],
  ],
  pharmacist: [HOME, ['/listings', 'nav.listings'], ['/orders', 'nav.orders'], ['/vbp', 'nav.vbp'], ['/notifications', 'nav.notifications']],
  hospital_finance: [HOME, ['/finance/invoices', 'nav.invoices'], ['/finance/lines', 'nav.lines'], ['/finance/account', 'nav.account']],
  distributor: [HOME, ['/rounds', 'nav.quotes'], ['/vbp', 'nav.vbp'], ['/orders', 'nav.orders'], ['/credit/mine', 'nav.creditMine'], ['/finance/invoices', 'nav.invoices']],
  bank_officer: [HOME, ['/finance/lines', 'nav.lines'], ['/finance/hospitals', 'nav.hospitals']],
};

function covers(href: string, path: string): boolean {
  if (href === '/') return path === '/';
  return path === href || path.startsWith(`${href}/`);
}

/** The navigation for a role; the entry whose path is the longest prefix of `currentPath` is active. */
export function navigationFor(role: string | undefined, currentPath: string): NavItem[] {
  const entries = role && Object.hasOwn(NAV_BY_ROLE, role) ? NAV_BY_ROLE[role as Role] : [HOME];
  const path = (currentPath || '/').split(/[?#]/, 1)[0] || '/';
  let activeHref: string | undefined;
  for (const [href] of entries) {
    if (covers(href, path) && (activeHref === undefined || href.length > activeHref.length)) activeHref = href;
  }
  return entries.map(([href, labelKey]) => ({ href, labelKey, active: href === activeHref }));
}
