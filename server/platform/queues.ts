import { Queue, Worker, type Job, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { z } from 'zod';
import { handleError } from './error-handler';
import type { Logger } from './logger';
import { runWithContext } from './request-context';
import { parse } from './validate';

/** A job's name and payload schema; modules enqueue by spec, `jobs/` binds one handler per spec. */
export interface JobSpec<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly schema: S;
  readonly attempts: number;
}

const knownSpecs = new Map<string, JobSpec>();

/** A job spec that is not registered with the app (tests use it to exercise the registry). */
export function jobSpec<S extends z.ZodType>(name: string, schema: S, options: { attempts?: number } = {}): JobSpec<S> {
  return { name, schema, attempts: options.attempts ?? 5 };
}

/** Declares one of the app's jobs; names are unique across the app. */
export function defineJob<S extends z.ZodType>(name: string, schema: S, options: { attempts?: number } = {}): JobSpec<S> {
  if (knownSpecs.has(name)) throw new Error(`job "${name}" is declared twice`);
  const spec = jobSpec(name, schema, options);
  knownSpecs.set(name, spec);
  return spec;
}

export interface JobHandler {
  spec: JobSpec;
  run: (payload: unknown, job: Job) => Promise<unknown>;
}

/** Binds a handler to a job spec with the payload type inferred from the spec's schema. */
export function handle<S extends z.ZodType>(spec: JobSpec<S>, run: (payload: z.output<S>, job: Job) => Promise<unknown>): JobHandler {
  return { spec, run: run as JobHandler['run'] };
}

/** Checks the registry at start-up: every declared job has exactly one handler, and no handler lacks a spec. */
export function checkJobRegistry(handlers: JobHandler[], specs: ReadonlyMap<string, JobSpec> = knownSpecs): Map<string, JobHandler> {
  const byName = new Map<string, JobHandler>();
  for (const h of handlers) {
    if (byName.has(h.spec.name)) throw new Error(`job "${h.spec.name}" has two handlers`);
    if (specs.get(h.spec.name) !== h.spec) throw new Error(`job "${h.spec.name}" has a handler but no spec`);
    byName.set(h.spec.name, h);
  }
  const missing = [...specs.keys()].filter((n) => !byName.has(n));
  if (missing.length) throw new Error(`jobs without a handler: ${missing.join(', ')}`);
  return byName;
}

export interface EnqueueOptions {
  /** Deterministic id: a second enqueue with the same id is a no-op while the first is kept. */
  jobId?: string;
  runAt?: Date;
  delayMs?: number;
}

const QUEUE_NAME = 'jobs';

// NOTE: BullMQ refuses custom job ids containing ':' (except its own 3-part repeatable ids), while
// modules name scheduled work `invoice-settle:<id>`; ids are encoded so any string is a valid id.
export function bullJobId(jobId: string): string {
  return encodeURIComponent(jobId);
}

/** The app's job queue (producer side) and, in worker roles, its workers. */
export class Queues {
  readonly queue: Queue;
  private readonly connection: Redis;
  private worker?: Worker;
  private workerConnection?: Redis;

  constructor(private readonly redisUrl: string, private readonly prefix: string, private readonly logger: Logger, private readonly clock: () => Date = () => new Date()) {
    // NOTE: producers fail fast when Redis is down instead of queueing commands in memory.
    this.connection = new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    this.connection.on('error', (err) => logger.warn({ err: err.message }, 'queue redis error'));
    this.queue = new Queue(QUEUE_NAME, { connection: this.connection, prefix });
  }

  private delayFor(opts: EnqueueOptions): number {
    if (opts.runAt) return Math.max(0, opts.runAt.getTime() - this.clock().getTime());
    return Math.max(0, opts.delayMs ?? 0);
  }

  /** Validates the payload against the spec and adds the job. */
  async enqueue<S extends z.ZodType>(spec: JobSpec<S>, payload: z.input<S>, opts: EnqueueOptions = {}): Promise<void> {
    parse(spec.schema, payload, `job ${spec.name}`);
    await this.queue.add(spec.name, payload, this.jobOptions(spec, opts));
  }

  private jobOptions(spec: JobSpec, opts: EnqueueOptions): JobsOptions {
    return {
      jobId: opts.jobId === undefined ? undefined : bullJobId(opts.jobId),
      delay: this.delayFor(opts),
      attempts: spec.attempts,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
      removeOnFail: { age: 30 * 24 * 3600 },
    };
  }

