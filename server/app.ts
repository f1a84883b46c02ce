import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import cookieParser from 'cookie-parser';
import express, { type Express, type Response } from 'express';
import helmet from 'helmet';
import swaggerUi from 'swagger-ui-express';
import { authMiddleware, type SessionResolver } from './platform/auth';
import { setPlatform, type Platform } from './platform/context';
import { errorMiddleware } from './platform/error-handler';
import { forwardingCounts } from './platform/forwarding';
import { NotFoundError, UnavailableError } from './platform/errors';
import { ApiRouter, openApiDocument } from './platform/http';
import { LANG_COOKIE, resolveLang } from './platform/i18n';
import { INSTANCE } from './platform/instance';
import { pingMongo } from './platform/mongo';
import { currentRequestId, runWithContext } from './platform/request-context';
import { cleanTextMiddleware } from './platform/validate';
import { setupViews } from './platform/views';
import { featureModules } from './modules/registry';
import { unreadCount } from './modules/notifications';
import { rememberLanguage } from './modules/identity';
import { msg } from './platform/messages';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

export interface AppDeps extends Platform {
  resolveSession: SessionResolver;
}

/** Builds the Express app without listening (the composition root for HTTP). */
export function createApp(deps: AppDeps): { app: Express; openapi: OpenAPIRegistry } {
  setPlatform(deps);
  const { config, logger } = deps;
  const app = express();
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && /^[A-Za-z0-9_-]{8,80}$/.test(incoming) ? incoming : undefined;
    runWithContext({ requestId }, () => {
      res.set('x-request-id', currentRequestId() ?? '');
      next();
    });
  });
  // NOTE: scripts come from /static only; an inline <script> must carry this response's nonce, and
  // inline event handlers (onclick=…) never run (script-src-attr 'none').
  app.use((_req, res, next) => {
    res.locals.cspNonce = randomBytes(16).toString('hex');
    next();
  });
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          // NOTE: 'wasm-unsafe-eval' lets the camera scanner compile its WebAssembly decoder (served
          // from /static); it allows no JavaScript eval.
          scriptSrc: ["'self'", "'wasm-unsafe-eval'", (_req, res) => `'nonce-${(res as Response).locals.cspNonce as string}'`],
          scriptSrcAttr: ["'none'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'", 'ws:', 'wss:'],
          upgradeInsecureRequests: null,
        },
      },
      hsts: config.publicUrl.startsWith('https://'),
    }),
  );
  // NOTE: browsers ask for /favicon.ico on every page whatever the <link> says; both get the SVG icon.
  const favicon = path.join(ROOT, 'client/assets/favicon.svg');
  app.get(['/favicon.ico', '/favicon.svg'], (_req, res) => {
    res.type('image/svg+xml').set('Cache-Control', 'public, max-age=86400').sendFile(favicon);
  });
  app.use('/static', express.static(path.join(ROOT, 'public/build'), { maxAge: config.env === 'production' ? '1h' : 0 }));

  app.get('/healthz', (_req, res) => {
    // NOTE: the instance names this process in the round-owner leases; the counts say how much work
    // it handed to other processes and did for them.
    res.json({ status: 'ok', instance: INSTANCE, forwarded: forwardingCounts() });
  });
  app.get('/readyz', async (_req, res) => {
    // NOTE: while the driver knows the database is down, say so at once instead of waiting on a ping.
    const [mongo, redis] = await Promise.all([deps.db.up ? pingMongo(1000) : Promise.resolve(false), deps.queues.ping()]);
    res.status(mongo && redis ? 200 : 503).json({ status: mongo && redis ? 'ready' : 'not_ready', mongo, redis });
  });
  app.use((req, _res, next) => {
    // NOTE: fail fast while the database is down, rather than hold every request for the driver's
    // server-selection timeout; the driver finds the database again within a heartbeat.
    if (!deps.db.up) next(new UnavailableError(2, { code: 'DATABASE_UNAVAILABLE', message: msg('errorCodes.DATABASE_UNAVAILABLE') }));
    else next();
  });

  app.use(express.json({ limit: config.bodyLimit, strict: true }));
  app.use(express.urlencoded({ extended: false, limit: config.bodyLimit, parameterLimit: 200 }));
  app.use(cleanTextMiddleware());
  app.use(cookieParser());
  app.use(authMiddleware(config, deps.resolveSession, deps.clock));
  app.use(async (req, res, next) => {
    const lang = resolveLang(req);
    const a = req.actor;
    if (req.query.lang === 'zh' || req.query.lang === 'en') {
      res.cookie(LANG_COOKIE, lang, { sameSite: 'lax', path: '/', maxAge: 365 * 86_400_000 });
      if (a) await rememberLanguage(a.id, lang);
    }
    res.locals.lang = lang;
    res.locals.csrfToken = req.csrfToken;
    res.locals.currentPath = req.path;
    res.locals.user = a ? { id: a.id, name: a.name, email: a.email, role: a.role, orgId: a.orgId, orgName: a.orgName, orgType: a.orgType } : undefined;
    res.locals.requestId = res.get('x-request-id');
    if (a && req.method === 'GET' && !req.path.startsWith('/api/')) {
      const { unread, unreadCapped } = await unreadCount(a.id);
      res.locals.unreadCount = unread;
      res.locals.unreadCapped = unreadCapped;
    }
    if (a) runWithContext({ requestId: res.get('x-request-id') || undefined, userId: a.id, orgId: a.orgId, lang }, next);
    else next();
  });

  // NOTE: templates are compiled once, except in development where an edited template shows at once.
  setupViews(app, { templatesDir: path.join(ROOT, 'templates'), cache: config.env !== 'development' });

  const openapi = new OpenAPIRegistry();
  const api = new ApiRouter(openapi);
  const pages = express.Router();
  for (const m of featureModules) {
    m.api?.(api);
    m.pages?.(pages);
  }
  const document = openApiDocument(openapi, `${config.publicUrl}`);
  app.get('/api/v1/openapi.json', (_req, res) => {
    res.json(document);
  });
  app.use('/api/docs', swaggerUi.serve, swaggerUi.setup(document, { customSiteTitle: 'GPO marketplace API' }));
  app.use('/api/v1', api.router);
  app.use('/api', (req, _res, next) => next(new NotFoundError({ code: 'ROUTE_NOT_FOUND', message: msg('errorCodes.ROUTE_NOT_FOUND', { method: req.method, path: req.baseUrl + req.path }) })));
  app.use(pages);
  app.use((req, _res, next) => next(new NotFoundError({ message: msg('errorCodes.PAGE_NOT_FOUND') })));
  app.use(errorMiddleware(logger));
  return { app, openapi };
}
