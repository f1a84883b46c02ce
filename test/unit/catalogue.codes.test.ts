import { expect } from 'chai';
import {
  type CodeCheck,
  checkDrugStandardCode,
  checkGtin,
  checkNhsaDrugCode,
  checkSameEnterprise,
  checkTraceCode,
  checkTraceProductPrefix,
  generateValidGtin13,
  gs1CheckDigit,
  traceCodeMatchesPrefix,
} from '../../server/modules/catalogue/catalogue.codes';

function expectOk(result: CodeCheck): void {
  expect(result, JSON.stringify(result)).to.deep.equal({ ok: true });
}

function expectRefused(result: CodeCheck, code: string, reason: RegExp): void {
  expect(result.ok).to.equal(false);
  if (result.ok) return;
  expect(result.code).to.equal(code);
  expect(result.reason).to.match(reason);
}

describe('catalogue codes', () => {
  describe('NHSA drug code (医保药品代码)', () => {
    const valid = [
      'XA01ABD075A002010100483', // 地喹氯铵含片 0.25 mg × 24, 汕头明治
      'XA01ABD075A002010300483', // the 6-tablet pack
      'XA01ABD075A002010100594', // maker 珠海同源
      'XA01ABD075A002020100594', // sugar-free specification
      'ZA01AAB0001010101234567', // Chinese patent medicine: class not ATC-shaped (hypothetical)
    ];
    for (const code of valid) {
      it(`accepts ${code}`, () => expectOk(checkNhsaDrugCode(code)));
    }

    const invalid: [string, RegExp][] = [
      ['XA01ABD075A00201010048', /23 characters, got 22/],
      ['XA01ABD075A0020101004830', /23 characters, got 24/],
      ['', /23 characters, got 0/],
      ['xa01abd075a002010100483', /uppercase/],
      ['XA01ABD075A00201010048-', /uppercase letters/],
      ['YA01ABD075A002010100483', /start with X .* or Z/],
      ['1A01ABD075A002010100483', /start with X/],
      ['XA0AABD075A002010100483', /ATC level-4 class/],
      ['X101ABD075A002010100483', /ATC level-4 class/],
      ['XA01A1D075A002010100483', /ATC level-4 class/],
      ['XA01ABD075A00201010048A', /enterprise code\) must be digits/],
    ];
    for (const [code, reason] of invalid) {
      it(`rejects "${code}"`, () => expectRefused(checkNhsaDrugCode(code), 'INVALID_NHSA_DRUG_CODE', reason));
    }
  });

  describe('national drug standard code (本位码)', () => {
    const valid = ['86900483000019', '86900594000342', '86900594000335', '86900144005704', '86901110000020'];
    for (const code of valid) {
      it(`accepts the published code ${code}`, () => expectOk(checkDrugStandardCode(code)));
    }

    const invalid: [string, RegExp][] = [
      ['86900483000018', /Check digit should be 9, got 8/],
      ['86900483000010', /Check digit should be 9/],
      ['8690048300001', /exactly 14 digits/],
      ['869004830000190', /exactly 14 digits/],
      ['8690048300001X', /exactly 14 digits/],
      ['69900483000019', /start with 86/],
      ['86800483000019', /third digit/],
      [' 86900483000019', /exactly 14 digits/], // untrimmed input
    ];
    for (const [code, reason] of invalid) {
      it(`rejects "${code}"`, () => expectRefused(checkDrugStandardCode(code), 'INVALID_DRUG_STANDARD_CODE', reason));
    }

    it('links an NHSA code to the 本位码 of the same enterprise and refuses another maker', () => {
      expectOk(checkSameEnterprise('XA01ABD075A002010100483', '86900483000019'));
      expectRefused(
        checkSameEnterprise('XA01ABD075A002010100594', '86900483000019'),
        'ENTERPRISE_CODE_MISMATCH',
        /00594 differs from the 本位码 enterprise 00483/,
      );
    });
  });

  describe('GTIN', () => {
    const valid = [
      '4006381333931', // GTIN-13
      '6901234567892', // China 690 prefix
      '73513537', // GTIN-8
      '96385074',
      '036000291452', // GTIN-12 (UPC-A)
      '09506000134352', // GTIN-14
      '10012345678902',
      '00000000', // all zeros has check digit 0
    ];
    for (const code of valid) {
      it(`accepts ${code}`, () => expectOk(checkGtin(code)));
    }

    const invalid: [string, RegExp][] = [
      ['4006381333932', /check digit should be 1, got 2/],
      ['6901234567890', /check digit should be 2/],
      ['73513538', /check digit should be 7/],
      ['4006381333931 ', /only digits/],
      ['400638133393', /check digit/], // a valid length (12) but a wrong check digit
      ['40063813339', /8, 12, 13 or 14 digits, got 11/],
      ['123456789012345', /got 15/],
      ['', /only digits/],
      ['４００６３８１３３３９３１', /only digits/], // full-width digits
    ];
    for (const [code, reason] of invalid) {
      it(`rejects "${code}"`, () => expectRefused(checkGtin(code), 'INVALID_GTIN', reason));
    }

    const checkDigits: [string, string][] = [
      ['400638133393', '1'],
      ['690123456789', '2'],
      ['7351353', '7'],
      ['0950600013435', '2'],
      ['0', '0'],
    ];
    for (const [body, digit] of checkDigits) {
      it(`computes check digit ${digit} for ${body}`, () => expect(gs1CheckDigit(body)).to.equal(digit));
    }

    it('refuses a non-digit body for the check digit (programmer error)', () => {
      expect(() => gs1CheckDigit('12a')).to.throw(RangeError);
    });

    it('generates valid, deterministic, distinct GTIN-13s from seeds', () => {
      const seeds = [0, 1, 2, 42, 123_456_789, 999_999_999];
      const codes = seeds.map(generateValidGtin13);
      for (const code of codes) {
        expect(code).to.have.length(13);
        expect(code.startsWith('690')).to.equal(true);
        expectOk(checkGtin(code));
      }
      expect(new Set(codes).size).to.equal(seeds.length);
      expect(generateValidGtin13(42)).to.equal(codes[3]);
      expect(() => generateValidGtin13(1_000_000_000)).to.throw(RangeError);
      expect(() => generateValidGtin13(-1)).to.throw(RangeError);
    });
  });

  describe('traceability codes', () => {
    const prefixes: [string, boolean][] = [
      ['8385793', true],
      ['0000000', true],
      ['838579', false],
      ['83857930', false],
      ['838579A', false],
    ];
    for (const [prefix, ok] of prefixes) {
      it(`${ok ? 'accepts' : 'rejects'} product prefix "${prefix}"`, () => {
        const result = checkTraceProductPrefix(prefix);
        if (ok) expectOk(result);
        else expectRefused(result, 'INVALID_TRACE_PREFIX', /exactly 7 digits/);
      });
    }

    const codes: [string, boolean][] = [
      ['83857930000879766660', true],
      ['8385793000087976666', false],
      ['838579300008797666601', false],
      ['8385793000087976666O', false],
      ['8385793-000879766660', false],
    ];
    for (const [code, ok] of codes) {
      it(`${ok ? 'accepts' : 'rejects'} trace code "${code}"`, () => {
        const result = checkTraceCode(code);
        if (ok) expectOk(result);
        else expectRefused(result, 'INVALID_TRACE_CODE', /exactly 20 digits/);
      });
    }

    it('accepts a trace code whose first 7 digits are the drug prefix', () => {
      expectOk(traceCodeMatchesPrefix('83857930000879766660', '8385793'));
    });

    it('refuses a trace code of another product, naming both prefixes', () => {
      expectRefused(
        traceCodeMatchesPrefix('83857940000879766660', '8385793'),
        'TRACE_PREFIX_MISMATCH',
        /starts with 8385794, but .* prefix is 8385793/,
      );
    });

    it('refuses when the prefix matches a shifted position only', () => {
      expectRefused(traceCodeMatchesPrefix('18385793000087976666', '8385793'), 'TRACE_PREFIX_MISMATCH', /8385793/);
    });

    it('reports a malformed code or prefix before comparing them', () => {
      expectRefused(traceCodeMatchesPrefix('8385793', '8385793'), 'INVALID_TRACE_CODE', /20 digits/);
      expectRefused(traceCodeMatchesPrefix('83857930000879766660', '838579'), 'INVALID_TRACE_PREFIX', /7 digits/);
    });
  });
});
