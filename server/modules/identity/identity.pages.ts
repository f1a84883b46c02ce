import type { Request, Response, Router } from 'express';
import { assertRole, readCookie, SESSION_COOKIE } from '../../platform/auth';
import { platform } from '../../platform/context';
import { AppError, errorText, pageDetails, RateLimitedError } from '../../platform/errors';
import { t } from '../../platform/i18n';
import { renderMessage } from '../../platform/messages';
import { issueMessage } from '../../platform/validation-messages';
import { navigationFor } from '../../platform/navigation';
import { isCursor, isKeyCursor } from '../../platform/pagination';
import { OrgTypes, ROLES_BY_ORG_TYPE, Roles, z } from '../../platform/schemas';
import { CreateOrganisationBody, CreateUserBody } from './identity.schemas';
import { createOrganisation, createUser, DEVICE_COOKIE, getOrganisation, listOrganisations, listUsers, login, logout } from './identity.service';
import { setDeviceCookie, setSessionCookie } from './identity.routes';
import { demoLogins } from '../demo';

/** Demo logins shown on the login page in demo mode (filled in by the demo-data module). */

/** Only same-site relative paths are followed after login (no open redirects). */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?!\/)[\w\-./?=&%]*$/.test(next) && !next.startsWith('/login') ? next : '/';
}

/** The operator's lists: each pages on its own cursor and has its own search. */
const AdminListQuery = z.object({
  orgQ: z.string().trim().max(100).optional(),
  orgType: z.enum(OrgTypes).optional(),
  orgCursor: z.string().regex(/^[A-Za-z0-9_-]{1,800}$/).refine(isKeyCursor).optional(),
  userQ: z.string().trim().max(100).optional(),
  userCursor: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/).refine(isCursor).optional(),
  flash: z.string().optional(),
  lang: z.string().optional(),
});

const LoginForm = z.object({ email: z.string().trim().toLowerCase().email().max(200), password: z.string().min(1).max(200), next: z.string().max(500).optional(), _csrf: z.string().optional() });

function renderLogin(res: Response, data: { error?: string; email?: string; next?: string }, status = 200): void {
  res.status(status).render('login', { title: 'login', layout: 'bare', ...data, demoLogins: platform().config.demoMode ? demoLogins() : undefined });
}

function fieldErrors(err: unknown, lang: 'zh' | 'en'): Record<string, string> {
  if (err instanceof AppError) {
    const out: Record<string, string> = {};
    for (const d of pageDetails(err) as { path?: string; message?: string }[]) if (d?.path) out[d.path] = d.message ?? errorText(err);
    if (Object.keys(out).length === 0) out._form = errorText(err);
    return out;
  }
  return { _form: t(lang, 'errors.generic') };
}

async function renderAdmin(req: Request, res: Response, extra: { errors?: Record<string, string>; values?: Record<string, string>; flash?: string } = {}, status = 200) {
  const lang = res.locals.lang as 'zh' | 'en';
  const q = req.method === 'GET' ? AdminListQuery.safeParse(Object.fromEntries(Object.entries(req.query).filter(([, v]) => v !== ''))) : undefined;
  const filters = q?.success ? q.data : {};
  const [organisations, users] = await Promise.all([
    listOrganisations({ q: filters.orgQ, type: filters.orgType, cursor: filters.orgCursor }),
    listUsers({ q: filters.userQ, cursor: filters.userCursor }),
  ]);
  const chosenOrgId = extra.values?.orgId;
  const chosenOrg = chosenOrgId ? await getOrganisation(chosenOrgId) : null;
  res.status(status).render('admin/organisations', {
    title: 'admin.organisations',
    organisations: organisations.data,
    orgNextCursor: organisations.nextCursor,
    users: users.data,
    userNextCursor: users.nextCursor,
    filters,
    // NOTE: a link whose search or cursor is not valid (hand-edited, or a cursor from an older list) shows the first page, and says so.
    invalidLink: q?.success === false,
    listQuery: { orgQ: filters.orgQ, orgType: filters.orgType, userQ: filters.userQ },
    chosenOrg: chosenOrg ? { id: String(chosenOrg._id), label: chosenOrg.name, type: chosenOrg.type } : null,
    orgTypeFilterOptions: OrgTypes.map((o) => ({ value: o, label: t(lang, `orgTypes.${o}`), selected: o === filters.orgType })),
    roleOptions: Roles.map((r) => ({ value: r, label: t(lang, `roles.${r}`) })),
    orgTypeOptions: OrgTypes.map((o) => ({ value: o, label: t(lang, `orgTypes.${o}`) })),
    rolesByOrgType: ROLES_BY_ORG_TYPE,
    ...extra,
  });
}

