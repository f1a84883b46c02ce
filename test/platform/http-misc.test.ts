import { expect } from 'chai';
import request from 'supertest';
import { listAudit } from '../../server/modules/audit';
import { forwardingCounts } from '../../server/platform/forwarding';
import { hashRequest, runIdempotent } from '../../server/platform/idempotency';
import { INSTANCE } from '../../server/platform/instance';
import { buildUser } from '../support/factories';
import { testApp } from '../support/global';

describe('health, OpenAPI and audit', () => {
  it('serves /healthz and /readyz with the database and Redis checked', async () => {
    const health = await request(testApp().url).get('/healthz').expect(200);
    expect(health.body).to.deep.equal({ status: 'ok', instance: INSTANCE, forwarded: forwardingCounts() });
    const ready = await request(testApp().url).get('/readyz').expect(200);
    expect(ready.body).to.deep.equal({ status: 'ready', mongo: true, redis: true });
  });

  it('serves an OpenAPI 3 document generated from the request schemas, and the docs page', async () => {
    const res = await request(testApp().url).get('/api/v1/openapi.json').expect(200);
    expect(res.body.openapi).to.match(/^3\./);
    const login = res.body.paths['/api/v1/auth/login'].post;
    expect(login.requestBody.content['application/json'].schema).to.be.an('object');
    expect(res.body.paths).to.have.property('/api/v1/organisations');
    await request(testApp().url).get('/api/docs/').expect(200).expect(/swagger/i);
  });

  it('records every state change in the audit log, filterable by action', async () => {
    const op = await buildUser('operator');
    const name = `审计银行-${Date.now()}`;
    const created = await op.api().post('/api/v1/organisations', { name, type: 'bank' }).expect(201);
    const res = await op.api().get(`/api/v1/audit?action=organisation.create&targetId=${created.body.id}`).expect(200);
    expect(res.body.data).to.have.length(1);
    expect(res.body.data[0]).to.include({ action: 'organisation.create', targetType: 'organisation', targetId: created.body.id });
    expect(res.body.data[0].requestId).to.be.a('string');
    const page = await listAudit({ limit: 1 }, 'zh');
    expect(page.nextCursor).to.be.a('string');
  });
});

describe('idempotency keys (Stripe semantics)', () => {
  it('replays the first reply, refuses another payload with 422 and a concurrent duplicate with 409', async () => {
    const key = `test:${Date.now()}:k1`;
    let runs = 0;
    const slow = async () => {
      runs += 1;
      await new Promise((r) => setTimeout(r, 100));
      return { status: 201, body: { n: runs } };
    };
    const [first, concurrent] = await Promise.allSettled([runIdempotent(key, hashRequest('s', { a: 1 }), 201, slow), new Promise((r) => setTimeout(r, 20)).then(() => runIdempotent(key, hashRequest('s', { a: 1 }), 201, slow))]);
    expect(first.status).to.equal('fulfilled');
    expect(concurrent.status).to.equal('rejected');
    expect((concurrent as PromiseRejectedResult).reason).to.have.property('status', 409);
    const replay = await runIdempotent(key, hashRequest('s', { a: 1 }), 201, slow);
    expect(replay).to.deep.include({ status: 201, replayed: true });
    expect(replay.body).to.deep.equal({ n: 1 });
    let mismatch: unknown;
    try {
      await runIdempotent(key, hashRequest('s', { a: 2 }), 201, slow);
    } catch (e) {
      mismatch = e;
    }
    expect(mismatch).to.have.property('status', 422);
    expect(runs).to.equal(1);
  });
});
