/** `{{#if (or a b)}}`: the first truthy argument, else the last one. */
export function or(...args: unknown[]): unknown {
  const values = args.slice(0, -1);
  return values.find(Boolean) ?? values[values.length - 1];
}
