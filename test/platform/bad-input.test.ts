import { expect } from 'chai';
import request from 'supertest';
import { Organisation, User } from '../../server/modules/identity';
import { buildUser } from '../support/factories';
import { testApp } from '../support/global';

async function counts() {
  return { orgs: await Organisation.countDocuments(), users: await User.countDocuments() };
}

describe('bad input gets a clear 4xx and stores nothing', () => {
  it('malformed JSON is a 400 MALFORMED_JSON without echoing the body', async () => {
    const op = await buildUser('operator');
    const before = await counts();
    const res = await request(testApp().url)
      .post('/api/v1/organisations')
      .set('Authorization', `Bearer ${op.token}`)
      .set('Content-Type', 'application/json')
      .send('{"name": "x", "type": hospital}')
      .expect(400);
    expect(res.body.error.code).to.equal('MALFORMED_JSON');
    expect(JSON.stringify(res.body)).not.to.contain('hospital}');
    expect(await counts()).to.deep.equal(before);
  });

  it('unknown fields, missing fields and wrong types are 400 with one detail per problem', async () => {
    const op = await buildUser('operator');
    const before = await counts();
    const res = await op.api().post('/api/v1/organisations', { name: 42, type: 'pharmacy', isAdmin: true }).expect(400);
    expect(res.body.error.code).to.equal('VALIDATION_FAILED');
    const paths = res.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).to.include.members(['name', 'type']);
    expect(res.body.error.details.some((d: { code: string }) => d.code === 'unrecognized_keys')).to.equal(true);
    expect(await counts()).to.deep.equal(before);
  });

  it('an oversized body is a 413 PAYLOAD_TOO_LARGE', async () => {
    const op = await buildUser('operator');
    const before = await counts();
    const res = await op.api().post('/api/v1/organisations', { name: 'x'.repeat(2 * 1024 * 1024), type: 'bank' }).expect(413);
    expect(res.body.error.code).to.equal('PAYLOAD_TOO_LARGE');
    expect(await counts()).to.deep.equal(before);
  });

  it('MongoDB operators smuggled into a body are refused, not executed', async () => {
    const u = await buildUser('pharmacist');
    const res = await request(testApp().url).post('/api/v1/auth/login').send({ email: { $gt: '' }, password: { $ne: null } }).expect(400);
    expect(res.body.error.code).to.equal('VALIDATION_FAILED');
    const op = await buildUser('operator');
    const before = await counts();
    await op.api().post('/api/v1/users', { orgId: { $ne: null }, name: 'x', email: 'x@y.z', role: 'operator', password: 'abcdefgh12345' }).expect(400);
    expect(await counts()).to.deep.equal(before);
    void u;
  });

  it('operators smuggled into a query string are refused', async () => {
    const op = await buildUser('operator');
    const res = await op.api().get('/api/v1/organisations?type[$ne]=bank').expect(400);
    expect(res.body.error.code).to.equal('VALIDATION_FAILED');
    const res2 = await op.api().get('/api/v1/audit?action[$gt]=').expect(400);
    expect(res2.body.error.code).to.equal('VALIDATION_FAILED');
  });

  it('an invalid ObjectId in the path is a 400, never a cast error', async () => {
    const u = await buildUser('pharmacist');
    const res = await u.api().post('/api/v1/notifications/not-an-id/read').expect(400);
    expect(res.body.error.code).to.equal('VALIDATION_FAILED');
    expect(JSON.stringify(res.body)).not.to.match(/Cast to ObjectId/);
  });

  it('a form post to a JSON API route is refused', async () => {
    const op = await buildUser('operator');
    const res = await request(testApp().url).post('/api/v1/organisations').set('Authorization', `Bearer ${op.token}`).type('form').send({ name: 'form org', type: 'bank' }).expect(400);
    expect(res.body.error.code).to.equal('VALIDATION_FAILED');
  });

  it('an unknown API route is a JSON 404', async () => {
    const u = await buildUser('pharmacist');
    const res = await u.api().get('/api/v1/nothing-here').expect(404);
    expect(res.body.error.code).to.equal('ROUTE_NOT_FOUND');
  });

  it('creating a user with a role that does not fit the organisation is refused and stores nothing', async () => {
    const op = await buildUser('operator');
    const hospital = await buildUser('pharmacist');
    const before = await counts();
    const res = await op.api().post('/api/v1/users', { orgId: hospital.org.id, name: 'Bank person', email: 'misfit@test.gpo', role: 'bank_officer', password: 'abcdefgh12345' }).expect(400);
    expect(res.body.error.code).to.equal('ROLE_NOT_FOR_ORGANISATION');
    expect(await counts()).to.deep.equal(before);
  });

  it('a duplicate organisation name is a 409 and the original stays', async () => {
    const op = await buildUser('operator');
    const created = await op.api().post('/api/v1/organisations', { name: `银行-${Date.now()}`, type: 'bank' }).expect(201);
    const before = await counts();
    const res = await op.api().post('/api/v1/organisations', { name: created.body.name, type: 'bank' }).expect(409);
    expect(res.body.error.code).to.equal('ORGANISATION_EXISTS');
    expect(await counts()).to.deep.equal(before);
  });
});
