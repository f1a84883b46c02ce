import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { jobHandlers, sweepsOf } from '../jobs';
import { createApp } from './app';
import { SettableClock, systemClock } from './platform/clock';
import { setPlatform, type Clock, type Platform } from './platform/context';
import { startEvictions, stopEvictions } from './platform/evictions';
import type { Config } from './platform/config';
import { startForwarding, stopForwarding } from './platform/forwarding';
import { startLiveness, stopLiveness } from './platform/idempotency';
import { releaseHeldLeases } from './platform/leases';
import type { Logger } from './platform/logger';
import { DbHealth } from './platform/db-health';
import { connectMongo, disconnectMongo, syncIndexes } from './platform/mongo';
import { closePdfRendering, configurePdfRendering } from './platform/pdf-pool';
import { Queues } from './platform/queues';
import { createRealtime, type Realtime } from './platform/realtime';
import { Relay } from './platform/relay';
import { Sweeper } from './platform/sweeps';
import { resolveSession } from './modules/identity';
import { featureModules } from './modules/registry';

export type Role = 'all' | 'web' | 'worker';

/** Runs every module's start-up migration (backfills of new fields), in registry order. */
export async function runMigrations(logger: Logger): Promise<void> {
  for (const m of featureModules) if (m.migrate) await m.migrate(logger);
}

export interface Running {
  url?: string;
  port?: number;
  platform: Platform;
  realtime: Realtime;
  relay: Relay;
  /** The worker's sweeps (undefined in a web-only process). */
  sweeper?: Sweeper;
  httpServer?: HttpServer;
  close(): Promise<void>;
}

/**
 * Starts one process role against an already reachable MongoDB and Redis: `web` serves HTTP and
 * sockets, `worker` runs the jobs and the sweeps, `all` does both (the default for `npm start` and the
 * tests). Every role relays the events its own commands commit.
 */
export async function startRole(opts: { config: Config; logger: Logger; role: Role; mongoUri: string; redisUrl: string; clock?: Clock; workerConcurrency?: number }): Promise<Running> {
  const { config, logger, role } = opts;
  const db = new DbHealth(logger);
  await connectMongo(opts.mongoUri, config.mongodbDb, logger, { serverSelectionMs: config.mongodbServerSelectionMs, heartbeatMs: config.mongodbHeartbeatMs }, db);
  await syncIndexes();
  await runMigrations(logger);
  // NOTE: no auto-pipelining here: the rate limiter defines its Lua command on this client when a limit
  // is first used, and a command defined while an automatic pipeline is pending is missing from that
  // pipeline; ioredis then throws outside any promise and the process dies (seen in the quotation
  // bench; ioredis issue #1931). The socket adapter's client defines no commands and pipelines.
  const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 2 });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis error'));
  const clock = opts.clock ?? (config.clockStart ? new SettableClock(config.clockStart, config.clockStartedAt) : systemClock);
  const queues = new Queues(opts.redisUrl, config.queuePrefix, logger, () => clock.now());
  const relay = new Relay(
    featureModules.flatMap((m) => m.subscribers ?? []),
    logger,
    config.faultCrashAfterCommit,
  );

  const serveHttp = role !== 'worker';
  const httpServer = serveHttp ? createServer() : undefined;
  const realtime = createRealtime(httpServer ?? null, {
    config,
    logger,
    redisUrl: opts.redisUrl,
    resolveSession,
    clock,
    modules: featureModules.flatMap((m) => (m.socket ? [m.socket(logger)] : [])),
    onConnect: async (socket) => {
      for (const m of featureModules) if (m.onConnect) await m.onConnect(socket);
    },
  });
  const platform: Platform = { config, logger, redis, queues, broadcaster: realtime, clock, relay, db };
  setPlatform(platform);
  await startEvictions(redis, config.queuePrefix, logger);
  await startForwarding(redis, config.queuePrefix, logger, featureModules.flatMap((m) => m.forwarded ?? []));
  await configurePdfRendering(config.pdfWorkers, config.pdfWorkerPriority, config.pdfRenderCpus);
  startLiveness();

  let url: string | undefined;
  let port: number | undefined;
  if (httpServer) {
    const { app } = createApp({ ...platform, resolveSession });
    // NOTE: socket.io answers its own path itself (engine.io wrapped the request listeners present when
    // it attached: none); Express must not answer the same request a second time (that was a 404).
    const socketPath = `${realtime.io.path()}/`;
    httpServer.on('request', (req, res) => {
      if (!req.url?.startsWith(socketPath)) app(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => resolve());
    });
    port = (httpServer.address() as AddressInfo).port;
    url = `http://localhost:${port}`;
  }
  let sweeper: Sweeper | undefined;
  if (role !== 'web') {
    queues.startWorker(jobHandlers, opts.workerConcurrency ?? 4);
    // NOTE: jobs would only burn their attempts while the database is down.
    db.onChange((up) => void (up ? queues.resumeWorker() : queues.pauseWorker()));
    sweeper = new Sweeper(sweepsOf(relay, config.outboxSweepMs), {
      logger,
      intervals: { outbox: config.outboxSweepMs, schedule: config.scheduleSweepMs },
      lock: async (name, ms) => (await redis.set(`${config.queuePrefix}:sweep:${name}`, '1', 'PX', Math.max(50, ms - 50), 'NX').catch(() => null)) === 'OK',
    });
    sweeper.start();
  }

  return {
    url,
    port,
    platform,
    realtime,
    relay,
    sweeper,
    httpServer,
    async close() {
      await sweeper?.stop().catch(() => undefined);
      await queues.close().catch(() => undefined);
      await relay.close().catch(() => undefined);
      await realtime.close().catch(() => undefined);
      if (httpServer?.listening) await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      // NOTE: after the HTTP server, so a PDF request still in flight gets its document.
      await closePdfRendering().catch(() => undefined);
      // NOTE: requests forwarded here are answered first; then the rounds this process owned are let
      // go, so the next quote of each is decided elsewhere at once instead of after the lease's expiry.
      await stopForwarding().catch(() => undefined);
      await releaseHeldLeases().catch(() => undefined);
      stopLiveness();
      stopEvictions();
      redis.disconnect();
      await disconnectMongo().catch(() => undefined);
    },
  };
}
