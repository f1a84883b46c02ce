import { OpenAPIRegistry, OpenApiGeneratorV3 } from '@asteasolutions/zod-to-openapi';
import { Router, type Request, type Response } from 'express';
import type { z } from 'zod';
import { assertRole, type Actor } from './auth';
import { DEFAULT_LANG, isLang, type Lang } from './i18n';
import { withIdempotency } from './idempotency';
import { withCommand } from './unit-of-work';
import type { Role } from './schemas';
import { ErrorResponse, z as zo } from './schemas';

const IdempotencyHeaders = zo.object({
  'idempotency-key': zo.string().min(8).max(128).optional().openapi({ description: 'Stripe-style idempotency key: the first reply is replayed for the same key' }),
});
import { parse } from './validate';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Everything about one API route: the schemas validate the request and describe it in OpenAPI. */
export interface RouteSpec<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType> {
  method: Method;
  /** Express path below /api/v1, e.g. '/organisations/:id' */
  path: string;
  summary: string;
  tags: string[];
  /** 'public' needs nothing; 'any' needs a signed-in user; a list needs one of the roles. */
  auth: 'public' | 'any' | readonly Role[];
  body?: B;
  query?: Q;
  params?: P;
  response?: z.ZodType;
  status?: number;
  /** Stripe-style Idempotency-Key handling for POSTs that create orders, quotes, bids or money movements. */
  idempotent?: boolean;
}

export interface RouteContext<B, Q, P> {
  req: Request;
  res: Response;
  actor: Actor;
  body: B;
  query: Q;
  params: P;
}

type Handler<B, Q, P> = (ctx: RouteContext<B, Q, P>) => Promise<unknown> | unknown;

/** A JSON API router that validates with zod, checks roles, and registers every route in OpenAPI. */
export class ApiRouter {
  readonly router = Router();
  readonly registry: OpenAPIRegistry;

  constructor(registry: OpenAPIRegistry) {
    this.registry = registry;
  }

  route<B extends z.ZodType = z.ZodType<undefined>, Q extends z.ZodType = z.ZodType<undefined>, P extends z.ZodType = z.ZodType<undefined>>(
    spec: RouteSpec<B, Q, P>,
    handler: Handler<z.output<B>, z.output<Q>, z.output<P>>,
  ): void {
    this.registry.registerPath({
      method: spec.method,
      path: `/api/v1${spec.path.replace(/:([A-Za-z]+)/g, '{$1}')}`,
      summary: spec.summary,
      tags: spec.tags,
      security: spec.auth === 'public' ? [] : [{ bearerAuth: [] }],
      request: {
        ...(spec.params ? { params: spec.params as never } : {}),
        ...(spec.query ? { query: spec.query as never } : {}),
        ...(spec.body ? { body: { content: { 'application/json': { schema: spec.body } } } } : {}),
        ...(spec.idempotent ? { headers: IdempotencyHeaders } : {}),
      },
      responses: {
        [spec.status ?? 200]: spec.response
          ? { description: 'OK', content: { 'application/json': { schema: spec.response } } }
          : { description: 'OK' },
        400: { description: 'Invalid request', content: { 'application/json': { schema: ErrorResponse } } },
        ...(spec.auth === 'public' ? {} : { 401: { description: 'Not signed in' }, 403: { description: 'Not allowed' } }),
      },
    });

    this.router[spec.method](spec.path, async (req: Request, res: Response) => {
      if (spec.auth !== 'public') assertRole(req.actor, spec.auth);
      const params = spec.params ? parse(spec.params, req.params, 'path') : undefined;
      const query = spec.query ? parse(spec.query, req.query, 'query') : undefined;
      if (spec.body && (req.body === undefined || req.body === null || typeof req.body !== 'object' || !req.is('application/json'))) {
        parse(spec.body, undefined, 'body');
      }
      const body = spec.body ? parse(spec.body, req.body, 'body') : undefined;
      const call = () => handler({ req, res, actor: req.actor as Actor, body, query, params } as RouteContext<z.output<B>, z.output<Q>, z.output<P>>);
      const reply = async (result: unknown) => ({ status: result === undefined ? 204 : (spec.status ?? 200), body: result });
      // NOTE: with an Idempotency-Key the whole handler is one unit of work (the services join it), so
      // the stored reply is exactly what the handler answers and commits with what it wrote.
      const keyed = spec.idempotent && req.get('idempotency-key') !== undefined;
      // The unit of work's transaction opens with the lookup of the key (one statement fewer).
      const result = keyed
        ? await withIdempotency(req, spec.status ?? 200, async () => reply(await withCommand(req.actor ?? null, () => Promise.resolve(call()))), { lookupInTransaction: true })
        : await reply(await call());
      if (result.status === 204) res.status(204).end();
      else res.status(result.status).json(result.body);
    });
  }
}

