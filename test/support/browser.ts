import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { SESSION_COOKIE } from '../../server/platform/auth';
import { testApp } from './global';
import { perSuite } from './per-suite';

/** Debian's Chromium (`apt-get install chromium`); CHROMIUM_PATH overrides it. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Launches headless Chromium for page tests (with extra switches, e.g. a fake camera); close it in an `after` hook. */
export function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** A page opened by `newPage`: its own context, the page, and the page errors seen so far. */
export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  errors: string[];
}

/** Headless Chromium for the tests of one describe block, with pages against the test app. */
export interface TestBrowser {
  readonly browser: Browser;
  /** A fresh context and page against the test app (see `newPage`). */
  newPage(options?: { locale?: string }): Promise<OpenedPage>;
  /** A fresh page already signed in as the user: its session cookie carries the user's token. */
  pageAs(user: { token: string }): Promise<OpenedPage>;
}

/** Launches Chromium in a `before` hook of the calling describe block and closes it in an `after` hook. */
export function useBrowser(extraArgs: string[] = []): TestBrowser {
  const launched = perSuite('Chromium', () => launchBrowser(extraArgs), (browser) => browser.close());
  return {
    get browser() {
      return launched();
    },
    newPage: (options) => newPage(launched(), testApp().url, options),
    pageAs: (user) => sessionPage(launched(), user),
  };
}

/** A fresh page against the test app, signed in as the user by its session cookie (no login form). */
export async function sessionPage(browser: Browser, user: { token: string }): Promise<OpenedPage> {
  const opened = await newPage(browser, testApp().url);
  await opened.context.addCookies([{ name: SESSION_COOKIE, value: user.token, url: testApp().url, httpOnly: true, sameSite: 'Lax' }]);
  return opened;
}

/**
 * A fresh context (own cookies) and page against `baseUrl`, as a Chinese-speaking user in Shanghai;
 * page errors are collected in `errors` so a test can assert the page ran clean.
 */
export async function newPage(
  browser: Browser,
  baseUrl: string,
  options: { locale?: string } = {},
): Promise<OpenedPage> {
  const context = await browser.newContext({
    baseURL: baseUrl,
    locale: options.locale ?? 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    viewport: { width: 1360, height: 900 },
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  // A script or handler the Content-Security-Policy blocked is a broken page too.
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
  return { context, page, errors };
}

/** Signs a user in through the login form and waits for the home page. */
export async function signIn(page: Page, user: { email: string; password: string }): Promise<void> {
  await page.goto('/login');
  await page.fill('#login-email', user.email);
  await page.fill('#login-password', user.password);
  await Promise.all([page.waitForURL((url) => url.pathname === '/'), page.click('button[type=submit]')]);
}

/** Elements that stick out past the right edge of the viewport, outside any horizontally scrolling box. */
export async function overflowing(page: Page): Promise<string[]> {
  // NOTE: a string, so the test transpiler adds no helpers (__name) the page does not have.
  return page.evaluate(`(() => {
    const width = document.documentElement.clientWidth;
    const out = [];
    for (const el of Array.from(document.body.querySelectorAll('*'))) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.right <= width + 1) continue;
      let clipped = false;
      for (let e = el.parentElement; e && e !== document.body; e = e.parentElement) {
        const x = getComputedStyle(e).overflowX;
        if (x === 'auto' || x === 'scroll' || x === 'hidden') { clipped = true; break; }
      }
      if (clipped) continue;
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.classList.length ? '.' + Array.from(el.classList).join('.') : '') + ' (right ' + Math.round(r.right) + ' > ' + width + ')');
      if (out.length >= 5) break;
    }
    if (document.documentElement.scrollWidth > width + 1) out.unshift('page scrolls sideways (' + document.documentElement.scrollWidth + ' > ' + width + ')');
    return out;
  })()`);
}

