import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { catalogues, createTranslator, resolveLang, t, takeMissingKeys, type Catalogue } from '../../server/platform/i18n';
import { navigationFor } from '../../server/platform/navigation';
import { toScriptJson } from '../../server/platform/view-helpers/json';
import { DEFAULT_TEMPLATES_DIR, renderNamedTemplate, renderTemplateString, setupViews, type ViewUser } from '../../server/platform/views';

const pharmacist: ViewUser = {
  id: 'u1',
  name: '李药师',
  email: 'li@hospital.cn',
  role: 'pharmacist',
  orgId: 'o1',
  orgName: '清远市人民医院',
  orgType: 'hospital',
};

function appRendering(view: string, data: Record<string, unknown>) {
  const app = express();
  setupViews(app, { templatesDir: DEFAULT_TEMPLATES_DIR, cache: false });
  app.get(/.*/, (req, res) => {
    res.render(view, { lang: 'zh', csrfToken: 'csrf-123', requestId: 'req-1', currentPath: req.path, ...data });
  });
  return app;
}

function keysOf(catalogue: Catalogue, prefix = ''): string[] {
  return Object.entries(catalogue).flatMap(([k, v]) => (typeof v === 'string' ? [`${prefix}${k}`] : keysOf(v, `${prefix}${k}.`)));
}

