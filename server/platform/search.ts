import { pinyin } from 'pinyin-pro';
import type { Model } from 'mongoose';
import { trusted } from './mongo';

/** The longest search input looked at; longer input is cut (the schemas refuse it before this). */
export const MAX_SEARCH_INPUT = 100;

const HAN = /\p{Script=Han}/u;

/** Lower-case ASCII letters and digits of a pinyin syllable or a non-Chinese run; everything else is dropped. */
function keep(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Pinyin initials of a name, lower case: 尿激酶 → "njm"; letters and digits outside Chinese are kept as they are. */
export function nameInitials(name: string): string {
  return pinyin(name, { pattern: 'first', toneType: 'none', type: 'array' }).map(keep).join('');
}

/** Full pinyin of a name without tones or spaces, lower case: 尿激酶 → "niaojimei". */
export function namePinyin(name: string): string {
  return pinyin(name, { toneType: 'none', type: 'array', v: true }).map(keep).join('');
}

/** The stored search keys of a name (drugs and organisations keep both, indexed). */
export function nameSearchKeys(name: string): { nameInitials: string; namePinyin: string } {
  return { nameInitials: nameInitials(name), namePinyin: namePinyin(name) };
}

/** Escapes every regular-expression metacharacter so input matches itself literally. */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** What a person typed, classified. */
export type SearchInput =
  | { kind: 'empty' }
  /** Contains Chinese only (and maybe spaces/punctuation): a name fragment. */
  | { kind: 'name'; text: string }
  /** Letters and digits only: pinyin initials, full pinyin, a code prefix or an English name fragment. */
  | { kind: 'latin'; text: string; compact: string }
  /** Chinese mixed with letters (e.g. "zsy尿"): matched as initials, the Chinese turned into its initials. */
  | { kind: 'mixed'; text: string; initials: string };

/** Classifies search input (trimmed, at most MAX_SEARCH_INPUT characters). */
export function classifySearch(raw: string | undefined | null): SearchInput {
  const text = (raw ?? '').normalize('NFKC').trim().slice(0, MAX_SEARCH_INPUT);
  if (!text) return { kind: 'empty' };
  const han = HAN.test(text);
  const latin = /[A-Za-z0-9]/.test(text);
  if (han && latin) return { kind: 'mixed', text, initials: nameInitials(text) };
  if (han) return { kind: 'name', text };
  const compact = keep(text);
  if (!compact) return { kind: 'name', text };
  return { kind: 'latin', text, compact };
}

/** Where a collection keeps the fields a search looks at. */
export interface SearchFields {
  /** The display name (Chinese), matched by substring for Chinese input. */
  name: string;
  /** Lower-cased free text (names in every language, maker), matched by substring for Latin input. */
  text?: string;
  /** Code fields, matched by prefix (upper case). */
  codes?: string[];
  initials?: string;
  pinyin?: string;
}

const prefix = (s: string) => trusted({ $regex: `^${escapeRegex(s)}` });
const contains = (s: string) => trusted({ $regex: escapeRegex(s) });

/**
 * Turns what a person typed into a Mongo filter clause (`{ $or: [...] }`) over the given fields, or
 * null for empty input. Initials, pinyin and codes are anchored prefixes (an index range); a Chinese
 * fragment and an English word are substrings (the name may start with 注射用 or carry a salt).
 * Every character of the input is escaped: it matches itself, never a pattern.
 */
export function searchFilter(raw: string | undefined | null, fields: SearchFields): Record<string, unknown> | null {
  const input = classifySearch(raw);
  const initials = fields.initials ?? 'nameInitials';
  const full = fields.pinyin ?? 'namePinyin';
  switch (input.kind) {
    case 'empty':
      return null;
    case 'name':
      return { $or: [{ [fields.name]: contains(input.text) }] };
    case 'mixed':
      return { $or: [{ [fields.name]: contains(input.text) }, { [initials]: prefix(input.initials) }] };
    case 'latin': {
      const or: Record<string, unknown>[] = [{ [initials]: prefix(input.compact) }, { [full]: prefix(input.compact) }];
      if (fields.text) or.push({ [fields.text]: contains(input.text.toLowerCase()) });
      else or.push({ [fields.name]: trusted({ $regex: escapeRegex(input.text), $options: 'i' }) });
      for (const code of fields.codes ?? []) or.push({ [code]: prefix(input.text.toUpperCase()) });
      return { $or: or };
    }
  }
}

/**
 * Sets the search keys of every document of `model` stored without them (documents from before the
 * keys existed), in batches; returns how many it set. Idempotent: a document that has its keys is
 * never touched again, and two processes doing this at once write the same values.
 */
export async function backfillSearchKeys(model: Model<any>, nameField: string, batch = 500): Promise<number> {
  let done = 0;
  for (;;) {
    const rows = await model.find({ nameInitials: trusted({ $exists: false }) }, { [nameField]: 1 }).limit(batch).lean<Record<string, unknown>[]>();
    if (rows.length === 0) return done;
    for (const row of rows) {
      await model.updateOne({ _id: row._id, nameInitials: trusted({ $exists: false }) }, { $set: nameSearchKeys(String(row[nameField] ?? '')) });
    }
    done += rows.length;
  }
}
