import { expect } from 'chai';
import type { Actor } from '../../server/platform/auth';
import { cachedSession, forgetSession, forgetUser } from '../../server/modules/identity/identity.session-cache';
import { apiWithToken, buildUser } from '../support/factories';
import { testClock } from '../support/global';

const actorOf = (id: string, sessionId: string): Actor => ({ id, sessionId, email: `${id}@test.gpo`, name: id, role: 'pharmacist', orgId: 'org', orgType: 'hospital', orgName: 'org' });
let seq = 0;
const fresh = () => `cache-test-${process.pid}-${(seq += 1)}`;

describe('identity: sessions remembered briefly', () => {
  afterEach(() => testClock.reset());

  it('reads a live session once, then answers from memory for ten seconds', async () => {
    const sid = fresh();
    let reads = 0;
    const read = async () => ((reads += 1), { actor: actorOf('u1', sid), expiresAt: new Date(testClock.now().getTime() + 3_600_000) });
    expect((await cachedSession(sid, read))?.id).to.equal('u1');
    expect((await cachedSession(sid, read))?.id).to.equal('u1');
    expect(reads).to.equal(1);
    testClock.advance(9_000);
    await cachedSession(sid, read);
    expect(reads).to.equal(1);
    testClock.advance(1_000);
    await cachedSession(sid, read);
    expect(reads).to.equal(2);
  });

  it('never outlives the session itself', async () => {
    const sid = fresh();
    let reads = 0;
    const expiresAt = new Date(testClock.now().getTime() + 2_000);
    const read = async () => ((reads += 1), testClock.now() < expiresAt ? { actor: actorOf('u2', sid), expiresAt } : null);
    await cachedSession(sid, read);
    testClock.advance(2_000);
    expect(await cachedSession(sid, read)).to.equal(null);
    expect(reads).to.equal(2);
  });

  it('does not remember an unknown or revoked session', async () => {
    const sid = fresh();
    let reads = 0;
    const read = async () => ((reads += 1), null);
    expect(await cachedSession(sid, read)).to.equal(null);
    expect(await cachedSession(sid, read)).to.equal(null);
    expect(reads).to.equal(2);
  });

  it('forgets a session, or every session of a user, when told', async () => {
    const a = fresh();
    const b = fresh();
    let reads = 0;
    const read = async (sid: string) => ((reads += 1), { actor: actorOf(sid === a ? 'u3' : 'u4', sid), expiresAt: new Date(testClock.now().getTime() + 3_600_000) });
    await cachedSession(a, read);
    await cachedSession(b, read);
    forgetSession(a);
    await cachedSession(a, read);
    await cachedSession(b, read);
    expect(reads).to.equal(3);
    forgetUser('u4');
    await cachedSession(b, read);
    expect(reads).to.equal(4);
  });

  it('does not store a read that an eviction overtook', async () => {
    const sid = fresh();
    let reads = 0;
    const read = async () => {
      reads += 1;
      if (reads === 1) forgetSession(sid); // revoked while the first read was under way
      return { actor: actorOf('u5', sid), expiresAt: new Date(testClock.now().getTime() + 3_600_000) };
    };
    await cachedSession(sid, read);
    await cachedSession(sid, read);
    expect(reads).to.equal(2);
  });

  it('stops a token at once on sign-out, and a language choice reaches the next request', async () => {
    const u = await buildUser('pharmacist');
    await u.api().get('/api/v1/me').expect(200);
    await u.api().get('/api/v1/me?lang=en').expect(200);
    const refused = await apiWithToken(u.token).get('/api/v1/orders?limit=abc');
    expect(refused.status).to.equal(400);
    expect(refused.body.error.message).to.match(/[A-Za-z]/).and.not.match(/[\u4e00-\u9fff]/);
    await u.api().post('/api/v1/auth/logout', {}).expect(204);
    await apiWithToken(u.token).get('/api/v1/me').expect(401);
  });
});
