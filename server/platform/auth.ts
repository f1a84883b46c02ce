import { createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { jwtVerify, SignJWT } from 'jose';
import { systemClock, type Clock } from './clock';
import type { Config } from './config';
import { ForbiddenError, UnauthenticatedError } from './errors';
import type { OrgType, Role } from './schemas';
import { msg } from './messages';

/** The signed-in user as every route, socket handler and service sees it. */
export interface Actor {
  id: string;
  sessionId: string;
  email: string;
  name: string;
  role: Role;
  orgId: string;
  orgType: OrgType;
  orgName: string;
  hospitalLevel?: number;
  /** The language the user last chose (error texts and live messages are rendered in it). */
  lang?: 'zh' | 'en';
}

/** Resolves a verified session id to the signed-in user (the identity module implements it). */
export type SessionResolver = (sessionId: string) => Promise<Actor | null>;

export const SESSION_COOKIE = 'gpo_session';
export const CSRF_SEED_COOKIE = 'gpo_csrf';
const ISSUER = 'gpo-marketplace';
const AUDIENCE = 'gpo-api';

function scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** Hashes a password with scrypt; the parameters travel with the hash so they can be raised later. */
export async function hashPassword(password: string, cost: number = 1 << 15): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, 32, { N: cost, r: 8, p: 1, maxmem: 256 * 1024 * 1024 });
  return `scrypt$${cost}$8$1$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, saltB64, keyB64] = stored.split('$');
  if (scheme !== 'scrypt' || !saltB64 || !keyB64) return false;
  const expected = Buffer.from(keyB64, 'base64');
  const key = await scrypt(password, Buffer.from(saltB64, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 256 * 1024 * 1024,
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Signs a session token (HS256, issuer, audience, expiry). The same token is the API bearer and the page cookie. */
export async function signSessionToken(config: Pick<Config, 'jwtSecret'>, claims: { userId: string; sessionId: string; issuedAt: Date; expiresAt: Date }): Promise<string> {
  return new SignJWT({ sid: claims.sessionId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(Math.floor(claims.issuedAt.getTime() / 1000))
    .setExpirationTime(Math.floor(claims.expiresAt.getTime() / 1000))
    .sign(new TextEncoder().encode(config.jwtSecret));
}

/** Verifies signature (HS256 only), issuer, audience and expiry at `at` (the business clock); returns the session id or null. */
export async function verifySessionToken(config: Pick<Config, 'jwtSecret'>, token: string, at: Date): Promise<{ userId: string; sessionId: string } | null> {
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(config.jwtSecret), {
      algorithms: ['HS256'],
      currentDate: at,
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') return null;
    return { userId: payload.sub, sessionId: payload.sid };
  } catch {
    return null;
  }
}

/** Reads a cookie from a raw Cookie header (the socket handshake has no cookie-parser). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const idx = part.indexOf('=');
    if (idx < 0) continue;
    if (part.slice(0, idx).trim() === name) return decodeURIComponent(part.slice(idx + 1).trim());
  }
  return undefined;
}

/** Where a request's credentials came from: CSRF applies only to cookies. */
export type CredentialSource = 'bearer' | 'cookie' | null;

export function extractToken(authorization: string | undefined, cookieHeader: string | undefined): { token: string; source: CredentialSource } | null {
  if (authorization) {
    const m = /^Bearer\s+([A-Za-z0-9._-]+)$/.exec(authorization);
    return m ? { token: m[1]!, source: 'bearer' } : { token: '', source: 'bearer' };
  }
  const cookie = readCookie(cookieHeader, SESSION_COOKIE);
  return cookie ? { token: cookie, source: 'cookie' } : null;
}

/** Resolves a raw credential to an actor: verifies the token, then the live session. */
export async function authenticate(config: Pick<Config, 'jwtSecret'>, resolve: SessionResolver, token: string, at: Date): Promise<Actor | null> {
  if (!token) return null;
  const claims = await verifySessionToken(config, token, at);
  if (!claims) return null;
  const actor = await resolve(claims.sessionId);
  return actor && actor.id === claims.userId ? actor : null;
}

/** The CSRF token for a visitor: an HMAC of the visitor's random seed cookie. */
export function csrfTokenFor(secret: string, seed: string): string {
  return createHmac('sha256', secret).update(`csrf:${seed}`).digest('base64url');
}

export function csrfMatches(secret: string, seed: string | undefined, provided: unknown): boolean {
  if (!seed || typeof provided !== 'string' || provided.length === 0) return false;
  const expected = Buffer.from(csrfTokenFor(secret, seed));
  const given = Buffer.from(provided);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

declare module 'express-serve-static-core' {
  interface Request {
    actor?: Actor;
    credentialSource?: CredentialSource;
    csrfToken?: string;
  }
}

/**
 * Attaches `req.actor` when the request carries a valid bearer token or session cookie, issues the
 * CSRF seed cookie, and enforces CSRF on unsafe cookie-authenticated or form requests.
 */
export function authMiddleware(config: Config, resolve: SessionResolver, clock: Clock = systemClock): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    let seed = readCookie(req.headers.cookie, CSRF_SEED_COOKIE);
    if (!seed || !/^[A-Za-z0-9_-]{16,64}$/.test(seed)) {
      seed = randomBytes(18).toString('base64url');
      res.cookie(CSRF_SEED_COOKIE, seed, { httpOnly: true, sameSite: 'lax', secure: config.cookieSecure, path: '/' });
    }
    req.csrfToken = csrfTokenFor(config.jwtSecret, seed);
    const credential = extractToken(req.headers.authorization, req.headers.cookie);
    if (credential) {
      req.credentialSource = credential.source;
      if (credential.source === 'bearer' && !credential.token) {
        next(new UnauthenticatedError({ code: 'INVALID_TOKEN', message: msg('errorCodes.INVALID_TOKEN') }));
        return;
      }
      const actor = await authenticate(config, resolve, credential.token, clock.now());
      if (actor) req.actor = actor;
      else if (credential.source === 'bearer') {
        next(new UnauthenticatedError({ code: 'INVALID_TOKEN', message: msg('errorCodes.INVALID_TOKEN_2') }));
        return;
      }
    }
    const unsafe = !['GET', 'HEAD', 'OPTIONS'].includes(req.method);
    const formPost = req.is('application/x-www-form-urlencoded') || req.is('multipart/form-data');
    if (unsafe && (credential?.source === 'cookie' || formPost) && credential?.source !== 'bearer') {
      const provided = req.get('x-csrf-token') ?? (req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>)._csrf : undefined);
      if (!csrfMatches(config.jwtSecret, seed, provided)) {
        next(new ForbiddenError({ code: 'CSRF_FAILED', message: msg('errorCodes.CSRF_FAILED') }));
        return;
      }
    }
    next();
  };
}

/** Throws unless the actor is signed in and has one of the roles. */
export function assertRole(actor: Actor | undefined, roles: readonly Role[] | 'any'): asserts actor is Actor {
  if (!actor) throw new UnauthenticatedError();
  if (roles !== 'any' && !roles.includes(actor.role)) {
    throw new ForbiddenError({ code: 'ROLE_REQUIRED', message: msg('errorCodes.ROLE_REQUIRED_3', { roles: { list: roles.map(String) } }), details: [{ roles }] });
  }
}
