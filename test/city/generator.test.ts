import { expect } from 'chai';
import { cityTotals, generateCity, MODEL_CITY, Rng } from '../../scripts/city/generator';

describe('city generator', () => {
  it('draws the same city from the same seed and scale, and another from another seed', () => {
    const a = generateCity({ seed: '000', scale: 0.1, months: 12 });
    const b = generateCity({ seed: '000', scale: 0.1, months: 12 });
    const c = generateCity({ seed: '001', scale: 0.1, months: 12 });
    expect(JSON.stringify(a)).to.equal(JSON.stringify(b));
    expect(JSON.stringify(a.hospitals)).to.not.equal(JSON.stringify(c.hospitals));
  });

  it('has the model city’s counts and totals at scale 1', () => {
    const t = cityTotals(generateCity({ seed: '000', scale: 1, months: 12 }));
    expect(t.hospitals).to.equal(160);
    expect(t.byLevel[0]).to.be.greaterThan(t.byLevel[1]).and.greaterThan(t.byLevel[2]);
    expect(t.distributors).to.equal(40);
    expect(t.banks).to.equal(25);
    expect(t.drugs).to.equal(2000);
    expect(t.shortageDrugs).to.equal(274);
    expect(t.yearlyPurchaseFen).to.equal(MODEL_CITY.yearlyPurchaseFen);
    expect(t.guaranteeLinesFen).to.be.within(1_800_000_000_00, 1_900_000_000_00);
    expect(t.clearlyBelow).to.be.within(35, 60);
    expect(t.rounds).to.be.within(4, 6);
  });

  it('scales down with floors, keeps urokinase at ¥2,890 → ¥1,950, and aims the listing reduction at 12.29 %', () => {
    const city = generateCity({ seed: '000', scale: 0.03, months: 1 });
    const t = cityTotals(city);
    expect(t.hospitals).to.equal(5);
    expect(t.distributors).to.equal(3);
    expect(t.banks).to.equal(2);
    expect(t.drugs).to.equal(60);
    expect(t.shortageDrugs).to.equal(8);
    expect(t.yearlyPurchaseFen).to.equal(48_000_000_00);
    const uro = city.drugs[0]!;
    expect(uro.genericNameZh).to.equal('注射用尿激酶');
    expect(uro.referenceFen).to.equal(289_000);
    expect(Math.min(...city.rounds[0]!.quotes[0]!.map((q) => q.finalFen))).to.equal(195_000);
    for (const round of city.rounds) for (const [i, quotes] of round.quotes.entries()) for (const q of quotes) {
      expect(q.finalFen).to.be.at.most(city.drugs[round.drugs[i]!]!.referenceFen);
      expect(q.finalFen).to.be.at.most(q.openingFen);
    }
    expect(generateCity({ seed: '000', scale: 1, months: 12 }).expectedReductionBp).to.be.within(1200, 1260);
    expect(city.rounds.every((r) => r.day < 31)).to.equal(true);
    expect(city.vbp.tenderClosesDay).to.be.below(28);
  });

  it('gives every drug valid, unique codes', () => {
    const city = generateCity({ seed: '000', scale: 1, months: 12 });
    for (const key of ['nhsaCode', 'standardCode', 'gtin', 'tracePrefix'] as const) expect(new Set(city.drugs.map((d) => d[key])).size, key).to.equal(city.drugs.length);
    for (const d of city.drugs) {
      expect(d.nhsaCode).to.match(/^[A-Z0-9]{23}$/);
      expect(d.standardCode).to.match(/^86\d{12}$/);
      expect(d.tracePrefix).to.match(/^\d{7}$/);
    }
    expect(new Set(city.hospitals.map((h) => h.name)).size).to.equal(city.hospitals.length);
  });

  it('draws the same numbers from the same seed', () => {
    const a = new Rng('x');
    const b = new Rng('x');
    expect(Array.from({ length: 5 }, () => a.next())).to.deep.equal(Array.from({ length: 5 }, () => b.next()));
  });
});
