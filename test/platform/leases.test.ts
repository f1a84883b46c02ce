// The Redis lease (server/platform/leases.ts) against the real Redis: two holders in this process
// stand for two processes. Time is the holders' injected monotonic clock where trust is concerned;
// Redis's own expiry is met by a lease with a short time-to-live, waited for by polling.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Leases } from '../../server/platform/leases';
import { testApp } from '../support/global';
import { until } from '../support/wait';

describe('leases in Redis', () => {
  const made: Leases[] = [];
  const prefix = () => `${testApp().platform.config.queuePrefix}:test-lease`;
  const name = () => `thing:${randomBytes(4).toString('hex')}`;
  function holder(who: string, ttlMs = 60_000, clock?: () => number): Leases {
    const l = new Leases(testApp().platform.redis, prefix(), ttlMs, `${who}-${randomBytes(3).toString('hex')}`, clock);
    made.push(l);
    return l;
  }

  after(async () => {
    for (const l of made.splice(0)) await l.close();
  });

  it('lets the first holder take a free lease, tells the second who holds it, and stores the holder as the value', async () => {
    const [a, b] = [holder('a'), holder('b')];
    const n = name();
    expect(await a.acquire(n)).to.equal(a.holder);
    expect(await b.acquire(n)).to.equal(a.holder);
    expect(await testApp().platform.redis.get(a.key(n))).to.equal(a.holder);
    expect(a.holds(n)).to.equal(true);
    expect(b.holds(n)).to.equal(false);
    expect(await b.holderOf(n)).to.equal(a.holder);
  });

  it('renews and releases only a lease that is still the holder’s own', async () => {
    const [a, b] = [holder('a', 10_000), holder('b', 10_000)];
    const n = name();
    await a.acquire(n);
    const redis = testApp().platform.redis;
    await redis.pexpire(a.key(n), 1000);
    expect(await b.renew(n)).to.equal(false);
    expect(await b.release(n)).to.equal(false);
    expect(await redis.get(a.key(n)), 'b changed nothing').to.equal(a.holder);
    expect(await a.renew(n)).to.equal(true);
    expect(await redis.pttl(a.key(n))).to.be.above(1000);
    expect(await a.release(n)).to.equal(true);
    expect(await redis.get(a.key(n))).to.equal(null);
    expect(a.holds(n)).to.equal(false);
    expect(await b.acquire(n), 'free again: b takes it').to.equal(b.holder);
    expect(await a.release(n), 'a released it already').to.equal(false);
    expect(await redis.get(b.key(n))).to.equal(b.holder);
  });

  it('expires a lease its holder stops renewing, after which another holder takes it', async () => {
    const [a, b] = [holder('a', 300), holder('b', 300)];
    const n = name();
    expect(await a.acquire(n)).to.equal(a.holder);
    const taken = await until(async () => ((await b.acquire(n)) === b.holder ? true : undefined), 5000, 'b to take the expired lease', 50);
    expect(taken).to.equal(true);
    expect(await a.renew(n), 'a cannot renew what b holds').to.equal(false);
    expect(a.holds(n)).to.equal(false);
  });

  it('trusts a held lease without asking Redis until shortly before its expiry, renewing it in the background once a third is used', async () => {
    let t = 0;
    const a = holder('a', 9000, () => t);
    const n = name();
    await a.acquire(n);
    const redis = testApp().platform.redis;
    // Redis loses the key (a restart): the holder goes on trusting what it was told …
    await redis.del(a.key(n));
    t = 2000;
    expect(a.holds(n)).to.equal(true);
    // … and past a third of the time it renews, which fails, so it stops trusting the lease at once
    t = 3500;
    expect(a.holds(n)).to.equal(true);
    await until(() => !a.holds(n), 5000, 'the failed renewal to drop the lease');
    // a lease renewed in the background stays trusted past its first expiry
    await a.acquire(n);
    t = 3500 + 3100;
    expect(a.holds(n), 'renewal started').to.equal(true);
    await until(async () => (await redis.pttl(a.key(n))) > 8000, 5000, 'the background renewal');
    t = 3500 + 7500;
    expect(a.holds(n), 'trusted after the renewal').to.equal(true);
    t = 3500 + 3100 + 9000 * 0.8 + 1;
    expect(a.holds(n), 'not trusted at 80 % of the renewed time').to.equal(false);
  });

  it('releases every held lease at close and takes none after it', async () => {
    const a = holder('a');
    const [n1, n2] = [name(), name()];
    await a.acquire(n1);
    await a.acquire(n2);
    await a.close();
    const redis = testApp().platform.redis;
    expect(await redis.get(a.key(n1))).to.equal(null);
    expect(await redis.get(a.key(n2))).to.equal(null);
    expect(await a.acquire(n1), 'closed: says who holds it, takes nothing').to.equal(null);
    expect(await redis.get(a.key(n1))).to.equal(null);
  });
});
