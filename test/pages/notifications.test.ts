import { msg } from '../../server/platform/messages';
import { expect } from 'chai';
import type { Types } from 'mongoose';
import { User } from '../../server/modules/identity';
import { notifyUsers } from '../../server/modules/notifications';
import { Notification } from '../../server/modules/notifications/notifications.model';
import { signIn, useBrowser } from '../support/browser';
import { buildUser } from '../support/factories';
import { testApp } from '../support/global';

describe('pages: live notifications', function () {
  this.timeout(60_000);
  const browser = useBrowser();

  it('shows a notification live as a toast and on the bell, lists it, and marks it read', async () => {
    const u = await buildUser('pharmacist');
    const owner = await User.findById(u.id).lean<{ _id: Types.ObjectId; orgId: Types.ObjectId }>();
    const { page, context, errors } = await browser.newPage();
    try {
      await signIn(page, u);
      await page.goto('/notifications');
      // NOTE: the page's socket connects after load; wait until the server has it in the user's room.
      for (let i = 0; i < 100 && (await testApp().realtime.socketsIn(`user:${u.id}`)).length === 0; i += 1) await new Promise((r) => setTimeout(r, 100));
      await notifyUsers([owner!], { kind: 'listing.published', title: msg('quotation.notice.published.title', { title: '短缺药品挂网结果' }), body: msg('orders.notice.rejected.body', { distributor: '注射用尿激酶', reason: '已挂网' }), link: '/listings', dedupeKey: `page-test:${u.id}` });
      await page.waitForSelector('.toast:has-text("短缺药品挂网目录已发布：短缺药品挂网结果")', { timeout: 10_000 });
      await page.waitForFunction(() => document.querySelector('.bell [data-unread-count]')?.getAttribute('data-unread-count') === '1');
      await page.reload();
      const item = page.locator('[data-notification-id]').first();
      expect(await item.textContent()).to.contain('注射用尿激酶：已挂网');
      await item.locator('[data-action="notification-read"]').click();
      await page.waitForFunction(() => document.querySelector('.bell [data-unread-count]')?.getAttribute('data-unread-count') === '0');
      const stored = await Notification.findOne({ userId: owner!._id }).lean<{ readAt?: Date }>();
      expect(stored?.readAt).to.be.instanceOf(Date);
      expect(errors).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
