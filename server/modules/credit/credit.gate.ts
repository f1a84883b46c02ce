// The trading gate's answer, remembered per distributor for the hot paths (a quote in a live round).
// Only a pass is remembered; a refusal is asked afresh each time, so signing the letter takes effect
// at once. A remembered pass is dropped when a credit fact could change it (a sanction opened,
// lengthened or ended, a new letter published), here and in every other process, and expires by
// itself at the next moment the answer could change without any fact: a published letter or a
// suspension that starts later. It never lives longer than MAX_AGE_MS.
import { Types } from 'mongoose';
import { CommitmentPublished, SanctionEnded, SanctionExtended, SanctionOpened } from '../../events/credit';
import { now } from '../../platform/context';
import { evict, onEviction } from '../../platform/evictions';
import { trusted } from '../../platform/mongo';
import { onCommitted } from '../../platform/relay';
import { assertMayTrade, scheduledVersions, type TradingAction } from './credit.commitment';
import { Sanction } from './credit.model';

const TOPIC = 'credit.gate';
const MAX_AGE_MS = 30_000;

/** orgId → until when its pass holds (epoch ms). */
const passes = new Map<string, number>();
/** Bumped by every eviction, so a pass looked up before an eviction is not stored after it. */
let generation = 0;

onEviction(TOPIC, (key) => {
  generation += 1;
  if (key === '*') passes.clear();
  else passes.delete(key);
});

/** The moment after `at` when the gate's answer for the organisation could change by time alone. */
async function nextChangeAfter(orgId: string, at: Date): Promise<number> {
  const [versions, suspension] = await Promise.all([
    scheduledVersions(at),
    Sanction.findOne({ orgId: new Types.ObjectId(orgId), kind: 'suspension', startsAt: trusted({ $gt: at }), liftedAt: trusted({ $exists: false }) }, { startsAt: 1 })
      .sort({ startsAt: 1 })
      .lean<{ startsAt: Date }>(),
  ]);
  return Math.min(at.getTime() + MAX_AGE_MS, versions[0]?.effectiveAt.getTime() ?? Infinity, suspension?.startsAt.getTime() ?? Infinity);
}

/** assertMayTrade, answered from memory while a pass for the organisation is known to hold. */
export async function assertMayTradeCached(distributorOrgId: string, action: TradingAction): Promise<void> {
  const at = now();
  const until = passes.get(distributorOrgId);
  if (until !== undefined && at.getTime() < until) return;
  const seen = generation;
  await assertMayTrade(distributorOrgId, action);
  const holdsUntil = await nextChangeAfter(distributorOrgId, at);
  if (generation !== seen) return;
  if (passes.size > 100_000) passes.clear();
  passes.set(distributorOrgId, holdsUntil);
}

/** Credit facts that change a distributor's gate drop its remembered pass, everywhere, at once. */
export const tradingGateEvictions = [
  onCommitted(SanctionOpened, 'credit.gate.forget-on-sanction', (e) => evict(TOPIC, e.payload.orgId)),
  onCommitted(SanctionExtended, 'credit.gate.forget-on-extension', (e) => evict(TOPIC, e.payload.orgId)),
  onCommitted(SanctionEnded, 'credit.gate.forget-on-end', (e) => evict(TOPIC, e.payload.orgId)),
  onCommitted(CommitmentPublished, 'credit.gate.forget-on-new-letter', () => evict(TOPIC, '*')),
];
