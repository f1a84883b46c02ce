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

/** Consumes one point for `subject` under the named limit; throws RateLimitedError (429) when exhausted. */
export async function consumeRateLimit(name: string, subject: string, points: number, durationSec: number): Promise<void> {
  try {
    await limiter(name, points, durationSec).consume(subject);
  } catch (err) {
    if (err instanceof RateLimiterRes) {
      throw new RateLimitedError(Math.max(1, Math.ceil(err.msBeforeNext / 1000)), {
        message: msg('errorCodes.RATE_LIMITED_RETRY', { seconds: Math.ceil(err.msBeforeNext / 1000) }),
      });
    }
    throw err;
  }
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
