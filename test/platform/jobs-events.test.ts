import { expect } from 'chai';
import { z } from 'zod';
import { defineEvent, OutboxEvent } from '../../server/platform/events';
import { onEvent } from '../../server/platform/relay';
import { publishFact } from '../support/events';
import { checkJobRegistry, handle, jobSpec } from '../../server/platform/queues';
import { jobHandlers } from '../../jobs';
import { trusted } from '../../server/platform/mongo';
import { testApp } from '../support/global';
import { until } from '../support/wait';


describe('jobs and domain events', () => {
  it('the job registry has exactly one handler per declared job', () => {
    expect(() => checkJobRegistry(jobHandlers)).not.to.throw();
    const a = jobSpec('test.a', z.object({}));
    const b = jobSpec('test.b', z.object({}));
    const specs = new Map([
      [a.name, a],
      [b.name, b],
    ]);
    expect(() => checkJobRegistry([handle(a, async () => undefined), handle(a, async () => undefined), handle(b, async () => undefined)], specs)).to.throw(/two handlers/);
    expect(() => checkJobRegistry([handle(a, async () => undefined)], specs)).to.throw(/without a handler: test\.b/);
    const stray = jobSpec('test.stray', z.object({}));
    expect(() => checkJobRegistry([handle(a, async () => undefined), handle(b, async () => undefined), handle(stray, async () => undefined)], specs)).to.throw(/no spec/);
  });

  it('refuses to enqueue a payload that fails its schema', async () => {
    const spec = jobSpec('test.schema', z.object({ id: z.string().regex(/^[a-f0-9]{24}$/) }).strict());
    let err: unknown;
    try {
      await testApp().platform.queues.enqueue(spec, { id: 'nope' } as never);
    } catch (e) {
      err = e;
    }
    expect(err).to.have.property('code', 'VALIDATION_FAILED');
  });

  it('records a domain event once per fact and dispatches it to subscribers once, however often it is repeated', async () => {
    const fact = defineEvent(`test.fact.${Date.now()}`, z.object({ orderId: z.string() }).strict());
    let seen = 0;
    testApp().relay.subscribe(onEvent(fact, `test.counter.${fact.name}`, () => void (seen += 1)));
    const key = `${fact.name}:order-1:late`;
    await Promise.all([publishFact(fact, { orderId: 'o1' }, key), publishFact(fact, { orderId: 'o1' }, key), publishFact(fact, { orderId: 'o1' }, key)]);
    await until(async () => Boolean(await OutboxEvent.exists({ key, dispatchedAt: trusted({ $type: 'date' }) })));
    await publishFact(fact, { orderId: 'o1' }, key);
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).to.equal(1);
    expect(await OutboxEvent.countDocuments({ key })).to.equal(1);
  });
});
