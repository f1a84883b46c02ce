import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { platform } from './context';
import { RateLimitedError } from './errors';
import { msg } from './messages';

const limiters = new Map<string, RateLimiterRedis>();

function limiter(name: string, points: number, durationSec: number): RateLimiterRedis {
  const key = `${name}:${points}:${durationSec}`;
  let l = limiters.get(key);
  const { redis, config } = platform();
  if (!l || (l as unknown as { client: unknown }).client !== redis) {
    l = new RateLimiterRedis({ storeClient: redis, keyPrefix: `${config.queuePrefix}:rl:${name}`, points, duration: durationSec });
    limiters.set(key, l);
  }
  return l;
}

function rateLimited(msBeforeNext: number): RateLimitedError {
  const seconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new RateLimitedError(seconds, { message: msg('errorCodes.RATE_LIMITED_RETRY', { seconds }) });
}

/** Consumes one point for `subject` under the named limit; throws RateLimitedError (429) when exhausted. */
export async function consumeRateLimit(name: string, subject: string, points: number, durationSec: number): Promise<void> {
  try {
    await limiter(name, points, durationSec).consume(subject);
  } catch (err) {
    if (err instanceof RateLimiterRes) throw rateLimited(err.msBeforeNext);
    throw err;
  }
}

/**
 * How many points a process takes from Redis at once for a reserved limit: a twentieth of the limit,
 * at least 1 and at most 50 (so a limit of 120 a minute is taken 6 at a time).
 */
export function reserveChunk(points: number): number {
  return Math.max(1, Math.min(50, Math.ceil(points / 20)));
}

/**
 * The points granted by a `consume(subject, want)` that Redis refused: the counter went up by `want`
 * to `consumedAfter`, so what was left before it (at most `want`) is this process's to spend.
 */
export function grantedOnRefusal(points: number, want: number, consumedAfter: number): number {
  return Math.max(0, Math.min(want, points - (consumedAfter - want)));
}

/** Points this process took from Redis for one subject and window, spent locally. */
interface Reserve {
  tokens: number;
  /** When the Redis window the tokens belong to ends (epoch ms); later they are void. */
  until: number;
  /** A take from Redis under way. */
  taking?: Promise<void>;
  /** The refusal of the last take, while its window lasts. */
  refusedUntil?: number;
  /** Callers waiting for a take (the next take asks for at least as many points). */
  waiting: number;
}

const reserves = new Map<string, Reserve>();
let reservesOf: unknown;

async function take(reserve: Reserve, l: RateLimiterRedis, subject: string, points: number, want: number): Promise<void> {
  try {
    const res = await l.consume(subject, want);
    const until = Date.now() + res.msBeforeNext;
    // NOTE: tokens left from an earlier window are void once Redis started a new one.
    if (until > reserve.until + 1000) reserve.tokens = 0;
    reserve.tokens += want;
    reserve.until = until;
    reserve.refusedUntil = undefined;
  } catch (err) {
    if (!(err instanceof RateLimiterRes)) throw err;
    const granted = grantedOnRefusal(points, want, err.consumedPoints);
    const until = Date.now() + err.msBeforeNext;
    if (until > reserve.until + 1000) reserve.tokens = 0;
    reserve.tokens += granted;
    reserve.until = until;
    if (granted === 0) reserve.refusedUntil = until;
  }
}

/**
 * Like `consumeRateLimit`, for a limit checked on a hot path (every quote): the process takes the
 * subject's points from Redis a few at a time (`reserveChunk`) and spends them without a round trip,
 * taking the next few in the background before it runs out. Across processes the limit still holds
 * (Redis counts every point handed out); points one process took and did not spend are lost to the
 * others for the rest of the window, so a subject spread over several processes may be refused a
 * little before the limit (at most a chunk per process), never after it.
 */
export async function consumeReserved(name: string, subject: string, points: number, durationSec: number): Promise<void> {
  const l = limiter(name, points, durationSec);
  if (reservesOf !== l) {
    reserves.clear();
    reservesOf = l;
  }
  const chunk = reserveChunk(points);
  const key = `${name}:${points}:${durationSec}:${subject}`;
  let reserve = reserves.get(key);
  if (!reserve) {
    if (reserves.size >= 10_000) reserves.clear();
    reserve = { tokens: 0, until: 0, waiting: 0 };
    reserves.set(key, reserve);
  }
  // NOTE: every take either grants a point or records a refusal, so the loop ends.
  for (;;) {
    const at = Date.now();
    if (at >= reserve.until) reserve.tokens = 0;
    if (reserve.tokens > 0) {
      reserve.tokens -= 1;
      if (chunk > 1 && reserve.tokens <= chunk / 2 && !reserve.taking && !(reserve.refusedUntil && at < reserve.refusedUntil)) refill(reserve, l, subject, points, chunk);
      return;
    }
    if (reserve.refusedUntil && at < reserve.refusedUntil && !reserve.taking) throw rateLimited(reserve.refusedUntil - at);
    reserve.waiting += 1;
    try {
      if (!reserve.taking) refill(reserve, l, subject, points, Math.min(points, Math.max(chunk, reserve.waiting)));
      await reserve.taking;
    } finally {
      reserve.waiting -= 1;
    }
  }
}

