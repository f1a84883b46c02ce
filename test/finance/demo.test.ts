import { expect } from 'chai';
import { Types } from 'mongoose';
import { seedDemoFinance } from '../../server/modules/finance/finance.demo';
import { GuaranteeLine, Invoice, JournalEntry } from '../../server/modules/finance/finance.model';
import { DEMO_ORGS } from '../../server/modules/demo';
import { Organisation } from '../../server/modules/identity';
import { createLogger } from '../../server/platform/logger';
import { financeHooks, settled } from '../support/finance-factories';

describe('finance: demo data', function () {
  financeHooks();

  it('seeds an approved line with an agreement, a prepayment, a settled and an open invoice and a pending application — once', async () => {
    for (const o of DEMO_ORGS) {
      const { users, key, ...fields } = o;
      void users;
      await Organisation.updateOne({ demoKey: key }, { $setOnInsert: { ...fields, demoKey: key, active: true } }, { upsert: true });
    }
    const h3 = await Organisation.findOne({ demoKey: 'hospital-3' }).lean<{ _id: Types.ObjectId }>();
    const h2 = await Organisation.findOne({ demoKey: 'hospital-2' }).lean<{ _id: Types.ObjectId }>();
    const logger = createLogger('silent', 'test');
    await seedDemoFinance(logger);
    await seedDemoFinance(logger);
    const lines = await GuaranteeLine.find({ hospitalOrgId: h3!._id }).lean();
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({ status: 'active', limitFen: 3_000_000_00, annualRateBp: 435, agreementVersion: 1 });
    expect(await GuaranteeLine.countDocuments({ hospitalOrgId: h2!._id, status: 'pending' })).to.equal(1);
    expect(await JournalEntry.countDocuments({ hospitalOrgId: h3!._id, kind: 'prepayment' })).to.equal(1);
    const due = await Invoice.findOne({ acceptanceKey: 'demo-finance-1' }).lean();
    const done = await settled(String(due!._id));
    expect(done.settlement).to.include({ outcome: 'paid_with_advance', fromAccountFen: 120_000_00, advanceFen: 75_000_00 });
    expect(await Invoice.findOne({ acceptanceKey: 'demo-finance-2' }).lean()).to.include({ status: 'open' });
  });
});
