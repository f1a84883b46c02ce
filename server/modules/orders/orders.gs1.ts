// What a scanner sends for one pack, read into the traceability code and what the pack says about
// itself. A handheld scanner on a 药品追溯码 label sends the bare 20-digit code; on a GS1 DataMatrix it
// sends a GS1 element string — either human-readable, `(01)06901234567892(17)281231(10)B2401(21)…`,
// or raw, optionally behind a symbology identifier (`]d2`), with the GS character (0x1D, or `<GS>`
// where the scanner spells it out) ending each variable-length field. The serial `(21)` is the
// pack's traceability code; `(01)` GTIN, `(17)` expiry and `(10)` batch describe the pack.
// Pure functions: the server checks shipments with them and the shipping and acceptance pages mark
// each code with them as it is scanned.

/** One scan, read. */
export type Scan =
  | { kind: 'plain'; code: string }
  | { kind: 'gs1'; code: string; gtin?: string; batchNo?: string; expiryDate?: string }
  | { kind: 'invalid'; reason: Gs1Problem; text: string };

export type Gs1Problem = 'GS1_MALFORMED' | 'GS1_NO_SERIAL' | 'GS1_BAD_GTIN' | 'GS1_BAD_EXPIRY';

const GS = '\u001d';
/** Application identifiers with a fixed data length (GS1 General Specifications, figure 7.8.5-2). */
const FIXED: Record<string, number> = { '00': 18, '01': 14, '02': 14, '11': 6, '12': 6, '13': 6, '15': 6, '16': 6, '17': 6, '20': 2 };
/** Variable-length identifiers this platform reads, with their maximum length. */
const VARIABLE: Record<string, number> = { '10': 20, '21': 20, '22': 20, '240': 30, '30': 8, '37': 8, '91': 90, '92': 90, '93': 90, '94': 90, '95': 90, '96': 90, '97': 90, '98': 90, '99': 90 };

/** Splits a GS1 element string into its fields, or null when it cannot be read. */
export function parseGs1(text: string): Map<string, string> | null {
  const fields = new Map<string, string>();
  const s = text.replace(/<GS>/gi, GS).replace(/^\](d2|C1|Q3|e0)/, '');
  if (s.startsWith('(')) {
    const re = /\((\d{2,4})\)([^()]*)/gy;
    let m: RegExpExecArray | null;
    let end = 0;
    while ((m = re.exec(s)) !== null) {
      const [, ai, raw] = m;
      const value = raw!.replace(new RegExp(GS, 'g'), '');
      if (!value || fields.has(ai!)) return null;
      if (ai! in FIXED && value.length !== FIXED[ai!]) return null;
      if (ai! in VARIABLE && value.length > VARIABLE[ai!]!) return null;
      fields.set(ai!, value);
      end = re.lastIndex;
    }
    return end === s.length && fields.size ? fields : null;
  }
  let i = 0;
  while (i < s.length) {
    if (s[i] === GS) {
      i += 1;
      continue;
    }
    const ai = [2, 3].map((n) => s.slice(i, i + n)).find((a) => a in FIXED || a in VARIABLE);
    if (!ai || fields.has(ai)) return null;
    i += ai.length;
    if (ai in FIXED) {
      const value = s.slice(i, i + FIXED[ai]!);
      if (value.length !== FIXED[ai] || value.includes(GS)) return null;
      fields.set(ai, value);
      i += value.length;
    } else {
      const stop = s.indexOf(GS, i);
      const value = s.slice(i, stop < 0 ? s.length : stop);
      if (!value || value.length > VARIABLE[ai]!) return null;
      fields.set(ai, value);
      i += value.length;
    }
  }
  return fields.size ? fields : null;
}

/** Whether a scan looks like a GS1 element string rather than a bare code. */
export function looksLikeGs1(text: string): boolean {
  return text.startsWith('(') || text.startsWith(']') || text.includes(GS) || /<GS>/i.test(text) || (/^01\d{14}/.test(text) && text.length > 20);
}

const DIGITS = /^\d+$/;

function gtinValid(gtin: string): boolean {
  if (!DIGITS.test(gtin) || gtin.length !== 14) return false;
  let sum = 0;
  for (let i = 0; i < 13; i += 1) sum += (gtin.charCodeAt(12 - i) - 48) * (i % 2 === 0 ? 3 : 1);
  return String((10 - (sum % 10)) % 10) === gtin[13];
}

/**
 * A GS1 date YYMMDD as YYYY-MM-DD. The century follows the GS1 rule (General Specifications 7.12):
 * a year 51–99 ahead of the reference year belongs to the previous century, one 50–99 behind to the
 * next. Day 00 means the last day of the month.
 */
export function gs1Date(yymmdd: string, referenceYear: number): string | null {
  if (!/^\d{6}$/.test(yymmdd)) return null;
  const yy = Number(yymmdd.slice(0, 2));
  const mm = Number(yymmdd.slice(2, 4));
  let dd = Number(yymmdd.slice(4, 6));
  const century = Math.floor(referenceYear / 100) * 100;
  const diff = yy - (referenceYear % 100);
  const year = diff >= 51 ? century - 100 + yy : diff <= -50 ? century + 100 + yy : century + yy;
  if (mm < 1 || mm > 12) return null;
  const last = new Date(Date.UTC(year, mm, 0)).getUTCDate();
  if (dd === 0) dd = last;
  if (dd > last) return null;
  return `${String(year).padStart(4, '0')}-${String(mm).padStart(2, '0')}-${String(dd).padStart(2, '0')}`;
}

/** The 14-digit form of a GTIN-8/12/13/14 (GS1 stores GTINs in 14 digits). */
export function gtin14(gtin: string): string {
  return gtin.padStart(14, '0');
}

/** Reads one scanned or typed text: a bare code, a GS1 element string, or something unreadable. */
export function readScan(input: string, referenceYear: number): Scan {
  const text = input.trim();
  if (!looksLikeGs1(text)) return { kind: 'plain', code: text };
  const fields = parseGs1(text);
  if (!fields) return { kind: 'invalid', reason: 'GS1_MALFORMED', text };
  const serial = fields.get('21');
  if (!serial) return { kind: 'invalid', reason: 'GS1_NO_SERIAL', text };
  const gtin = fields.get('01');
  if (gtin !== undefined && !gtinValid(gtin)) return { kind: 'invalid', reason: 'GS1_BAD_GTIN', text };
  const rawExpiry = fields.get('17');
  const expiryDate = rawExpiry === undefined ? undefined : gs1Date(rawExpiry, referenceYear);
  if (expiryDate === null) return { kind: 'invalid', reason: 'GS1_BAD_EXPIRY', text };
  const batchNo = fields.get('10');
  return { kind: 'gs1', code: serial, ...(gtin ? { gtin } : {}), ...(batchNo ? { batchNo } : {}), ...(expiryDate ? { expiryDate } : {}) };
}

/** The traceability code a scan names (the serial of a GS1 string), or the text itself when unreadable. */
export function scannedCode(input: string, referenceYear: number): string {
  const scan = readScan(input, referenceYear);
  return scan.kind === 'invalid' ? scan.text : scan.code;
}
