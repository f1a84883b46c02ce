/**
 * A resource of the calling describe block: made in a `before` hook, released in an `after` hook.
 * The returned function reads it inside hooks and tests (not while the block is being defined).
 */
export function perSuite<T>(what: string, make: () => Promise<T>, release: (value: T) => Promise<unknown> | void): () => T {
  let value: T | undefined;
  before(async () => {
    value = await make();
  });
  after(async () => {
    if (value !== undefined) await release(value);
  });
  return () => {
    if (value === undefined) throw new Error(`${what} is only there once the before hook of its describe block ran`);
    return value;
  };
}
