import type { z } from 'zod';
import { ValidationError } from './errors';

/** Parses `data` with `schema`, throwing the app's ValidationError with one detail per issue. */
export function parse<S extends z.ZodType>(schema: S, data: unknown, where = 'body'): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  throw new ValidationError({
    details: result.error.issues.map((i) => ({ in: where, path: i.path.join('.'), message: i.message, code: i.code })),
  });
}
