// Waiting for what follows a command in the background (jobs, events, pushes). A wait is never a
// timing assertion: a test states how long the thing normally takes, and on a loaded machine (CI
// with two cores, browsers and child processes running) it is given at least PATIENCE_MS before the
// test fails; a fast machine is not slowed down, since polling ends as soon as the condition holds.
export const PATIENCE_MS = 20_000;

/** Polls `fn` until it gives a truthy value, for at least `ms` (and never less than PATIENCE_MS). */
export async function until<T>(fn: () => Promise<T> | T, ms = 8000, what = 'condition', everyMs = 40): Promise<NonNullable<T>> {
  const limit = Math.max(ms, PATIENCE_MS);
  const start = Date.now();
  for (;;) {
    const value = await fn();
    if (value) return value as NonNullable<T>;
    if (Date.now() - start > limit) throw new Error(`${what} not met within ${limit} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
