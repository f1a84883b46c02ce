import type { z } from 'zod';
import { ValidationError } from './errors';

/**
 * A query string without `lang`: the language switch (`?lang=zh|en`) is read by the app for every
 * page and route, so no query schema has to list it, and a strict one does not refuse it.
 */
export function withoutLangSwitch(data: unknown): unknown {
  if (!data || typeof data !== 'object' || Array.isArray(data) || !Object.hasOwn(data, 'lang')) return data;
  const { lang: _lang, ...rest } = data as Record<string, unknown>;
  return rest;
}

/** Parses `data` with `schema`, throwing the app's ValidationError with one detail per issue. */
export function parse<S extends z.ZodType>(schema: S, data: unknown, where = 'body'): z.output<S> {
  const result = schema.safeParse(where === 'query' ? withoutLangSwitch(data) : data);
  if (result.success) return result.data;
  throw new ValidationError({
    details: result.error.issues.map((i) => ({ in: where, path: i.path.join('.'), message: i.message, code: i.code })),
  });
}
