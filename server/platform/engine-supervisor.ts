// Keeps the embedded engine that `npm start` spawned running: if it dies (a crash, kill -9), it is
// started again on the same port and data directory, with a growing pause between attempts; the app
// meanwhile answers 503 and the driver reconnects by itself once the engine is back.
import type { SpawnedEngine, SpawnEngineOptions } from '../engine/spawn';
import type { Logger } from './logger';

export interface SupervisedEngine {
  uri: string;
  /** The engine currently running (replaced after a restart). */
  current(): SpawnedEngine;
  stop(): Promise<void>;
}

const MIN_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 10_000;

export async function superviseEngine(spawn: (opts: SpawnEngineOptions) => Promise<SpawnedEngine>, opts: SpawnEngineOptions & { port: number }, logger: Logger): Promise<SupervisedEngine> {
  let engine = await spawn(opts);
  let stopping = false;
  let backoff = MIN_BACKOFF_MS;

  const restart = async (): Promise<void> => {
    while (!stopping) {
      await new Promise((r) => setTimeout(r, backoff));
      if (stopping) return;
      try {
        engine = await spawn({ ...opts, port: engine.port });
        logger.info({ enginePid: engine.pid, port: engine.port }, 'embedded engine restarted');
        backoff = MIN_BACKOFF_MS;
        watch(engine);
        return;
      } catch (err) {
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
        logger.error({ err: (err as Error).message, retryInMs: backoff }, 'embedded engine failed to restart');
      }
    }
  };

  const watch = (e: SpawnedEngine) => {
    e.child.once('exit', (code, signal) => {
      if (stopping) return;
      logger.error({ code, signal, pid: e.pid }, 'embedded engine stopped; restarting it');
      void restart();
    });
  };
  watch(engine);

  return {
    uri: engine.uri,
    current: () => engine,
    async stop() {
      stopping = true;
      await engine.stop();
    },
  };
}
