import http from 'node:http';
import { expect } from 'chai';
import request from 'supertest';
import { loadConfig as load } from '../../server/platform/config';
import { buildUser } from '../support/factories';
import { testApp, testClock } from '../support/global';

let ipSeq = 0;
const uniqueIp = () => `10.77.${Math.floor(ipSeq / 250) % 250}.${(ipSeq++ % 250) + 1}`;
const uniqueEmail = () => `nobody-${process.pid}-${ipSeq++}@test.gpo`;

function signIn(email: string, password: string, ip: string) {
  return request(testApp().url).post('/api/v1/auth/login').set('X-Forwarded-For', ip).send({ email, password });
}

/** A sign-in from a peer the app does not trust as a proxy (another loopback address), with a forged X-Forwarded-For. */
function signInFrom(localAddress: string, forwardedFor: string, body: { email: string; password: string }): Promise<{ status: number; body: { error?: { code: string } } }> {
  const url = new URL(testApp().url);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: '/api/v1/auth/login', method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'x-forwarded-for': forwardedFor } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || '{}') }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('sign-in throttling: failed attempts slow down, the right password is never locked out', function () {
  this.timeout(60_000);

  it('after many wrong passwords the right one from another address gets in within the short account delay', async () => {
    const victim = await buildUser('hospital_finance');
    for (let i = 0; i < 25; i += 1) {
      const res = await signIn(victim.email, `wrong-${i}-pass`, uniqueIp());
      expect(res.status).to.be.oneOf([401, 429]);
    }
    let res = await signIn(victim.email, victim.password, uniqueIp());
    if (res.status === 429) {
      const wait = Number(res.headers['retry-after']);
      expect(wait, 'the right password waits a few seconds at most').to.be.within(1, 5);
      testClock.advance(wait * 1000);
      res = await signIn(victim.email, victim.password, uniqueIp());
    }
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.token).to.be.a('string');
  });

  it('the account delay grows with the failures and is capped at five seconds', async () => {
    const u = await buildUser('pharmacist');
    const waits: number[] = [];
    for (let i = 0; i < 16; i += 1) {
      const res = await signIn(u.email, `wrong-${i}-pass`, uniqueIp());
      if (res.status === 429) {
        waits.push(Number(res.headers['retry-after']));
        testClock.advance(Number(res.headers['retry-after']) * 1000);
      }
    }
    expect(waits.length).to.be.greaterThan(2);
    expect(waits[0]).to.equal(2);
    expect(Math.max(...waits)).to.equal(5);
  });

  it('the sign-in page tells a throttled user how long to wait, in the page language', async () => {
    const u = await buildUser('pharmacist');
    const agent = request.agent(testApp().url);
    const form = await agent.get('/login').set('Cookie', 'lang=zh');
    const csrf = /name="csrf-token" content="([^"]+)"/.exec(form.text)![1]!;
    let last: request.Response | undefined;
    for (let i = 0; i < 11; i += 1) {
      last = await agent.post('/login').set('X-Forwarded-For', uniqueIp()).set('Cookie', 'lang=zh').type('form').send({ _csrf: csrf, email: u.email, password: `wrong-${i}-pass` });
    }
    expect(last!.status).to.equal(429);
    expect(last!.text).to.match(/登录失败次数过多，请 \d 秒后再试。/);
  });

  it('60 successful sign-ins from one address are not limited', async () => {
    const users = await Promise.all([buildUser('pharmacist'), buildUser('distributor'), buildUser('operator')]);
    const ip = uniqueIp();
    for (let i = 0; i < 60; i += 1) {
      const u = users[i % users.length]!;
      const res = await signIn(u.email, u.password, ip);
      expect(res.status, `sign-in ${i + 1}: ${JSON.stringify(res.body)}`).to.equal(200);
    }
  });

  it('a client that is not a trusted proxy cannot evade the address limit by rotating X-Forwarded-For', async () => {
    const peer = '127.0.0.2';
    let limited = 0;
    for (let i = 0; i < 60; i += 1) {
      const res = await signInFrom(peer, uniqueIp(), { email: uniqueEmail(), password: 'wrong-pass-123' });
      if (res.status === 429) limited += 1;
      else expect(res.status).to.equal(401);
    }
    // 50 failures are free per address (LOGIN_RATE_LIMIT 10 × 5); the rest wait, whatever the header says.
    expect(limited).to.be.greaterThan(5);
    // The trusted proxy's clients are told apart by the header: another address is not affected.
    const u = await buildUser('pharmacist');
    expect((await signIn(u.email, u.password, uniqueIp())).status).to.equal(200);
  });

  it('trusts no proxy unless TRUST_PROXY names one, and refuses a malformed setting', () => {
    const loadConfig = (env: Record<string, string>) => load({ JWT_SECRET: 'x'.repeat(40), ...env });
    expect(loadConfig({}).trustProxy).to.equal(false);
    expect(loadConfig({ TRUST_PROXY: 'none' }).trustProxy).to.equal(false);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.5, 192.168.0.0/16,loopback' }).trustProxy).to.deep.equal(['10.0.0.5', '192.168.0.0/16', 'loopback']);
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).to.throw(/TRUST_PROXY/);
    expect(() => loadConfig({ TRUST_PROXY: '10.0.0.0/99' })).to.throw(/TRUST_PROXY/);
  });
});
