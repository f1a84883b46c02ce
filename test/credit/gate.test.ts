import { expect } from 'chai';
import { Types } from 'mongoose';
import { assertMayTradeCached } from '../../server/modules/credit';
import { Sanction } from '../../server/modules/credit/credit.model';
import type { AppError } from '../../server/platform/errors';
import { buildTradingDistributor, recordManualBreach } from '../support/credit-factories';
import { buildUser, type TestUser } from '../support/factories';
import { testClock } from '../support/global';

/** What the gate answers each distributor when they all ask in the same moment. */
async function askTogether(users: TestUser[]): Promise<string[]> {
  const answers = await Promise.allSettled(users.map((u) => assertMayTradeCached(u.org.id, 'quote')));
  return answers.map((a) => (a.status === 'fulfilled' ? 'pass' : (a.reason as AppError).code));
}

describe('trading gate, remembered per distributor', () => {
  it('answers distributors asking at once (looked up together) exactly as one at a time: signed pass, unsigned and suspended are refused with their reason', async () => {
    const a = await buildTradingDistributor();
    const b = await buildTradingDistributor();
    const unsigned = await buildUser('distributor');
    const suspended = await buildTradingDistributor();
    await recordManualBreach(suspended.org.id, { points: 45 });
    expect(await askTogether([a, unsigned, b, suspended, a])).to.deep.equal(['pass', 'COMMITMENT_NOT_SIGNED', 'pass', 'DISTRIBUTOR_SUSPENDED', 'pass']);
    // asked again: the passes come from memory, the refusals are asked afresh and still say why
    expect(await askTogether([suspended, a, unsigned, b])).to.deep.equal(['DISTRIBUTOR_SUSPENDED', 'pass', 'COMMITMENT_NOT_SIGNED', 'pass']);
  });

  it('lets a distributor whose suspension starts later pass now, and refuses it once the suspension starts', async () => {
    const d = await buildTradingDistributor();
    const at = testClock.now();
    const startsAt = new Date(at.getTime() + 1_000);
    await Sanction.create({ orgId: new Types.ObjectId(d.org.id), orgName: d.org.name, kind: 'suspension', reason: 'GRADE_D', startsAt, endsAt: new Date(at.getTime() + 86_400_000), key: `gate-test-${d.org.id}`, createdAt: at });
    expect(await askTogether([d])).to.deep.equal(['pass']);
    testClock.advance(2_000);
    expect(await askTogether([d])).to.deep.equal(['DISTRIBUTOR_SUSPENDED']);
  });
});
