import { expect } from 'chai';
import { z } from 'zod';
import { DomainEvent, recordDomainEvent, subscribe } from '../../server/platform/events';
import { checkJobRegistry, defineJob, handle } from '../../server/platform/queues';
import { jobHandlers } from '../../jobs';
import { trusted } from '../../server/platform/mongo';
import { testApp } from '../support/global';

async function until(fn: () => Promise<boolean>, ms = 5000): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}

describe('jobs and domain events', () => {
  it('the job registry has exactly one handler per declared job', () => {
    expect(() => checkJobRegistry(jobHandlers)).not.to.throw();
    const spec = defineJob(`test.dup.${Date.now()}`, z.object({}));
    expect(() => checkJobRegistry([...jobHandlers, handle(spec, async () => undefined), handle(spec, async () => undefined)])).to.throw(/two handlers/);
    expect(() => checkJobRegistry(jobHandlers)).to.throw(/without a handler/);
  });

  it('refuses to enqueue a payload that fails its schema', async () => {
    const spec = defineJob(`test.schema.${Date.now()}`, z.object({ id: z.string().regex(/^[a-f0-9]{24}$/) }).strict());
    let err: unknown;
    try {
      await testApp().platform.queues.enqueue(spec, { id: 'nope' } as never);
    } catch (e) {
      err = e;
    }
    expect(err).to.have.property('code', 'VALIDATION_FAILED');
  });

  it('records a domain event once per fact and dispatches it to subscribers once, however often it is repeated', async () => {
    const type = `test.fact.${Date.now()}`;
    let seen = 0;
    subscribe(type, async () => {
      seen += 1;
    });
    const key = `${type}:order-1:late`;
    const results = await Promise.all([recordDomainEvent(type, key, { orderId: 'o1' }), recordDomainEvent(type, key, { orderId: 'o1' }), recordDomainEvent(type, key, { orderId: 'o1' })]);
    expect(results.filter(Boolean)).to.have.length(1);
    await until(async () => Boolean(await DomainEvent.exists({ key, dispatchedAt: trusted({ $type: 'date' }) })));
    await recordDomainEvent(type, key, { orderId: 'o1' });
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).to.equal(1);
    expect(await DomainEvent.countDocuments({ key })).to.equal(1);
  });
});
