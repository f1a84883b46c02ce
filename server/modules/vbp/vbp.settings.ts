// The VBP module's platform-wide defaults. Declarations and
// tenders copy the values they use when they are created, so a later change never rewrites a running
// tender; the completion check cadence is read when each next check is scheduled.
import type { AuditActor } from '../../platform/audit-log';
import { msg } from '../../platform/messages';
import { z } from '../../platform/schemas';
import { withCommand } from '../../platform/unit-of-work';
import { BACKUP_PRICES, VbpSettingsStore, VISIBILITIES } from './vbp.model';
import { DEFAULT_SELECTION_RULES, type SelectionRules } from './vbp.selection';

const DAY = 86_400;
const bp = z.number().int().min(0).max(10_000);
const ratio = z
  .object({ numerator: z.number().int().min(1).max(1_000_000), denominator: z.number().int().min(1).max(1_000_000) })
  .strict();
const floor = z.number().int().min(1).max(100_000_000).nullable();

/** The selection rules of one tender. */
export const SelectionRulesSchema = z
  .object({
    shortlistByBidderCount: z.array(z.number().int().min(1).max(1000)).min(1).max(200),
    spreadMultiple: ratio,
    anchorMeanShare: ratio,
    lowPriceFloorFen: z.object({ oral_solid: floor, small_volume_injection: floor, large_volume_injection: floor, other: floor }).strict(),
    highestBidNeverWins: z.boolean(),
    singleDirectWinnerFollowPrice: z.enum(['spread_limit', 'highest_direct']),
    fewBidders: z.object({ maxValidBidders: z.number().int().min(0).max(1000), shareOfAverageDrop: ratio }).strict(),
    volumeShareBpByWinnerCount: z.array(bp).min(1).max(200),
    termYearsByWinnerCount: z.array(z.number().int().min(1).max(10)).min(1).max(200),
  })
  .strict()
  .openapi('VbpSelectionRules');

/** A partial override of the selection rules (tender creation). */
export const SelectionRulesPatch = SelectionRulesSchema.partial().strict();

function plainRules(rules: SelectionRules): z.infer<typeof SelectionRulesSchema> {
  return JSON.parse(JSON.stringify(rules)) as z.infer<typeof SelectionRulesSchema>;
}

const DEFAULTS = {
  declaration: { minShareOfLastYearBp: 8000, remindBeforeDeadlineSec: DAY },
  tender: {
    visibility: 'sealed' as const,
    followWindowSec: 3 * DAY,
    backupPrice: 'own_bid' as const,
    useFewBiddersRule: false,
    selection: plainRules(DEFAULT_SELECTION_RULES),
  },
  completion: { paceCheckIntervalSec: 30 * DAY, checkpointIntervalSec: 90 * DAY, checkpointShareBp: 8000 },
  ocds: { ocidPrefix: 'ocds-gpo000' },
};

export const VbpSettings = z
  .object({
    declaration: z
      .object({
        minShareOfLastYearBp: bp.default(DEFAULTS.declaration.minShareOfLastYearBp),
        remindBeforeDeadlineSec: z.number().int().min(0).max(30 * DAY).default(DEFAULTS.declaration.remindBeforeDeadlineSec),
      })
      .strict()
      .default(DEFAULTS.declaration),
    tender: z
      .object({
        visibility: z.enum(VISIBILITIES).default(DEFAULTS.tender.visibility),
        followWindowSec: z.number().int().min(1).max(30 * DAY).default(DEFAULTS.tender.followWindowSec),
        backupPrice: z.enum(BACKUP_PRICES).default(DEFAULTS.tender.backupPrice),
        useFewBiddersRule: z.boolean().default(DEFAULTS.tender.useFewBiddersRule),
        selection: SelectionRulesSchema.default(DEFAULTS.tender.selection),
      })
      .strict()
      .default(DEFAULTS.tender),
    completion: z
      .object({
        paceCheckIntervalSec: z.number().int().min(1).max(366 * DAY).default(DEFAULTS.completion.paceCheckIntervalSec),
        checkpointIntervalSec: z.number().int().min(1).max(366 * DAY).default(DEFAULTS.completion.checkpointIntervalSec),
        checkpointShareBp: bp.default(DEFAULTS.completion.checkpointShareBp),
      })
      .strict()
      .default(DEFAULTS.completion),
    ocds: z
      .object({ ocidPrefix: z.string().regex(/^ocds-[a-z0-9]{6}$/, 'validationIssues.ocidPrefix').default(DEFAULTS.ocds.ocidPrefix) })
      .strict()
      .default(DEFAULTS.ocds),
  })
  .strict()
  .openapi('VbpSettings');
export type VbpSettingsValue = z.infer<typeof VbpSettings>;

export const VbpSettingsPatch = z
  .object({
    declaration: VbpSettings.shape.declaration.unwrap().partial().strict().optional(),
    tender: VbpSettings.shape.tender.unwrap().partial().strict().optional(),
    completion: VbpSettings.shape.completion.unwrap().partial().strict().optional(),
    ocds: VbpSettings.shape.ocds.unwrap().partial().strict().optional(),
  })
  .strict()
  .openapi('VbpSettingsPatch');
export type VbpSettingsPatchInput = z.infer<typeof VbpSettingsPatch>;

const KEY = 'vbp';
const SECTIONS = ['declaration', 'tender', 'completion', 'ocds'] as const;

/** The VBP defaults in force: stored values over the built-in defaults. */
export async function getVbpSettings(): Promise<VbpSettingsValue> {
  const doc = await VbpSettingsStore.findById(KEY).lean<{ value: Record<string, unknown> }>();
  return VbpSettings.parse(doc?.value ?? {});
}

/** Operator: changes some VBP defaults; the merged result is validated whole before it is stored. */
export async function updateVbpSettings(actor: AuditActor, patch: VbpSettingsPatchInput): Promise<VbpSettingsValue> {
  const current = await getVbpSettings();
  const merged = VbpSettings.parse({
    declaration: { ...current.declaration, ...patch.declaration },
    tender: { ...current.tender, ...patch.tender },
    completion: { ...current.completion, ...patch.completion },
    ocds: { ...current.ocds, ...patch.ocds },
  });
  const sections = SECTIONS.filter((k) => patch[k] !== undefined);
  return withCommand(actor, async (uow) => {
    await VbpSettingsStore.updateOne({ _id: KEY }, { $set: { value: merged, updatedAt: uow.at, updatedBy: actor?.id } }, { upsert: true, session: uow.session });
    uow.audit({ action: 'vbp.settings.update', targetType: 'vbp_settings', targetId: KEY, summary: msg('vbp.audit.settingsUpdated', { sections: { list: [...sections] } }) });
    return merged;
  });
}
