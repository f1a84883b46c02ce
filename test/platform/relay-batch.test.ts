import { expect } from 'chai';
import { z } from 'zod';
import { defineEvent, OutboxEvent, type DomainEvent } from '../../server/platform/events';
import { trusted } from '../../server/platform/mongo';
import { onEvent, onEvents } from '../../server/platform/relay';
import { withCommand } from '../../server/platform/unit-of-work';
import { redeliver } from '../support/events';
import { testApp } from '../support/global';
import { until } from '../support/wait';

let n = 0;
const unique = (what: string) => `test.${what}.${Date.now()}.${(n += 1)}`;

/** Commits the facts in one unit of work, as a command that settles many things at once does. */
async function commitFacts(facts: { spec: ReturnType<typeof defineEvent>; payload: Record<string, unknown>; key: string }[]): Promise<void> {
  await withCommand(null, async (uow) => {
    for (const f of facts) uow.emit(f.spec, f.payload, { key: f.key });
  });
}

const dispatched = async (keys: string[]) => (await OutboxEvent.countDocuments({ key: trusted({ $in: keys }), dispatchedAt: trusted({ $type: 'date' }) })) === keys.length;

describe('relay: facts committed together', () => {
  it('hands a batch subscriber the facts of one commit in one call, keeps each thing\'s facts in commit order, and records every receipt', async () => {
    const opened = defineEvent(unique('opened'), z.object({ orderId: z.string(), n: z.number() }).strict());
    const closed = defineEvent(unique('closed'), z.object({ orderId: z.string(), n: z.number() }).strict());
    const calls: number[] = [];
    const seen: string[] = [];
    testApp().relay.subscribe(
      onEvents(opened, `${opened.name}.batch`, (events) => {
        calls.push(events.length);
        for (const e of events) seen.push(`open:${e.payload.orderId}`);
      }),
    );
    testApp().relay.subscribe(onEvent(closed, `${closed.name}.one`, (e) => void seen.push(`close:${e.payload.orderId}`)));
    const facts = Array.from({ length: 30 }, (_, i) => i).flatMap((i) => [
      { spec: opened, payload: { orderId: `o${i}`, n: i }, key: `${opened.name}:${i}` },
      { spec: closed, payload: { orderId: `o${i}`, n: i }, key: `${closed.name}:${i}` },
    ]);
    await commitFacts(facts);
    await testApp().relay.idle();
    expect(calls, 'one call for the 30 facts of its type').to.deep.equal([30]);
    for (let i = 0; i < 30; i += 1) expect(seen.indexOf(`open:o${i}`), `o${i} opened before it closed`).to.be.lessThan(seen.indexOf(`close:o${i}`));
    expect(await dispatched(facts.map((f) => f.key))).to.equal(true);
    const stored = await OutboxEvent.find({ key: trusted({ $in: facts.map((f) => f.key) }) }, { handled: 1 }).lean<{ handled: string[] }[]>();
    expect(stored.every((r) => r.handled.length === 1)).to.equal(true);
  });

  it('a failing batch subscriber leaves its facts to the sweep, which hands them over again without repeating the subscribers that succeeded', async () => {
    const fact = defineEvent(unique('flaky'), z.object({ orderId: z.string() }).strict());
    let fail = true;
    const batches: DomainEvent[][] = [];
    let steady = 0;
    testApp().relay.subscribe(
      onEvents(fact, `${fact.name}.flaky`, (events) => {
        batches.push(events);
        if (fail) throw new Error('simulated subscriber failure');
      }),
    );
    testApp().relay.subscribe(onEvent(fact, `${fact.name}.steady`, () => void (steady += 1)));
    const keys = [0, 1, 2].map((i) => `${fact.name}:${i}`);
    await commitFacts(keys.map((key, i) => ({ spec: fact, payload: { orderId: `f${i}` }, key })));
    await testApp().relay.idle();
    expect(batches.map((b) => b.length)).to.deep.equal([3]);
    expect(steady).to.equal(3);
    const left = await OutboxEvent.find({ key: trusted({ $in: keys }) }).lean<{ dispatchedAt?: Date; attempts: number; handled: string[]; lastError?: string }[]>();
    expect(left.every((r) => !r.dispatchedAt && r.attempts === 1 && r.handled.join() === `${fact.name}.steady` && /simulated/.test(r.lastError ?? ''))).to.equal(true);

    fail = false;
    await OutboxEvent.updateMany({ key: trusted({ $in: keys }) }, { $unset: { nextAttemptAt: 1 } });
    await redeliver();
    expect(await dispatched(keys)).to.equal(true);
    expect(batches.map((b) => b.length), 'the sweep hands the three over together').to.deep.equal([3, 3]);
    expect(steady, 'the subscriber that succeeded is not run again').to.equal(3);
  });

  it('the sweep does not hand over again the facts its own relay still has queued', async () => {
    const fact = defineEvent(unique('slow'), z.object({ orderId: z.string() }).strict());
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    testApp().relay.subscribe(
      onEvent(fact, `${fact.name}.slow`, async () => {
        runs += 1;
        await gate;
      }),
    );
    const blocker = `${fact.name}:blocker`;
    const waiting = `${fact.name}:waiting`;
    // Two commits about the same order: the second waits in the relay behind the first.
    await commitFacts([{ spec: fact, payload: { orderId: 'same' }, key: blocker }]);
    await commitFacts([{ spec: fact, payload: { orderId: 'same' }, key: waiting }]);
    await until(async () => runs === 1);
    // A sweep with no grace period sees both undispatched: both belong to this process's relay.
    const sweep = testApp().relay.sweep(0, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(runs, 'handed over once').to.equal(1);
    const claimed = await OutboxEvent.countDocuments({ key: trusted({ $in: [blocker, waiting] }), claimedUntil: trusted({ $exists: true }) });
    expect(claimed, 'not claimed by the sweep').to.equal(0);
    release();
    await sweep;
    await testApp().relay.idle();
    expect(runs).to.equal(2);
    expect(await dispatched([blocker, waiting])).to.equal(true);
  });
});
