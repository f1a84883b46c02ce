import { msg, renderMessage, type Message } from './messages';
import { currentContext } from './request-context';

/**
 * Options every application error accepts. `message` is a catalogue key with parameters (under
 * `errorCodes.` by convention): the reply renders it in the reader's language, so no error carries a
 * sentence of its own. Without one, the error's default message for its class is used.
 */
export interface AppErrorOptions {
  code?: string;
  message?: Message;
  details?: unknown[];
  cause?: unknown;
}

/** Base of the one error hierarchy: a status, an UPPER_SNAKE code, a message key, details. */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown[];
  /** What a person reads, as a catalogue key with parameters. */
  readonly text: Message;

  constructor(status: number, defaultCode: string, options: AppErrorOptions = {}) {
    const text = options.message ?? msg(`errorCodes.${defaultCode}`);
    // NOTE: Error.message (logs, stack traces) is the English rendering; replies render `text` per reader.
    super(renderMessage('en', text), { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = options.code ?? defaultCode;
    this.details = options.details ?? [];
    this.text = text;
  }
}

export class ValidationError extends AppError {
  constructor(options: AppErrorOptions = {}) {
    super(400, 'VALIDATION_FAILED', options);
  }
}

export class UnauthenticatedError extends AppError {
  constructor(options: AppErrorOptions = {}) {
    super(401, 'UNAUTHENTICATED', options);
  }
}

export class ForbiddenError extends AppError {
  constructor(options: AppErrorOptions = {}) {
    super(403, 'FORBIDDEN', options);
  }
}

export class NotFoundError extends AppError {
  constructor(options: AppErrorOptions = {}) {
    super(404, 'NOT_FOUND', options);
  }
}

export class ConflictError extends AppError {
  constructor(options: AppErrorOptions = {}) {
    super(409, 'CONFLICT', options);
  }
}

/** A well-formed request that breaks a business rule (price above reference, line exhausted …). */
export class RuleViolationError extends AppError {
  constructor(options: AppErrorOptions = {}) {
    super(422, 'RULE_VIOLATION', options);
  }
}

export class RateLimitedError extends AppError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number, options: AppErrorOptions = {}) {
    super(429, 'RATE_LIMITED', options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A dependency the request needs (the database) is down; the client may retry shortly. */
export class UnavailableError extends AppError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number, options: AppErrorOptions = {}) {
    super(503, 'UNAVAILABLE', options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A refusal from a pure rule function, in the shape the rule modules return. */
export interface Refusal {
  code: string;
  message: Message;
  details?: unknown;
}

/** Turns a pure rule refusal into the error the HTTP/socket layers report. */
export function refusalToError(refusal: Refusal): RuleViolationError {
  return new RuleViolationError({
    code: refusal.code,
    message: refusal.message,
    details: refusal.details === undefined ? [] : [refusal.details],
  });
}

/** Several problems as one message: the first, then how many more there are. */
export function problemsMessage(messages: readonly Message[]): Message {
  const first = messages[0] ?? msg('errorCodes.VALIDATION_FAILED');
  return messages.length <= 1 ? first : msg('errorCodes.MORE_PROBLEMS', { first: { msg: first.key, params: first.params }, count: messages.length - 1 });
}

function isMessage(value: unknown): value is Message {
  return typeof value === 'object' && value !== null && typeof (value as Message).key === 'string' && Object.keys(value).every((k) => k === 'key' || k === 'params');
}

/** Details with every message in them (a problem's `message`) rendered in `lang`; other values unchanged. */
export function renderDetails(details: readonly unknown[], lang: 'zh' | 'en'): unknown[] {
  return details.map((d) => {
    if (!d || typeof d !== 'object' || Array.isArray(d)) return d;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(d)) out[k] = isMessage(v) ? renderMessage(lang, v) : v;
    return out;
  });
}

/** The error's text in the reader's language (by default the language of the page being served). */
export function errorText(err: AppError, lang: 'zh' | 'en' = currentContext()?.lang ?? 'zh'): string {
  return renderMessage(lang, err.text);
}

/** The error's details with their messages in the reader's language (for form field errors). */
export function pageDetails(err: AppError, lang: 'zh' | 'en' = currentContext()?.lang ?? 'zh'): unknown[] {
  return renderDetails(err.details, lang);
}
