/** Options every application error accepts. */
export interface AppErrorOptions {
  code?: string;
  message?: string;
  details?: unknown[];
  cause?: unknown;
}

/** Base of the one error hierarchy: a status, an UPPER_SNAKE code, a safe message, details. */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown[];

  constructor(status: number, defaultCode: string, defaultMessage: string, options: AppErrorOptions = {}) {
    super(options.message ?? defaultMessage, { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = options.code ?? defaultCode;
    this.details = options.details ?? [];
  }
}

export class ValidationError extends AppError {
  constructor(options: AppErrorOptions = {}) {
    super(400, 'VALIDATION_FAILED', 'The request is not valid.', options);
  }
}

export class UnauthenticatedError extends AppError {
  constructor(options: AppErrorOptions = {}) {
    super(401, 'UNAUTHENTICATED', 'Sign in to continue.', options);
  }
}

export class ForbiddenError extends AppError {
  constructor(options: AppErrorOptions = {}) {
    super(403, 'FORBIDDEN', 'You are not allowed to do this.', options);
  }
}

export class NotFoundError extends AppError {
  constructor(options: AppErrorOptions = {}) {
    super(404, 'NOT_FOUND', 'Not found.', options);
  }
}

export class ConflictError extends AppError {
  constructor(options: AppErrorOptions = {}) {
    super(409, 'CONFLICT', 'The request conflicts with the current state.', options);
  }
}

/** A well-formed request that breaks a business rule (price above reference, line exhausted …). */
export class RuleViolationError extends AppError {
  constructor(options: AppErrorOptions = {}) {
    super(422, 'RULE_VIOLATION', 'The request breaks a business rule.', options);
  }
}

export class RateLimitedError extends AppError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number, options: AppErrorOptions = {}) {
    super(429, 'RATE_LIMITED', 'Too many requests; try again shortly.', options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A dependency the request needs (the database) is down; the client may retry shortly. */
export class UnavailableError extends AppError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number, options: AppErrorOptions = {}) {
    super(503, 'UNAVAILABLE', 'The service is temporarily unavailable; try again shortly.', options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A refusal from a pure rule function, in the shape the rule modules return. */
export interface Refusal {
  code: string;
  message: string;
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
