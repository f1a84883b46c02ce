// Format validators for the drug identifiers: the 23-character NHSA drug code, the 14-digit national
// drug standard code (本位码, starting 86), GTIN, the 7-digit traceability product prefix and the
// 20-digit traceability code. Callers normalise input (trim) before checking.

export type CodeCheck = { ok: true } | { ok: false; code: CodeErrorCode; reason: string };

export type CodeErrorCode =
  | 'INVALID_NHSA_DRUG_CODE'
  | 'INVALID_DRUG_STANDARD_CODE'
  | 'INVALID_GTIN'
  | 'INVALID_TRACE_PREFIX'
  | 'INVALID_TRACE_CODE'
  | 'TRACE_PREFIX_MISMATCH'
  | 'ENTERPRISE_CODE_MISMATCH';

const OK: CodeCheck = { ok: true };
const fail = (code: CodeErrorCode, reason: string): CodeCheck => ({ ok: false, code, reason });
const DIGITS = /^\d+$/;

/** Drug categories that begin an NHSA drug code: X western medicine, Z Chinese patent medicine. */
export const NHSA_DRUG_CATEGORIES = { X: '西药', Z: '中成药' } as const;

/**
 * Validates a 国家医保药品代码 (23 characters), e.g. XA01ABD075A002010100483.
 * Layout inferred from published examples:
 *   1      category X | Z
 *   2–6    classification; for X the ATC level-4 code (letter, 2 digits, 2 letters: A01AB)
 *   7–10   generic-name code            (D075)
 *   11–14  dosage form                  (A002)
 *   15–16  specification                (01; the sugar-free 0.25 mg variant is 02)
 *   17–18  packaging                    (01 = 24 tablets, 03 = 6 tablets for the same maker)
 *   19–23  enterprise code, 5 digits    (00483, the same digits as in the maker's 本位码)
 * NOTE: only the category, the X classification pattern and the numeric enterprise code are
 * enforced; the middle fields are checked as uppercase alphanumerics because their exact alphabets
 * are not confirmed, and a stricter rule would reject real codes.
 */
export function checkNhsaDrugCode(code: string): CodeCheck {
  const bad = (reason: string) => fail('INVALID_NHSA_DRUG_CODE', reason);
  if (typeof code !== 'string' || code.length !== 23) {
    return bad(`NHSA drug code must be 23 characters, got ${typeof code === 'string' ? code.length : typeof code}.`);
  }
  if (!/^[A-Z0-9]+$/.test(code)) return bad('NHSA drug code may contain only uppercase letters A–Z and digits.');
  const category = code[0]!;
  if (!(category in NHSA_DRUG_CATEGORIES)) {
    return bad(`NHSA drug code must start with X (western) or Z (Chinese patent medicine), got "${category}".`);
  }
  if (category === 'X' && !/^[A-Z]\d{2}[A-Z]{2}$/.test(code.slice(1, 6))) {
    return bad(`Characters 2–6 of a western-medicine code must be an ATC level-4 class such as A01AB, got "${code.slice(1, 6)}".`);
  }
  if (!DIGITS.test(code.slice(18))) {
    return bad(`The last 5 characters (enterprise code) must be digits, got "${code.slice(18)}".`);
  }
  return OK;
}

/** The 5-digit enterprise code at the end of an NHSA drug code. */
export function nhsaEnterpriseCode(nhsaCode: string): string {
  return nhsaCode.slice(18);
}

/**
 * Validates a 药品本位码 (national drug standard code): 14 digits = 86 (country) + 9 (drug) +
 * 5-digit enterprise + 5-digit product + 1 check digit.
 * NOTE: no published source gives the check-digit algorithm; the GS1 mod-10 check used here
 * reproduces the check digit of every public example found (86900483000019, 86900594000342,
 * 86900594000335, 86900144005704, 86901110000020).
 */
export function checkDrugStandardCode(code: string): CodeCheck {
  const bad = (reason: string) => fail('INVALID_DRUG_STANDARD_CODE', reason);
  if (typeof code !== 'string' || code.length !== 14 || !DIGITS.test(code)) {
    return bad('National drug standard code (本位码) must be exactly 14 digits.');
  }
  if (!code.startsWith('86')) return bad('National drug standard code (本位码) must start with 86.');
  if (code[2] !== '9') return bad('The third digit of a drug standard code (drug category) must be 9.');
  const expected = gs1CheckDigit(code.slice(0, 13));
  if (code[13] !== expected) return bad(`Check digit should be ${expected}, got ${code[13]}.`);
  return OK;
}

