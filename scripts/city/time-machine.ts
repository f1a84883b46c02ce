// Simulated time for a running app: the business clock jumps forward, and the BullMQ delayed jobs
// that fall due in simulated time are released at once. A delayed job's wall-clock due time was
// computed against the clock's offset when it was scheduled, so each one is tagged with the offset in
// force when it was first seen (the sim only moves the clock while the app is quiet) and released
// when that simulated instant has passed. Nothing in the app knows: it is the test clock, moved.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Running } from '../../server/boot';
import type { SettableClock } from '../../server/platform/clock';

const QUEUE_NAME = 'jobs';

export class TimeMachine {
  private readonly queue: Queue;
  private readonly tagged = new Map<string, { score: number; dueMs: number }>();
  private offsetMs: number;
  released = 0;

  constructor(private readonly running: Running, private readonly clock: SettableClock, redisUrl: string) {
    const prefix = running.platform.config.queuePrefix;
    this.queue = new Queue(QUEUE_NAME, { connection: { url: redisUrl, maxRetriesPerRequest: null }, prefix });
    this.offsetMs = clock.now().getTime() - Date.now();
  }

  private get redis(): Redis {
    return this.running.platform.redis;
  }

  /** Simulated now. */
  now(): Date {
    return this.clock.now();
  }

  /** Tags every delayed job not seen yet (or moved since) with the simulated instant it is due at. */
  private async tag(): Promise<void> {
    const key = `${this.running.platform.config.queuePrefix}:${QUEUE_NAME}:delayed`;
    const flat = await this.redis.zrange(key, '0', '-1', 'WITHSCORES');
    const seen = new Set<string>();
    for (let i = 0; i < flat.length; i += 2) {
      const id = flat[i]!;
      const score = Number(flat[i + 1]);
      seen.add(id);
      const known = this.tagged.get(id);
      if (known && known.score === score) continue;
      this.tagged.set(id, { score, dueMs: Math.floor(score / 0x1000) + this.offsetMs });
    }
    for (const id of this.tagged.keys()) if (!seen.has(id)) this.tagged.delete(id);
  }

  /** Moves the business clock to `at` (never back) and releases the jobs due by then; returns how many. */
  async moveTo(at: Date): Promise<number> {
    await this.quiet();
    await this.tag();
    if (at.getTime() > this.clock.now().getTime()) this.clock.set(at);
    this.offsetMs = this.clock.now().getTime() - Date.now();
    const simNow = this.clock.now().getTime();
    const due = [...this.tagged].filter(([, t]) => t.dueMs <= simNow).sort((a, b) => a[1].dueMs - b[1].dueMs);
    for (const [id] of due) {
      this.tagged.delete(id);
      const job = await this.queue.getJob(id);
      if (!job) continue;
      if ((await job.getState()) === 'delayed') {
        await job.promote().catch(() => undefined);
        this.released += 1;
      }
    }
    await this.running.sweeper?.runAll();
    await this.quiet();
    return due.length;
  }

  /** Waits until the relay has handed every committed fact on and the worker has no job waiting or running. */
  async quiet(maxMs = 120_000): Promise<void> {
    const until = Date.now() + maxMs;
    for (let stable = 0; stable < 2; ) {
      await this.running.relay.idle();
      const c = await this.queue.getJobCounts('waiting', 'active', 'prioritized');
      const busy = (c.waiting ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0);
      if (busy === 0) stable += 1;
      else stable = 0;
      if (Date.now() > until) throw new Error(`the app did not go quiet within ${maxMs} ms (${JSON.stringify(c)})`);
      await new Promise((r) => setTimeout(r, busy ? 20 : 5));
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
