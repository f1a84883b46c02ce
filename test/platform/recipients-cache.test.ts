import { expect } from 'chai';
import { Types } from 'mongoose';
import { recipientsOf } from '../../server/modules/identity';
import { cachedRecipients, forgetRecipients, RECIPIENTS_MAX_AGE_MS } from '../../server/modules/identity/identity.recipients-cache';
import { forgetUser } from '../../server/modules/identity/identity.session-cache';
import { buildUser } from '../support/factories';
import { testClock } from '../support/global';

const someone = () => ({ _id: new Types.ObjectId(), orgId: new Types.ObjectId(), lang: 'zh' });
const freshOrg = () => new Types.ObjectId().toHexString();

describe('identity: notification recipients remembered briefly', () => {
  afterEach(() => testClock.reset());

  it('reads an organisation’s recipients once per role set, then answers from memory for ten seconds', async () => {
    const org = freshOrg();
    let reads = 0;
    const read = async () => ((reads += 1), [someone()]);
    await cachedRecipients(org, ['distributor'], read);
    await cachedRecipients(org, ['distributor'], read);
    expect(reads).to.equal(1);
    await cachedRecipients(org, ['pharmacist'], read);
    expect(reads).to.equal(2);
    testClock.advance(RECIPIENTS_MAX_AGE_MS - 1_000);
    await cachedRecipients(org, ['distributor'], read);
    expect(reads).to.equal(2);
    testClock.advance(1_000);
    await cachedRecipients(org, ['distributor'], read);
    expect(reads).to.equal(3);
  });

  it('forgets an organisation, or everyone when a user’s facts change, and not a read an eviction overtook', async () => {
    const a = freshOrg();
    const b = freshOrg();
    let reads = 0;
    const read = async () => ((reads += 1), [someone()]);
    await cachedRecipients(a, undefined, read);
    await cachedRecipients(b, undefined, read);
    forgetRecipients(a);
    await cachedRecipients(a, undefined, read);
    await cachedRecipients(b, undefined, read);
    expect(reads).to.equal(3);
    forgetUser(new Types.ObjectId().toHexString());
    await cachedRecipients(a, undefined, read);
    await cachedRecipients(b, undefined, read);
    expect(reads).to.equal(5);
    const c = freshOrg();
    const overtaken = async () => {
      reads += 1;
      forgetRecipients(c); // a user joined while the read was under way
      return [someone()];
    };
    await cachedRecipients(c, undefined, overtaken);
    await cachedRecipients(c, undefined, read);
    expect(reads).to.equal(7);
  });

  it('a user who joins an organisation receives its next notification at once', async () => {
    const first = await buildUser('distributor');
    expect((await recipientsOf(first.org.id, ['distributor'])).map((u) => String(u._id))).to.deep.equal([first.id]);
    const second = await buildUser('distributor', { org: first.org });
    expect((await recipientsOf(first.org.id, ['distributor'])).map((u) => String(u._id)).sort()).to.deep.equal([first.id, second.id].sort());
  });
});
