// One web process owns each live round: it holds the round's lease in Redis
// (`<prefix>:lease:round-owner:<roundId>`, valued with its instance id) and decides every quote change
// of the round against its book, a batch at a time; the other processes forward the quote changes they
// receive to it (platform/forwarding.ts) and answer what it answered. So a busy round's batches no
// longer collide on the round's compare-and-set, and its book stays fresh. The lease is taken by the
// first process that gets a quote for a round nobody owns, renewed by the owner while the round has
// quotes, lapses when it has none for a while, and is released at a graceful shutdown.
//
// The lease is never what keeps a round right: the batch's compare-and-set on the round's sequence
// still fences every commit, so two processes that both believe they own a round (Redis lost the
// key, a paused owner outlived its lease) cost a retry, never a wrong quote.
//
// NOTE (an owner that dies): a process that finds nobody listening as the owner (SIGKILL closes its
// Redis connections at once) waits for the lease to lapse (at most ROUND_LEASE_MS), takes it and
// decides there. A forward that got no answer is given up when the owner's lease lapses or passes to
// another process, and at the latest after twice the lease's time; the quote is then decided where
// it arrived (or at the new owner). The dead owner may have committed it before dying, its answer
// lost: a quote with a clientKey is then found in the book (or by `replayByClientKey`) and answered as
// a replay; a quote WITHOUT a clientKey is decided again as a revision at the same price, which the
// minimum-decrement rule refuses (422), so the client sees an error although its quote is stored —
// stored once, with the receipt time it was stamped with. No acknowledged quote is lost: an
// acknowledgement is only ever sent after the commit, by whichever process committed. A withdrawal
// in the same case is answered NO_ACTIVE_QUOTE (404) although it was made.
import { Types } from 'mongoose';
import { platform } from '../../platform/context';
import { ConflictError } from '../../platform/errors';
import { NoReply, requestAt, Unreachable, type ForwardedHandler } from '../../platform/forwarding';
import { Leases } from '../../platform/leases';
import type { Message } from '../../platform/messages';

/** A hop to a process that turned out not to own the round (any more) is tried again this often. */
const MAX_HOPS = 4;
const POLL_MS = 50;

let leases: Leases | undefined;

function roundLeases(): Leases {
  const { redis, config } = platform();
  if (!leases || leases.redis !== redis) leases = new Leases(redis, `${config.queuePrefix}:lease`, config.roundLeaseMs);
  return leases;
}

const leaseName = (roundId: string) => `round-owner:${roundId}`;

// NOTE: the owner another process named is remembered for a short while, so a process forwarding
// a busy round's quotes asks Redis once per interval instead of once per quote; a forward to an owner
// that stopped owning is answered with the new owner (or finds nobody) and is sent again.
const knownOwners = new Map<string, { owner: string; until: number }>();

/** Who decides the round's quotes: this process when it holds (or just took) the lease. */
async function ownerOf(roundId: string, remembered = false): Promise<string> {
  const l = roundLeases();
  const name = leaseName(roundId);
  if (l.holds(name)) return l.holder;
  const at = performance.now();
  if (remembered) {
    const known = knownOwners.get(roundId);
    if (known && at < known.until) return known.owner;
  }
  let owner: string;
  try {
    owner = (await l.acquire(name)) ?? l.holder;
  } catch {
    // NOTE: without Redis nobody can be asked; deciding here is safe (the compare-and-set fences it).
    return l.holder;
  }
  if (owner === l.holder) knownOwners.delete(roundId);
  else {
    if (knownOwners.size >= 1000) knownOwners.clear();
    knownOwners.set(roundId, { owner, until: at + l.ttlMs / 2 });
  }
  return owner;
}

/**
 * After `gone` (the owner) did not answer: waits until its lease lapsed or passed on, taking it if free,
 * for at most twice the lease's time; answers the owner then (this process if it still is `gone`:
 * the quote is decided here, fenced by the compare-and-set).
 */
async function ownerAfter(roundId: string, gone: string): Promise<string> {
  const l = roundLeases();
  const deadline = performance.now() + 2 * l.ttlMs;
  for (;;) {
    const owner = await ownerOf(roundId);
    if (owner !== gone) return owner;
    if (performance.now() >= deadline) return l.holder;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

type Answer<T> = { done: T } | { moved: string };

/** Runs the owner's work on the round, renewing the lease while it runs (a batch may wait on the database for long). */
async function whileOwning<T>(roundId: string, work: () => Promise<T>): Promise<T> {
  const l = roundLeases();
  const name = leaseName(roundId);
  const renew = setInterval(() => l.holds(name), l.ttlMs / 4);
  try {
    return await work();
  } finally {
    clearInterval(renew);
  }
}

/**
 * Runs `here` if this process owns the round (or takes its free lease); else asks the owner to run the
 * request registered as `kind` with `payload` (JSON) and answers what it answered, its refusals
 * included (same status, code, message key and details). `busy` is the refusal when the round's
 * owner cannot be settled.
 */
export async function atRoundOwner<T>(roundId: string, kind: string, payload: unknown, here: () => Promise<T>, busy: Message): Promise<T> {
  if (!Types.ObjectId.isValid(roundId)) return here();
  const l = roundLeases();
  let silent: string | undefined;
  for (let hop = 0; hop < MAX_HOPS; hop += 1) {
    const owner = silent ? await ownerAfter(roundId, silent) : await ownerOf(roundId, hop === 0);
    if (owner === l.holder) return whileOwning(roundId, here);
    try {
      const answer = (await requestAt(owner, kind, { roundId, payload }, {
        timeoutMs: 2 * l.ttlMs,
        // NOTE: an owner that died after taking the request loses its lease within its time: stop waiting then.
        stillWorthIt: async () => (await l.holderOf(leaseName(roundId))) === owner,
        checkEveryMs: Math.max(100, l.ttlMs / 2),
      })) as Answer<T>;
      if ('done' in answer) return answer.done;
      knownOwners.delete(roundId);
      silent = undefined;
    } catch (err) {
      if (!(err instanceof Unreachable || err instanceof NoReply)) throw err;
      knownOwners.delete(roundId);
      silent = owner;
    }
  }
  throw new ConflictError({ code: 'ROUND_BUSY', message: busy });
}

/** What the owner of a round runs for a request of `kind` forwarded to it; a process that does not own the round says who does. */
export function servedAtRoundOwner<P>(kind: string, handler: (payload: P) => Promise<unknown>): ForwardedHandler {
  return {
    kind,
    async handle({ roundId, payload }: { roundId: string; payload: P }): Promise<Answer<unknown>> {
      const owner = await ownerOf(roundId);
      if (owner !== roundLeases().holder) return { moved: owner };
      return { done: await whileOwning(roundId, () => handler(payload)) };
    },
  };
}

/** The instance that owns the round now, as Redis says (null: none). */
export function roundOwner(roundId: string): Promise<string | null> {
  return roundLeases().holderOf(leaseName(roundId));
}