describe('views and i18n', () => {
  beforeEach(() => {
    takeMissingKeys();
  });

  describe('helpers', () => {
    it('formats fen as CNY, basis points as percent and times in Asia/Shanghai', () => {
      const html = renderTemplateString('{{money a}}|{{money b}}|{{money c}}|{{percentBp bp}}|{{date at}}|{{datetime at}}|{{datetime at seconds=true}}|{{date bad}}', {
        a: 195000,
        b: 0,
        c: null,
        bp: 3250,
        at: '2025-01-01T16:30:05Z',
        bad: 'not a date',
      });
      expect(html).to.equal('¥1,950.00|¥0.00|—|32.50%|2025-01-02|2025-01-02 00:30|2025-01-02 00:30:05|—');
    });

    it('translates with @root.lang, interpolates, joins key parts and falls back to the key', () => {
      const source = '{{t "nav.orders"}}|{{t "roles" role}}|{{t "home.welcome" name=name}}|{{t "no.such.key"}}|{{t "errors" 418 "title" default="x"}}';
      expect(renderTemplateString(source, { lang: 'zh', role: 'bank_officer', name: '王' })).to.equal('订单|银行经办|您好，王|no.such.key|x');
      expect(renderTemplateString(source, { lang: 'en', role: 'bank_officer', name: 'Wang' })).to.equal('Orders|Bank officer|Hello, Wang|no.such.key|x');
      expect(takeMissingKeys()).to.deep.equal(['no.such.key']);
    });

    it('escapes user text in HTML templates and leaves it raw in text templates', () => {
      const data = { lang: 'zh', name: '<b>"x"</b>' };
      expect(renderTemplateString('{{t "home.welcome" name=name}}', data)).to.equal('您好，&lt;b&gt;&quot;x&quot;&lt;/b&gt;');
      expect(renderTemplateString('{{t "home.welcome" name=name}}', data, { format: 'text' })).to.equal('您好，<b>"x"</b>');
    });

    it('emits JSON that cannot close a script element', () => {
      const json = toScriptJson({ s: '</script><script>alert(1)</script>', amp: 'a&b', ls: '\u2028' });
      expect(json).not.to.include('</script');
      expect(json).not.to.include('&');
      expect(JSON.parse(json)).to.deep.equal({ s: '</script><script>alert(1)</script>', amp: 'a&b', ls: '\u2028' });
    });

    it('renders status badges with the translated label and a tone', () => {
      const html = renderTemplateString('{{statusBadge s kind="order"}} {{statusBadge "overdue"}} {{statusBadge "mystery"}}', { lang: 'zh', s: 'in_transit' });
      expect(html).to.equal(
        '<span class="badge badge--info" data-status="in_transit">运输中</span> ' +
          '<span class="badge badge--danger" data-status="overdue">已逾期</span> ' +
          '<span class="badge badge--neutral" data-status="mystery">mystery</span>',
      );
    });

    it('builds pagination links that keep the other query values', () => {
      const html = renderTemplateString('{{urlWithQuery "/admin/audit" filters cursor=c}}', { filters: { action: 'order.confirm', actor: '', to: '2025-01-31' }, c: 'abc' });
      expect(html).to.equal('/admin/audit?action=order.confirm&amp;to=2025-01-31&amp;cursor=abc');
    });

    it('renders a named template file with the same helpers', () => {
      const dir = mkdtempSync(join(tmpdir(), 'views-'));
      writeFileSync(join(dir, 'order-placed.hbs'), '{{t "orderStatus.placed"}}：{{money amount}} <{{hospital}}>');
      expect(renderNamedTemplate('order-placed', { lang: 'zh', amount: 195000, hospital: '人民医院' }, { templatesDir: dir, format: 'text' })).to.equal(
        '已下单：¥1,950.00 <人民医院>',
      );
      expect(() => renderNamedTemplate('../etc/passwd', {}, { templatesDir: dir })).to.throw(/escapes/);
    });
  });

  describe('i18n', () => {
    it('has the same keys in the zh and en catalogues', () => {
      expect(keysOf(catalogues.en).sort()).to.deep.equal(keysOf(catalogues.zh).sort());
    });

    it('falls back to zh, then to the key', () => {
      const translate = createTranslator({ zh: { a: { b: '甲 {n}' } }, en: {} });
      expect(translate('en', 'a.b', { n: 1 })).to.equal('甲 1');
      expect(translate('fr', 'a.b')).to.equal('甲 {n}');
      expect(translate('en', 'a.c')).to.equal('a.c');
      expect(t('en', 'roles.operator')).to.equal('GPO operator');
      expect(t('zh', 'roles.operator')).to.equal('运营方');
    });

    it('resolves the language from ?lang, then the lang cookie, then Accept-Language, else zh', () => {
      expect(resolveLang({ query: { lang: 'en' }, headers: { cookie: 'lang=zh' } })).to.equal('en');
      expect(resolveLang({ query: { lang: 'fr' }, headers: { cookie: 'a=1; lang=en' } })).to.equal('en');
      expect(resolveLang({ query: {}, cookies: { lang: 'en' }, headers: {} })).to.equal('en');
      expect(resolveLang({ query: {}, headers: { 'accept-language': 'en-US,en;q=0.9' } })).to.equal('en');
      expect(resolveLang({ query: {}, headers: { 'accept-language': 'zh-CN,en;q=0.5' } })).to.equal('zh');
      expect(resolveLang({ headers: {} })).to.equal('zh');
    });
  });

  describe('navigation', () => {
    it('gives each role its own menu and marks the deepest matching entry active', () => {
      const finance = navigationFor('hospital_finance', '/finance/invoices/42?x=1');
      expect(finance.map((n) => n.href)).to.deep.equal(['/', '/finance/invoices', '/finance/lines', '/finance/account']);
      expect(finance.filter((n) => n.active).map((n) => n.href)).to.deep.equal(['/finance/invoices']);
      const operator = navigationFor('operator', '/admin/audit');
      expect(operator).to.have.length(11);
      expect(operator.find((n) => n.active)?.labelKey).to.equal('nav.audit');
      expect(navigationFor('distributor', '/').find((n) => n.active)?.href).to.equal('/');
      expect(navigationFor('distributor', '/credit/mine').find((n) => n.active)?.href).to.equal('/credit/mine');
      expect(navigationFor('bank_officer', '/financed').some((n) => n.active)).to.equal(false);
      expect(navigationFor('intruder', '/').map((n) => n.href)).to.deep.equal(['/']);
    });
  });

  describe('pages', () => {
    it('renders the home dashboard inside the main layout with header, role nav and CSRF meta', async () => {
      const app = appRendering('home', {
        user: { ...pharmacist, name: '<script>alert(1)</script>' },
        unreadCount: 3,
        cards: [{ title: '待验收订单', href: '/orders?status=delivered', description: '已送达、等待验收', stat: '¥1,950.00' }],
      });
      const res = await request(app).get('/').expect(200);
      expect(res.headers['content-type']).to.match(/text\/html/);
      expect(res.text).to.include('<meta name="csrf-token" content="csrf-123">');
      expect(res.text).to.include('<html lang="zh-CN">');
      expect(res.text).to.include('清远市人民医院');
      expect(res.text).to.include('药师');
      expect(res.text).to.include('href="/listings"');
      expect(res.text).not.to.include('href="/admin/audit"');
      expect(res.text).to.match(/class="app-nav__link is-active" href="\/" aria-current="page">首页</);
      expect(res.text).to.include('href="/?lang=en"');
      expect(res.text).to.include('data-unread-count="3"');
      expect(res.text).to.include('待验收订单');
      expect(res.text).to.include('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(res.text).not.to.include('<script>alert(1)</script>');
      expect(takeMissingKeys()).to.deep.equal([]);
    });

    it('shows a page title given as text or as a catalogue key', async () => {
      const titleOf = async (title: string, lang = 'zh') => {
        const res = await request(appRendering('error', { title, lang, status: 404 })).get('/x');
        return /<title>(.*?)<\/title>/.exec(res.text)?.[1];
      };
      expect(await titleOf('nav.home')).to.equal('首页 · 药品集中采购与供应平台');
      expect(await titleOf('login', 'en')).to.equal('Sign in · Drug Group-Purchasing Platform');
      expect(await titleOf('admin.organisations')).to.equal('机构与用户 · 药品集中采购与供应平台');
      expect(await titleOf('audit')).to.equal('审计日志 · 药品集中采购与供应平台');
      expect(await titleOf('404')).to.equal('页面不存在 · 药品集中采购与供应平台');
      expect(await titleOf('订单 PO-1')).to.equal('订单 PO-1 · 药品集中采购与供应平台');
    });

    it('renders the login page on the bare layout with demo logins and the form fields', async () => {
      const app = appRendering('login', {
        layout: 'bare',
        lang: 'en',
        email: 'a@b.cn',
        next: '/orders',
        error: 'Wrong email or password.',
        demoLogins: [{ email: 'op@gpo.cn', password: 'demo-pass', role: 'operator', orgName: '清远市医疗保障局' }],
      });
      const res = await request(app).get('/login').expect(200);
      expect(res.text).not.to.include('class="app-nav"');
      expect(res.text).to.include('action="/login"');
      for (const field of ['name="email"', 'name="password"', 'name="next" value="/orders"', 'name="_csrf" value="csrf-123"']) expect(res.text).to.include(field);
      expect(res.text).to.include('data-email="op@gpo.cn"');
      expect(res.text).to.include('GPO operator');
      expect(res.text).to.include('Wrong email or password.');
      expect(takeMissingKeys()).to.deep.equal([]);
    });

    it('renders notifications with per-item and mark-all actions', async () => {
      const app = appRendering('notifications', {
        user: pharmacist,
        unreadCount: 1,
        nextCursor: 'n2',
        notifications: [
          { id: 'n1', title: '订单已发货', body: '订单 PO-1 已发货', link: '/orders/1', createdAt: '2025-01-01T16:30:00Z' },
          { id: 'n0', title: '旧消息', body: '已读', createdAt: '2024-12-31T01:00:00Z', readAt: '2025-01-01T00:00:00Z' },
        ],
      });
      const res = await request(app).get('/notifications').expect(200);
      expect(res.text).to.include('data-action="notification-read" data-id="n1"');
      expect(res.text).not.to.include('data-id="n0"');
      expect(res.text).to.include('data-action="notifications-read-all"');
      expect(res.text).to.include('2025-01-02 00:30');
      expect(res.text).to.include('href="/notifications?cursor=n2"');
      expect(takeMissingKeys()).to.deep.equal([]);
    });

    it('renders the organisations admin page with both forms and shows errors on the posted one only', async () => {
      const app = appRendering('admin/organisations', {
        user: { ...pharmacist, role: 'operator', orgType: 'operator' },
        lang: 'en',
        organisations: [{ id: 'o1', name: '清远市人民医院', type: 'hospital', hospitalLevel: 3, address: '清远市', userCount: 2 }],
        users: [{ id: 'u1', name: '李药师', email: 'li@h.cn', role: 'pharmacist', orgName: '清远市人民医院', disabled: true }],
        roleOptions: [{ value: 'pharmacist', label: 'Pharmacist' }],
        orgTypeOptions: [{ value: 'hospital', label: 'Hospital' }],
        rolesByOrgType: { hospital: ['pharmacist', 'hospital_finance'] },
        errors: { 'user.email': 'This email is already in use.' },
        values: { email: 'li@h.cn', name: 'Li', role: 'pharmacist', orgId: 'o1' },
        chosenOrg: { id: 'o1', label: '清远市人民医院', type: 'hospital' },
      });
      const res = await request(app).get('/admin/organisations').expect(200);
      expect(res.text).to.include('action="/admin/organisations"');
      expect(res.text).to.include('action="/admin/users"');
      expect(res.text).to.match(/id="user-email"[^>]*aria-invalid="true"/);
      expect(res.text).to.include('<p class="field__error" id="user-email-error">This email is already in use.</p>');
      expect(res.text).not.to.include('org-name-error');
      expect(res.text.match(/alert--danger/g)).to.have.length(1);
      // The organisation is a type-ahead picker that keeps the chosen one (id, name and type).
      expect(res.text).to.include('<input type="hidden" name="orgId" value="o1" data-picker-value>');
      expect(res.text).to.match(/id="user-org"[^>]*role="combobox"/);
      expect(res.text).to.match(/id="user-org"[^>]*value="清远市人民医院"/);
      expect(res.text).to.include('data-user-org-type value="hospital"');
      expect(res.text).to.include('id="roles-by-org-type"');
      expect(res.text).to.match(/id="user-name"[^>]*value="Li"/);
      expect(res.text).to.match(/id="org-name"[^>]*value=""/);
      expect(res.text).to.include('Level 3 hospital');
      expect(res.text).to.include('data-status="disabled"');
      expect(takeMissingKeys()).to.deep.equal([]);
    });

    it('renders the audit log with its filters kept in the form and the next-page link', async () => {
      const app = appRendering('admin/audit', {
        user: { ...pharmacist, role: 'operator' },
        filters: { action: 'order.confirm', from: '2025-01-01' },
        nextCursor: 'c2',
        entries: [{ at: '2025-01-01T00:00:00Z', actorName: '王', orgName: '配送企业甲', action: 'order.confirm', targetType: 'order', targetId: 'PO-1', summary: '确认订单', requestId: 'r-9' }],
      });
      const res = await request(app).get('/admin/audit').expect(200);
      expect(res.text).to.match(/name="action" value="order.confirm"/);
      expect(res.text).to.include('href="/admin/audit?action=order.confirm&amp;from=2025-01-01&amp;cursor=c2"');
      expect(res.text).to.include('2025-01-01 08:00:00');
      expect(takeMissingKeys()).to.deep.equal([]);
    });

    it('renders friendly error pages by status in both languages', async () => {
      const zh = await request(appRendering('error', { status: 404, code: 'NOT_FOUND', message: 'Not found.', requestId: 'req-7' })).get('/x').expect(200);
      expect(zh.text).to.include('页面不存在');
      expect(zh.text).to.include('请求编号：req-7');
      const en = await request(appRendering('error', { lang: 'en', status: 403, code: 'FORBIDDEN', message: 'No.' })).get('/x').expect(200);
      expect(en.text).to.include('Access denied');
      const odd = await request(appRendering('error', { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'Too large.' })).get('/x').expect(200);
      expect(odd.text).to.include('请求未能完成');
      expect(takeMissingKeys()).to.deep.equal([]);
    });
  });
});
