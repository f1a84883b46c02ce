// One in-process app for a benchmark: an in-memory engine in its own process (as a database server
// is in production, so its CPU is not charged to the app's event loop), Redis, and the `all` role on a
// random port, with a database and Redis prefix of its own; `close()` also removes its Redis keys.
import { randomBytes } from 'node:crypto';
import { spawnEngine } from '../server/engine/spawn';
import { startRole, type Running } from '../server/boot';
import { loadConfig } from '../server/platform/config';
import type { Clock } from '../server/platform/context';
import { createLogger } from '../server/platform/logger';
import { ensureRedis } from '../server/platform/redis';

export interface BenchApp {
  runId: string;
  app: Running & { url: string };
  close(): Promise<void>;
}

export async function startBenchApp(name: string, opts: { env?: Record<string, string>; clock?: Clock; workerConcurrency?: number } = {}): Promise<BenchApp> {
  const runId = randomBytes(4).toString('hex');
  // NOTE: BENCH_ENGINE_ARGS passes node options to the engine process (e.g. --cpu-prof to see where its time goes).
  const engine = await spawnEngine({ memory: true, port: 0, host: '127.0.0.1', ...(process.env.BENCH_ENGINE_ARGS ? { nodeArgs: process.env.BENCH_ENGINE_ARGS.split(' ') } : {}) });
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    MONGODB_DB: `gpo_bench_${name}_${runId}`,
    QUEUE_PREFIX: `gpobench${name}${runId}`,
    LOG_LEVEL: 'silent',
    JWT_SECRET: 'bench-secret-0123456789abcdef0123456789abcdef',
    DEMO_MODE: 'false',
    ALLOWED_ORIGINS: 'http://localhost',
    ...opts.env,
  });
  const logger = createLogger(config.logLevel, 'gpo-bench');
  const redis = await ensureRedis({ url: process.env.REDIS_URL, autostart: true, dataDir: 'data/bench', logger });
  const app = await startRole({ config, logger, role: 'all', mongoUri: `${engine.uri}${config.mongodbDb}`, redisUrl: redis.url, clock: opts.clock, workerConcurrency: opts.workerConcurrency });
  return {
    runId,
    app: app as Running & { url: string },
    async close() {
      await app.platform.redis
        .eval("for _,k in ipairs(redis.call('keys', ARGV[1])) do redis.call('del', k) end return 1", 0, `${config.queuePrefix}*`)
        .catch(() => undefined);
      await app.close().catch(() => undefined);
      await engine.stop().catch(() => undefined);
    },
  };
}
