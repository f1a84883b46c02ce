import { expect } from 'chai';
import { io as ioClient } from 'socket.io-client';
import request from 'supertest';
import { buildUser, connectSocket } from '../support/factories';
import { testApp } from '../support/global';

describe('socket.io offers the websocket transport only', () => {
  it('refuses a long-polling handshake plainly, and a polling-only client cannot connect', async () => {
    const u = await buildUser('pharmacist');
    const polling = await request(testApp().url).get('/socket.io/?EIO=4&transport=polling').set('Authorization', `Bearer ${u.token}`).set('Origin', 'http://127.0.0.1');
    expect(polling.status).to.equal(400);
    expect(polling.body).to.deep.include({ message: 'Transport unknown' });

    const client = ioClient(testApp().url, { transports: ['polling'], auth: { token: u.token }, reconnection: false, forceNew: true });
    try {
      const outcome = await new Promise<string>((resolve) => {
        client.once('connect', () => resolve('connected'));
        client.once('connect_error', (err) => resolve(`refused: ${err.message}`));
      });
      expect(outcome).to.match(/^refused/);
    } finally {
      client.close();
    }
  });

  it('connects over websocket with the same authentication', async () => {
    const u = await buildUser('distributor');
    const socket = await connectSocket(u.token);
    try {
      expect(socket.io.engine.transport.name).to.equal('websocket');
    } finally {
      socket.disconnect();
    }
    const anonymous = ioClient(testApp().url, { transports: ['websocket'], reconnection: false, forceNew: true });
    try {
      const err = await new Promise<Error>((resolve) => anonymous.once('connect_error', resolve));
      expect(err.message).to.equal('UNAUTHENTICATED');
    } finally {
      anonymous.close();
    }
  });
});
