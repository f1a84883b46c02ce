import { expect } from 'chai';
import type { Role } from '../../server/platform/schemas';
import { signIn, useBrowser } from '../support/browser';
import { buildUser } from '../support/factories';

const HOME_LINKS: Record<Role, string> = {
  operator: '/admin/organisations',
  pharmacist: '/listings',
  hospital_finance: '/finance/invoices',
  distributor: '/orders',
  bank_officer: '/finance/lines',
};

describe('pages: sign in to the home page, for every role', function () {
  this.timeout(60_000);
  const browser = useBrowser();

  for (const role of Object.keys(HOME_LINKS) as Role[]) {
    it(`a ${role} signs in through the form and lands on a home page with the right navigation`, async () => {
      const u = await buildUser(role);
      const { page, context, errors } = await browser.newPage();
      try {
        await page.goto('/');
        expect(new URL(page.url()).pathname).to.equal('/login');
        await page.fill('#login-email', u.email);
        await page.fill('#login-password', u.password);
        await Promise.all([page.waitForURL((url) => url.pathname === '/'), page.click('button[type=submit]')]);
        expect(await page.textContent('.user-chip__name')).to.equal(u.name);
        const nav = await page.$$eval('nav a', (links) => links.map((a) => a.getAttribute('href')));
        expect(nav).to.include(HOME_LINKS[role]);
        expect(await page.textContent('body')).to.contain(u.org.name);
        const cookies = await context.cookies();
        const session = cookies.find((c) => c.name === 'gpo_session');
        expect(session?.httpOnly).to.equal(true);
        expect(errors).to.deep.equal([]);
      } finally {
        await context.close();
      }
    });
  }

  it('shows a clear error for a wrong password and keeps the email', async () => {
    const u = await buildUser('pharmacist');
    const { page, context } = await browser.newPage();
    try {
      await page.goto('/login');
      await page.fill('#login-email', u.email);
      await page.fill('#login-password', 'wrong-password-1');
      await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
      expect(await page.textContent('[data-login-error]')).to.be.a('string').and.not.equal('');
      expect(await page.inputValue('#login-email')).to.equal(u.email);
    } finally {
      await context.close();
    }
  });

  it('switches the interface to English and back, and signs out', async () => {
    const u = await buildUser('bank_officer');
    const { page, context } = await browser.newPage();
    try {
      await signIn(page, u);
      const zh = await page.textContent('nav');
      await page.goto('/?lang=en');
      const en = await page.textContent('nav');
      expect(en).not.to.equal(zh);
      expect(await page.getAttribute('html', 'lang')).to.match(/^en/);
      await page.goto('/');
      expect(await page.getAttribute('html', 'lang')).to.match(/^en/);
      await Promise.all([page.waitForURL((url) => url.pathname === '/login'), page.click('.logout-form button')]);
      await page.goto('/');
      expect(new URL(page.url()).pathname).to.equal('/login');
    } finally {
      await context.close();
    }
  });

  it('lets the operator admit an organisation and create a user through the admin page', async () => {
    const op = await buildUser('operator');
    const { page, context, errors } = await browser.newPage();
    try {
      await signIn(page, op);
      await page.goto('/admin/organisations');
      const name = `浏览器测试医院-${Date.now()}`;
      const orgForm = page.locator('form[action="/admin/organisations"]');
      await orgForm.locator('[name=name]').fill(name);
      await orgForm.locator('[name=type]').selectOption('hospital');
      await orgForm.locator('[name=hospitalLevel]').selectOption('2');
      await orgForm.locator('[name=address]').fill('测试市 1 号');
      await Promise.all([page.waitForURL(/flash=orgCreated/), orgForm.locator('button[type=submit]').click()]);
      expect(await page.textContent('body')).to.contain(name);
      expect(errors).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
