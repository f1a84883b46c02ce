import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { navigationFor, type Role } from '../../server/platform/navigation';
import { overflowing, signIn, useBrowser } from '../support/browser';
import { buildUser } from '../support/factories';

const ROLES: Role[] = ['operator', 'pharmacist', 'hospital_finance', 'distributor', 'bank_officer'];
const WIDTHS = [1366, 390] as const;
const SHOTS = path.resolve('data/screenshots');
// Swagger UI is a third-party English page; it is visited for errors but not for wording or width.
const THIRD_PARTY = new Set(['/api/docs']);

interface PageText {
  chrome: string;
  text: string;
}

/** Visible text outside code, ids, emails and form values; `chrome` is the interface's own text (nav, headings, labels, buttons). */
async function visibleText(page: Page): Promise<PageText> {
  return page.evaluate(() => {
    const skip = 'script, style, code, pre, .mono, .code, input, textarea, select, [data-raw]';
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const parts: string[] = [];
    const chrome: string[] = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const parent = n.parentElement;
      if (!parent || parent.closest(skip)) continue;
      const style = getComputedStyle(parent);
      if (style.display === 'none' || style.visibility === 'hidden') continue;
      const value = (n.textContent ?? '').trim();
      if (!value) continue;
      parts.push(value);
      if (parent.closest('nav, h1, h2, h3, th, label, button, .btn, .page-header, .field__label')) chrome.push(value);
    }
    return { text: parts.join('\n'), chrome: chrome.join('\n') };
  });
}

const ENGLISH_RUN = /(?<![\w@./-])[a-z]{2,}(?: [a-z]{2,}){2,}(?![\w@./-])/;
const CHINESE = /[\u4e00-\u9fff]/;
const RAW_KEY = /(?<![\w@./-])[a-z][A-Za-z]+\.[a-z][A-Za-z]+\.[A-Za-z][\w.]*(?![\w@-])/;
const EMAIL = /[\w.+-]+@[\w-]+(\.[\w-]+)+/g;

describe('every page of every role, in both languages (browser)', function () {
  this.timeout(600_000);
  const browser = useBrowser();

  before(() => {
    mkdirSync(SHOTS, { recursive: true });
  });

  it('answers below 400, logs no console error, shows no wrong-language text or raw key, and fits 1366 and 390 px; saves screenshots', async () => {
    const failures: string[] = [];
    for (const role of ROLES) {
      const user = await buildUser(role);
      const { context, page, errors } = await browser.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      const bad: string[] = [];
      page.on('response', (r) => {
        if (r.status() >= 400 && !r.url().includes('/api/docs')) bad.push(`${r.status()} ${new URL(r.url()).pathname}`);
      });
      try {
        await signIn(page, user);
        for (const { href } of navigationFor(role, '/')) {
          for (const lang of ['zh', 'en'] as const) {
            for (const width of WIDTHS) {
              await page.setViewportSize({ width, height: 900 });
              errors.length = 0;
              bad.length = 0;
              const where = `${role} ${href} ${lang} ${width}px`;
              const res = await page.goto(`${href}?lang=${lang}`, { waitUntil: 'networkidle' });
              if (!res || res.status() >= 400) failures.push(`${where}: page answered ${res?.status()}`);
              if (bad.length) failures.push(`${where}: requests failed: ${bad.join(', ')}`);
              if (errors.length) failures.push(`${where}: console errors: ${errors.slice(0, 3).join(' | ')}`);
              const slug = href.replace(/\//g, '_') || '_home';
              await page.screenshot({ path: path.join(SHOTS, `${role}${slug}-${lang}-${width}.png`), fullPage: true });
              if (THIRD_PARTY.has(href)) continue;
              const { text, chrome } = await visibleText(page);
              const plain = text.replace(EMAIL, '');
              if (lang === 'zh') {
                const english = plain.match(ENGLISH_RUN);
                if (english) failures.push(`${where}: English in a Chinese page: "${english[0]}"`);
              } else {
                const line = chrome.split('\n').find((l) => CHINESE.test(l));
                if (line) failures.push(`${where}: Chinese in an English page: "${line.slice(0, 60)}"`);
              }
              const key = plain.match(RAW_KEY);
              if (key) failures.push(`${where}: raw message key "${key[0]}"`);
              const wide = await overflowing(page);
              if (wide.length) failures.push(`${where}: wider than the viewport: ${wide.join('; ')}`);
            }
          }
        }
      } finally {
        await context.close();
      }
    }
    expect(failures, failures.join('\n')).to.deep.equal([]);
  });
});
