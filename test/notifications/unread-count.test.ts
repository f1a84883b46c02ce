import { expect } from 'chai';
import request from 'supertest';
import { Types } from 'mongoose';
import { io } from 'socket.io-client';
import { User } from '../../server/modules/identity';
import { notifyUsers } from '../../server/modules/notifications';
import { Notification } from '../../server/modules/notifications/notifications.model';
import { msg } from '../../server/platform/messages';
import { trusted } from '../../server/platform/mongo';
import { unreadBadge } from '../../server/platform/view-helpers/unread-badge';
import { signIn, useBrowser } from '../support/browser';
import { buildUser, nextEvent, type TestUser } from '../support/factories';
import { testApp, testClock } from '../support/global';

/** Stores `n` unread notifications for the user (as many facts notified while the user was away). */
async function unreadNotices(user: TestUser, n: number): Promise<Types.ObjectId[]> {
  const at = testClock.now();
  const docs = Array.from({ length: n }, (_, i) => ({
    _id: new Types.ObjectId(),
    userId: new Types.ObjectId(user.id),
    orgId: new Types.ObjectId(user.org.id),
    kind: 'test',
    title: msg('orders.notice.shipped.title', { orderNo: `PO-${i}` }),
    body: msg('orders.notice.delivered.body'),
    createdAt: new Date(at.getTime() - (n - i) * 1000),
    dedupeKey: `unread-cap:${user.id}:${i}`,
  }));
  await Notification.insertMany(docs);
  return docs.map((d) => d._id);
}

async function page(user: TestUser, path: string): Promise<string> {
  const res = await request(testApp().url).get(path).set('Authorization', `Bearer ${user.token}`).set('Accept', 'text/html');
  expect(res.status).to.equal(200);
  return res.text;
}

const bellOf = (html: string) => /<span class="bell__count"[^>]*>[^<]*<\/span>/.exec(html)?.[0] ?? '';

describe('notifications: the unread count stops at 100', () => {
  it('answers 100 with unreadCapped from 100 unread on, exact counts below, through the API and the socket', async () => {
    const u = await buildUser('pharmacist');
    const ids = await unreadNotices(u, 130);
    const list = await u.api().get('/api/v1/notifications?limit=5').expect(200);
    expect(list.body).to.include({ unread: 100, unreadCapped: true });
    expect(list.body.data).to.have.length(5);

    const socket = io(testApp().url, { transports: ['websocket'], auth: { token: u.token }, reconnection: false, forceNew: true });
    try {
      const ready = await nextEvent<{ unreadNotifications: number; unreadNotificationsCapped: boolean }>(socket, 'session:ready');
      expect(ready).to.include({ unreadNotifications: 100, unreadNotificationsCapped: true });
    } finally {
      socket.close();
    }

    const afterOne = await u.api().post(`/api/v1/notifications/${ids[0]}/read`).expect(200);
    expect(afterOne.body, '129 unread are still 100 or more').to.deep.equal({ unread: 100, unreadCapped: true });
    await Notification.updateMany({ _id: trusted({ $in: ids.slice(1, 31) }) }, { $set: { readAt: testClock.now() } });
    const exact = await u.api().post(`/api/v1/notifications/${ids[31]}/read`).expect(200);
    expect(exact.body).to.deep.equal({ unread: 98, unreadCapped: false });
    expect((await u.api().get('/api/v1/notifications?unread=true&limit=1').expect(200)).body).to.include({ unread: 98, unreadCapped: false });
    expect((await u.api().post('/api/v1/notifications/read-all').expect(200)).body).to.deep.equal({ unread: 0, unreadCapped: false });
    const spec = (await request(testApp().url).get('/api/v1/openapi.json')).body as { components?: { schemas?: Record<string, { properties?: Record<string, { description?: string }> }> } };
    expect(spec.components?.schemas?.UnreadCount?.properties?.unreadCapped?.description ?? '', 'documented in the OpenAPI document').to.contain('100');
  });

  it('renders "99+" on the server-rendered bell and summary from 100 unread on, and the exact count below', async () => {
    expect([0, 7, 99, 100, 250].map((n) => unreadBadge(n))).to.deep.equal(['0', '7', '99', '99+', '99+']);
    expect(unreadBadge(100, true)).to.equal('99+');

    const many = await buildUser('pharmacist');
    await unreadNotices(many, 120);
    const home = bellOf(await page(many, '/'));
    expect(home).to.contain('data-unread-count="100"').and.contain('data-unread-capped="true"').and.contain('>99+</span>');
    const notes = await page(many, '/notifications?lang=zh');
    expect(bellOf(notes)).to.contain('>99+</span>');
    expect(notes).to.match(/data-unread-summary data-count="100" data-capped="true"[^>]*>99\+ 条未读</);
    expect(await page(many, '/notifications?lang=en')).to.contain('>99+ unread<');

    const few = await buildUser('pharmacist');
    await unreadNotices(few, 42);
    const bell = bellOf(await page(few, '/'));
    expect(bell).to.contain('>42</span>').and.not.contain('data-unread-capped');
  });

  describe('in the browser', function () {
    this.timeout(60_000);
    const browser = useBrowser();

    it('the bell shows 99+ at the cap and keeps it when one is read or one more arrives, then counts exactly below it', async () => {
      const u = await buildUser('pharmacist');
      const ids = await unreadNotices(u, 101);
      const owner = await User.findById(u.id).lean<{ _id: Types.ObjectId; orgId: Types.ObjectId }>();
      const { page: tab, context, errors } = await browser.newPage();
      const bellText = () => tab.evaluate(() => document.querySelector('.bell [data-unread-count]')?.textContent ?? '');
      try {
        await signIn(tab, u);
        await tab.goto('/notifications');
        for (let i = 0; i < 100 && (await testApp().realtime.socketsIn(`user:${u.id}`)).length === 0; i += 1) await new Promise((r) => setTimeout(r, 100));
        expect(await bellText()).to.equal('99+');
        expect(await tab.locator('[data-unread-summary]').textContent()).to.equal('99+ 条未读');

        await notifyUsers([owner!], { kind: 'test', title: msg('orders.notice.shipped.title', { orderNo: 'PO-LIVE' }), body: msg('orders.notice.delivered.body'), dedupeKey: `unread-cap-live:${u.id}` });
        await tab.waitForSelector('.toast:has-text("PO-LIVE")', { timeout: 10_000 });
        expect(await bellText()).to.equal('99+');

        await tab.locator('[data-notification-id]').first().locator('[data-action="notification-read"]').click();
        await tab.waitForFunction(() => document.querySelector('[data-notification-id]:not(.is-unread)') !== null);
        expect(await bellText(), '101 unread are still 99+').to.equal('99+');

        await Notification.updateMany({ _id: trusted({ $in: ids.slice(0, 10) }) }, { $set: { readAt: testClock.now() } });
        await tab.reload();
        expect(await bellText()).to.equal('91');
        await tab.locator('.notice.is-unread [data-action="notification-read"]').first().click();
        await tab.waitForFunction(() => document.querySelector('.bell [data-unread-count]')?.textContent === '90');
        expect(await tab.locator('[data-unread-summary]').textContent()).to.equal('90 条未读');
        expect(errors).to.deep.equal([]);
      } finally {
        await context.close();
      }
    });
  });
});
