import { expect } from 'chai';
import { SignJWT } from 'jose';
import request from 'supertest';
import { Session } from '../../server/modules/identity/identity.model';
import { apiWithToken, buildUser } from '../support/factories';
import { testApp, testClock } from '../support/global';

const uniqueIp = () => `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;

describe('sign-in, sessions and tokens', () => {
  it('signs in with email and password, returning a bearer token and an httpOnly session cookie', async () => {
    const u = await buildUser('pharmacist');
    const res = await request(testApp().url).post('/api/v1/auth/login').set('X-Forwarded-For', uniqueIp()).send({ email: u.email, password: u.password }).expect(200);
    expect(res.body.token).to.be.a('string');
    expect(res.body.user).to.include({ email: u.email, role: 'pharmacist', orgType: 'hospital' });
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).to.match(/gpo_session=/).and.match(/HttpOnly/i).and.match(/SameSite=Lax/i);
    const me = await apiWithToken(res.body.token).get('/api/v1/me').expect(200);
    expect(me.body).to.include({ id: u.id, orgId: u.org.id, role: 'pharmacist' });
  });

  it('refuses a wrong password and an unknown email with the same answer', async () => {
    const u = await buildUser('distributor');
    const wrong = await request(testApp().url).post('/api/v1/auth/login').set('X-Forwarded-For', uniqueIp()).send({ email: u.email, password: 'nope-nope-123' }).expect(401);
    const unknown = await request(testApp().url).post('/api/v1/auth/login').set('X-Forwarded-For', uniqueIp()).send({ email: 'nobody@test.gpo', password: 'nope-nope-123' }).expect(401);
    expect(wrong.body.error.code).to.equal('INVALID_CREDENTIALS');
    expect(unknown.body.error).to.deep.include({ code: 'INVALID_CREDENTIALS', message: wrong.body.error.message });
  });

  it('rate-limits repeated failed sign-ins on one account with a 429 and Retry-After', async () => {
    const u = await buildUser('pharmacist');
    const ip = uniqueIp();
    let last: request.Response | undefined;
    for (let i = 0; i < 11; i += 1) {
      last = await request(testApp().url).post('/api/v1/auth/login').set('X-Forwarded-For', ip).send({ email: u.email, password: `wrong-${i}-pass` });
    }
    expect(last!.status).to.equal(429);
    expect(last!.body.error.code).to.equal('RATE_LIMITED');
    expect(Number(last!.headers['retry-after'])).to.be.greaterThan(0);
  });

  it('rejects forged, tampered, expired and alg=none tokens', async () => {
    const u = await buildUser('operator');
    const sid = (await Session.findOne({ userId: u.id }).lean<{ _id: string }>())!._id;
    const forged = await new SignJWT({ sid })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(u.id)
      .setIssuer('gpo-marketplace')
      .setAudience('gpo-api')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-another-secret-another-secret'));
    const expired = await new SignJWT({ sid })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(u.id)
      .setIssuer('gpo-marketplace')
      .setAudience('gpo-api')
      .setExpirationTime(Math.floor(testClock.now().getTime() / 1000) - 60)
      .sign(new TextEncoder().encode('test-secret-0123456789abcdef0123456789abcdef'));
    const [h, p] = u.token.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
    const tampered = `${h}.${Buffer.from(JSON.stringify({ sub: u.id, sid: 'x' })).toString('base64url')}.${u.token.split('.')[2]}`;
    for (const token of [forged, expired, none, tampered, 'garbage']) {
      const res = await apiWithToken(token).get('/api/v1/me').expect(401);
      expect(res.body.error.code).to.equal('INVALID_TOKEN');
    }
    await apiWithToken(u.token).get('/api/v1/me').expect(200);
  });

  it('logout revokes the token at once', async () => {
    const u = await buildUser('bank_officer');
    await u.api().post('/api/v1/auth/logout').expect(204);
    const res = await u.api().get('/api/v1/me').expect(401);
    expect(res.body.error.code).to.equal('INVALID_TOKEN');
  });

  it('answers 401 without credentials and 403 for the wrong role, with the one error shape', async () => {
    const anon = await request(testApp().url).get('/api/v1/me').expect(401);
    expect(anon.body).to.have.nested.property('error.code', 'UNAUTHENTICATED');
    const u = await buildUser('pharmacist');
    const res = await u.api().get('/api/v1/organisations').expect(403);
    expect(res.body.error).to.include.keys('code', 'message', 'details');
    expect(res.body.error.code).to.equal('ROLE_REQUIRED');
  });
});

describe('CSRF on cookie-authenticated requests', () => {
  it('refuses an unsafe cookie request without the token and accepts it with the token', async () => {
    const u = await buildUser('pharmacist');
    const agent = request.agent(testApp().url);
    await agent.post('/api/v1/auth/login').set('X-Forwarded-For', uniqueIp()).send({ email: u.email, password: u.password }).expect(200);
    const refused = await agent.post('/api/v1/notifications/read-all').expect(403);
    expect(refused.body.error.code).to.equal('CSRF_FAILED');
    const page = await agent.get('/notifications').set('Accept', 'text/html').expect(200);
    const token = /name="csrf-token" content="([^"]+)"/.exec(page.text)?.[1];
    expect(token, 'csrf meta tag').to.be.a('string');
    await agent.post('/api/v1/notifications/read-all').set('x-csrf-token', token!).expect(200);
  });
});
