// What is wrong with one field of a request, as a message in the reader's language. zod's own issue
// texts are English sentences; here each issue becomes a catalogue key (`validationIssues.*`) with its
// parameters. A schema that needs its own wording gives a key as the issue's message, e.g.
// `.refine(ok, 'validationIssues.realDate')`; any other custom text is shown as "is invalid".
import type { z } from 'zod';
import { msg, type Message } from './messages';

const KEY = /^validationIssues\.[A-Za-z]+$/;
const TYPES = new Set(['string', 'number', 'int', 'boolean', 'array', 'object', 'date', 'bigint']);
const FORMATS = new Set(['email', 'datetime', 'date', 'url', 'uuid']);

type Issue = z.core.$ZodIssue;

/** The issue's own key, when the schema wrote one. */
const ownKey = (issue: Issue): string | undefined => (KEY.test(issue.message) ? issue.message : undefined);

const bound = (n: number | bigint) => (typeof n === 'bigint' ? n.toString() : n);

/** One zod issue as a message (a catalogue key with parameters). */
export function issueMessage(issue: Issue): Message {
  const key = ownKey(issue);
  if (key) return msg(key);
  switch (issue.code) {
    case 'invalid_type': {
      // NOTE: zod reports a missing field as a type error whose text ends "received undefined".
      if (/received undefined$/.test(issue.message)) return msg('validationIssues.required');
      const expected = String(issue.expected);
      return TYPES.has(expected) ? msg('validationIssues.invalidType', { expected: { msg: `validationIssues.types.${expected}` } }) : msg('validationIssues.invalid');
    }
    case 'too_small': {
      const minimum = bound(issue.minimum);
      if (issue.origin === 'string') return Number(minimum) <= 1 ? msg('validationIssues.required') : msg('validationIssues.minLength', { minimum });
      if (issue.origin === 'array' || issue.origin === 'set') return msg('validationIssues.minItems', { minimum });
      return msg(issue.inclusive === false ? 'validationIssues.minExclusive' : 'validationIssues.min', { minimum });
    }
    case 'too_big': {
      const maximum = bound(issue.maximum);
      if (issue.origin === 'string') return msg('validationIssues.maxLength', { maximum });
      if (issue.origin === 'array' || issue.origin === 'set') return msg('validationIssues.maxItems', { maximum });
      return msg(issue.inclusive === false ? 'validationIssues.maxExclusive' : 'validationIssues.max', { maximum });
    }
    case 'invalid_format':
      return FORMATS.has(issue.format) ? msg(`validationIssues.formats.${issue.format}`) : msg('validationIssues.format');
    case 'invalid_value':
      return msg('validationIssues.oneOf', { values: { list: issue.values.map((v) => String(v)) } });
    case 'unrecognized_keys':
      return msg('validationIssues.unknownFields', { keys: { list: issue.keys } });
    case 'not_multiple_of':
      return msg('validationIssues.multipleOf', { divisor: bound(issue.divisor as number | bigint) });
    default:
      return msg('validationIssues.invalid');
  }
}

/** A zod issue as the detail a reply carries: where, which field, what is wrong (a message), the zod code. */
export function issueDetail(issue: Issue, where?: string): { in?: string; path: string; message: Message; code: string } {
  return { ...(where ? { in: where } : {}), path: issue.path.map(String).join('.'), message: issueMessage(issue), code: issue.code };
}