function refill(reserve: Reserve, l: RateLimiterRedis, subject: string, points: number, want: number): void {
  const taking = take(reserve, l, subject, points, want).finally(() => {
    if (reserve.taking === taking) reserve.taking = undefined;
  });
  // NOTE: a failed background take (Redis away) is seen by the next caller that has to wait for one.
  taking.catch(() => undefined);
  reserve.taking = taking;
}

/** How failures of one subject (an account, an address) slow down its next attempts. */
export interface BackoffPolicy {
  /** failures allowed without any delay */
  freeFailures: number;
  /** the wait after the first failure beyond the free ones; it doubles with each further failure (min(cap, base·2^(failures−free))) */
  baseMs: number;
  /** the longest delay */
  capMs: number;
  /** failures older than this (since the last one) are forgotten */
  windowMs: number;
}

// NOTE: one round trip checks every subject and, when all may try, reserves the attempt (the last
// failure time moves to now) so that parallel guesses during a delay are refused, not all let through.
const BACKOFF_BEGIN = `
local now = tonumber(ARGV[1])
local wait = 0
local state = {}
for i, key in ipairs(KEYS) do
  local o = 1 + (i - 1) * 4
  local free, base, cap, window = tonumber(ARGV[o + 1]), tonumber(ARGV[o + 2]), tonumber(ARGV[o + 3]), tonumber(ARGV[o + 4])
  local v = redis.call('HMGET', key, 'f', 't')
  local f, t = tonumber(v[1]) or 0, tonumber(v[2]) or 0
  if now - t > window then f = 0 end
  state[i] = f
  if f >= free then
    local d = math.min(cap, base * 2 ^ math.min(30, f - free))
    if now < t + d then wait = math.max(wait, t + d - now) end
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  local o = 1 + (i - 1) * 4
  if state[i] >= tonumber(ARGV[o + 1]) then redis.call('HSET', key, 't', now) end
end
return 0
`;

const BACKOFF_FAIL = `
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[1 + i])
  local v = redis.call('HMGET', key, 'f', 't')
  local f, t = tonumber(v[1]) or 0, tonumber(v[2]) or 0
  if now - t > window then f = 0 end
  redis.call('HSET', key, 'f', f + 1, 't', now)
  redis.call('PEXPIRE', key, window)
end
return 0
`;

export interface BackoffSubject {
  name: string;
  subject: string;
  policy: BackoffPolicy;
}

function backoffKey(s: BackoffSubject): string {
  return `${platform().config.queuePrefix}:bo:${s.name}:${s.subject}`;
}

/**
 * Lets an attempt through unless one of its subjects is still waiting out the delay its failures
 * earned; then throws RateLimitedError (429) with the seconds left. Successes cost nothing.
 */
export async function beginAttempt(subjects: BackoffSubject[], at: Date): Promise<void> {
  const args = subjects.flatMap((s) => [s.policy.freeFailures, s.policy.baseMs, s.policy.capMs, s.policy.windowMs]);
  const waitMs = Number(await platform().redis.eval(BACKOFF_BEGIN, subjects.length, ...subjects.map(backoffKey), at.getTime(), ...args));
  if (waitMs > 0) {
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    throw new RateLimitedError(seconds, { message: msg('errorCodes.RATE_LIMITED_RETRY', { seconds }) });
  }
}

/** Records a failed attempt against every subject. */
export async function recordFailure(subjects: BackoffSubject[], at: Date): Promise<void> {
  await platform().redis.eval(BACKOFF_FAIL, subjects.length, ...subjects.map(backoffKey), at.getTime(), ...subjects.map((s) => s.policy.windowMs));
}

/** Forgets a subject's failures (an account after a successful sign-in). */
export async function clearFailures(subject: BackoffSubject): Promise<void> {
  await platform().redis.del(backoffKey(subject));
}
