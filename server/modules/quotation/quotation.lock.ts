// NOTE: quote changes on one round serialise on the round document anyway (each bumps its sequence
// in a transaction); queueing them per round inside the process avoids write-conflict retries
// between requests handled here, while other processes still meet the database's conflict check.
const tails = new Map<string, Promise<unknown>>();

/** Runs `fn` after every earlier `fn` for the same round in this process has settled. */
export function withRoundLock<T>(roundId: string, fn: () => Promise<T>): Promise<T> {
  const previous = tails.get(roundId) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const tail = run.catch(() => undefined);
  tails.set(roundId, tail);
  void tail.then(() => {
    if (tails.get(roundId) === tail) tails.delete(roundId);
  });
  return run;
}
