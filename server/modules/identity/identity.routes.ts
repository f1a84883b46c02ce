import type { Response } from 'express';
import { readCookie, SESSION_COOKIE } from '../../platform/auth';
import { platform } from '../../platform/context';
import type { ApiRouter } from '../../platform/http';
import { z } from '../../platform/schemas';
import { CreateOrganisationBody, CreateUserBody, LoginBody, LoginResponse, OrganisationView, OrgListQuery, OrgSearchHit, OrgSearchQuery, UserListQuery, UserView } from './identity.schemas';
import { createOrganisation, createUser, DEVICE_COOKIE, DEVICE_COOKIE_TTL_MS, listOrganisations, listUsers, login, logout, searchOrganisations } from './identity.service';
import { resolveLang } from '../../platform/i18n';

/** Sets the device cookie that lets this browser sign in to the account while others are throttled. */
export function setDeviceCookie(res: Response, token: string): void {
  res.cookie(DEVICE_COOKIE, token, { httpOnly: true, sameSite: 'lax', secure: platform().config.cookieSecure, maxAge: DEVICE_COOKIE_TTL_MS, path: '/' });
}

/** Sets the page session cookie: httpOnly, SameSite=Lax, Secure behind https. */
export function setSessionCookie(res: Response, token: string, expiresAt: Date): void {
  res.cookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'lax', secure: platform().config.cookieSecure, expires: expiresAt, path: '/' });
}

export function identityRoutes(api: ApiRouter): void {
  api.route(
    { method: 'post', path: '/auth/login', summary: 'Sign in with email and password; returns a bearer token and sets the session cookie', tags: ['auth'], auth: 'public', body: LoginBody, response: LoginResponse },
    async ({ req, res, body }) => {
      const session = await login(body.email, body.password, { ip: req.ip, userAgent: req.get('user-agent'), deviceToken: readCookie(req.headers.cookie, DEVICE_COOKIE) });
      setSessionCookie(res, session.token, session.expiresAt);
      setDeviceCookie(res, session.deviceToken);
      const a = session.actor;
      return { token: session.token, expiresAt: session.expiresAt.toISOString(), user: { id: a.id, name: a.name, email: a.email, role: a.role, orgId: a.orgId, orgName: a.orgName, orgType: a.orgType } };
    },
  );
  api.route({ method: 'post', path: '/auth/logout', summary: 'Sign out: revokes the session everywhere', tags: ['auth'], auth: 'any' }, async ({ actor, res }) => {
    await logout(actor);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    return undefined;
  });
  api.route(
    {
      method: 'get',
      path: '/me',
      summary: 'The signed-in user and organisation',
      tags: ['auth'],
      auth: 'any',
      response: z.object({ id: z.string(), name: z.string(), email: z.string(), role: z.string(), orgId: z.string(), orgName: z.string(), orgType: z.string(), hospitalLevel: z.number().optional() }),
    },
    ({ actor }) => ({ id: actor.id, name: actor.name, email: actor.email, role: actor.role, orgId: actor.orgId, orgName: actor.orgName, orgType: actor.orgType, hospitalLevel: actor.hospitalLevel }),
  );
  api.route(
    { method: 'get', path: '/organisations', summary: 'List organisations by name, a page at a time; q matches a name fragment, pinyin initials or full pinyin (operator)', tags: ['identity'], auth: ['operator'], query: OrgListQuery, response: z.object({ data: z.array(OrganisationView), nextCursor: z.string().nullable() }) },
    ({ query }) => listOrganisations(query),
  );
  api.route(
    {
      method: 'get',
      path: '/organisations/search',
      summary: 'Type-ahead search of organisations by name fragment, pinyin initials or full pinyin, among the types the caller may look up (operator: all; hospital: distributors and banks; distributor: hospitals)',
      tags: ['identity'],
      auth: 'any',
      query: OrgSearchQuery,
      response: z.object({ data: z.array(OrgSearchHit) }),
    },
    ({ actor, query, req }) => searchOrganisations(actor, query, resolveLang(req)),
  );
  api.route(
    { method: 'post', path: '/organisations', summary: 'Admit an organisation (operator)', tags: ['identity'], auth: ['operator'], body: CreateOrganisationBody, response: OrganisationView, status: 201 },
    ({ actor, body }) => createOrganisation(actor, body),
  );
  api.route(
    { method: 'get', path: '/users', summary: 'List users, newest first, a page at a time; q matches a name (fragment, pinyin initials or full pinyin) or an email fragment (operator)', tags: ['identity'], auth: ['operator'], query: UserListQuery, response: z.object({ data: z.array(UserView), nextCursor: z.string().nullable() }) },
    ({ query }) => listUsers(query),
  );
  api.route(
    { method: 'post', path: '/users', summary: 'Create a user in an organisation (operator)', tags: ['identity'], auth: ['operator'], body: CreateUserBody, response: UserView, status: 201 },
    ({ actor, body }) => createUser(actor, body),
  );
}
