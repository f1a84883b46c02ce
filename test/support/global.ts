// Root hooks for the whole run: one embedded engine (or MONGODB_URI), Redis, and ONE app in the
// `all` role (HTTP + sockets + job worker) on a random port, with a database and queue prefix
// unique to this run. Tests build their own data with the factories in ./factories.ts.
import { startRole, type Running } from '../../server/boot';
import { loadConfig } from '../../server/platform/config';
import { createLogger } from '../../server/platform/logger';
import { ensureRedis } from '../../server/platform/redis';
import { createTestClock } from './clock';
import { getMongoUri, stopTestEngine } from './mongo';

const runId = `${process.pid}${Date.now().toString(36)}`;
export const testClock = createTestClock();
let running: Running | undefined;

/** The app under test (started once for the whole run). */
export function testApp(): Running & { url: string } {
  if (!running?.url) throw new Error('test app not started');
  return running as Running & { url: string };
}

export const TEST_DB = `gpo_test_${runId}`;

async function startTestApp(): Promise<void> {
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    MONGODB_DB: TEST_DB,
    QUEUE_PREFIX: `gpotest${runId}`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    JWT_SECRET: 'test-secret-0123456789abcdef0123456789abcdef',
    DEMO_MODE: 'false',
    LOGIN_RATE_LIMIT: '10',
    // NOTE: the suite's client stands in for a proxy at 127.0.0.1 (tests give each sign-in its own
    // X-Forwarded-For); a peer at any other loopback address is an untrusted client.
    TRUST_PROXY: '127.0.0.1',
    ALLOWED_ORIGINS: 'http://localhost,http://127.0.0.1',
  });
  if (process.env.TEST_NOW) console.log(`  (test clock starts at ${testClock.now().toISOString()})`);
  const logger = createLogger(config.logLevel, 'gpo-test');
  const mongoUri = await getMongoUri(TEST_DB);
  const redis = await ensureRedis({ url: process.env.REDIS_URL, autostart: true, dataDir: 'data/test', logger });
  running = await startRole({ config, logger, role: 'all', mongoUri, redisUrl: redis.url, clock: testClock });
}

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    if (!running) await startTestApp();
  },
  afterEach() {
    testClock.reset();
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    if (running) {
      const { platform } = running;
      await platform.redis.eval(
        "for _,k in ipairs(redis.call('keys', ARGV[1])) do redis.call('del', k) end return 1",
        0,
        `${platform.config.queuePrefix}*`,
      ).catch(() => undefined);
      await running.close();
      running = undefined;
    }
    await stopTestEngine();
  },
};
