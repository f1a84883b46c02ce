// The breach catalogue and recorded breaches: automatic ones from other modules' domain events
// (exactly once per fact, keyed by the event key) and manual ones recorded by the operator.
import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { now, platform } from '../../platform/context';
import { ConflictError, NotFoundError, RuleViolationError } from '../../platform/errors';
import { trusted } from '../../platform/mongo';
import { formatDateTime } from '../../platform/view-helpers/formatters';
import { recordAudit } from '../audit';
import { getOrganisation } from '../identity';
import { notifyOrganisation } from '../notifications';
import { claimFiles, evidenceView, shareFilesWith } from './credit.files';
import { Breach, BreachType, type BreachDoc, type BreachTypeDoc, type EvidenceDoc } from './credit.model';
import { applyCreditChange } from './credit.sanctions';
import { appealDeadline, DEFAULT_BREACH_CATALOGUE, SEVERITY_LABELS, type BreachSeverity } from './credit.score';
import { getCreditRules } from './credit.standing';

let catalogueSeeded = false;

/** Seeds the catalogue with DEFAULT_BREACH_CATALOGUE (existing entries are left as the operator set them). */
export async function ensureBreachCatalogue(): Promise<void> {
  if (catalogueSeeded) return;
  for (const d of Object.values(DEFAULT_BREACH_CATALOGUE)) {
    await BreachType.updateOne(
      { code: d.code },
      { $setOnInsert: { code: d.code, zh: d.zh, en: d.en, severity: d.severity, points: d.points, automatic: d.automatic, basis: d.basis, active: true, updatedAt: now(), updatedByName: 'system' } },
      { upsert: true },
    ).catch((err: { code?: number }) => {
      if (err.code !== 11000) throw err;
    });
  }
  catalogueSeeded = true;
}

function toTypeView(t: BreachTypeDoc) {
  return { id: String(t._id), code: t.code, zh: t.zh, en: t.en, severity: t.severity, points: t.points, automatic: t.automatic, basis: t.basis ?? undefined, active: t.active, updatedAt: t.updatedAt.toISOString() };
}

export async function listBreachTypes() {
  await ensureBreachCatalogue();
  const rows = await BreachType.find({}).sort({ automatic: -1, code: 1 }).lean<BreachTypeDoc[]>();
  return rows.map(toTypeView);
}

/** Operator: adds a manual breach type to the catalogue. */
export async function createBreachType(actor: Actor, input: { code: string; zh: string; en: string; severity: BreachSeverity; points: number; basis?: string }) {
  await ensureBreachCatalogue();
  try {
    const doc = await BreachType.create({ ...input, automatic: false, active: true, updatedAt: now(), updatedByName: actor.name });
    await recordAudit(actor, { action: 'credit.catalogue.create', targetType: 'breach_type', targetId: String(doc._id), summary: `added breach type ${input.code} (${input.severity}, ${input.points} points)` });
    return toTypeView(doc.toObject() as BreachTypeDoc);
  } catch (err) {
    if ((err as { code?: number }).code === 11000) throw new ConflictError({ code: 'BREACH_CODE_TAKEN', message: `A breach type with code ${input.code} exists already.`, details: [{ path: 'code' }] });
    throw err;
  }
}

/** Operator: changes a catalogue entry; breaches already recorded keep the points they had. */
export async function updateBreachType(actor: Actor, code: string, patch: { zh?: string; en?: string; severity?: BreachSeverity; points?: number; basis?: string; active?: boolean }) {
  await ensureBreachCatalogue();
  const doc = await BreachType.findOneAndUpdate({ code }, { $set: { ...patch, updatedAt: now(), updatedByName: actor.name } }, { returnDocument: 'after' }).lean<BreachTypeDoc>();
  if (!doc) throw new NotFoundError({ code: 'BREACH_TYPE_NOT_FOUND', message: `No breach type ${code}.` });
  await recordAudit(actor, { action: 'credit.catalogue.update', targetType: 'breach_type', targetId: String(doc._id), summary: `changed breach type ${code}: ${Object.keys(patch).join(', ')}` });
  return toTypeView(doc);
}

