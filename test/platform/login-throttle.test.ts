import http from 'node:http';
import { expect } from 'chai';
import request from 'supertest';
import { loadConfig as load } from '../../server/platform/config';
import { buildUser } from '../support/factories';
import { testApp, testClock } from '../support/global';

let ipSeq = 0;
const uniqueIp = () => `10.77.${Math.floor(ipSeq / 250) % 250}.${(ipSeq++ % 250) + 1}`;
const uniqueEmail = () => `nobody-${process.pid}-${ipSeq++}@test.gpo`;

/**
 * Lets the business clock run only while a request is in flight (it stands still between requests),
 * so the delays measured on it do not depend on how fast the machine runs the test.
 */
function steadyClock(): <T>(step: () => PromiseLike<T>) => Promise<T> {
  let at = testClock.now();
  return async (step) => {
    testClock.set(at);
    const result = await step();
    at = testClock.now();
    return result;
  };
}

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

  it('a browser that signed in to the account before gets in at once while others hammer it (device cookie)', async () => {
    const deviceOf = (res: request.Response) => String(res.headers['set-cookie']).match(/gpo_device=([^;]+)/)![1]!;
    const withDevice = (email: string, password: string, device: string) => signIn(email, password, uniqueIp()).set('Cookie', `gpo_device=${device}`);
    const victim = await buildUser('distributor');
    const other = await buildUser('distributor');
    const step = steadyClock();
    const first = await step(() => signIn(victim.email, victim.password, uniqueIp()));
    expect(first.status).to.equal(200);
    const device = deviceOf(first);
    const otherDevice = deviceOf(await step(() => signIn(other.email, other.password, uniqueIp())));
    let throttled = 0;
    for (let i = 0; i < 14; i += 1) if ((await step(() => signIn(victim.email, `wrong-${i}-pass`, uniqueIp()))).status === 429) throttled += 1;
    expect(throttled).to.equal(4);
    // The right password without the device cookie waits out the (short) delay …
    expect((await step(() => signIn(victim.email, victim.password, uniqueIp()))).status).to.equal(429);
    // … the owner's browser does not, and a device cookie of another account (or a forged one) does not help.
    const back = await step(() => withDevice(victim.email, victim.password, device));
    expect(back.status, JSON.stringify(back.body)).to.equal(200);
    for (let i = 0; i < 14; i += 1) await step(() => signIn(victim.email, `wrong-again-${i}`, uniqueIp()));
    expect((await step(() => withDevice(victim.email, victim.password, otherDevice))).status).to.equal(429);
    const [id, who] = device.split('.');
    expect((await step(() => withDevice(victim.email, victim.password, `${id}.${who}.${'A'.repeat(43)}`))).status).to.equal(429);
    expect((await step(() => withDevice(victim.email, victim.password, device))).status).to.equal(200);
  });

  it('the account delay grows with the failures and is capped at five seconds', async () => {
    const u = await buildUser('pharmacist');
    const waits: number[] = [];
    let step = steadyClock();
    for (let i = 0; i < 16; i += 1) {
      const res = await step(() => signIn(u.email, `wrong-${i}-pass`, uniqueIp()));
      if (res.status === 429) {
        waits.push(Number(res.headers['retry-after']));
        testClock.advance(Number(res.headers['retry-after']) * 1000);
        step = steadyClock();
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
    const step = steadyClock();
    for (let i = 0; i < 11; i += 1) {
      last = await step(() => agent.post('/login').set('X-Forwarded-For', uniqueIp()).set('Cookie', 'lang=zh').type('form').send({ _csrf: csrf, email: u.email, password: `wrong-${i}-pass` }));
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
