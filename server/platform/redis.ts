import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger';

export type { Redis };

async function answers(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: 1000, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

export class RedisUnavailableError extends Error {}

/**
 * Finds Redis: REDIS_URL if set; else 127.0.0.1:6379; else starts a local redis-server
 * if one is installed (stopped with the app); else fails with how to install one.
 */
export async function ensureRedis(opts: { url?: string; autostart: boolean; dataDir: string; logger: Logger }): Promise<{ url: string; child?: ChildProcess }> {
  if (opts.url) {
    if (!(await answers(opts.url))) throw new RedisUnavailableError(`Redis does not answer at REDIS_URL=${opts.url}.`);
    return { url: opts.url };
  }
  const local = 'redis://127.0.0.1:6379';
  if (await answers(local)) return { url: local };
  const howTo = 'Install it with `sudo apt-get install redis-server` (Debian/Ubuntu) or `brew install redis` (macOS), or set REDIS_URL.';
  if (!opts.autostart) throw new RedisUnavailableError(`No Redis answers on 127.0.0.1:6379. ${howTo}`);
  if (spawnSync('redis-server', ['--version']).status !== 0) throw new RedisUnavailableError(`No Redis answers on 127.0.0.1:6379 and redis-server is not installed. ${howTo}`);
  const port = 6390;
  const dir = path.resolve(opts.dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i += 1) {
    if (await answers(url)) {
      opts.logger.info({ url }, 'started a local redis-server');
      return { url, child };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGTERM');
  throw new RedisUnavailableError(`Started redis-server but it did not answer on ${url}. ${howTo}`);
}

/** A Redis client for commands that must fail fast when Redis is down (producers, rate limits). */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, ...options });
}
