import { expect } from 'chai';
import request from 'supertest';
import { navigationFor, type Role } from '../../server/platform/navigation';
import { buildUser } from '../support/factories';
import { testApp } from '../support/global';

const ROLES: Role[] = ['operator', 'pharmacist', 'hospital_finance', 'distributor', 'bank_officer'];

describe('the language switch on every page', () => {
  it('answers every navigation page of every role with ?lang=en and ?lang=zh (no 400 from a page query schema)', async () => {
    const failures: string[] = [];
    for (const role of ROLES) {
      const user = await buildUser(role);
      for (const { href } of navigationFor(role, '/')) {
        for (const lang of ['en', 'zh']) {
          const res = await request(testApp().url).get(`${href}?lang=${lang}`).set('Authorization', `Bearer ${user.token}`).set('Accept', 'text/html');
          if (res.status >= 400) failures.push(`${role} ${href}?lang=${lang} → ${res.status}`);
          else if (res.status === 200 && res.type === 'text/html') {
            expect(String(res.headers['set-cookie'] ?? ''), `${href} sets the lang cookie`).to.include(`lang=${lang}`);
          }
        }
      }
    }
    expect(failures).to.deep.equal([]);
  });

  it('accepts the switch together with a page\'s own filters', async () => {
    const operator = await buildUser('operator');
    const pharmacist = await buildUser('pharmacist');
    const audit = await request(testApp().url).get('/admin/audit?lang=en&action=auth.login').set('Authorization', `Bearer ${operator.token}`).set('Accept', 'text/html');
    expect(audit.status).to.equal(200);
    const notes = await request(testApp().url).get('/notifications?lang=zh&unread=true').set('Authorization', `Bearer ${pharmacist.token}`).set('Accept', 'text/html');
    expect(notes.status).to.be.below(400);
  });
});
