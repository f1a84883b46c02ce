// Requests to one named process of the deployment, over Redis pub/sub: each process listens on its
// own channel (`<prefix>:to:<instance>`) on a dedicated subscriber connection; a request carries a
// correlation id and the sender's instance, and the answer (a value, or the error the handler threw)
// comes back on the sender's channel. Used to hand work to the process that owns it (a round's quotes
// to the round's owner). Delivery is at most once: a request to a process that is gone is answered
// `Unreachable` at once (nobody listens), one lost on the way times out; the caller decides what then.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError, RateLimitedError, UnavailableError } from './errors';
import { INSTANCE } from './instance';
import type { Logger } from './logger';
import type { Message } from './messages';
import { currentRequestId, runWithContext } from './request-context';

/** What this process answers to requests of one kind forwarded to it (modules declare them: `forwarded`). */
export interface ForwardedHandler {
  kind: string;
  handle: (payload: any) => Promise<unknown>;
}

interface RequestMessage {
  t: 'request';
  id: string;
  from: string;
  kind: string;
  requestId?: string;
  payload: unknown;
}

/** An error as it crosses processes: an application error keeps its status, code, message key and details. */
export type WireError = { status: number; code: string; text: Message; details: unknown[]; retryAfterSeconds?: number } | { message: string; code?: string | number };

interface ReplyMessage {
  t: 'reply';
  id: string;
  value?: unknown;
  error?: WireError;
}

/** No process listens on the target's channel: it stopped or died. */
export class Unreachable extends Error {}

/** No answer came within the time given (or the caller stopped waiting). */
export class NoReply extends Error {}

const handlers = new Map<string, ForwardedHandler['handle']>();
const waiting = new Map<string, { resolve: (m: ReplyMessage) => void }>();
const inFlight = new Set<Promise<unknown>>();
let publisher: Redis | undefined;
let subscriber: Redis | undefined;
let channelPrefix = 'to';
let log: Logger | undefined;
let served = 0;
let sent = 0;

const channelOf = (instance: string) => `${channelPrefix}:${instance}`;

export function toWireError(err: unknown): WireError {
  if (err instanceof AppError) {
    const retry = err instanceof RateLimitedError || err instanceof UnavailableError ? { retryAfterSeconds: err.retryAfterSeconds } : {};
    return { status: err.status, code: err.code, text: err.text, details: err.details, ...retry };
  }
  const e = err as { message?: unknown; code?: unknown };
  return { message: typeof e?.message === 'string' ? e.message : String(err), ...(typeof e?.code === 'string' || typeof e?.code === 'number' ? { code: e.code } : {}) };
}

/** The error again, as the class the reply layers render (same status, code, message key and details). */
export function fromWireError(w: WireError): Error {
  if ('status' in w) {
    const options = { code: w.code, message: w.text, details: w.details };
    if (w.status === 429) return new RateLimitedError(w.retryAfterSeconds ?? 1, options);
    if (w.status === 503) return new UnavailableError(w.retryAfterSeconds ?? 1, options);
    return new AppError(w.status, w.code, options);
  }
  return Object.assign(new Error(w.message), w.code !== undefined ? { code: w.code } : {});
}

async function serve(m: RequestMessage): Promise<void> {
  served += 1;
  const handler = handlers.get(m.kind);
  let reply: ReplyMessage;
  try {
    if (!handler) throw new Error(`no handler for forwarded ${m.kind}`);
    const value = await runWithContext({ requestId: m.requestId }, () => handler(m.payload));
    reply = { t: 'reply', id: m.id, value };
  } catch (err) {
    reply = { t: 'reply', id: m.id, error: toWireError(err) };
  }
  await publisher?.publish(channelOf(m.from), JSON.stringify(reply)).catch((err: Error) => log?.warn({ err: err.message, kind: m.kind }, 'forwarded reply not sent'));
}

