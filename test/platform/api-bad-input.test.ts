import { expect } from 'chai';
import request from 'supertest';
import type { Role } from '../../server/platform/schemas';
import { buildUser, type TestUser } from '../support/factories';
import { testApp } from '../support/global';

interface Operation {
  requestBody?: unknown;
}

const ROLES: Role[] = ['operator', 'pharmacist', 'hospital_finance', 'distributor', 'bank_officer'];
const SOME_ID = '6b0000000000000000000001';

describe('every API route with a JSON body refuses bad input with a 4xx', function () {
  this.timeout(120_000);

  it('an operator-smuggling body, a wrong-typed body and a non-object body get a 4xx from every POST/PUT/PATCH route, for every role', async () => {
    const doc = (await request(testApp().url).get('/api/v1/openapi.json').expect(200)).body as { paths: Record<string, Record<string, Operation>> };
    const users = new Map<Role, TestUser>();
    for (const role of ROLES) users.set(role, await buildUser(role));
    const bodies: unknown[] = [{ $where: 'sleep(1000)', unexpectedField: { $gt: '' } }, [1, 2, 3], 'just text', { amountFen: -1.5, priceFen: '1e99', id: { $ne: null } }];
    const failures: string[] = [];
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (!['post', 'put', 'patch'].includes(method) || !op.requestBody) continue;
        if (path === '/api/v1/auth/login') continue;
        const url = path.replace(/\{[^}]+\}/g, SOME_ID);
        for (const role of ROLES) {
          for (const body of bodies) {
            const res = await request(testApp().url)
              [method as 'post' | 'put' | 'patch'](url)
              .set('Authorization', `Bearer ${users.get(role)!.token}`)
              .set('Content-Type', 'application/json')
              .send(JSON.stringify(body));
            checked += 1;
            const ok = res.status >= 400 && res.status < 500 && typeof res.body?.error?.code === 'string';
            if (!ok) failures.push(`${method.toUpperCase()} ${path} as ${role} with ${JSON.stringify(body).slice(0, 60)} → ${res.status} ${JSON.stringify(res.body).slice(0, 120)}`);
          }
        }
      }
    }
    expect(checked).to.be.greaterThan(100);
    expect(failures, failures.join('\n')).to.deep.equal([]);
  });

  it('every route, as every role, answers an unknown id with a 4xx (404 for another organisation’s or a missing record), never a 5xx', async () => {
    const doc = (await request(testApp().url).get('/api/v1/openapi.json').expect(200)).body as { paths: Record<string, Record<string, Operation>> };
    const failures: string[] = [];
    for (const role of ROLES) {
      const u = await buildUser(role);
      for (const [path, ops] of Object.entries(doc.paths)) {
        if (!path.includes('{')) continue;
        for (const method of Object.keys(ops)) {
          const url = path.replace(/\{[^}]+\}/g, SOME_ID);
          const res = await request(testApp().url)
            [method as 'get' | 'post']('' + url)
            .set('Authorization', `Bearer ${u.token}`);
          if (res.status >= 500 || res.status < 400) failures.push(`${method.toUpperCase()} ${path} as ${role} → ${res.status} ${JSON.stringify(res.body).slice(0, 120)}`);
        }
      }
    }
    expect(failures, failures.join('\n')).to.deep.equal([]);
  });
});
