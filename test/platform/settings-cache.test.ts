import { expect } from 'chai';
import { getSettings, updateSettings } from '../../server/modules/settings';
import { cachedSettings, forgetSettings, SETTINGS_MAX_AGE_MS } from '../../server/modules/settings/settings.cache';
import { testClock } from '../support/global';

describe('settings: remembered briefly', () => {
  afterEach(() => {
    forgetSettings();
    testClock.reset();
  });

  it('reads the settings once, then answers from memory for five seconds', async () => {
    forgetSettings();
    let reads = 0;
    const read = async () => ((reads += 1), { n: reads });
    expect(await cachedSettings(read)).to.deep.equal({ n: 1 });
    testClock.advance(SETTINGS_MAX_AGE_MS - 1_000);
    expect(await cachedSettings(read)).to.deep.equal({ n: 1 });
    expect(reads).to.equal(1);
    testClock.advance(1_000);
    expect(await cachedSettings(read)).to.deep.equal({ n: 2 });
    expect(reads).to.equal(2);
  });

  it('forgets them when told, and does not remember a read an eviction overtook', async () => {
    forgetSettings();
    let reads = 0;
    const read = async () => {
      reads += 1;
      if (reads === 1) forgetSettings(); // changed while the first read was under way
      return { n: reads };
    };
    await cachedSettings(read);
    await cachedSettings(read);
    expect(reads).to.equal(2);
    forgetSettings();
    await cachedSettings(read);
    expect(reads).to.equal(3);
  });

  it('serves a change at once after its commit, and a caller cannot change the remembered copy', async () => {
    const before = (await getSettings()).orders;
    try {
      (await getSettings()).orders.confirmWithinSec = 7;
      expect((await getSettings()).orders.confirmWithinSec).to.equal(before.confirmWithinSec);
      await updateSettings(null, { orders: { confirmWithinSec: before.confirmWithinSec + 60 } });
      expect((await getSettings()).orders.confirmWithinSec).to.equal(before.confirmWithinSec + 60);
    } finally {
      await updateSettings(null, { orders: before });
    }
    expect((await getSettings()).orders.confirmWithinSec).to.equal(before.confirmWithinSec);
  });
});
