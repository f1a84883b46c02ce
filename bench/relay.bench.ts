// The outbox relay: how long from a unit of work's commit until its subscriber has run (the lag a
// notification or a push adds), against a bare BullMQ job round trip (add → worker ran it → event
// seen by the producer) on the same Redis in the same run — the old way of handing a fact over.
// Also the cost of a unit of work itself: a command writing one document with an audit entry and
// one event, against the same insert without them.
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import mongoose, { Schema } from 'mongoose';
import { z } from 'zod';
import { defineEvent } from '../server/platform/events';
import { msg } from '../server/platform/messages';
import { onEvent } from '../server/platform/relay';
import { withCommand } from '../server/platform/unit-of-work';
import { startBenchApp } from './harness';
import { percentile, type BenchRow } from './lib';

const N = Number(process.env.BENCH_RELAY_N ?? 400);

const BenchFact = defineEvent('bench.fact', z.object({ i: z.number().int() }).strict());
const Thing = mongoose.models.BenchThing ?? mongoose.model('BenchThing', new Schema({ i: Number, at: Date }, { collection: 'bench_things', versionKey: false }));

export default async function relayBench(): Promise<BenchRow[]> {
  const { app, close } = await startBenchApp('relay');
  try {
    const relay = app.relay;
    const done = new Map<number, () => void>();
    relay.subscribe(onEvent(BenchFact, 'bench.count', (e) => done.get(e.payload.i)?.()));
    relay.measureLag = true;

    // Warm-up, then one command at a time: commit → subscriber done.
    const lag: number[] = [];
    const command: number[] = [];
    for (let i = 0; i < N + 50; i += 1) {
      const seen = new Promise<void>((resolve) => done.set(i, resolve));
      const t0 = performance.now();
      await withCommand(null, async (uow) => {
        await Thing.create([{ i, at: uow.at }], { session: uow.session });
        uow.audit({ action: 'bench.write', targetType: 'bench', summary: msg('bench', { i }) });
        uow.emit(BenchFact, { i }, { key: `bench:${i}:${app.platform.config.queuePrefix}` });
      });
      const t1 = performance.now();
      await seen;
      const t2 = performance.now();
      if (i >= 50) {
        command.push(t1 - t0);
        lag.push(t2 - t1);
      }
    }

    // The same document inserted alone, no transaction, no audit, no event.
    const bare: number[] = [];
    for (let i = 0; i < N + 50; i += 1) {
      const t0 = performance.now();
      await Thing.create({ i, at: new Date() });
      if (i >= 50) bare.push(performance.now() - t0);
    }

    // A bare BullMQ round trip: the producer adds a job and hears it completed.
    const connection = new Redis({ ...(app.platform.redis.options as object), maxRetriesPerRequest: null } as never);
    const prefix = `${app.platform.config.queuePrefix}-bare`;
    const queue = new Queue('bare', { connection, prefix });
    const events = new QueueEvents('bare', { connection: connection.duplicate(), prefix });
    await events.waitUntilReady();
    const worker = new Worker('bare', async () => 'ok', { connection: connection.duplicate(), prefix, concurrency: 1 });
    await worker.waitUntilReady();
    const bull: number[] = [];
    for (let i = 0; i < N + 50; i += 1) {
      const t0 = performance.now();
      const job = await queue.add('j', { i }, { removeOnComplete: true });
      await job.waitUntilFinished(events);
      if (i >= 50) bull.push(performance.now() - t0);
    }
    await worker.close();
    await events.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    connection.disconnect();

    // The relay's own measure: from the commit until the subscriber ran AND the event was marked
    // dispatched in the database (the subscriber itself is called a few microtasks after the commit).
    const settled = relay.stats.lagMs.slice(-N);
    return [
      { name: 'relay: commit → subscriber called, p50', value: percentile(lag, 50), unit: 'ms', baselineName: 'BullMQ job round trip p50', baseline: percentile(bull, 50), ratio: percentile(lag, 50) / percentile(bull, 50), ratioNote: 'lower is better' },
      { name: 'relay: commit → subscriber done + marked dispatched, p50', value: percentile(settled, 50), unit: 'ms', baselineName: 'BullMQ job round trip p50', baseline: percentile(bull, 50), ratio: percentile(settled, 50) / percentile(bull, 50), ratioNote: 'lower is better' },
      { name: 'relay: commit → subscriber done + marked dispatched, p99', value: percentile(settled, 99), unit: 'ms', baselineName: 'BullMQ job round trip p99', baseline: percentile(bull, 99), ratio: percentile(settled, 99) / percentile(bull, 99), ratioNote: 'lower is better' },
      { name: 'unit of work (insert + audit + event), p50', value: percentile(command, 50), unit: 'ms', baselineName: 'the insert alone p50', baseline: percentile(bare, 50), ratio: percentile(command, 50) / percentile(bare, 50), ratioNote: 'cost of committing the consequences' },
    ];
  } finally {
    await close();
  }
}
