import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { jobHandlers } from '../jobs';
import { createApp } from './app';
import { SettableClock, systemClock } from './platform/clock';
import { setPlatform, type Clock, type Platform } from './platform/context';
import type { Config } from './platform/config';
import type { Logger } from './platform/logger';
import { connectMongo, disconnectMongo, syncIndexes } from './platform/mongo';
import { Queues } from './platform/queues';
import { createRealtime, type Realtime } from './platform/realtime';
import { resolveSession } from './modules/identity';
import { featureModules } from './modules/registry';

export type Role = 'all' | 'web' | 'worker';

export interface Running {
  url?: string;
  port?: number;
  platform: Platform;
  realtime: Realtime;
  httpServer?: HttpServer;
  close(): Promise<void>;
}

let subscribed = false;

/**
 * Starts one process role against an already reachable MongoDB and Redis: `web` serves HTTP and
 * sockets, `worker` runs the jobs, `all` does both (the default for `npm start` and the tests).
 */
export async function startRole(opts: { config: Config; logger: Logger; role: Role; mongoUri: string; redisUrl: string; clock?: Clock; workerConcurrency?: number }): Promise<Running> {
  const { config, logger, role } = opts;
  await connectMongo(opts.mongoUri, config.mongodbDb, logger);
  await syncIndexes();
  const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 2 });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis error'));
  const clock = opts.clock ?? (config.clockStart ? new SettableClock(config.clockStart, config.clockStartedAt) : systemClock);
  const queues = new Queues(opts.redisUrl, config.queuePrefix, logger, () => clock.now());
  if (!subscribed) {
    for (const m of featureModules) m.subscribe?.();
    subscribed = true;
  }

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
  const platform: Platform = { config, logger, redis, queues, broadcaster: realtime, clock };
  setPlatform(platform);

  let url: string | undefined;
  let port: number | undefined;
  if (httpServer) {
    const { app } = createApp({ ...platform, resolveSession });
    httpServer.on('request', app);
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => resolve());
    });
    port = (httpServer.address() as AddressInfo).port;
    url = `http://localhost:${port}`;
  }
  if (role !== 'web') {
    queues.startWorker(jobHandlers, opts.workerConcurrency ?? 4);
    for (const m of featureModules) await m.onWorkerStart?.();
  }

  return {
    url,
    port,
    platform,
    realtime,
    httpServer,
    async close() {
      await queues.close().catch(() => undefined);
      await realtime.close().catch(() => undefined);
      if (httpServer?.listening) await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      redis.disconnect();
      await disconnectMongo().catch(() => undefined);
    },
  };
}
