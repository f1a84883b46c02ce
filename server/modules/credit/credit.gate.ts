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
import { assertMayTrade, scheduledVersions, versionInForce, type TradingAction } from './credit.commitment';
import { CommitmentSignature, Sanction } from './credit.model';

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

/**
 * Which of `orgIds` pass the gate at `at`, and until when each pass holds (the next moment the answer
 * could change by time alone: a letter that takes effect, a suspension that starts, or MAX_AGE_MS):
 * one read of each kind for all of them, the same rule as assertMayTrade (a signature of the
 * version in force, no suspension in force).
 */
async function passesAt(orgIds: readonly string[], at: Date): Promise<Map<string, number>> {
  const ids = orgIds.map((id) => new Types.ObjectId(id));
  const [version, scheduled, suspensions] = await Promise.all([
    versionInForce(at),
    scheduledVersions(at),
    Sanction.find({ orgId: trusted({ $in: ids }), kind: 'suspension', endsAt: trusted({ $gt: at }), liftedAt: trusted({ $exists: false }) }, { orgId: 1, startsAt: 1 }).lean<{ orgId: Types.ObjectId; startsAt: Date }[]>(),
  ]);
  const granted = new Map<string, number>();
  if (!version) return granted;
  const signed = await CommitmentSignature.find({ orgId: trusted({ $in: ids }), versionId: version._id }, { orgId: 1 }).lean<{ orgId: Types.ObjectId }[]>();
  const limit = Math.min(at.getTime() + MAX_AGE_MS, scheduled[0]?.effectiveAt.getTime() ?? Infinity);
  const until = new Map(signed.map((row) => [String(row.orgId), limit]));
  for (const sanction of suspensions) {
    const orgId = String(sanction.orgId);
    const starts = sanction.startsAt.getTime();
    if (starts <= at.getTime()) until.delete(orgId);
    else if (until.has(orgId)) until.set(orgId, Math.min(until.get(orgId)!, starts));
  }
  for (const [orgId, holds] of until) granted.set(orgId, holds);
  return granted;
}

interface GateAsk {
  orgId: string;
  resolve: (passes: boolean) => void;
  reject: (err: unknown) => void;
}

/** Organisations waiting to be looked up; those that ask while a lookup runs go in the next one. */
let asking: GateAsk[] = [];
let looking = false;

/** Looks up the waiting organisations together (many distributors quoting at the start of a round cost one lookup, not one each). */
function lookUp(): void {
  if (looking || asking.length === 0) return;
  looking = true;
  const batch = asking;
  asking = [];
  const seen = generation;
  const at = now();
  passesAt([...new Set(batch.map((a) => a.orgId))], at)
    .then((granted) => {
      if (generation === seen) {
        if (passes.size > 100_000) passes.clear();
        for (const [orgId, until] of granted) passes.set(orgId, until);
      }
      for (const a of batch) a.resolve(granted.has(a.orgId));
    }, (err: unknown) => {
      for (const a of batch) a.reject(err);
    })
    .finally(() => {
      looking = false;
      lookUp();
    });
}

function passesNow(orgId: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    asking.push({ orgId, resolve, reject });
    // NOTE: the asks that arrive in the same turn of the event loop go together.
    if (asking.length === 1 && !looking) setImmediate(lookUp);
  });
}

/** assertMayTrade, answered from memory while a pass for the organisation is known to hold. */
export async function assertMayTradeCached(distributorOrgId: string, action: TradingAction): Promise<void> {
  const until = passes.get(distributorOrgId);
  if (until !== undefined && now().getTime() < until) return;
  // NOTE: a refusal is worded by assertMayTrade itself (it says exactly why), asked afresh.
  if (!Types.ObjectId.isValid(distributorOrgId) || !(await passesNow(distributorOrgId))) await assertMayTrade(distributorOrgId, action);
}

/** Credit facts that change a distributor's gate drop its remembered pass, everywhere, at once. */
export const tradingGateEvictions = [
  onCommitted(SanctionOpened, 'credit.gate.forget-on-sanction', (e) => evict(TOPIC, e.payload.orgId)),
  onCommitted(SanctionExtended, 'credit.gate.forget-on-extension', (e) => evict(TOPIC, e.payload.orgId)),
  onCommitted(SanctionEnded, 'credit.gate.forget-on-end', (e) => evict(TOPIC, e.payload.orgId)),
  onCommitted(CommitmentPublished, 'credit.gate.forget-on-new-letter', () => evict(TOPIC, '*')),
];
