import { expect } from 'chai';
import { Types } from 'mongoose';
import { Drug, pricedDrugs } from '../../server/modules/catalogue';
import { forgetDrug, PRICED_DRUG_MAX_AGE_MS } from '../../server/modules/catalogue/catalogue.price-cache';
import { testClock } from '../support/global';
import { buildDrug, catalogueOperator } from '../support/quotation-factories';

const nameOf = async (id: string) => (await pricedDrugs([id], testClock.now())).get(id)?.drug.genericNameEn;
const priceOf = async (id: string, at = testClock.now()) => (await pricedDrugs([id], at)).get(id)?.price?.priceFen;
/** A change made behind the catalogue's back (no eviction): shows whether an answer came from memory. */
const renameQuietly = (id: string, name: string) => Drug.collection.updateOne({ _id: new Types.ObjectId(id) }, { $set: { genericNameEn: name } });

describe('catalogue: drugs and their prices remembered briefly', () => {
  afterEach(() => testClock.reset());

  it('answers a drug and its price in force from memory for ten seconds', async () => {
    const drug = await buildDrug({ referencePriceFen: 4_321 });
    expect(await priceOf(drug.id)).to.equal(4_321);
    await renameQuietly(drug.id, 'Renamed Quietly Injection');
    testClock.advance(PRICED_DRUG_MAX_AGE_MS - 1_000);
    expect(await nameOf(drug.id)).to.not.equal('Renamed Quietly Injection');
    testClock.advance(1_000);
    expect(await nameOf(drug.id)).to.equal('Renamed Quietly Injection');
  });

  it('drops a drug when it is changed or given a new reference price, at once after the commit', async () => {
    const op = await catalogueOperator();
    const drug = await buildDrug({ referencePriceFen: 1_000 });
    expect(await priceOf(drug.id)).to.equal(1_000);
    await op.api().patch(`/api/v1/catalogue/drugs/${drug.id}`, { genericNameEn: 'Changed By Operator Injection' }).expect(200);
    expect(await nameOf(drug.id)).to.equal('Changed By Operator Injection');
    await op.api().post(`/api/v1/catalogue/drugs/${drug.id}/reference-prices`, { priceFen: 1_200, effectiveFrom: testClock.now().toISOString() }).expect(201);
    expect(await priceOf(drug.id)).to.equal(1_200);
  });

  it('a price that takes effect later is in force from its moment, without a read', async () => {
    const op = await catalogueOperator();
    const drug = await buildDrug({ referencePriceFen: 2_000 });
    const later = new Date(testClock.now().getTime() + 86_400_000);
    await op.api().post(`/api/v1/catalogue/drugs/${drug.id}/reference-prices`, { priceFen: 2_500, effectiveFrom: later.toISOString() }).expect(201);
    expect(await priceOf(drug.id)).to.equal(2_000);
    await renameQuietly(drug.id, 'Still Remembered Injection');
    expect(await priceOf(drug.id, later)).to.equal(2_500);
    expect(await nameOf(drug.id)).to.not.equal('Still Remembered Injection');
  });

  it('does not remember an unknown drug, nor a read an eviction overtook', async () => {
    const unknown = new Types.ObjectId().toHexString();
    expect((await pricedDrugs([unknown, 'not-an-id'], testClock.now())).size).to.equal(0);
    const drug = await buildDrug();
    const read = pricedDrugs([drug.id], testClock.now());
    forgetDrug(drug.id); // changed while the read was under way
    await read;
    await renameQuietly(drug.id, 'Read Afresh Injection');
    expect(await nameOf(drug.id)).to.equal('Read Afresh Injection');
  });
});
