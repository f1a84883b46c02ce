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

/** Clears a subject's counter (after a successful login, for example). */
export async function resetRateLimit(name: string, subject: string, points: number, durationSec: number): Promise<void> {
  await limiter(name, points, durationSec).delete(subject);
}
