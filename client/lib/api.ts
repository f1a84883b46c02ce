/** The server's one error shape: `{ error: { code, message, details } }`. */
export interface ApiErrorBody {
  code: string;
  message: string;
  details: unknown[];
  requestId?: string;
}

/** A non-2xx reply (or a network failure, status 0) carrying the server's error body. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown[];
  readonly requestId?: string;

  constructor(status: number, body: ApiErrorBody) {
    super(body.message);
    this.name = 'ApiError';
    this.status = status;
    this.code = body.code;
    this.details = body.details;
    this.requestId = body.requestId;
  }
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ApiOptions {
  /** Replaces the generated Idempotency-Key (POST only), e.g. to retry the same submission. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export function csrfToken(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';
}

/** A random UUID; falls back to getRandomValues where randomUUID is missing (plain-HTTP origins). */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function errorBodyFrom(value: unknown, status: number): ApiErrorBody {
  const error = (value as { error?: Partial<ApiErrorBody> } | null)?.error;
  if (error && typeof error.code === 'string') {
    return { code: error.code, message: String(error.message ?? ''), details: Array.isArray(error.details) ? error.details : [], requestId: error.requestId };
  }
  return { code: status >= 500 ? 'SERVER_ERROR' : 'HTTP_ERROR', message: `HTTP ${status}`, details: [] };
}

/**
 * Calls the JSON API with the page's session cookie and CSRF token; POSTs carry an Idempotency-Key.
 * Resolves with the parsed body (undefined for 204); rejects with ApiError.
 */
export async function api<T = unknown>(method: HttpMethod, path: string, body?: unknown, options: ApiOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', 'x-csrf-token': csrfToken() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method === 'POST') headers['Idempotency-Key'] = options.idempotencyKey ?? newIdempotencyKey();
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, { code: 'NETWORK_ERROR', message: (err as Error).message, details: [] });
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) throw new ApiError(response.status, errorBodyFrom(parsed, response.status));
  return parsed as T;
}