  /** Validates every payload and adds the jobs in one round trip (deterministic ids dedupe as with `enqueue`). */
  async enqueueMany<S extends z.ZodType>(spec: JobSpec<S>, jobs: readonly { payload: z.input<S>; opts?: EnqueueOptions }[]): Promise<void> {
    if (jobs.length === 0) return;
    for (const job of jobs) parse(spec.schema, job.payload, `job ${spec.name}`);
    await this.queue.addBulk(jobs.map((job) => ({ name: spec.name, data: job.payload, opts: this.jobOptions(spec, job.opts ?? {}) })));
  }

  /** The stored job with a deterministic id (as given to enqueue), if Redis still holds it. */
  async getJob(jobId: string): Promise<Job | undefined> {
    return this.queue.getJob(bullJobId(jobId));
  }

  /**
   * Drops pending jobs by their deterministic ids (as given to enqueue) when their work was done
   * another way; a job already running is left to finish (its handler finds the work done). Returns
   * how many were dropped.
   */
  async discard(jobIds: readonly string[]): Promise<number> {
    const removed = await Promise.all(jobIds.map((id) => this.queue.remove(bullJobId(id), { removeChildren: false })));
    return removed.filter((n) => n === 1).length;
  }

  /**
   * A recurring job (BullMQ job scheduler, one per id however many workers call this): recovery
   * sweeps and similar housekeeping that must run even if a one-off delayed job was lost.
   */
  async every<S extends z.ZodType>(spec: JobSpec<S>, payload: z.input<S>, schedulerId: string, everyMs: number): Promise<void> {
    parse(spec.schema, payload, `job ${spec.name}`);
    await this.queue.upsertJobScheduler(schedulerId, { every: everyMs }, { name: spec.name, data: payload, opts: { attempts: spec.attempts, removeOnComplete: { count: 100 }, removeOnFail: { count: 1000 } } });
  }

  /** Moves a scheduled job to a new time; adds it if it is not waiting any more. Never duplicates it. */
  async reschedule<S extends z.ZodType>(spec: JobSpec<S>, payload: z.input<S>, jobId: string, runAt: Date): Promise<void> {
    const existing = await this.queue.getJob(bullJobId(jobId));
    if (existing) {
      const state = await existing.getState();
      if (state === 'delayed') {
        await existing.changeDelay(this.delayFor({ runAt }));
        return;
      }
      if (state === 'waiting' || state === 'active' || state === 'prioritized' || state === 'waiting-children') {
        // NOTE: already due or running; the handler re-reads the database and re-schedules itself if early.
        return;
      }
      await existing.remove().catch(() => undefined);
    }
    await this.enqueue(spec, payload, { jobId, runAt });
  }

  /** Starts the worker that runs every registered handler; each job runs in its own request context. */
  startWorker(handlers: JobHandler[], concurrency = 4): Worker {
    const byName = checkJobRegistry(handlers);
    this.workerConnection = new Redis(this.redisUrl, { maxRetriesPerRequest: null });
    this.workerConnection.on('error', (err) => this.logger.warn({ err: err.message }, 'worker redis error'));
    this.worker = new Worker(
      QUEUE_NAME,
      async (job) => {
        const handler = byName.get(job.name);
        if (!handler) throw new Error(`no handler for job ${job.name}`);
        return runWithContext({ requestId: `job:${job.name}:${job.id}` }, async () => {
          const payload = parse(handler.spec.schema, job.data, `job ${job.name}`);
          return handler.run(payload, job);
        });
      },
      // NOTE: after a lost Redis connection BullMQ waits runRetryDelay (15 s by default) before it
      // fetches again, and a restart can cost two such waits: jobs the sweeps queued after Redis came
      // back empty then sat 30 s and more. One second keeps the worker's restart within a sweep interval.
      { connection: this.workerConnection, prefix: this.prefix, concurrency, runRetryDelay: 1000 },
    );
    this.worker.on('failed', (job, err) => {
      handleError(err, this.logger, { job: job?.name, jobId: job?.id, attempt: job?.attemptsMade });
    });
    this.worker.on('error', (err) => this.logger.warn({ err: err.message }, 'worker error'));
    return this.worker;
  }

  /** Stops taking new jobs (running ones finish); `resumeWorker` takes them again. */
  pauseWorker(): void {
    void this.worker?.pause(true).catch(() => undefined);
  }

  resumeWorker(): void {
    this.worker?.resume();
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.connection.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
    this.workerConnection?.disconnect();
    this.connection.disconnect();
  }
}