export function toBreachView(b: BreachDoc) {
  return {
    id: String(b._id),
    orgId: String(b.orgId),
    orgName: b.orgName,
    code: b.code,
    zh: b.zh,
    en: b.en,
    severity: b.severity,
    level: b.level ?? undefined,
    points: b.points,
    occurredAt: b.occurredAt.toISOString(),
    recordedAt: b.recordedAt.toISOString(),
    source: b.source,
    sourceType: b.sourceType ?? undefined,
    description: b.description,
    reference: (b.reference ?? undefined) as Record<string, unknown> | undefined,
    evidence: (b.evidence ?? []).map(evidenceView),
    recordedByName: b.recordedByName ?? undefined,
    status: b.status,
    appealDeadline: b.appealDeadline.toISOString(),
    voidedAt: b.voidedAt ? b.voidedAt.toISOString() : undefined,
    voidReason: b.voidReason ?? undefined,
  };
}
export type BreachView = ReturnType<typeof toBreachView>;

interface BreachInput {
  orgId: string;
  code: string;
  occurredAt: Date;
  sourceKey: string;
  source: 'automatic' | 'manual';
  sourceType?: string;
  description: string;
  reference?: Record<string, unknown>;
  severity?: BreachSeverity;
  points?: number;
  level?: 1 | 2 | 3;
  evidence?: EvidenceDoc[];
  recordedBy?: Actor;
}

/** What follows a stored breach: recompute, sanctions, notice, live push. Idempotent, so it also runs on a repeat. */
async function afterBreach(b: BreachDoc): Promise<void> {
  await applyCreditChange(String(b.orgId), b.orgName, { key: `breach:${String(b._id)}`, label: `违约记录「${b.zh}」`, at: b.recordedAt, mode: 'escalate', breachId: b._id });
  await notifyOrganisation(String(b.orgId), {
    kind: 'credit.breach_recorded',
    title: `违约记录：${b.zh}`,
    body: `${SEVERITY_LABELS[b.severity].zh}，扣 ${b.points} 分。${b.description} 如有异议，请于 ${formatDateTime(b.appealDeadline)} 前申诉。`,
    link: `/credit/mine#breach-${String(b._id)}`,
    dedupeKey: `breach-recorded:${String(b._id)}`,
  });
  platform().broadcaster.toOrg(String(b.orgId), 'credit:breach_recorded', toBreachView(b));
  platform().broadcaster.toRole('operator', 'credit:breach_recorded', toBreachView(b));
}

/**
 * Records one breach per `sourceKey` (the fact): a repeat returns the stored breach and changes
 * nothing (its follow-ups run again, idempotently, in case a first run stopped half-way).
 */
export async function recordBreach(input: BreachInput): Promise<{ breach: BreachView | null; created: boolean }> {
  await ensureBreachCatalogue();
  const type = await BreachType.findOne({ code: input.code }).lean<BreachTypeDoc>();
  if (!type) throw new NotFoundError({ code: 'BREACH_TYPE_NOT_FOUND', message: `No breach type ${input.code}.`, details: [{ path: 'code' }] });
  const org = (await getOrganisation(input.orgId)) as { _id: Types.ObjectId; name: string; type: string } | null;
  if (!org || org.type !== 'distributor') throw new NotFoundError({ code: 'DISTRIBUTOR_NOT_FOUND', message: 'No such distributor.', details: [{ path: 'orgId' }] });
  if (!type.active && input.source === 'automatic') {
    const existing = await Breach.findOne({ sourceKey: input.sourceKey }).lean<BreachDoc>();
    if (!existing) return { breach: null, created: false };
  }
  const rules = await getCreditRules();
  const recordedAt = now();
  const severity = input.severity ?? type.severity;
  const res = await Breach.updateOne(
    { sourceKey: input.sourceKey },
    {
      $setOnInsert: {
        orgId: org._id,
        orgName: org.name,
        code: type.code,
        zh: type.zh,
        en: type.en,
        severity,
        level: severity === 'especially_serious' ? (input.level ?? 1) : undefined,
        points: input.points ?? type.points,
        occurredAt: input.occurredAt,
        recordedAt,
        source: input.source,
        sourceKey: input.sourceKey,
        sourceType: input.sourceType,
        description: input.description,
        reference: input.reference,
        evidence: input.evidence ?? [],
        recordedBy: input.recordedBy ? new Types.ObjectId(input.recordedBy.id) : undefined,
        recordedByName: input.recordedBy?.name ?? 'system',
        status: 'active',
        // NOTE: the appeal window runs from when the distributor could know of the breach: its recording.
        appealDeadline: appealDeadline(recordedAt, rules.appealDays),
      },
    },
    { upsert: true },
  );
  const breach = await Breach.findOne({ sourceKey: input.sourceKey }).lean<BreachDoc>();
  if (!breach) throw new Error('breach vanished after upsert');
  const created = res.upsertedCount === 1;
  if (created) {
    await recordAudit(input.recordedBy ?? null, { action: 'credit.breach.record', targetType: 'breach', targetId: String(breach._id), summary: `${breach.code} for ${breach.orgName} (${breach.points} points, ${input.sourceKey})` });
  }
  await afterBreach(breach);
  return { breach: toBreachView(breach), created };
}

