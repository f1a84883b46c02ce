// The operator's VBP defaults page: the numbers in the units people use (percent, hours, days, yuan),
// converted to the stored units and validated by the same schema as the API.
import type { Response, Router } from 'express';
import { assertRole } from '../../platform/auth';
import { AppError } from '../../platform/errors';
import { t, type Lang } from '../../platform/i18n';
import { fenToYuanString, safeParseYuanToFen } from '../../platform/money';
import { VbpSettingsPatch, getVbpSettings, updateVbpSettings, type VbpSettingsValue } from './vbp.settings';

type Form = Record<string, string | string[] | undefined>;
type Errors = Record<string, string>;
const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

interface NumberField {
  name: string;
  section: 'declaration' | 'tender' | 'completion';
  /** Stored value → shown text. */
  show: (s: VbpSettingsValue) => string;
  /** Where a schema error of the stored path lands. */
  path: string;
}

const round = (n: number, places: number) => String(Math.round(n * 10 ** places) / 10 ** places);
const ratio = (r: { numerator: number; denominator: number }, scale = 1) => round((r.numerator / r.denominator) * scale, 4);
const floorText = (fen: number | null) => (fen === null ? '' : fenToYuanString(fen));

const FIELDS: NumberField[] = [
  { name: 'minSharePercent', section: 'declaration', show: (s) => round(s.declaration.minShareOfLastYearBp / 100, 2), path: 'declaration.minShareOfLastYearBp' },
  { name: 'remindHours', section: 'declaration', show: (s) => round(s.declaration.remindBeforeDeadlineSec / 3600, 2), path: 'declaration.remindBeforeDeadlineSec' },
  { name: 'followWindowHours', section: 'tender', show: (s) => round(s.tender.followWindowSec / 3600, 2), path: 'tender.followWindowSec' },
  { name: 'spreadMultiple', section: 'tender', show: (s) => ratio(s.tender.selection.spreadMultiple), path: 'tender.selection.spreadMultiple' },
  { name: 'anchorSharePercent', section: 'tender', show: (s) => ratio(s.tender.selection.anchorMeanShare, 100), path: 'tender.selection.anchorMeanShare' },
  { name: 'floorOralSolid', section: 'tender', show: (s) => floorText(s.tender.selection.lowPriceFloorFen.oral_solid), path: 'tender.selection.lowPriceFloorFen.oral_solid' },
  { name: 'floorSmallVolume', section: 'tender', show: (s) => floorText(s.tender.selection.lowPriceFloorFen.small_volume_injection), path: 'tender.selection.lowPriceFloorFen.small_volume_injection' },
  { name: 'floorLargeVolume', section: 'tender', show: (s) => floorText(s.tender.selection.lowPriceFloorFen.large_volume_injection), path: 'tender.selection.lowPriceFloorFen.large_volume_injection' },
  { name: 'paceDays', section: 'completion', show: (s) => round(s.completion.paceCheckIntervalSec / 86_400, 4), path: 'completion.paceCheckIntervalSec' },
  { name: 'checkpointDays', section: 'completion', show: (s) => round(s.completion.checkpointIntervalSec / 86_400, 4), path: 'completion.checkpointIntervalSec' },
  { name: 'checkpointSharePercent', section: 'completion', show: (s) => round(s.completion.checkpointShareBp / 100, 2), path: 'completion.checkpointShareBp' },
];

/** "1.8" → 9/5 (divided by `per`, reduced); null when not a plain decimal. */
function decimalRatio(text: string, per = 1): { numerator: number; denominator: number } | null {
  const m = /^(\d{1,6})(?:\.(\d{1,4}))?$/.exec(text);
  if (!m) return null;
  const denominator = 10 ** (m[2]?.length ?? 0) * per;
  const numerator = Number(`${m[1]}${m[2] ?? ''}`);
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = gcd(numerator, denominator) || 1;
  return { numerator: numerator / g, denominator: denominator / g };
}

function number(text: string): number | null {
  return /^\d{1,9}(\.\d{1,4})?$/.test(text) ? Number(text) : null;
}