/** A download route: what it is called, who may fetch it and which query it reads. */
export interface DownloadSpec<Q extends z.ZodType, P extends z.ZodType> {
  /** Express path below /api/v1, e.g. '/orders/export.xlsx' */
  path: string;
  summary: string;
  tags: string[];
  auth: 'any' | readonly Role[];
  query?: Q;
  params?: P;
  contentType: string;
}

export const XLSX_CONTENT_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** A file the handler built, with the name the browser saves it under (ASCII). */
export interface DownloadFile {
  filename: string;
  body: Buffer;
}

/**
 * Registers a GET that answers a file (an export): the query is validated with the list's own schema
 * (the `lang` switch aside, which picks the language of the headers), and the file is sent as an
 * attachment; a refusal before the file is built answers JSON like any API error.
 */
export function downloadRoute<Q extends z.ZodType = z.ZodType<undefined>, P extends z.ZodType = z.ZodType<undefined>>(
  api: ApiRouter,
  spec: DownloadSpec<Q, P>,
  handler: (ctx: { req: Request; res: Response; actor: Actor; lang: Lang; query: z.output<Q>; params: z.output<P> }) => Promise<DownloadFile>,
): void {
  api.registry.registerPath({
    method: 'get',
    path: `/api/v1${spec.path.replace(/:([A-Za-z]+)/g, '{$1}')}`,
    summary: spec.summary,
    tags: spec.tags,
    security: [{ bearerAuth: [] }],
    request: { ...(spec.params ? { params: spec.params as never } : {}), ...(spec.query ? { query: spec.query as never } : {}) },
    responses: {
      200: { description: 'The file', content: { [spec.contentType]: { schema: { type: 'string', format: 'binary' } } } },
      400: { description: 'Invalid request', content: { 'application/json': { schema: ErrorResponse } } },
      401: { description: 'Not signed in' },
      403: { description: 'Not allowed' },
    },
  });
  api.router.get(spec.path, async (req: Request, res: Response) => {
    assertRole(req.actor, spec.auth);
    const raw = Object.fromEntries(Object.entries(req.query).filter(([k, v]) => k !== 'lang' && v !== ''));
    const params = spec.params ? parse(spec.params, req.params, 'path') : undefined;
    const query = spec.query ? parse(spec.query, raw, 'query') : undefined;
    const lang = isLang(res.locals.lang) ? res.locals.lang : DEFAULT_LANG;
    const file = await handler({ req, res, actor: req.actor as Actor, lang, query: query as z.output<Q>, params: params as z.output<P> });
    res.set('Content-Type', spec.contentType);
    res.set('Content-Disposition', `attachment; filename="${file.filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`);
    res.send(file.body);
  });
}

/** The OpenAPI 3 document generated from every registered route's schemas. */
export function openApiDocument(registry: OpenAPIRegistry, serverUrl: string): ReturnType<OpenApiGeneratorV3['generateDocument']> {
  registry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  const doc = new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: {
      title: 'Drug group-purchasing marketplace API',
      version: '1',
      description: 'Shortage-drug quotation rounds, volume-based procurement, credit, bank-guaranteed payment and delivery tracking. Amounts are integer fen (CNY cents).',
    },
    servers: [{ url: serverUrl }],
  });
  assertPortablePatterns(doc);
  return doc;
}

/**
 * Every `pattern` must be a flagless ECMA-262 regular expression, as OpenAPI clients compile it; a
 * schema regex with flags (the generator writes them as a trailing "/i") fails the start-up instead.
 */
function assertPortablePatterns(node: unknown, where = '#'): void {
  if (Array.isArray(node)) node.forEach((n, i) => assertPortablePatterns(n, `${where}/${i}`));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'pattern' && typeof v === 'string') {
        let ok = !/\/[dgimsuvy]+$/.test(v);
        try {
          new RegExp(v);
        } catch {
          ok = false;
        }
        if (!ok) throw new Error(`OpenAPI: the pattern at ${where} is not a flagless regular expression: ${v} (drop the regex flags in its zod schema)`);
      } else assertPortablePatterns(v, `${where}/${k}`);
    }
  }
}