/** Operator: records a manual breach with evidence files uploaded beforehand. */
export async function recordManualBreach(
  actor: Actor,
  input: { orgId: string; code: string; occurredAt?: string; description: string; severity?: BreachSeverity; points?: number; level?: 1 | 2 | 3; fileIds?: string[] },
  idempotencyKey?: string,
) {
  await ensureBreachCatalogue();
  const type = await BreachType.findOne({ code: input.code }).lean<BreachTypeDoc>();
  if (!type) throw new NotFoundError({ code: 'BREACH_TYPE_NOT_FOUND', message: `No breach type ${input.code}.`, details: [{ path: 'code' }] });
  if (type.automatic) throw new RuleViolationError({ code: 'BREACH_TYPE_AUTOMATIC', message: `${input.code} is raised automatically from order and round data; use MANUAL for other verified breaches.`, details: [{ path: 'code' }] });
  if (!type.active) throw new RuleViolationError({ code: 'BREACH_TYPE_INACTIVE', message: `Breach type ${input.code} is switched off.`, details: [{ path: 'code' }] });
  const at = now();
  const occurredAt = input.occurredAt ? new Date(input.occurredAt) : at;
  if (occurredAt.getTime() > at.getTime()) throw new RuleViolationError({ code: 'OCCURRED_IN_FUTURE', message: 'A breach cannot have happened in the future.', details: [{ path: 'occurredAt' }] });
  const org = (await getOrganisation(input.orgId)) as { _id: Types.ObjectId; type: string } | null;
  if (!org || org.type !== 'distributor') throw new NotFoundError({ code: 'DISTRIBUTOR_NOT_FOUND', message: 'No such distributor.', details: [{ path: 'orgId' }] });
  const evidence = await claimFiles(actor, input.fileIds, 'breach_evidence');
  if (evidence.length === 0) throw new RuleViolationError({ code: 'EVIDENCE_REQUIRED', message: 'A manual breach needs at least one evidence file.', details: [{ path: 'fileIds' }] });
  const result = await recordBreach({
    orgId: input.orgId,
    code: type.code,
    occurredAt,
    sourceKey: `manual:${actor.orgId}:${idempotencyKey ?? randomUUID()}`,
    source: 'manual',
    description: input.description,
    severity: input.severity,
    points: input.points,
    level: input.level,
    evidence,
    recordedBy: actor,
  });
  await shareFilesWith(evidence, org._id);
  return result;
}

/** Breaches: a distributor sees its own; the operator sees all or one distributor's. Newest first. */
export async function listBreaches(actor: Actor, q: { orgId?: string; status?: string; limit?: number }): Promise<BreachView[]> {
  const filter: Record<string, unknown> = {};
  if (actor.role !== 'operator') filter.orgId = new Types.ObjectId(actor.orgId);
  else if (q.orgId) filter.orgId = new Types.ObjectId(q.orgId);
  if (q.status) filter.status = q.status;
  const rows = await Breach.find(filter).sort({ recordedAt: -1, _id: -1 }).limit(q.limit ?? 200).lean<BreachDoc[]>();
  return rows.map(toBreachView);
}

export async function getBreach(actor: Actor, id: string): Promise<BreachDoc> {
  const filter: Record<string, unknown> = { _id: new Types.ObjectId(id) };
  if (actor.role !== 'operator') filter.orgId = new Types.ObjectId(actor.orgId);
  const b = await Breach.findOne(filter).lean<BreachDoc>();
  if (!b) throw new NotFoundError({ code: 'BREACH_NOT_FOUND', message: 'No such breach.' });
  return b;
}

/** Recent breaches platform-wide (operator dashboard). */
export async function recentBreaches(limit = 50): Promise<BreachView[]> {
  const rows = await Breach.find({ status: trusted({ $ne: 'voided' }) }).sort({ recordedAt: -1 }).limit(limit).lean<BreachDoc[]>();
  return rows.map(toBreachView);
}
