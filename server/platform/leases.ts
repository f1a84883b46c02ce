// Named leases in Redis: at most one process holds a lease at a time (`SET key holder NX PX ttl`),
// renews it and releases it only while the value is still its own (Lua), and loses it when it stops
// renewing (a process that died). The holder remembers when its lease surely still runs, so asking
// "do I hold it?" on a hot path costs no round trip: the answer is trusted until shortly before the
// expiry, and the lease is renewed in the background once half of it is used.
//
// A lease is a performance device, never a guarantee: Redis can lose it (restart, failover) and a
// paused process can outlive its lease, so whatever must be right is fenced elsewhere (the round's
// compare-and-set on its sequence, for the owner of a round).
import type { Redis } from 'ioredis';
import { INSTANCE } from './instance';

const ACQUIRE = `
local v = redis.call('get', KEYS[1])
if v == false then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return ARGV[1] end
if v == ARGV[1] then redis.call('pexpire', KEYS[1], ARGV[2]) end
return v`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

/** Until when (monotonic ms) a held lease is trusted, and from when it is renewed. */
interface Held {
  trustedUntil: number;
  renewFrom: number;
  renewing?: Promise<unknown>;
}

// NOTE: the holder trusts its lease until 80 % of the time-to-live counted from when it SENT the
// command, which is before Redis started the expiry: the last fifth covers a clock running a bit
// fast and Redis's expiry granularity. Renewal starts at a third, so a lease in use never lapses.
const TRUSTED_SHARE = 0.8;
const RENEW_SHARE = 1 / 3;

const open = new Set<Leases>();

/** The leases of one kind (one key prefix and time-to-live) as seen by one holder. */
export class Leases {
  private readonly held = new Map<string, Held>();
  private shut = false;

  constructor(
    readonly redis: Redis,
    private readonly keyPrefix: string,
    readonly ttlMs: number,
    readonly holder: string = INSTANCE,
    private readonly clock: () => number = () => performance.now(),
  ) {
    open.add(this);
  }

  /** Whether `close()` ran: no lease is taken or renewed any more. */
  get closed(): boolean {
    return this.shut;
  }

  /** The Redis key of a lease (its value is the holder). */
  key(name: string): string {
    return `${this.keyPrefix}:${name}`;
  }

  /**
   * Whether this holder holds the lease, from what it knows (no round trip); a lease past a third of
   * its life is renewed in the background meanwhile.
   */
  holds(name: string): boolean {
    const h = this.held.get(name);
    if (!h) return false;
    const at = this.clock();
    if (at >= h.trustedUntil) {
      this.held.delete(name);
      return false;
    }
    if (at >= h.renewFrom && !h.renewing) {
      h.renewing = this.renew(name)
        .catch(() => false)
        .finally(() => {
          h.renewing = undefined;
        });
    }
    return true;
  }

  /** Takes the lease if it is free, renews it if it is this holder's; answers who holds it now. */
  async acquire(name: string): Promise<string | null> {
    if (this.shut) return this.redis.get(this.key(name));
    const sentAt = this.clock();
    const owner = (await this.redis.eval(ACQUIRE, 1, this.key(name), this.holder, String(this.ttlMs))) as string;
    if (owner === this.holder) this.trust(name, sentAt);
    else this.held.delete(name);
    return owner;
  }

  /** Extends the lease if it is still this holder's; false if it is not (any more). */
  async renew(name: string): Promise<boolean> {
    const sentAt = this.clock();
    const renewed = (await this.redis.eval(RENEW, 1, this.key(name), this.holder, String(this.ttlMs))) === 1;
    if (renewed && !this.shut) this.trust(name, sentAt);
    else this.held.delete(name);
    return renewed;
  }

  /** Gives the lease up if it is still this holder's; false if it was not. */
  async release(name: string): Promise<boolean> {
    this.held.delete(name);
    return (await this.redis.eval(RELEASE, 1, this.key(name), this.holder)) === 1;
  }

  /** Who holds the lease now, as Redis says (null: nobody). */
  holderOf(name: string): Promise<string | null> {
    return this.redis.get(this.key(name));
  }

  /** Releases every lease this holder knows it holds and takes no more (graceful shutdown). */
  async close(): Promise<void> {
    this.shut = true;
    open.delete(this);
    await Promise.all([...this.held.keys()].map((name) => this.release(name).catch(() => false)));
  }

  private trust(name: string, sentAt: number): void {
    this.held.set(name, { trustedUntil: sentAt + this.ttlMs * TRUSTED_SHARE, renewFrom: sentAt + this.ttlMs * RENEW_SHARE });
  }
}

/** Releases the leases of every `Leases` of this process (at shutdown, while Redis is still there). */
export async function releaseHeldLeases(): Promise<void> {
  await Promise.all([...open].map((l) => l.close()));
}
