// Entry point: `npm start` (everything in one process, with the embedded engine and a local Redis
// when needed), `npm run start:web` / `npm run start:worker` for scale-out.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startRole, type Role } from './boot';
import { ConfigError, loadConfig } from './platform/config';
import { handleError } from './platform/error-handler';
import { createLogger } from './platform/logger';
import { ensureRedis, RedisUnavailableError } from './platform/redis';
import { demoLogins, seedDemoData } from './modules/demo';
import { featureModules } from './modules/registry';
import { ROOT } from './app';

function parseRole(argv: string[]): Role {
  const i = argv.indexOf('--role');
  const value = i >= 0 ? argv[i + 1] : 'all';
  if (value !== 'all' && value !== 'web' && value !== 'worker') {
    console.error(`Unknown --role "${value}": use all, web or worker.`);
    process.exit(2);
  }
  return value;
}

interface KeptCity {
  seed: string;
  scale: number;
  months: number;
  start: string;
  endsAt: string;
  password: string;
  logins: { role: string; email: string; org: string }[];
}

/**
 * `--city DIR`: a city kept by `npm run city -- --keep DIR`. The embedded engine opens its data, the
 * demo data stays out, and the business clock starts at the city's last simulated instant.
 */
function parseCity(argv: string[]): { dir: string; city: KeptCity } | undefined {
  const i = argv.indexOf('--city');
  if (i < 0) return undefined;
  const dir = path.resolve(argv[i + 1] ?? '');
  const file = path.join(dir, 'city.json');
  if (!argv[i + 1] || !existsSync(file)) {
    console.error(`--city needs the directory of a kept city (${file} not found): run \`npm run city -- --keep DIR\` first.`);
    process.exit(2);
  }
  return { dir, city: JSON.parse(readFileSync(file, 'utf8')) as KeptCity };
}

async function main(): Promise<void> {
  let config;
  const kept = parseCity(process.argv.slice(2));
  try {
    config = kept
      ? loadConfig({ ...process.env, ENGINE_DBPATH: path.join(kept.dir, 'mongo'), DEMO_MODE: 'false', CLOCK_START: kept.city.endsAt })
      : loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const role = parseRole(process.argv.slice(2));
  const logger = createLogger(config.logLevel, `gpo-${role}`);
  const cleanups: (() => Promise<void> | void)[] = [];
  let shuttingDown = false;
  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info('shutting down');
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  process.on('unhandledRejection', (err) => handleError(err, logger, { process: 'unhandledRejection' }));

  let mongoUri = config.mongodbUri;
  if (kept && mongoUri) {
    console.error('--city opens a kept city with the embedded engine; unset MONGODB_URI.');
    process.exit(2);
  }
  if (!mongoUri) {
    if (role !== 'all') {
      console.error('MONGODB_URI is not set. For separate web/worker processes start the engine once (`npm run engine -- --port 27018 --dbpath ./data/mongo`) and set MONGODB_URI=mongodb://127.0.0.1:27018/, or point it at a real MongoDB.');
      process.exit(2);
    }
    const { spawnEngine } = await import('./engine/spawn');
    const { superviseEngine } = await import('./platform/engine-supervisor');
    const engine = await superviseEngine(spawnEngine, { port: config.enginePort, dbpath: path.resolve(ROOT, config.engineDbpath) }, logger);
    cleanups.push(() => engine.stop());
    mongoUri = engine.uri;
    logger.info({ uri: engine.uri, dbpath: config.engineDbpath, enginePid: engine.current().pid }, 'embedded MongoDB-compatible engine started (development only)');
  }

  let redisUrl: string;
  try {
    // NOTE: a web or worker process must share one Redis with the others; it never starts (and owns)
    // a private redis-server, which would die with it under the rest of the cluster.
    const redis = await ensureRedis({ url: config.redisUrl, autostart: role === 'all' && config.redisAutostart, dataDir: path.resolve(ROOT, 'data'), logger });
    redisUrl = redis.url;
    const child: ChildProcess | undefined = redis.child;
    if (child) cleanups.push(() => void child.kill('SIGTERM'));
  } catch (err) {
    if (err instanceof RedisUnavailableError) {
      console.error(err.message);
      await shutdown(2);
      return;
    }
    throw err;
  }

  const running = await startRole({ config, logger, role, mongoUri: mongoUri!, redisUrl });
  cleanups.push(() => running.close());

  if (config.demoMode && role !== 'worker') {
    // NOTE: the demo data is idempotent; an outage while it loads (the database restarting) is
    // waited out rather than taking the app down.
    for (let attempt = 1; ; attempt += 1) {
      try {
        await seedDemoData(logger, featureModules);
        break;
      } catch (err) {
        if (attempt >= 10) throw err;
        logger.warn({ err: (err as Error).message, attempt }, 'loading the demo data failed; trying again');
        await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** attempt)));
      }
    }
  }
  if (running.url) {
    const lines = [
      '',
      `  GPO marketplace (${role}) is running at ${config.publicUrl === `http://localhost:${config.port}` ? running.url : config.publicUrl}`,
      `  API docs: ${running.url}/api/docs`,
    ];
    if (kept) {
      const c = kept.city;
      lines.push(`  City seed ${c.seed}, scale ${c.scale}: ${c.months} month(s) from ${c.start}; business time starts at ${c.endsAt}.`);
      lines.push(`  City logins (every password: ${c.password}):`);
      for (const l of c.logins) lines.push(`    ${l.role.padEnd(17)} ${l.email.padEnd(30)} ${l.org}`);
    }
    if (config.demoMode) {
      lines.push(`  Demo logins (every password: ${demoLogins()[0]?.password}):`);
      for (const l of demoLogins()) lines.push(`    ${l.role.padEnd(17)} ${l.email.padEnd(30)} ${l.orgName}`);
    }
    lines.push('  Ctrl-C stops everything.', '');
    console.log(lines.join('\n'));
  } else {
    logger.info('worker running');
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
