import type { RequestHandler } from 'express';
import type { z } from 'zod';
import { ValidationError } from './errors';
import { msg, type Message } from './messages';
import { issueDetail } from './validation-messages';

// NUL, or a UTF-16 surrogate without its partner: no legitimate text has them, and they break
// storage, logs, PDFs and exports downstream.
const BAD_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether a string holds a NUL or a lone surrogate. */
export function hasBadText(s: string): boolean {
  return BAD_TEXT.test(s);
}

interface TextIssue {
  in: string;
  path: string;
  message: Message;
  code: 'invalid_characters';
}

// NOTE: one path array is extended and shortened on the way down (a copy only for an issue found):
// the check runs on every socket payload and every committed fact, some with hundreds of entries.
function findBadText(value: unknown, path: (string | number)[], where: string, out: TextIssue[], depth = 0): void {
  if (out.length >= 20 || depth > 64) return;
  const issue = () => out.push({ in: where, path: path.join('.'), message: msg('validationIssues.badText'), code: 'invalid_characters' });
  if (typeof value === 'string') {
    if (BAD_TEXT.test(value)) issue();
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      path.push(i);
      findBadText(value[i], path, where, out, depth + 1);
      path.pop();
    }
  } else if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const k of Object.keys(value)) {
      path.push(k);
      if (BAD_TEXT.test(k)) issue();
      findBadText((value as Record<string, unknown>)[k], path, where, out, depth + 1);
      path.pop();
    }
  }
}

/** Whether any string or key in `value` holds bad text: the common, clean case walks once with no bookkeeping. */
function holdsBadText(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return BAD_TEXT.test(value);
  if (depth > 64 || !value || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) if (holdsBadText(value[i], depth + 1)) return true;
    return false;
  }
  if (Buffer.isBuffer(value)) return false;
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue;
    if (BAD_TEXT.test(k) || holdsBadText((value as Record<string, unknown>)[k], depth + 1)) return true;
  }
  return false;
}

/** Refuses input with a NUL or a lone surrogate anywhere in a string (or a key), naming each field. */
export function assertCleanText(data: unknown, where: string): void {
  // NOTE: the detailed walk (paths, one issue per field) runs only for input that has bad text;
  // every socket payload and committed fact is checked, and almost all are clean.
  if (!holdsBadText(data, 0)) return;
  const issues: TextIssue[] = [];
  findBadText(data, [], where, issues);
  if (issues.length > 0) throw new ValidationError({ details: issues });
}

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
  assertCleanText(data, where);
  const result = schema.safeParse(where === 'query' ? withoutLangSwitch(data) : data);
  if (result.success) return result.data;
  throw new ValidationError({
    details: result.error.issues.map((i) => issueDetail(i, where)),
  });
}

/** Applies the same text check to every request's query and parsed body (pages parse their forms themselves). */
export function cleanTextMiddleware(): RequestHandler {
  return (req, _res, next) => {
    assertCleanText(req.query, 'query');
    assertCleanText(req.body, 'body');
    next();
  };
}
