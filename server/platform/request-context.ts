import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** An idempotent HTTP request in progress (idempotency.ts); its unit of work stores the reply. */
export interface PendingIdempotency {
  scopeKey: string;
  requestHash: string;
  status: number;
  /**
   * The request runs in a unit of work whose transaction opens with the lookup of the key
   * (`openIdempotentTransaction`), so no lookup is made before it.
   */
  lookupInTransaction?: boolean;
  /** Set when a committed unit of work stored the reply. */
  stored: boolean;
  storedBody?: unknown;
}

export interface RequestContext {
  requestId: string;
  userId?: string;
  orgId?: string;
  /** The language of the page being served, for texts built deep in a request (form errors). */
  lang?: 'zh' | 'en';
  idempotency?: PendingIdempotency;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` with a request context (HTTP request, socket event or job) carried through async calls. */
export function runWithContext<T>(ctx: Partial<RequestContext>, fn: () => T): T {
  return storage.run({ ...ctx, requestId: ctx.requestId ?? randomUUID() }, fn);
}

export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}