/** The form as a settings patch, or field errors. */
function patchFrom(form: Form, current: VbpSettingsValue, lang: Lang): { patch?: unknown; errors: Errors } {
  const errors: Errors = {};
  const bad = (name: string) => (errors[name] = t(lang, 'vbp.settings.invalidNumber'));
  const num = (name: string, scale: number): number | undefined => {
    const n = number(str(form[name]));
    if (n === null) {
      bad(name);
      return undefined;
    }
    return Math.round(n * scale);
  };
  const floor = (name: string): number | null | undefined => {
    if (str(form[name]) === '') return null;
    const p = safeParseYuanToFen(str(form[name]));
    if (!p.ok || p.fen < 1) {
      bad(name);
      return undefined;
    }
    return p.fen;
  };
  const spread = decimalRatio(str(form.spreadMultiple));
  if (!spread || spread.numerator === 0) bad('spreadMultiple');
  const anchor = decimalRatio(str(form.anchorSharePercent), 100);
  if (!anchor || anchor.numerator === 0) bad('anchorSharePercent');
  const patch = {
    declaration: { minShareOfLastYearBp: num('minSharePercent', 100), remindBeforeDeadlineSec: num('remindHours', 3600) },
    tender: {
      visibility: str(form.visibility),
      backupPrice: str(form.backupPrice),
      useFewBiddersRule: str(form.useFewBiddersRule) === 'on',
      followWindowSec: num('followWindowHours', 3600),
      selection: {
        ...current.tender.selection,
        ...(spread ? { spreadMultiple: spread } : {}),
        ...(anchor ? { anchorMeanShare: anchor } : {}),
        lowPriceFloorFen: {
          ...current.tender.selection.lowPriceFloorFen,
          oral_solid: floor('floorOralSolid'),
          small_volume_injection: floor('floorSmallVolume'),
          large_volume_injection: floor('floorLargeVolume'),
        },
      },
    },
    completion: { paceCheckIntervalSec: num('paceDays', 86_400), checkpointIntervalSec: num('checkpointDays', 86_400), checkpointShareBp: num('checkpointSharePercent', 100) },
  };
  return { patch, errors };
}

async function render(res: Response, extra: { values?: Form; errors?: Errors; flash?: string } = {}, status = 200) {
  const lang = res.locals.lang as Lang;
  const s = await getVbpSettings();
  const value = (f: NumberField) => (extra.values ? str(extra.values[f.name]) : f.show(s));
  const fields = (section: NumberField['section']) =>
    FIELDS.filter((f) => f.section === section).map((f) => ({ name: f.name, label: t(lang, `vbp.settings.fields.${f.name}`), value: value(f), error: extra.errors?.[f.name] }));
  res.status(status).render('vbp/settings', {
    title: t(lang, 'vbp.settings.title'),
    declarationFields: fields('declaration'),
    tenderFields: fields('tender'),
    completionFields: fields('completion'),
    values: {
      visibility: extra.values ? str(extra.values.visibility) : s.tender.visibility,
      backupPrice: extra.values ? str(extra.values.backupPrice) : s.tender.backupPrice,
      useFewBiddersRule: extra.values ? str(extra.values.useFewBiddersRule) === 'on' : s.tender.useFewBiddersRule,
      shortlist: s.tender.selection.shortlistByBidderCount.join(', '),
      shares: s.tender.selection.volumeShareBpByWinnerCount.map((bp) => `${bp / 100}%`).join(', '),
      terms: s.tender.selection.termYearsByWinnerCount.join(', '),
    },
    errors: extra.errors,
    flash: extra.flash,
  });
}

export function vbpSettingsPages(router: Router): void {
  router.get('/vbp/settings', async (req, res) => {
    assertRole(req.actor, ['operator']);
    await render(res, { flash: req.query.flash === 'saved' ? t(res.locals.lang as Lang, 'vbp.settings.saved') : undefined });
  });

  router.post('/vbp/settings', async (req, res) => {
    assertRole(req.actor, ['operator']);
    const lang = res.locals.lang as Lang;
    const form = (req.body ?? {}) as Form;
    const current = await getVbpSettings();
    const { patch, errors } = patchFrom(form, current, lang);
    const parsed = VbpSettingsPatch.safeParse(patch);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const path = issue.path.join('.');
        const field = FIELDS.find((f) => path.startsWith(f.path));
        errors[field?.name ?? '_form'] ??= issue.message;
      }
    }
    if (Object.keys(errors).length || !parsed.success) return render(res, { values: form, errors }, 400);
    try {
      await updateVbpSettings(req.actor, parsed.data);
      res.redirect(303, '/vbp/settings?flash=saved');
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      await render(res, { values: form, errors: { _form: err.message } }, err.status);
    }
  });
}
