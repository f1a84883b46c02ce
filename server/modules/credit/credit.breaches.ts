// The breach catalogue and recorded breaches: automatic ones from other modules' domain events
// (exactly once per fact: the breach commits with the subscriber's receipt) and manual ones recorded
// by the operator. A breach commits with its score snapshot, its sanctions and their facts.
import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { BreachRecorded } from '../../events/credit';
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { ConflictError, NotFoundError, RuleViolationError } from '../../platform/errors';
import { msg } from '../../platform/messages';
import { trusted } from '../../platform/mongo';
import { withCommand, type UnitOfWork } from '../../platform/unit-of-work';
import { getOrganisation } from '../identity';
import { claimFiles, evidenceView, shareFilesWith } from './credit.files';
import { Breach, BreachType, type BreachDoc, type BreachTypeDoc, type EvidenceDoc } from './credit.model';
import { applyCreditChange } from './credit.sanctions';
import type { CreateBreachTypeInput, ManualBreachInput, UpdateBreachTypeInput } from './credit.schemas';
import { appealDeadline, DEFAULT_BREACH_CATALOGUE, type BreachSeverity, type BreachStatus } from './credit.score';
import { getCreditRules } from './credit.standing';
import { noteBreachIn } from './credit.standing-record';

const severityMsg = (severity: BreachSeverity) => ({ msg: `credit.severity.${severity}` });

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
export async function createBreachType(actor: Actor, input: CreateBreachTypeInput) {
  await ensureBreachCatalogue();
  try {
    return await withCommand(actor, async (uow) => {
      const [doc] = await BreachType.create([{ ...input, automatic: false, active: true, updatedAt: uow.at, updatedByName: actor.name }], { session: uow.session });
      const view = toTypeView(doc!.toObject());
      uow.audit({ action: 'credit.catalogue.create', targetType: 'breach_type', targetId: view.id, summary: msg('credit.audit.breachTypeCreated', { code: input.code, severity: severityMsg(input.severity), points: input.points }) });
      return view;
    });
  } catch (err) {
    if ((err as { code?: number }).code === 11000) throw new ConflictError({ code: 'BREACH_CODE_TAKEN', message: msg('errorCodes.BREACH_CODE_TAKEN', { code: input.code }), details: [{ path: 'code' }] });
    throw err;
  }
}

