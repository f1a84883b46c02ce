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

/** A page opened by `newPage`: its own context, the page, the page errors seen so far, and what it did. */
export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  errors: string[];
  /** Navigations, failed requests, error responses, socket closes and console errors, with the time since the page opened. */
  timeline: string[];
}

// NOTE: a hung page step ends in mocha's timeout, which names no cause; the fixture then prints what
// each page of the failed test did, and closes what the test left open (with a limit, so a stuck
// close cannot hang the run either).
const CLOSE_LIMIT_MS = 10_000;

/** Closes a context, giving up after CLOSE_LIMIT_MS (noted in the timeline) rather than hanging. */
async function closeWithinLimit(close: () => Promise<void>, timeline: string[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      timeline.push(`context.close() did not finish in ${CLOSE_LIMIT_MS / 1000} s`);
      resolve();
    }, CLOSE_LIMIT_MS);
  });
  await Promise.race([close().catch(() => undefined), limit]);
  clearTimeout(timer);
}

function describeTimeline(opened: OpenedPage, index: number): string {
  let url = '(closed)';
  try {
    url = opened.page.url();
  } catch {
    // the page is gone
  }
  return [`  page ${index + 1}, now at ${url}`, ...opened.timeline.slice(-60).map((line) => `    ${line}`)].join('\n');
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
  let opened: OpenedPage[] = [];
  const track = (page: OpenedPage): OpenedPage => {
    opened.push(page);
    return page;
  };
  afterEach(async function () {
    const pages = opened;
    opened = [];
    const test = this.currentTest;
    if (test && test.state !== 'passed' && pages.length > 0) {
      // NOTE: appended to the failure itself, so mocha's list of failures at the end (and CI's tail) shows it.
      const timelines = `\n  what the pages did:\n${pages.map(describeTimeline).join('\n')}`;
      const err = test.err;
      if (err) {
        // NOTE: mocha prints the lines of the stack above its frames, so the stack carries it too.
        const original = err.message;
        err.message += timelines;
        if (err.stack?.includes(original)) err.stack = err.stack.replace(original, err.message);
      } else {
        process.stderr.write(timelines + '\n');
      }
    }
    // NOTE: each context's close has its limit (see newPage); a second close of a closed one is a no-op.
    await Promise.all(pages.map((opened) => opened.context.close()));
  });
  return {
    get browser() {
      return launched();
    },
    newPage: async (options) => track(await newPage(launched(), testApp().url, options)),
    pageAs: async (user) => track(await sessionPage(launched(), user)),
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
  const timeline: string[] = [];
  // NOTE: under load Chromium has been seen not to answer a context close after a failed step; the
  // test's own `finally { await context.close() }` then hung until mocha's timeout and hid the failure.
  // Every close of this context (the test's and the fixture's) gives up after a limit instead.
  const closeContext = context.close.bind(context);
  context.close = (options) => closeWithinLimit(() => closeContext(options), timeline);
  const opened = performance.now();
  const note = (line: string) => {
    timeline.push(`+${((performance.now() - opened) / 1000).toFixed(2)} s ${line.slice(0, 300)}`);
  };
  page.on('pageerror', (err) => {
    errors.push(err.message);
    note(`page error: ${err.message}`);
  });
  // A script or handler the Content-Security-Policy blocked is a broken page too.
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text());
    if (m.type() === 'error' || m.type() === 'warning') note(`console ${m.type()}: ${m.text()}`);
  });
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) note(`navigated to ${frame.url()}`);
  });
  page.on('load', () => note('load'));
  page.on('requestfailed', (request) => note(`request failed: ${request.method()} ${request.url()} (${request.failure()?.errorText ?? '?'})`));
  page.on('response', (response) => {
    if (response.status() >= 400) note(`response ${response.status()}: ${response.request().method()} ${response.url()}`);
  });
  page.on('websocket', (ws) => {
    note(`websocket opened: ${ws.url()}`);
    ws.on('close', () => note(`websocket closed: ${ws.url()}`));
  });
  page.on('close', () => note('page closed'));
  return { context, page, errors, timeline };
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

