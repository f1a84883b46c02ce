import { expect } from 'chai';
import { Drug } from '../../server/modules/catalogue';
import { buildUser, connectSocket, emitAck } from '../support/factories';
import { buildGuaranteedHospital } from '../support/finance-factories';
import { catalogueOperator, drugBody } from '../support/quotation-factories';

// Raw JSON so that the escapes reach the server as written (a lone surrogate cannot be encoded as UTF-8).
const LONE_HIGH = '"YB-\\ud800-1"';
const LONE_LOW = '"\\udc00维生素C片"';

describe('text with NUL bytes or lone UTF-16 surrogates is refused everywhere, naming the field', () => {
  it("refuses a deposit whose reference has a NUL or a lone surrogate with 400 and leaves the balance as it was", async () => {
    const { hospital } = await buildGuaranteedHospital({ balanceFen: 5_000 });
    for (const raw of ['{"amountFen":100,"reference":"YB-\\u0000-1"}', `{"amountFen":100,"reference":${LONE_HIGH}}`]) {
      const res = await hospital.api().post('/api/v1/finance/account/deposits').set('Content-Type', 'application/json').set('Idempotency-Key', `bad-text-${raw.length}-${Math.random()}`).send(raw);
      expect(res.status, JSON.stringify(res.body)).to.equal(400);
      expect(res.body.error.code).to.equal('VALIDATION_FAILED');
      expect(res.body.error.details).to.deep.include({ in: 'body', path: 'reference', message: res.body.error.details[0].message, code: 'invalid_characters' });
    }
    const account = await hospital.api().get('/api/v1/finance/account');
    expect(account.body.balanceFen).to.equal(5_000);
  });

  it('refuses a drug whose name has a lone surrogate and stores nothing; refuses a NUL in a query string', async () => {
    const op = await catalogueOperator();
    const body = drugBody();
    const raw = JSON.stringify(body).replace(JSON.stringify(body.genericNameZh), LONE_LOW);
    const res = await op.api().post('/api/v1/catalogue/drugs').set('Content-Type', 'application/json').send(raw);
    expect(res.status, JSON.stringify(res.body)).to.equal(400);
    expect(res.body.error.details[0]).to.include({ path: 'genericNameZh', code: 'invalid_characters' });
    expect(await Drug.countDocuments({ nhsaCode: body.nhsaCode })).to.equal(0);
    const search = await op.api().get('/api/v1/catalogue/drugs?q=a%00b');
    expect(search.status).to.equal(400);
    expect(search.body.error.details[0]).to.include({ in: 'query', path: 'q', code: 'invalid_characters' });
  });

  it('refuses an uploaded table with a NUL in a cell, naming the row and column, and imports nothing', async () => {
    const op = await catalogueOperator();
    const tag = `NUL${process.pid}${Math.floor(Math.random() * 1e6)}`;
    const csv = Buffer.from(`通用名,英文名\n${tag}维生素\u0000C片,Vitamin C\n`, 'utf8');
    const res = await op.api().post('/api/v1/catalogue/import').attach('file', csv, 'bad.csv');
    expect(res.status, JSON.stringify(res.body)).to.equal(400);
    expect(res.body.error.details[0]).to.include({ in: 'file', path: 'row 2, column 1', code: 'invalid_characters' });
    expect(await Drug.countDocuments({ genericNameZh: new RegExp(tag) })).to.equal(0);
  });

  it('refuses the same in a socket payload', async () => {
    const u = await buildUser('pharmacist');
    const socket = await connectSocket(u.token);
    try {
      const ack = await emitAck(socket, 'notification:read', { id: 'x\u0000' });
      expect(ack.error?.code).to.equal('VALIDATION_FAILED');
      expect(ack.error?.details[0]).to.include({ path: 'id', code: 'invalid_characters' });
    } finally {
      socket.disconnect();
    }
  });
});
