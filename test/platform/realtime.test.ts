import { msg, renderMessage } from '../../server/platform/messages';
import { expect } from 'chai';
import type { Types } from 'mongoose';
import { io as ioClient } from 'socket.io-client';
import { User } from '../../server/modules/identity';
import { notifyUsers } from '../../server/modules/notifications';
import { buildUser, connectSocket, emitAck, nextEvent } from '../support/factories';
import { testApp } from '../support/global';

function connectError(opts: Parameters<typeof ioClient>[1]): Promise<{ message: string; data?: { code: string; message?: string } }> {
  const socket = ioClient(testApp().url, { transports: ['websocket'], reconnection: false, forceNew: true, ...opts });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      socket.close();
      reject(new Error('connected without valid credentials'));
    });
    socket.once('connect_error', (err: Error & { data?: { code: string; message?: string } }) => {
      socket.close();
      resolve({ message: err.message, data: err.data });
    });
  });
}

describe('realtime', () => {
  it('refuses a handshake without credentials, with a bad token, or from a foreign origin', async () => {
    expect((await connectError({})).data?.code).to.equal('UNAUTHENTICATED');
    expect((await connectError({ auth: { token: 'forged.token.value' } })).data?.code).to.equal('UNAUTHENTICATED');
    const u = await buildUser('pharmacist');
    expect((await connectError({ auth: { token: u.token }, extraHeaders: { origin: 'https://evil.example' } })).data?.code).to.equal('ORIGIN_REFUSED');
  });

  it('words a refused handshake in the reader\'s language (the page cookie, else Accept-Language, else Chinese)', async () => {
    const zh = await connectError({});
    expect(zh.data?.message).to.equal(renderMessage('zh', msg('errorCodes.UNAUTHENTICATED')));
    const en = await connectError({ extraHeaders: { 'accept-language': 'en-GB,en;q=0.9' } });
    expect(en.data?.message).to.equal(renderMessage('en', msg('errorCodes.UNAUTHENTICATED')));
    const cookie = await connectError({ extraHeaders: { cookie: 'lang=en' } });
    expect(cookie.data?.message).to.equal(renderMessage('en', msg('errorCodes.UNAUTHENTICATED')));
    const u = await buildUser('pharmacist');
    const origin = await connectError({ auth: { token: u.token }, extraHeaders: { origin: 'https://evil.example', 'accept-language': 'zh-CN' } });
    expect(origin.data?.message).to.equal(renderMessage('zh', msg('errorCodes.ORIGIN_REFUSED')));
    expect(zh.data?.message).to.not.equal(en.data?.message);
  });

  it('pushes a stored notification live to its user only, and acknowledges mark-read', async () => {
    const a = await buildUser('pharmacist');
    const b = await buildUser('pharmacist');
    const sa = await connectSocket(a.token);
    const sb = await connectSocket(b.token);
    try {
      let bGot = 0;
      sb.on('notification:created', () => (bGot += 1));
      const owner = await User.findById(a.id).lean<{ _id: Types.ObjectId; orgId: Types.ObjectId }>();
      const received = nextEvent<{ id: string; title: string }>(sa, 'notification:created');
      await notifyUsers([owner!], { kind: 'test', title: msg('orders.notice.shipped.title', { orderNo: 'PO-1' }), body: msg('orders.notice.delivered.body'), dedupeKey: `rt-test:${a.id}` });
      const n = await received;
      expect(n.title).to.equal('订单 PO-1 已发货');
      const ack = await emitAck<{ unread: number }>(sa, 'notification:read', { id: n.id });
      expect(ack.data).to.deep.equal({ unread: 0, unreadCapped: false });
      const bad = await emitAck(sa, 'notification:read', { id: { $ne: null } });
      expect(bad.error?.code).to.equal('VALIDATION_FAILED');
      await new Promise((r) => setTimeout(r, 200));
      expect(bGot).to.equal(0);
    } finally {
      sa.close();
      sb.close();
    }
  });

  it('tells a (re)connecting client its unread count at once', async () => {
    const a = await buildUser('distributor');
    const owner = await User.findById(a.id).lean<{ _id: Types.ObjectId; orgId: Types.ObjectId }>();
    await notifyUsers([owner!], { kind: 'test', title: msg('orders.notice.shipped.title', { orderNo: 'PO-2' }), body: msg('orders.notice.delivered.body'), dedupeKey: `rt-offline:${a.id}` });
    const socket = (await import('socket.io-client')).io(testApp().url, { transports: ['websocket'], auth: { token: a.token }, reconnection: false, forceNew: true });
    try {
      const ready = await nextEvent<{ unreadNotifications: number; userId: string }>(socket, 'session:ready');
      expect(ready).to.include({ userId: a.id, unreadNotifications: 1 });
    } finally {
      socket.close();
    }
  });
});
