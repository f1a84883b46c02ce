// The reserved rate limit (server/platform/rate-limit.ts, used for every quote) against the real
// Redis: a process takes a subject's points a few at a time and spends them without a round trip,
// and Redis still counts every point handed out, so the limit holds across processes.
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { RateLimitedError } from '../../server/platform/errors';
import { consumeRateLimit, consumeReserved, grantedOnRefusal, reserveChunk } from '../../server/platform/rate-limit';
import { testApp } from '../support/global';

describe('reserved rate limit', () => {
  const subject = () => `subject-${randomBytes(4).toString('hex')}`;
  const name = () => `test-reserved-${randomBytes(3).toString('hex')}`;

  it('takes a twentieth of the limit at a time, between 1 and 50 points', () => {
    expect(reserveChunk(1)).to.equal(1);
    expect(reserveChunk(19)).to.equal(1);
    expect(reserveChunk(120)).to.equal(6);
    expect(reserveChunk(1_000_000)).to.equal(50);
  });

  it('grants what was left before a refused take, never more than asked', () => {
    expect(grantedOnRefusal(10, 6, 12)).to.equal(4);
    expect(grantedOnRefusal(10, 6, 16)).to.equal(0);
    expect(grantedOnRefusal(10, 6, 30)).to.equal(0);
    expect(grantedOnRefusal(10, 6, 6)).to.equal(6);
  });

  it('lets exactly the limit through to many callers at once and refuses the rest with 429 and a retry time', async () => {
    const [n, s] = [name(), subject()];
    const results = await Promise.allSettled(Array.from({ length: 130 }, () => consumeReserved(n, s, 120, 60)));
    const refused = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(120);
    expect(refused).to.have.length(10);
    for (const err of refused) {
      expect(err).to.be.instanceOf(RateLimitedError);
      expect((err as RateLimitedError).status).to.equal(429);
    }
  });

  it('spends reserved points without asking Redis each time, and Redis counts them as used for every other process', async () => {
    const [n, s] = [name(), subject()];
    const redis = testApp().platform.redis;
    const calls: string[] = [];
    const watch = (command: { name: string }) => calls.push(command.name);
    // NOTE: ioredis hands every command it sends to `sendCommand`; counting them is how the test sees the round trips.
    const original = redis.sendCommand.bind(redis);
    redis.sendCommand = ((command: { name: string }, stream?: unknown) => {
      watch(command);
      return original(command as never, stream as never);
    }) as typeof redis.sendCommand;
    try {
      for (let i = 0; i < 40; i += 1) await consumeReserved(n, s, 100, 60);
    } finally {
      redis.sendCommand = original as typeof redis.sendCommand;
    }
    // 40 points in chunks of 5: 8 takes, a little more with the take ahead of need, far fewer than 40.
    expect(calls.length).to.be.within(8, 12);
    // Another process (a plain consume of the same limit) sees the points this one took: at most 100 - 40 are left.
    let othersGot = 0;
    for (let i = 0; i < 100; i += 1) {
      try {
        await consumeRateLimit(n, s, 100, 60);
        othersGot += 1;
      } catch (err) {
        expect(err).to.be.instanceOf(RateLimitedError);
        break;
      }
    }
    expect(othersGot).to.be.at.most(60);
    expect(othersGot).to.be.at.least(50);
  });
});