/** The 5-digit enterprise code inside a 本位码 (digits 4–8). */
export function drugStandardEnterpriseCode(standardCode: string): string {
  return standardCode.slice(3, 8);
}

/** Checks that an NHSA drug code and a 本位码 name the same enterprise (both already valid). */
export function checkSameEnterprise(nhsaCode: string, standardCode: string): CodeCheck {
  const a = nhsaEnterpriseCode(nhsaCode);
  const b = drugStandardEnterpriseCode(standardCode);
  return a === b
    ? OK
    : fail('ENTERPRISE_CODE_MISMATCH', `NHSA code enterprise ${a} differs from the 本位码 enterprise ${b}.`);
}

/** The GS1 mod-10 check digit for a string of digits (the code without its check digit). */
export function gs1CheckDigit(body: string): string {
  if (!DIGITS.test(body)) throw new RangeError(`GS1 body must be digits, got "${body}".`);
  let sum = 0;
  // Weights 3, 1, 3, … starting from the rightmost body digit.
  for (let i = 0; i < body.length; i += 1) {
    const digit = body.charCodeAt(body.length - 1 - i) - 48;
    sum += digit * (i % 2 === 0 ? 3 : 1);
  }
  return String((10 - (sum % 10)) % 10);
}

/** Validates a GTIN-8, -12, -13 or -14 including its GS1 check digit. */
export function checkGtin(code: string): CodeCheck {
  const bad = (reason: string) => fail('INVALID_GTIN', reason);
  if (typeof code !== 'string' || !DIGITS.test(code)) return bad('GTIN must contain only digits.');
  if (![8, 12, 13, 14].includes(code.length)) {
    return bad(`GTIN must be 8, 12, 13 or 14 digits, got ${code.length}.`);
  }
  const expected = gs1CheckDigit(code.slice(0, -1));
  if (code.at(-1) !== expected) return bad(`GTIN check digit should be ${expected}, got ${code.at(-1)}.`);
  return OK;
}

/**
 * A valid, deterministic GTIN-13 for demo data: China prefix 690 + the seed as 9 digits + check
 * digit. The same seed always gives the same code; different seeds give different codes.
 */
export function generateValidGtin13(seed: number): string {
  if (!Number.isSafeInteger(seed) || seed < 0 || seed >= 1_000_000_000) {
    throw new RangeError(`GTIN seed must be an integer in [0, 1e9), got ${seed}.`);
  }
  const body = `690${String(seed).padStart(9, '0')}`;
  return body + gs1CheckDigit(body);
}

/** Validates a 7-digit traceability product prefix (药品标识码). */
export function checkTraceProductPrefix(prefix: string): CodeCheck {
  if (typeof prefix !== 'string' || prefix.length !== 7 || !DIGITS.test(prefix)) {
    return fail('INVALID_TRACE_PREFIX', 'Traceability product prefix must be exactly 7 digits.');
  }
  return OK;
}

/**
 * Validates a 20-digit drug traceability code (药品追溯码): 7-digit product prefix + 9-digit serial
 * + 4 check digits. NOTE: the 4 check digits come from an undisclosed encrypted algorithm, so only the format is checked.
 */
export function checkTraceCode(code: string): CodeCheck {
  if (typeof code !== 'string' || code.length !== 20 || !DIGITS.test(code)) {
    return fail('INVALID_TRACE_CODE', 'Drug traceability code must be exactly 20 digits.');
  }
  return OK;
}

/** Validates a traceability code and checks that its first 7 digits equal the drug's prefix. */
export function traceCodeMatchesPrefix(code: string, prefix: string): CodeCheck {
  const codeCheck = checkTraceCode(code);
  if (!codeCheck.ok) return codeCheck;
  const prefixCheck = checkTraceProductPrefix(prefix);
  if (!prefixCheck.ok) return prefixCheck;
  if (!code.startsWith(prefix)) {
    return fail(
      'TRACE_PREFIX_MISMATCH',
      `Traceability code starts with ${code.slice(0, 7)}, but the drug's product prefix is ${prefix}.`,
    );
  }
  return OK;
}
