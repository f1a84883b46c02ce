import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Express } from 'express';
import Handlebars from 'handlebars';
import { clientMessages, DEFAULT_LANG, hasMessage, isLang, t, type Lang } from './i18n';
import { navigationFor } from './navigation';
import { registerViewHelpers } from './view-helpers/index';

/** The signed-in user as pages see it (`@root.user`). */
export interface ViewUser {
  id: string;
  name: string;
  email: string;
  role: string;
  orgId: string;
  orgName: string;
  orgType: string;
}

/** The `@root` fields the app sets on every page (res.locals or the render data). */
export interface PageRoot {
  lang: Lang;
  user?: ViewUser;
  csrfToken?: string;
  requestId?: string;
  currentPath?: string;
  title?: string;
  /** Optional: the bell's initial count; the client keeps it current afterwards. */
  unreadCount?: number;
  /** The count is at the server's cap (there are that many or more): the bell shows "99+". */
  unreadCapped?: boolean;
  /** `'bare'` for pages without header and navigation (login); `false` for no layout at all. */
  layout?: string | false;
}

export interface ViewsOptions {
  templatesDir: string;
  cache: boolean;
}

export type TemplateFormat = 'html' | 'text';

export interface RenderTemplateOptions {
  /** `'text'` skips HTML escaping (notification texts shown through an escaping page later). */
  format?: TemplateFormat;
  /** Defaults to the directory given to setupViews, else the project's templates/. */
  templatesDir?: string;
}

/** The project's templates/ directory. */
export const DEFAULT_TEMPLATES_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));

const hbs = Handlebars.create();
registerViewHelpers(hbs);

let activeTemplatesDir = DEFAULT_TEMPLATES_DIR;
let cacheTemplates = true;
let partialsLoadedFrom: string | undefined;
const compiledFiles = new Map<string, Handlebars.TemplateDelegate>();
const compiledStrings = new Map<string, Handlebars.TemplateDelegate>();
const MAX_COMPILED_STRINGS = 500;

function listTemplates(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return listTemplates(full);
    return e.isFile() && e.name.endsWith('.hbs') ? [full] : [];
  });
}

/** Registers every partial under <templatesDir>/partials as its path without extension ("folder/name"). */
function loadPartials(templatesDir: string): void {
  const dir = join(templatesDir, 'partials');
  for (const file of listTemplates(dir)) {
    const name = relative(dir, file).slice(0, -'.hbs'.length).split(sep).join('/');
    hbs.registerPartial(name, readFileSync(file, 'utf8'));
  }
  partialsLoadedFrom = templatesDir;
}

function ensurePartials(templatesDir: string): void {
  if (!cacheTemplates || partialsLoadedFrom !== templatesDir) loadPartials(templatesDir);
}

function compileFile(file: string, format: TemplateFormat = 'html'): Handlebars.TemplateDelegate {
  const cacheKey = `${format}:${file}`;
  const cached = cacheTemplates ? compiledFiles.get(cacheKey) : undefined;
  if (cached) return cached;
  const template = hbs.compile(readFileSync(file, 'utf8'), { noEscape: format === 'text' });
  if (cacheTemplates) compiledFiles.set(cacheKey, template);
  return template;
}

/**
 * A page title may be plain text or a catalogue key: "nav.home", "login" (→ login.title),
 * "audit" (→ nav.audit), "404" (→ errors.404.title); text that is no key is shown as it is.
 */
export function resolveTitle(lang: Lang, title: unknown): string | undefined {
  if (typeof title !== 'string' && typeof title !== 'number') return undefined;
  const text = String(title);
  const key = [text, `${text}.title`, `nav.${text}`, `errors.${text}.title`].find((k) => hasMessage(lang, k));
  return key ? t(lang, key) : text;
}

function pageRoot(data: Record<string, unknown>): Record<string, unknown> {
  const lang: Lang = isLang(data.lang) ? data.lang : DEFAULT_LANG;
  const currentPath = typeof data.currentPath === 'string' && data.currentPath.startsWith('/') ? data.currentPath : '/';
  const user = data.user as ViewUser | undefined;
  return {
    ...data,
    lang,
    htmlLang: lang === 'zh' ? 'zh-CN' : 'en',
    currentPath,
    title: resolveTitle(lang, data.title),
    nav: data.nav ?? (user ? navigationFor(user.role, currentPath) : []),
    clientMessages: clientMessages(lang),
  };
}

/**
 * Registers the `.hbs` view engine: pages from <templatesDir>/pages (subfolders allowed), wrapped in
 * <templatesDir>/layouts/<layout>.hbs (default `main`; `layout: 'bare'` or `false` per render),
 * partials from <templatesDir>/partials. With `cache: false` templates are re-read on every render.
 */
export function setupViews(app: Express, opts: ViewsOptions): void {
  const templatesDir = resolve(opts.templatesDir);
  activeTemplatesDir = templatesDir;
  cacheTemplates = opts.cache;
  compiledFiles.clear();
  loadPartials(templatesDir);

  app.engine('hbs', (filePath, options, callback) => {
    try {
      ensurePartials(templatesDir);
      const { settings: _settings, _locals, cache: _cache, layout, ...data } = options as Record<string, unknown>;
      const root = pageRoot(data);
      const body = compileFile(filePath)(root);
      if (layout === false) return callback(null, body);
      const layoutName = typeof layout === 'string' && /^[\w-]+$/.test(layout) ? layout : 'main';
      const html = compileFile(join(templatesDir, 'layouts', `${layoutName}.hbs`))({ ...root, body });
      return callback(null, html);
    } catch (err) {
      return callback(err as Error);
    }
  });
  app.set('views', join(templatesDir, 'pages'));
  app.set('view engine', 'hbs');
  app.set('view cache', opts.cache);
}

/** Renders a template source with the page helpers (commitment texts stored in the database, tests). */
export function renderTemplateString(source: string, data: Record<string, unknown>, options: RenderTemplateOptions = {}): string {
  const format = options.format ?? 'html';
  ensurePartials(options.templatesDir ?? activeTemplatesDir);
  const key = `${format}:${source}`;
  let template = compiledStrings.get(key);
  if (!template) {
    template = hbs.compile(source, { noEscape: format === 'text' });
    if (compiledStrings.size >= MAX_COMPILED_STRINGS) compiledStrings.clear();
    compiledStrings.set(key, template);
  }
  return template(data);
}

/**
 * Renders a template file by its path under templates/ ("commitments/credit-v1", "notifications/order-placed.hbs")
 * with the page helpers; pass `lang` in `data` for `{{t}}`.
 */
export function renderNamedTemplate(relativePath: string, data: Record<string, unknown>, options: RenderTemplateOptions = {}): string {
  const templatesDir = resolve(options.templatesDir ?? activeTemplatesDir);
  const withExt = relativePath.endsWith('.hbs') ? relativePath : `${relativePath}.hbs`;
  const file = resolve(templatesDir, withExt);
  if (!file.startsWith(templatesDir + sep)) throw new Error(`template path escapes the templates directory: ${relativePath}`);
  ensurePartials(templatesDir);
  return compileFile(file, options.format ?? 'html')(data);
}
