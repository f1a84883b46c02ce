import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type Lang = 'zh' | 'en';
export const LANGS: readonly Lang[] = ['zh', 'en'];
export const DEFAULT_LANG: Lang = 'zh';
/** The cookie the app sets when `?lang=` is given, so the choice sticks across pages. */
export const LANG_COOKIE = 'lang';

export type Catalogue = { [key: string]: string | Catalogue };
export type Vars = Record<string, unknown>;

const I18N_DIR = fileURLToPath(new URL('../../templates/i18n/', import.meta.url));

// NOTE: one file per module (templates/i18n/<lang>/<module>.json, plus core.json), each holding its
// own top-level keys, so a module's messages live beside each other and nowhere else.
function loadCatalogue(lang: Lang): Catalogue {
  const merged: Catalogue = {};
  for (const file of readdirSync(`${I18N_DIR}${lang}`).filter((f) => f.endsWith('.json')).sort()) {
    const part = JSON.parse(readFileSync(`${I18N_DIR}${lang}/${file}`, 'utf8')) as Catalogue;
    for (const [key, value] of Object.entries(part)) {
      if (Object.hasOwn(merged, key)) throw new Error(`i18n: top-level key "${key}" appears twice in templates/i18n/${lang}/`);
      merged[key] = value;
    }
  }
  return merged;
}

/** The message catalogues, read once at start-up from templates/i18n/<lang>/*.json. */
export const catalogues: Readonly<Record<Lang, Catalogue>> = Object.freeze({
  zh: loadCatalogue('zh'),
  en: loadCatalogue('en'),
});

export function isLang(value: unknown): value is Lang {
  return value === 'zh' || value === 'en';
}

/** The message (or sub-catalogue) at a dotted key, or undefined. */
export function lookup(catalogue: Catalogue, key: string): string | Catalogue | undefined {
  let node: string | Catalogue | undefined = catalogue;
  for (const part of key.split('.')) {
    if (node === undefined || typeof node === 'string' || !Object.hasOwn(node, part)) return undefined;
    node = node[part];
  }
  return node;
}

function interpolate(message: string, vars: Vars | undefined): string {
  if (!vars) return message;
  return message.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(vars, name) && vars[name] !== undefined && vars[name] !== null ? String(vars[name]) : whole,
  );
}

const missingKeys = new Set<string>();

/** Keys looked up since the last call that no catalogue had (tests assert this stays empty). */
export function takeMissingKeys(): string[] {
  const keys = [...missingKeys];
  missingKeys.clear();
  return keys;
}

export type Translator = (lang: Lang | string | undefined, key: string, vars?: Vars) => string;

/** A translator over the given catalogues: `lang`, then zh, then the key itself. */
export function createTranslator(source: Readonly<Partial<Record<Lang, Catalogue>>>): Translator {
  return (lang, key, vars) => {
    const order: Lang[] = isLang(lang) && lang !== DEFAULT_LANG ? [lang, DEFAULT_LANG] : [DEFAULT_LANG];
    for (const l of order) {
      const catalogue = source[l];
      const found = catalogue ? lookup(catalogue, key) : undefined;
      if (typeof found === 'string') return interpolate(found, vars);
    }
    missingKeys.add(key);
    return key;
  };
}

/** Translates `key` for `lang` with `{name}` interpolation; falls back to zh, then to the key. */
export const t: Translator = createTranslator(catalogues);

/** True when either catalogue has a message at `key` (lets callers try a specific key first). */
export function hasMessage(lang: Lang | string | undefined, key: string): boolean {
  const l: Lang = isLang(lang) ? lang : DEFAULT_LANG;
  return typeof lookup(catalogues[l], key) === 'string' || typeof lookup(catalogues[DEFAULT_LANG], key) === 'string';
}

/** The `client` sub-catalogue the layout embeds for the browser bundle's messages. */
export function clientMessages(lang: Lang): Catalogue {
  const own = lookup(catalogues[lang], 'client');
  const base = lookup(catalogues[DEFAULT_LANG], 'client');
  return { ...(typeof base === 'object' ? base : {}), ...(typeof own === 'object' ? own : {}) };
}

interface LangRequest {
  query?: unknown;
  cookies?: Record<string, unknown>;
  headers: { cookie?: string; 'accept-language'?: string };
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The display language: `?lang=zh|en`, else the `lang` cookie, else Accept-Language starting with en, else zh. */
export function resolveLang(req: LangRequest): Lang {
  const query = req.query as Record<string, unknown> | undefined;
  const fromQuery = query?.lang;
  if (isLang(fromQuery)) return fromQuery;
  const fromCookie = req.cookies?.[LANG_COOKIE] ?? cookieValue(req.headers.cookie, LANG_COOKIE);
  if (isLang(fromCookie)) return fromCookie;
  const accept = req.headers['accept-language'];
  if (typeof accept === 'string' && /^\s*en\b/i.test(accept)) return 'en';
  return DEFAULT_LANG;
}

/** The `?lang=` value when it names a supported language (the app then sets LANG_COOKIE). */
export function requestedLang(req: { query?: unknown }): Lang | undefined {
  const value = (req.query as Record<string, unknown> | undefined)?.lang;
  return isLang(value) ? value : undefined;
}
