import type { ErrorRequestHandler, Request } from 'express';
import { ZodError } from 'zod';
import { AppError, RateLimitedError, UnavailableError, renderDetails } from './errors';
import { issueDetail } from './validation-messages';
import { DEFAULT_LANG, isLang, resolveLang, type Lang } from './i18n';
import { msg, renderMessage, type Message } from './messages';
import type { Logger } from './logger';
import { currentRequestId } from './request-context';

export interface ErrorBody {
  error: { code: string; message: string; details: unknown[]; requestId?: string };
}

export interface HandledError {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
}

interface MaybeDriverError {
  name?: string;
  code?: number | string;
  type?: string;
  keyValue?: Record<string, unknown>;
  keyPattern?: Record<string, unknown>;
  errors?: Record<string, { path?: string; message?: string; kind?: string }>;
  path?: string;
  value?: unknown;
  status?: number;
  field?: string;
}

function fromKnown(err: unknown): { status: number; code: string; message: Message; details: unknown[]; headers?: Record<string, string> } | null {
  if (err instanceof AppError) {
    const headers = err instanceof RateLimitedError || err instanceof UnavailableError ? { 'Retry-After': String(err.retryAfterSeconds) } : undefined;
    return { status: err.status, code: err.code, message: err.text, details: err.details, headers };
  }
  if (err instanceof ZodError) {
    return {
      status: 400,
      code: 'VALIDATION_FAILED',
      message: msg('errorCodes.VALIDATION_FAILED'),
      details: err.issues.map((i) => issueDetail(i)),
    };
  }
  if (!err || typeof err !== 'object') return null;
  const e = err as MaybeDriverError;
  // NOTE: the driver's own words name hosts and topology; the client only needs to know to retry.
  if (e.name === 'MongoServerSelectionError' || e.name === 'MongoNetworkError' || e.name === 'MongoNotConnectedError' || e.name === 'MongoTopologyClosedError' || e.name === 'MongoNetworkTimeoutError') {
    return { status: 503, code: 'DATABASE_UNAVAILABLE', message: msg('errorCodes.DATABASE_UNAVAILABLE'), details: [], headers: { 'Retry-After': '2' } };
  }
  // NOTE: body-parser marks its errors with `type`; never echo its message (it can quote the body).
  if (e.type === 'entity.parse.failed') return { status: 400, code: 'MALFORMED_JSON', message: msg('errorCodes.MALFORMED_JSON'), details: [] };
  if (e.type === 'entity.too.large') return { status: 413, code: 'PAYLOAD_TOO_LARGE', message: msg('errorCodes.PAYLOAD_TOO_LARGE'), details: [] };
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') return { status: 415, code: 'UNSUPPORTED_ENCODING', message: msg('errorCodes.UNSUPPORTED_ENCODING'), details: [] };
  if (e.name === 'MulterError') {
    return { status: e.code === 'LIMIT_FILE_SIZE' ? 413 : 400, code: 'UPLOAD_REJECTED', message: msg('errorCodes.UPLOAD_REJECTED'), details: [{ reason: String(e.code), field: e.field }] };
  }
  if (e.code === 11000 || e.code === 11001) {
    return {
      status: 409,
      code: 'DUPLICATE',
      message: msg('errorCodes.DUPLICATE'),
      details: [{ fields: Object.keys(e.keyPattern ?? e.keyValue ?? {}) }],
    };
  }
  if (e.name === 'CastError') return { status: 400, code: 'INVALID_VALUE', message: msg('errorCodes.INVALID_VALUE', { path: e.path ?? '' }), details: [{ path: e.path }] };
  if (e.name === 'StrictModeError') return { status: 400, code: 'UNKNOWN_FIELD', message: msg('errorCodes.UNKNOWN_FIELD'), details: [{ path: e.path }] };
  if (e.name === 'VersionError') return { status: 409, code: 'STALE_WRITE', message: msg('errorCodes.STALE_WRITE'), details: [] };
  if (e.name === 'ValidationError' && e.errors) {
    return {
      status: 400,
      code: 'VALIDATION_FAILED',
      message: msg('errorCodes.VALIDATION_FAILED'),
      details: Object.values(e.errors).map((x) => ({ path: x.path, message: x.message, code: x.kind })),
    };
  }
  return null;
}

/**
 * The one place errors become replies: HTTP, socket acknowledgements, jobs and process events use it.
 * 5xx are logged as errors with the stack; 4xx as info. Internal messages never leave the server.
 * The message (and any message inside the details) is rendered in `lang`, the reader's language.
 */
export function handleError(err: unknown, logger: Logger, where: Record<string, unknown> = {}, lang: Lang = DEFAULT_LANG): HandledError {
  const known = fromKnown(err);
  const requestId = currentRequestId();
  if (known) {
    // NOTE: a duplicate key that reaches here was not expected by the command (each command turns the
    // duplicates it expects into its own refusal): the server's words name the index, kept in the log.
    if (known.code === 'DUPLICATE') logger.warn({ ...where, code: known.code, status: known.status, errmsg: (err as { errmsg?: string; message?: string }).errmsg ?? (err as Error).message }, 'duplicate key');
    else logger.info({ ...where, code: known.code, status: known.status }, 'request refused');
    const body = { error: { code: known.code, message: renderMessage(lang, known.message), details: renderDetails(known.details, lang), requestId } };
    return { status: known.status, headers: known.headers ?? {}, body };
  }
  logger.error({ ...where, err }, 'unexpected error');
  return { status: 500, headers: {}, body: { error: { code: 'INTERNAL', message: renderMessage(lang, msg('errorCodes.INTERNAL')), details: [], requestId } } };
}

/**
 * The language an error reply is written in: a page's chosen language (`?lang=`, the cookie), else
 * for the API the signed-in user's language, else Accept-Language (en → English), else Chinese.
 */
export function replyLang(req: Request, pageLang: unknown): Lang {
  if (isLang(pageLang) && !req.path.startsWith('/api/')) return pageLang;
  if (isLang(req.query?.lang)) return req.query.lang;
  if (req.actor?.lang) return req.actor.lang;
  return resolveLang({ headers: { 'accept-language': req.headers['accept-language'] } });
}

function wantsHtml(req: Request): boolean {
  if (req.path.startsWith('/api/')) return false;
  return req.accepts(['html', 'json']) === 'html';
}

/** Express error middleware: JSON for the API, the error page for HTML. */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const handled = handleError(err, logger, { method: req.method, path: req.path }, replyLang(req, res.locals.lang));
    res.status(handled.status).set(handled.headers);
    if (wantsHtml(req)) {
      if (handled.status === 401) {
        res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
        return;
      }
      res.render('error', { title: String(handled.status), status: handled.status, ...handled.body.error });
      return;
    }
    res.json(handled.body);
  };
}
