import { msg } from '../../server/platform/messages';
import { expect } from 'chai';
import { notifyUsers } from '../../server/modules/notifications';
import { Notification } from '../../server/modules/notifications/notifications.model';
import { User } from '../../server/modules/identity';
import { buildUser } from '../support/factories';
import { Types } from 'mongoose';

describe('tenancy', () => {
  it("a user reaching into another user's notification gets a 404 and changes nothing", async () => {
    const a = await buildUser('pharmacist');
    const b = await buildUser('pharmacist');
    const owner = await User.findById(a.id).lean<{ _id: Types.ObjectId; orgId: Types.ObjectId }>();
    await notifyUsers([owner!], { kind: 'test', title: msg('orders.notice.shipped.title', { orderNo: 'PO-3' }), body: msg('orders.notice.delivered.body'), dedupeKey: `tenancy:${a.id}` });
    const note = await Notification.findOne({ userId: a.id }).lean<{ _id: Types.ObjectId }>();
    const res = await b.api().post(`/api/v1/notifications/${String(note!._id)}/read`).expect(404);
    expect(res.body.error.code).to.equal('NOTIFICATION_NOT_FOUND');
    const after = await Notification.findById(note!._id).lean<{ readAt?: Date }>();
    expect(after!.readAt).to.equal(undefined);
    const list = await b.api().get('/api/v1/notifications').expect(200);
    expect(list.body.data.map((n: { body: string }) => n.body)).not.to.include('private to A');
  });

  it('only the operator manages organisations and users', async () => {
    for (const role of ['pharmacist', 'hospital_finance', 'distributor', 'bank_officer'] as const) {
      const u = await buildUser(role);
      await u.api().post('/api/v1/organisations', { name: `x-${role}-${Date.now()}`, type: 'bank' }).expect(403);
      await u.api().get('/api/v1/users').expect(403);
      await u.api().get('/api/v1/audit').expect(403);
    }
  });
});