export function identityPages(router: Router): void {
  router.get('/login', (req, res) => {
    if (req.actor) {
      res.redirect(303, safeNext(req.query.next));
      return;
    }
    renderLogin(res, { next: typeof req.query.next === 'string' ? req.query.next : undefined });
  });

  router.post('/login', async (req, res) => {
    const lang = res.locals.lang as 'zh' | 'en';
    const form = LoginForm.safeParse(req.body);
    if (!form.success) {
      renderLogin(res, { error: t(lang, 'login.invalid'), email: typeof req.body?.email === 'string' ? req.body.email : undefined }, 400);
      return;
    }
    try {
      const session = await login(form.data.email, form.data.password, { ip: req.ip, userAgent: req.get('user-agent'), deviceToken: readCookie(req.headers.cookie, DEVICE_COOKIE) });
      setSessionCookie(res, session.token, session.expiresAt);
      setDeviceCookie(res, session.deviceToken);
      res.redirect(303, safeNext(form.data.next));
    } catch (err) {
      if (err instanceof AppError && (err.status === 401 || err.status === 429)) {
        const error = err instanceof RateLimitedError ? t(lang, 'login.throttled', { seconds: err.retryAfterSeconds }) : t(lang, 'login.failed');
        renderLogin(res, { error, email: form.data.email, next: form.data.next }, err.status);
        return;
      }
      throw err;
    }
  });

  router.post('/logout', async (req, res) => {
    if (req.actor) await logout(req.actor);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.redirect(303, '/login');
  });

  router.get('/', (req, res) => {
    if (!req.actor) {
      res.redirect(303, '/login');
      return;
    }
    const lang = res.locals.lang as 'zh' | 'en';
    const cards = navigationFor(req.actor.role, '/')
      .filter((n) => n.href !== '/')
      .map((n) => ({ title: t(lang, n.labelKey), href: n.href, description: t(lang, `${n.labelKey}Description`) }));
    res.render('home', { title: 'nav.home', cards });
  });

  router.get('/admin/organisations', async (req, res) => {
    assertRole(req.actor, ['operator']);
    await renderAdmin(req, res, { flash: typeof req.query.flash === 'string' ? t(res.locals.lang, `admin.${req.query.flash}`) : undefined });
  });

  router.post('/admin/organisations', async (req, res) => {
    assertRole(req.actor, ['operator']);
    const { _csrf, ...fields } = (req.body ?? {}) as Record<string, string>;
    void _csrf;
    const cleaned = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== ''));
    const parsed = CreateOrganisationBody.safeParse(cleaned);
    if (!parsed.success) {
      const errors = Object.fromEntries(parsed.error.issues.map((i) => [i.path.join('.') || '_form', renderMessage(res.locals.lang, issueMessage(i))]));
      await renderAdmin(req, res, { errors, values: fields }, 400);
      return;
    }
    try {
      const created = await createOrganisation(req.actor, parsed.data);
      // NOTE: the list pages by name, so the new organisation is shown by searching for it.
      res.redirect(303, `/admin/organisations?flash=orgCreated&orgQ=${encodeURIComponent(created.name)}`);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      await renderAdmin(req, res, { errors: { name: errorText(err) }, values: fields }, err.status);
    }
  });

  router.post('/admin/users', async (req, res) => {
    assertRole(req.actor, ['operator']);
    const { _csrf, orgIdText, ...fields } = (req.body ?? {}) as Record<string, string>;
    void _csrf;
    void orgIdText;
    const parsed = CreateUserBody.safeParse(fields);
    if (!parsed.success) {
      const errors = Object.fromEntries(parsed.error.issues.map((i) => [`user.${i.path.join('.') || '_form'}`, renderMessage(res.locals.lang, issueMessage(i))]));
      await renderAdmin(req, res, { errors, values: { ...fields, password: '' } }, 400);
      return;
    }
    try {
      await createUser(req.actor, parsed.data);
      res.redirect(303, '/admin/organisations?flash=userCreated');
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      const errors = Object.fromEntries(Object.entries(fieldErrors(err, res.locals.lang)).map(([k, v]) => [`user.${k}`, v]));
      await renderAdmin(req, res, { errors, values: { ...fields, password: '' } }, err.status);
    }
  });
}
