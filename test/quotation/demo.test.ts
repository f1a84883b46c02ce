import { expect } from 'chai';
import { testClock } from '../support/global';
import type { Types } from 'mongoose';
import { createLogger } from '../../server/platform/logger';
import { Drug } from '../../server/modules/catalogue';
import { seedDemoData } from '../../server/modules/demo';
import { featureModules } from '../../server/modules/registry';
import { Organisation } from '../../server/modules/identity';
import { findListingEntry, Listing, Round } from '../../server/modules/quotation';

describe('quotation demo data', () => {
  it('seeds a published round (urokinase listed at ¥1,950.00 against ¥2,890.00) and an open round, once', async function () {
    this.timeout(60_000);
    const logger = createLogger('silent', 'test');
    await seedDemoData(logger, featureModules);
    await seedDemoData(logger, featureModules);
    const past = await Round.find({ title: '2026 年第一批短缺药品报价（示范）' }).lean<{ _id: Types.ObjectId; status: string; report: { overall: { quotedLineCount: number } } }[]>();
    expect(past).to.have.length(1);
    expect(past[0]!.status).to.equal('published');
    const open = await Round.find({ title: '2026 年第二批短缺药品报价（示范）' }).lean<{ status: string }[]>();
    expect(open).to.have.length(1);
    expect(['scheduled', 'open']).to.include(open[0]!.status);
    const urokinase = await Drug.findOne({ demoKey: 'demo:urokinase' }).lean<{ _id: Types.ObjectId }>();
    const distributor = await Organisation.findOne({ demoKey: 'distributor-1' }).lean<{ _id: Types.ObjectId }>();
    const entry = await findListingEntry(urokinase!._id, distributor!._id, testClock.now());
    expect(entry).to.include({ unitPriceFen: 195_000, roundId: String(past[0]!._id) });
    const cheapest = await Listing.findOne({ roundId: past[0]!._id, drugId: urokinase!._id, rank: 1 }).lean<{ reductionBp: number; referenceFen: number }>();
    expect(cheapest).to.include({ reductionBp: 3253, referenceFen: 289_000 });
    expect(past[0]!.report.overall.quotedLineCount).to.equal(9);
  });
});