/** Operator: changes a catalogue entry; breaches already recorded keep the points they had. */
export async function updateBreachType(actor: Actor, code: string, patch: UpdateBreachTypeInput) {
  await ensureBreachCatalogue();
  return withCommand(actor, async (uow) => {
    const doc = await BreachType.findOneAndUpdate({ code }, { $set: { ...patch, updatedAt: uow.at, updatedByName: actor.name } }, { returnDocument: 'after', session: uow.session }).lean<BreachTypeDoc>();
    if (!doc) throw new NotFoundError({ code: 'BREACH_TYPE_NOT_FOUND', message: msg('errorCodes.BREACH_TYPE_NOT_FOUND', { code: code }) });
    uow.audit({ action: 'credit.catalogue.update', targetType: 'breach_type', targetId: String(doc._id), summary: msg('credit.audit.breachTypeUpdated', { code, fields: { list: Object.keys(patch) } }) });
    return toTypeView(doc);
  });
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

export interface BreachInput {
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

/**
 * Records one breach per `sourceKey` (the fact) in the caller's unit of work, with everything that
 * follows from it: its audit entry, `credit.breach_recorded`, the score snapshot, the sanctions and
 * their facts. A repeat returns the stored breach and stages nothing.
 */
export async function recordBreachIn(uow: UnitOfWork, input: BreachInput): Promise<{ breach: BreachView | null; created: boolean }> {
  const session = uow.session;
  await ensureBreachCatalogue();
  // NOTE: the catalogue entry and the organisation are reference data this command does not change;
  // they are read as committed (the catalogue may have been seeded after this transaction began).
  const type = await BreachType.findOne({ code: input.code }).lean<BreachTypeDoc>();
  if (!type) throw new NotFoundError({ code: 'BREACH_TYPE_NOT_FOUND', message: msg('errorCodes.BREACH_TYPE_NOT_FOUND', { code: input.code }), details: [{ path: 'code' }] });
  const org = await getOrganisation(input.orgId);
  if (!org || org.type !== 'distributor') throw new NotFoundError({ code: 'DISTRIBUTOR_NOT_FOUND', message: msg('errorCodes.DISTRIBUTOR_NOT_FOUND'), details: [{ path: 'orgId' }] });
  const existing = await Breach.findOne({ sourceKey: input.sourceKey }, null, { session }).lean<BreachDoc>();
  if (existing) return { breach: toBreachView(existing), created: false };
  if (!type.active && input.source === 'automatic') return { breach: null, created: false };
  const rules = await getCreditRules();
  const recordedAt = uow.at;
  const severity = input.severity ?? type.severity;
  const doc = {
    _id: new Types.ObjectId(),
    orgId: org._id,
    orgName: org.name,
    code: type.code,
    zh: type.zh,
    en: type.en,
    severity,
    ...(severity === 'especially_serious' ? { level: input.level ?? 1 } : {}),
    points: input.points ?? type.points,
    occurredAt: input.occurredAt,
    recordedAt,
    source: input.source,
    sourceKey: input.sourceKey,
    ...(input.sourceType ? { sourceType: input.sourceType } : {}),
    description: input.description,
    ...(input.reference ? { reference: input.reference } : {}),
    evidence: input.evidence ?? [],
    ...(input.recordedBy ? { recordedBy: new Types.ObjectId(input.recordedBy.id) } : {}),
    recordedByName: input.recordedBy?.name ?? 'system',
    status: 'active' as const,
    // NOTE: the appeal window runs from when the distributor could know of the breach: its recording.
    appealDeadline: appealDeadline(recordedAt, rules.appealDays),
  };
  await Breach.create([doc], { session });
  const breach = (await Breach.findById(doc._id, null, { session }).lean<BreachDoc>())!;
  await noteBreachIn(uow, breach);
  const id = String(breach._id);
  const orgId = String(breach.orgId);
  uow.audit({ action: 'credit.breach.record', targetType: 'breach', targetId: id, summary: msg('credit.audit.breachRecorded', { org: breach.orgName, name: breach.zh, nameEn: breach.en, code: breach.code, points: breach.points }) });
  uow.emit(
    BreachRecorded,
    {
      breachId: id,
      orgId,
      orgName: breach.orgName,
      code: breach.code,
      name: breach.zh,
      nameEn: breach.en,
      severity: breach.severity,
      points: breach.points,
      description: breach.description,
      source: breach.source,
      occurredAt: breach.occurredAt.toISOString(),
      appealDeadline: breach.appealDeadline.toISOString(),
      sourceKey: breach.sourceKey,
    },
    { key: `breach-recorded:${id}` },
  );
  await applyCreditChange(uow, orgId, breach.orgName, { key: `breach:${id}`, label: msg('credit.change.breach', { name: breach.zh, nameEn: breach.en }), at: recordedAt, mode: 'escalate', breachId: breach._id });
  return { breach: toBreachView(breach), created: true };
}

/** Operator: records a manual breach with evidence files uploaded beforehand. */
export async function recordManualBreach(actor: Actor, input: ManualBreachInput, idempotencyKey?: string) {
  await ensureBreachCatalogue();
  const type = await BreachType.findOne({ code: input.code }).lean<BreachTypeDoc>();
  if (!type) throw new NotFoundError({ code: 'BREACH_TYPE_NOT_FOUND', message: msg('errorCodes.BREACH_TYPE_NOT_FOUND', { code: input.code }), details: [{ path: 'code' }] });
  if (type.automatic) throw new RuleViolationError({ code: 'BREACH_TYPE_AUTOMATIC', message: msg('errorCodes.BREACH_TYPE_AUTOMATIC', { code: input.code }), details: [{ path: 'code' }] });
  if (!type.active) throw new RuleViolationError({ code: 'BREACH_TYPE_INACTIVE', message: msg('errorCodes.BREACH_TYPE_INACTIVE', { code: input.code }), details: [{ path: 'code' }] });
  const at = now();
  const occurredAt = input.occurredAt ? new Date(input.occurredAt) : at;
  if (occurredAt.getTime() > at.getTime()) throw new RuleViolationError({ code: 'OCCURRED_IN_FUTURE', message: msg('errorCodes.OCCURRED_IN_FUTURE'), details: [{ path: 'occurredAt' }] });
  const org = await getOrganisation(input.orgId);
  if (!org || org.type !== 'distributor') throw new NotFoundError({ code: 'DISTRIBUTOR_NOT_FOUND', message: msg('errorCodes.DISTRIBUTOR_NOT_FOUND'), details: [{ path: 'orgId' }] });
  const evidence = await claimFiles(actor, input.fileIds, 'breach_evidence');
  if (evidence.length === 0) throw new RuleViolationError({ code: 'EVIDENCE_REQUIRED', message: msg('errorCodes.EVIDENCE_REQUIRED'), details: [{ path: 'fileIds' }] });
  const sourceKey = `manual:${actor.orgId}:${idempotencyKey ?? randomUUID()}`;
  return withCommand(actor, async (uow) => {
    const result = await recordBreachIn(uow, {
      orgId: input.orgId,
      code: type.code,
      occurredAt,
      sourceKey,
      source: 'manual',
      description: input.description,
      severity: input.severity,
      points: input.points,
      level: input.level,
      evidence,
      recordedBy: actor,
    });
    await shareFilesWith(evidence, org._id, uow.session);
    return result;
  });
}

/** Breaches: a distributor sees its own; the operator sees all or one distributor's. Newest first. */
export async function listBreaches(actor: Actor, q: { orgId?: string; status?: BreachStatus; limit?: number }): Promise<BreachView[]> {
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
  if (!b) throw new NotFoundError({ code: 'BREACH_NOT_FOUND', message: msg('errorCodes.BREACH_NOT_FOUND_2') });
  return b;
}

/** Recent breaches platform-wide (operator dashboard). */
export async function recentBreaches(limit = 50): Promise<BreachView[]> {
  const rows = await Breach.find({ status: trusted({ $ne: 'voided' as const }) }).sort({ recordedAt: -1 }).limit(limit).lean<BreachDoc[]>();
  return rows.map(toBreachView);
}
