import { expect } from 'chai';
import { Types } from 'mongoose';
import { Organisation, organisationSummaries } from '../../server/modules/identity';
import { forgetOrganisation, ORG_MAX_AGE_MS } from '../../server/modules/identity/identity.org-cache';
import { buildOrg } from '../support/factories';
import { testClock } from '../support/global';

const nameOf = async (id: string) => (await organisationSummaries([id]))[0]?.name;
/** A change made behind the identity module's back (no eviction): shows whether an answer came from memory. */
const renameQuietly = (id: string, name: string) => Organisation.collection.updateOne({ _id: new Types.ObjectId(id) }, { $set: { name } });

describe('identity: organisations remembered briefly for commands', () => {
  afterEach(() => testClock.reset());

  it('answers a known organisation from memory for thirty seconds', async () => {
    const org = await buildOrg({ type: 'distributor' });
    expect(await nameOf(org.id)).to.equal(org.name);
    await renameQuietly(org.id, `${org.name} renamed`);
    testClock.advance(ORG_MAX_AGE_MS - 1_000);
    expect(await nameOf(org.id)).to.equal(org.name);
    testClock.advance(1_000);
    expect(await nameOf(org.id)).to.equal(`${org.name} renamed`);
  });

  it('forgets an organisation when told, and not a read an eviction overtook', async () => {
    const org = await buildOrg({ type: 'hospital' });
    await nameOf(org.id);
    await renameQuietly(org.id, `${org.name} changed`);
    forgetOrganisation(org.id);
    expect(await nameOf(org.id)).to.equal(`${org.name} changed`);
    const read = organisationSummaries([org.id]);
    forgetOrganisation(org.id); // changed while the read was under way
    await read;
    await renameQuietly(org.id, `${org.name} again`);
    expect(await nameOf(org.id)).to.equal(`${org.name} again`);
  });

  it('does not remember an unknown organisation', async () => {
    const unknown = new Types.ObjectId().toHexString();
    expect(await organisationSummaries([unknown, 'not-an-id'])).to.deep.equal([]);
  });
});
