// The credit rules in force: the platform settings (window, bonus cap, appeal and quiet days) over the
// operator's credit rules (grade bands, sanction periods).
import { getSettings } from '../settings';
import { CreditRulesDoc } from './credit.model';
import { DEFAULT_CREDIT_RULES, type CreditRules } from './credit.score';

export const CREDIT_RULES_KEY = 'credit';

/** Rules in force: platform settings (window, bonus cap, appeal days, quiet days) over the operator's credit rules. */
export async function getCreditRules(): Promise<CreditRules> {
  const [settings, doc] = await Promise.all([getSettings(), CreditRulesDoc.findById(CREDIT_RULES_KEY).lean<{ value: Partial<CreditRules> }>()]);
  const stored = doc?.value ?? {};
  return {
    ...DEFAULT_CREDIT_RULES,
    ...stored,
    gradeThresholds: { ...DEFAULT_CREDIT_RULES.gradeThresholds, ...stored.gradeThresholds },
    especiallySeriousYears: { ...DEFAULT_CREDIT_RULES.especiallySeriousYears, ...stored.especiallySeriousYears },
    windowMonths: settings.credit.windowMonths,
    bonusCap: settings.credit.bonusCap,
    appealDays: settings.credit.appealDays,
    repairQuietDays: settings.credit.repairQuietDays,
  };
}
