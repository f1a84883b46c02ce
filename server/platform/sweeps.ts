// Recurring housekeeping that must run even when Redis lost every scheduled job (restarted empty):
// the outbox sweep and each module's reconciliation of "what the database says is due" against the
// job queue. Timers live in the worker processes themselves, not in Redis; a Redis lock per sweep
// and interval keeps several workers from doing the same round twice.
import { handleError } from './error-handler';
import type { Logger } from './logger';
import { runWithContext } from './request-context';

export interface Sweep {
  readonly name: string;
  /** 'outbox' sweeps run at the outbox interval, 'schedule' sweeps at the schedule interval. */
  readonly cadence: 'outbox' | 'schedule';
  run(): Promise<unknown>;
}

/** Declares a sweep (idempotent work: running it twice, or on two workers, does no harm). */
export function defineSweep(name: string, cadence: Sweep['cadence'], run: () => Promise<unknown>): Sweep {
  return { name, cadence, run };
}

export interface SweeperDeps {
  logger: Logger;
  /** Takes the lock for one sweep interval; false when another worker holds it. */
  lock(name: string, ms: number): Promise<boolean>;
  intervals: { outbox: number; schedule: number };
}

/** Runs every sweep on its own timer; a sweep still running skips its next turn. */
export class Sweeper {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly sweeps: readonly Sweep[], private readonly deps: SweeperDeps) {
    const names = new Set<string>();
    for (const s of sweeps) {
      if (names.has(s.name)) throw new Error(`sweep "${s.name}" is registered twice`);
      names.add(s.name);
    }
  }

  start(): void {
    for (const sweep of this.sweeps) {
      const every = this.deps.intervals[sweep.cadence];
      const timer = setInterval(() => void this.runOnce(sweep, every), every);
      timer.unref();
      this.timers.push(timer);
      // NOTE: a worker that starts (or restarts after a crash) catches up at once.
      void this.runOnce(sweep, every);
    }
  }

  /** Runs one sweep now (tests and start-up). */
  async runOnce(sweep: Sweep, lockMs = 0): Promise<void> {
    if (this.running.has(sweep.name)) return this.running.get(sweep.name);
    const work = (async () => {
      try {
        if (lockMs > 0 && !(await this.deps.lock(sweep.name, lockMs))) return;
        await runWithContext({ requestId: `sweep:${sweep.name}` }, () => sweep.run());
      } catch (err) {
        handleError(err, this.deps.logger, { sweep: sweep.name });
      }
    })();
    this.running.set(sweep.name, work);
    try {
      await work;
    } finally {
      this.running.delete(sweep.name);
    }
  }

  async runAll(): Promise<void> {
    for (const s of this.sweeps) await this.runOnce(s);
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await Promise.allSettled([...this.running.values()]);
  }
}
