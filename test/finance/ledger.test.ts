import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import mongoose, { Types } from 'mongoose';
import request from 'supertest';
import { checkLedger } from '../../server/modules/finance';
import { accounts, EntryExistsError, postEntry } from '../../server/modules/finance/finance.ledger';
import { JournalEntry, LedgerAccount } from '../../server/modules/finance/finance.model';
import { TEST_DB, testApp } from '../support/global';
import { getMongoUri } from '../support/mongo';
import { buildGuaranteedHospital, financeHooks } from '../support/finance-factories';

const run = promisify(execFile);

async function ledgerCommand(): Promise<{ code: number; out: string }> {
  const env = { ...process.env, MONGODB_URI: await getMongoUri(TEST_DB), MONGODB_DB: TEST_DB, LOG_LEVEL: 'silent', NODE_ENV: 'test' };
  try {
    const { stdout } = await run('npx', ['tsx', 'scripts/ledger-check.ts'], { env, timeout: 60_000 });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string };
    return { code: e.code ?? -1, out: e.stdout ?? '' };
  }
}

describe('finance: the ledger', function () {
  this.timeout(90_000);
  financeHooks();

  it('refuses an entry whose postings do not sum to zero, and stores nothing', async () => {
    const hospital = String(new Types.ObjectId());
    const bank = String(new Types.ObjectId());
    const key = `test-unbalanced:${hospital}`;
    let refused = false;
    try {
      await mongoose.connection.transaction((s) =>
        postEntry({ idempotencyKey: key, kind: 'deposit', memo: 'unbalanced', postings: [{ account: accounts.bankClearing(hospital, bank), amountFen: 100 }, { account: accounts.workingCapital(hospital, bank), amountFen: -99 }] }, s),
      );
    } catch (err) {
      refused = /does not balance/.test((err as Error).message);
    }
    expect(refused).to.equal(true);
    expect(await JournalEntry.countDocuments({ idempotencyKey: key })).to.equal(0);
  });

  it('posts an entry once per idempotency key, with the balances in the same transaction', async () => {
    const hospital = String(new Types.ObjectId());
    const bank = String(new Types.ObjectId());
    const entry = (s: mongoose.ClientSession) =>
      postEntry({ idempotencyKey: `test-once:${hospital}`, kind: 'deposit', memo: 'once', postings: [{ account: accounts.bankClearing(hospital, bank), amountFen: 500 }, { account: accounts.workingCapital(hospital, bank), amountFen: -500 }] }, s);
    await mongoose.connection.transaction(entry);
    let again: unknown;
    try {
      await mongoose.connection.transaction(entry);
    } catch (err) {
      again = err;
    }
    expect(again).to.be.instanceOf(EntryExistsError);
    expect((await LedgerAccount.findOne({ key: accounts.workingCapital(hospital, bank).key }).lean())?.balanceFen).to.equal(-500);
    expect(await JournalEntry.countDocuments({ idempotencyKey: `test-once:${hospital}` })).to.equal(1);
  });

  it('the check reads one snapshot: money moving while it runs never looks like a mismatch', async () => {
    const hospital = String(new Types.ObjectId());
    const bank = String(new Types.ObjectId());
    let stop = false;
    let written = 0;
    const writer = (async () => {
      while (!stop) {
        const n = written++;
        await mongoose.connection.transaction((s) =>
          postEntry({ idempotencyKey: `test-moving:${hospital}:${n}`, kind: 'deposit', memo: 'moving', postings: [{ account: accounts.bankClearing(hospital, bank), amountFen: 7 }, { account: accounts.workingCapital(hospital, bank), amountFen: -7 }] }, s),
        );
      }
    })();
    try {
      for (let i = 0; i < 12; i += 1) expect((await checkLedger()).mismatches).to.deep.equal([]);
    } finally {
      stop = true;
      await writer;
    }
    expect(written).to.be.greaterThan(3);
  });

  it('the check, the command and the operator page all catch a balance that differs from its entries', async () => {
    const { hospital, bank, operator } = await buildGuaranteedHospital({ balanceFen: 12_345 });
    expect((await checkLedger()).ok).to.equal(true);
    const clean = await ledgerCommand();
    expect(clean.code, clean.out).to.equal(0);
    expect(clean.out).to.contain('ledger OK');

    const key = accounts.workingCapital(hospital.org.id, bank.org.id).key;
    await LedgerAccount.updateOne({ key }, { $inc: { balanceFen: -1 } });
    try {
      const check = await checkLedger();
      expect(check.ok).to.equal(false);
      expect(check.mismatches).to.deep.include({ accountKey: key, storedFen: -12_346, computedFen: -12_345 });
      const broken = await ledgerCommand();
      expect(broken.code).to.equal(1);
      expect(broken.out).to.contain(`MISMATCH ${key}`);
      const pageRes = await request(testApp().url).get('/finance/ledger').set('Cookie', `gpo_session=${operator.token}`);
      expect(pageRes.text).to.contain('data-ok="false"');
      expect(pageRes.text).to.contain(key);
      const api = await operator.api().get('/api/v1/finance/ledger/check');
      expect(api.body.ok).to.equal(false);
    } finally {
      await LedgerAccount.updateOne({ key }, { $inc: { balanceFen: 1 } });
    }
    expect((await checkLedger()).ok).to.equal(true);
    expect((await hospital.api().get('/api/v1/finance/ledger/check')).status).to.equal(403);
  });
});