function onMessage(raw: string): void {
  let m: RequestMessage | ReplyMessage;
  try {
    m = JSON.parse(raw) as RequestMessage | ReplyMessage;
  } catch {
    return; // NOTE: only this module publishes here; a malformed message is ignored.
  }
  if (m.t === 'reply') {
    waiting.get(m.id)?.resolve(m);
    return;
  }
  const work = serve(m);
  inFlight.add(work);
  void work.finally(() => inFlight.delete(work));
}

export interface RequestOptions {
  /** Give up after this long without an answer (NoReply). */
  timeoutMs: number;
  /** Asked every `checkEveryMs` while waiting: false ends the wait at once (NoReply). */
  stillWorthIt?: () => Promise<boolean>;
  checkEveryMs?: number;
}

/**
 * Asks process `instance` to run the handler of `kind` with `payload` (JSON) and answers its value, or
 * throws the error it threw (`fromWireError`), `Unreachable` or `NoReply`.
 */
export async function requestAt(instance: string, kind: string, payload: unknown, options: RequestOptions): Promise<unknown> {
  if (!publisher || !subscriber) throw new Unreachable('forwarding not started');
  const id = randomUUID();
  const message: RequestMessage = { t: 'request', id, from: INSTANCE, kind, requestId: currentRequestId(), payload };
  let timer: NodeJS.Timeout | undefined;
  let check: NodeJS.Timeout | undefined;
  const answered = new Promise<ReplyMessage>((resolve, reject) => {
    waiting.set(id, { resolve });
    timer = setTimeout(() => reject(new NoReply(`no answer from ${instance} within ${options.timeoutMs} ms`)), options.timeoutMs);
    if (options.stillWorthIt) {
      const worth = options.stillWorthIt;
      check = setInterval(() => {
        void worth().then(
          (yes) => yes || reject(new NoReply(`stopped waiting for ${instance}`)),
          () => undefined,
        );
      }, options.checkEveryMs ?? 500);
    }
  });
  answered.catch(() => undefined);
  try {
    sent += 1;
    // NOTE: Redis down is the same to the caller as nobody listening: nobody can be asked.
    const receivers = await publisher.publish(channelOf(instance), JSON.stringify(message)).catch((err: Error) => {
      throw new Unreachable(`cannot publish to ${instance}: ${err.message}`);
    });
    if (receivers === 0) throw new Unreachable(`no process listens as ${instance}`);
    const reply = await answered;
    if (reply.error) throw fromWireError(reply.error);
    return reply.value;
  } finally {
    waiting.delete(id);
    clearTimeout(timer);
    clearInterval(check);
  }
}

/** Requests this process sent to others and served for others since it started. */
export function forwardingCounts(): { sent: number; served: number } {
  return { sent, served };
}

/** Listens on this process's channel with the handlers of every kind (once, at start-up; one handler per kind). */
export async function startForwarding(redis: Redis, prefix: string, logger: Logger, forwarded: readonly ForwardedHandler[]): Promise<void> {
  handlers.clear();
  for (const h of forwarded) {
    if (handlers.has(h.kind)) throw new Error(`two handlers for forwarded ${h.kind}`);
    handlers.set(h.kind, h.handle);
  }
  channelPrefix = `${prefix}:to`;
  publisher = redis;
  log = logger;
  subscriber = redis.duplicate();
  subscriber.on('error', (err) => logger.warn({ err: err.message }, 'forwarding channel error'));
  subscriber.on('message', (_channel: string, raw: string) => onMessage(raw));
  await subscriber.subscribe(channelOf(INSTANCE));
}

/** Stops taking requests and waits for those being served (their answers still go out). */
export async function stopForwarding(): Promise<void> {
  const sub = subscriber;
  subscriber = undefined;
  await sub?.unsubscribe().catch(() => undefined);
  await Promise.allSettled([...inFlight]);
  sub?.disconnect();
  publisher = undefined;
}
