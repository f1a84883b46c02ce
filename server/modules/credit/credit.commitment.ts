// Commitment letters (违约惩戒承诺书): versions, rendering, signatures, and the trading gate.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { Types, type ClientSession } from 'mongoose';
import { CommitmentPublished } from '../../events/credit';
import type { Actor } from '../../platform/auth';
import { now } from '../../platform/context';
import { ConflictError, NotFoundError, RuleViolationError, ValidationError } from '../../platform/errors';
import { trusted } from '../../platform/mongo';
import { dateTime, msg } from '../../platform/messages';
import { withCommand } from '../../platform/unit-of-work';
import { formatDate, formatDateTime } from '../../platform/view-helpers/formatters';
import { getOrganisation } from '../identity';
import { getSettings } from '../settings';
import { CommitmentSignature, CommitmentVersion, Sanction, type CommitmentSignatureDoc, type CommitmentVersionDoc, type SanctionDoc } from './credit.model';
import type { PublishCommitmentInput, SignCommitmentInput } from './credit.schemas';

export type TradingAction = 'quote' | 'bid' | 'revise_quote' | 'be_chosen' | 'confirm_order';

/** What a distributor was trying to do, as a message parameter (errorCodes.actions.<action>). */
const actionParam = (action: TradingAction) => ({ msg: `errorCodes.actions.${action}` });

export const PLATFORM_NAME = '药品集团采购平台';
export const DEFAULT_COMMITMENT_TITLE = '药品集团采购配送企业违约惩戒承诺书';
const DEFAULT_COMMITMENT_FILE = fileURLToPath(new URL('../../../templates/commitments/default.zh.hbs', import.meta.url));

/** The default letter text (templates/commitments/default.zh.hbs), the source of version 1. */
export function defaultCommitmentBody(): string {
  return readFileSync(DEFAULT_COMMITMENT_FILE, 'utf8');
}

// NOTE: a separate Handlebars instance without HTML escaping: the letter is plain text (pages escape
// it when they show it); `strict` makes an unknown variable an error at publication, not a blank.
const letters = Handlebars.create();

export interface CommitmentContext {
  platformName: string;
  version: number;
  effectiveDate: string;
  signDate: string;
  distributor: { name: string; creditCode: string };
  signer: { name: string; email: string };
  deadlines: { confirmHours: number; deliverUrgentHours: number; deliverRegularHours: number; notDeliveredDays: number };
  credit: { windowMonths: number; appealDays: number; repairQuietDays: number };
}

function renderBody(body: string, ctx: CommitmentContext): string {
  return letters.compile(body, { noEscape: true, strict: true })(ctx);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

async function contextFor(version: Pick<CommitmentVersionDoc, 'version' | 'effectiveAt'>, org: { name: string; creditCode?: string | null }, signer: { name: string; email: string }, at: Date): Promise<CommitmentContext> {
  const s = await getSettings();
  const hours = (sec: number) => Math.round(sec / 3600);
  return {
    platformName: PLATFORM_NAME,
    version: version.version,
    effectiveDate: formatDate(version.effectiveAt),
    signDate: formatDate(at),
    distributor: { name: org.name, creditCode: org.creditCode ?? '' },
    signer: { name: signer.name, email: signer.email },
    deadlines: {
      confirmHours: hours(s.orders.confirmWithinSec),
      deliverUrgentHours: hours(s.orders.deliverUrgentWithinSec),
      deliverRegularHours: hours(s.orders.deliverRegularWithinSec),
      notDeliveredDays: Math.round(s.orders.notDeliveredAfterSec / 86_400),
    },
    credit: { windowMonths: s.credit.windowMonths, appealDays: s.credit.appealDays, repairQuietDays: s.credit.repairQuietDays },
  };
}

/** Refuses a letter body that does not compile or uses an unknown variable (400, nothing stored). */
export async function assertRenderableBody(body: string): Promise<void> {
  try {
    const ctx = await contextFor({ version: 1, effectiveAt: now() }, { name: '示例配送企业', creditCode: '91440000000000000X' }, { name: '示例签署人', email: 'signer@example.cn' }, now());
    renderBody(body, ctx);
  } catch (err) {
    throw new ValidationError({
      code: 'COMMITMENT_TEMPLATE_INVALID',
      message: msg('errorCodes.COMMITMENT_TEMPLATE_INVALID'),
      details: [{ path: 'body', message: (err as Error).message.split('\n')[0] }],
    });
  }
}

type VersionState = 'in_force' | 'scheduled' | 'superseded' | 'withdrawn';

function versionState(v: CommitmentVersionDoc, at: Date, inForceId?: string): VersionState {
  if (v.withdrawnAt) return 'withdrawn';
  if (String(v._id) === inForceId) return 'in_force';
  return v.effectiveAt.getTime() > at.getTime() ? 'scheduled' : 'superseded';
}

function toVersionView(v: CommitmentVersionDoc, at: Date, inForceId?: string) {
  return {
    id: String(v._id),
    version: v.version,
    title: v.title,
    body: v.body,
    effectiveAt: v.effectiveAt.toISOString(),
    publishedAt: v.publishedAt.toISOString(),
    publishedByName: v.publishedByName,
    note: v.note ?? undefined,
    withdrawnAt: v.withdrawnAt ? v.withdrawnAt.toISOString() : undefined,
    state: versionState(v, at, inForceId),
  };
}
export type CommitmentVersionView = ReturnType<typeof toVersionView>;

/** The version in force at `at`: the latest effective one that was not withdrawn. */
export async function versionInForce(at: Date = now(), session?: ClientSession): Promise<CommitmentVersionDoc | null> {
  return CommitmentVersion.findOne({ effectiveAt: trusted({ $lte: at }), withdrawnAt: trusted({ $exists: false }) }, null, { session })
    .sort({ effectiveAt: -1, version: -1 })
    .lean<CommitmentVersionDoc>();
}

/** Published versions that take effect after `at`, soonest first. */
export async function scheduledVersions(at: Date = now()): Promise<CommitmentVersionDoc[]> {
  return CommitmentVersion.find({ effectiveAt: trusted({ $gt: at }), withdrawnAt: trusted({ $exists: false }) })
    .sort({ effectiveAt: 1, version: 1 })
    .lean<CommitmentVersionDoc[]>();
}

export async function listCommitmentVersions(): Promise<CommitmentVersionView[]> {
  const at = now();
  const [rows, current] = await Promise.all([CommitmentVersion.find({}).sort({ version: -1 }).lean<CommitmentVersionDoc[]>(), versionInForce(at)]);
  return rows.map((v) => toVersionView(v, at, current ? String(current._id) : undefined));
}

/** Operator: publishes a new version, in force from `effectiveAt` (now when omitted; never in the past). */
export async function publishCommitmentVersion(actor: Actor, input: PublishCommitmentInput): Promise<CommitmentVersionView> {
  const at = now();
  const requested = input.effectiveAt ? new Date(input.effectiveAt) : at;
  // NOTE: a minute of slack for a form filled in "now"; anything earlier would rewrite history.
  if (requested.getTime() < at.getTime() - 60_000) {
    throw new RuleViolationError({ code: 'EFFECTIVE_DATE_IN_PAST', message: msg('errorCodes.EFFECTIVE_DATE_IN_PAST'), details: [{ path: 'effectiveAt', message: msg('validationIssues.notPast') }] });
  }
  await assertRenderableBody(input.body);
  // NOTE: two versions published at once may pick the same number; the unique index refuses the
  // second, which then tries again with the next number.
  for (let attempt = 0; attempt < 5; attempt += 1) {
    try {
      return await withCommand(actor, async (uow) => {
        const session = uow.session;
        const last = await CommitmentVersion.findOne({}, { version: 1 }, { session }).sort({ version: -1 }).lean<{ version: number }>();
        const effectiveAt = requested.getTime() < uow.at.getTime() ? uow.at : requested;
        const [created] = await CommitmentVersion.create(
          [{ version: (last?.version ?? 0) + 1, title: input.title, body: input.body, effectiveAt, publishedAt: uow.at, publishedBy: new Types.ObjectId(actor.id), publishedByName: actor.name, ...(input.note ? { note: input.note } : {}) }],
          { session },
        );
        const doc = created!.toObject();
        const id = String(doc._id);
        uow.audit({ action: 'credit.commitment.publish', targetType: 'commitment_version', targetId: id, summary: msg('credit.audit.commitmentPublished', { version: doc.version, effectiveAt: dateTime(doc.effectiveAt) }) });
        uow.emit(CommitmentPublished, { versionId: id, version: doc.version, title: doc.title, effectiveAt: doc.effectiveAt.toISOString() }, { key: `commitment-published:${id}` });
        const current = await versionInForce(uow.at, session);
        return toVersionView(doc, uow.at, current ? String(current._id) : undefined);
      });
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
    }
  }
  throw new ConflictError({ code: 'COMMITMENT_VERSION_CONFLICT', message: msg('errorCodes.COMMITMENT_VERSION_CONFLICT') });
}

/** Operator: withdraws a scheduled version before it takes effect. */
export async function withdrawCommitmentVersion(actor: Actor, id: string): Promise<CommitmentVersionView> {
  return withCommand(actor, async (uow) => {
    const session = uow.session;
    const at = uow.at;
    const doc = await CommitmentVersion.findOneAndUpdate(
      { _id: new Types.ObjectId(id), withdrawnAt: trusted({ $exists: false }), effectiveAt: trusted({ $gt: at }) },
      { $set: { withdrawnAt: at } },
      { returnDocument: 'after', session },
    ).lean<CommitmentVersionDoc>();
    if (!doc) {
      const exists = await CommitmentVersion.findById(id, null, { session }).lean<CommitmentVersionDoc>();
      if (!exists) throw new NotFoundError({ code: 'COMMITMENT_VERSION_NOT_FOUND', message: msg('errorCodes.COMMITMENT_VERSION_NOT_FOUND') });
      throw new RuleViolationError({ code: 'COMMITMENT_VERSION_NOT_SCHEDULED', message: msg('errorCodes.COMMITMENT_VERSION_NOT_SCHEDULED') });
    }
    uow.audit({ action: 'credit.commitment.withdraw', targetType: 'commitment_version', targetId: id, summary: msg('credit.audit.commitmentWithdrawn', { version: doc.version }) });
    const current = await versionInForce(at, session);
    return toVersionView(doc, at, current ? String(current._id) : undefined);
  });
}

/** Seeds version 1 from the default text when no version exists (safe to run concurrently and twice). */
export async function ensureDefaultCommitment(): Promise<void> {
  if (await CommitmentVersion.exists({})) return;
  const at = now();
  await CommitmentVersion.updateOne(
    { version: 1 },
    { $setOnInsert: { version: 1, title: DEFAULT_COMMITMENT_TITLE, body: defaultCommitmentBody(), effectiveAt: at, publishedAt: at, publishedByName: 'system', note: '默认版本' } },
    { upsert: true },
  ).catch((err: { code?: number }) => {
    if (err.code !== 11000) throw err;
  });
}

function toSignatureView(s: CommitmentSignatureDoc) {
  return {
    id: String(s._id),
    versionId: String(s.versionId),
    version: s.version,
    orgId: String(s.orgId),
    orgName: s.orgName,
    userId: String(s.userId),
    userName: s.userName,
    userEmail: s.userEmail,
    signedAt: s.signedAt.toISOString(),
    ip: s.ip,
    textSha256: s.textSha256,
  };
}
export type CommitmentSignatureView = ReturnType<typeof toSignatureView>;

async function loadSignable(versionId: string | undefined, at: Date): Promise<CommitmentVersionDoc> {
  if (!versionId) {
    const current = await versionInForce(at);
    if (!current) throw new NotFoundError({ code: 'NO_COMMITMENT_IN_FORCE', message: msg('errorCodes.NO_COMMITMENT_IN_FORCE') });
    return current;
  }
  const v = await CommitmentVersion.findById(versionId).lean<CommitmentVersionDoc>();
  if (!v) throw new NotFoundError({ code: 'COMMITMENT_VERSION_NOT_FOUND', message: msg('errorCodes.COMMITMENT_VERSION_NOT_FOUND') });
  if (v.withdrawnAt) throw new RuleViolationError({ code: 'COMMITMENT_VERSION_WITHDRAWN', message: msg('errorCodes.COMMITMENT_VERSION_WITHDRAWN') });
  const current = await versionInForce(at);
  if (v.effectiveAt.getTime() <= at.getTime() && current && String(current._id) !== String(v._id)) {
    throw new RuleViolationError({ code: 'COMMITMENT_VERSION_SUPERSEDED', message: msg('errorCodes.COMMITMENT_VERSION_SUPERSEDED', { version: v.version, version2: current.version }) });
  }
  return v;
}

/** The letter a distributor user would sign now: the exact text, its hash, and any existing signature. */
export async function commitmentPreview(actor: Actor, versionId?: string) {
  const at = now();
  const v = await loadSignable(versionId, at);
  const org = await getOrganisation(actor.orgId);
  const existing = await CommitmentSignature.findOne({ orgId: new Types.ObjectId(actor.orgId), versionId: v._id }).lean<CommitmentSignatureDoc>();
  const text = existing ? existing.text : renderBody(v.body, await contextFor(v, org ?? { name: actor.orgName }, { name: actor.name, email: actor.email }, at));
  return {
    version: toVersionView(v, at, String((await versionInForce(at))?._id ?? '')),
    text,
    textSha256: existing ? existing.textSha256 : sha256Hex(text),
    signature: existing ? toSignatureView(existing) : null,
  };
}

/**
 * A distributor user signs a version for its organisation. The client sends the hash of the text it
 * showed; the server renders the text again and refuses when it differs, so the signature is of what
 * was read. Signing again returns the organisation's existing signature (safe to retry).
 */
export async function signCommitment(actor: Actor, input: SignCommitmentInput, from: { ip: string; userAgent?: string }): Promise<{ signature: CommitmentSignatureView; created: boolean }> {
  const at = now();
  const v = await loadSignable(input.versionId, at);
  const orgId = new Types.ObjectId(actor.orgId);
  const existing = await CommitmentSignature.findOne({ orgId, versionId: v._id }).lean<CommitmentSignatureDoc>();
  if (existing) return { signature: toSignatureView(existing), created: false };
  const org = await getOrganisation(actor.orgId);
  const text = renderBody(v.body, await contextFor(v, org ?? { name: actor.orgName }, { name: actor.name, email: actor.email }, at));
  const textSha256 = sha256Hex(text);
  if (textSha256 !== input.textSha256.toLowerCase()) {
    throw new ConflictError({ code: 'COMMITMENT_TEXT_CHANGED', message: msg('errorCodes.COMMITMENT_TEXT_CHANGED'), details: [{ expected: textSha256 }] });
  }
  try {
    const signature = await withCommand(actor, async (uow) => {
      const [created] = await CommitmentSignature.create(
        [
          {
            versionId: v._id,
            version: v.version,
            orgId,
            orgName: org?.name ?? actor.orgName,
            userId: new Types.ObjectId(actor.id),
            userName: actor.name,
            userEmail: actor.email,
            signedAt: uow.at,
            ip: from.ip,
            ...(from.userAgent ? { userAgent: from.userAgent } : {}),
            text,
            textSha256,
          },
        ],
        { session: uow.session },
      );
      const doc = created!.toObject();
      uow.audit({ action: 'credit.commitment.sign', targetType: 'commitment_signature', targetId: String(doc._id), summary: msg('credit.audit.commitmentSigned', { version: v.version, sha256: textSha256 }) });
      return toSignatureView(doc);
    });
    return { signature, created: true };
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
    const raced = await CommitmentSignature.findOne({ orgId, versionId: v._id }).lean<CommitmentSignatureDoc>();
    if (!raced) throw err;
    return { signature: toSignatureView(raced), created: false };
  }
}

/** Signatures: a distributor sees its own organisation's; the operator sees all (optionally one org). */
export async function listSignatures(actor: Actor, q: { orgId?: string; versionId?: string }): Promise<CommitmentSignatureView[]> {
  const filter: Record<string, unknown> = {};
  if (actor.role !== 'operator') filter.orgId = new Types.ObjectId(actor.orgId);
  else if (q.orgId) filter.orgId = new Types.ObjectId(q.orgId);
  if (q.versionId) filter.versionId = new Types.ObjectId(q.versionId);
  const rows = await CommitmentSignature.find(filter, { text: 0 }).sort({ signedAt: -1 }).limit(500).lean<CommitmentSignatureDoc[]>();
  return rows.map(toSignatureView);
}

/** One signature with its full text, within the actor's tenancy (another organisation's is a 404). */
export async function getSignature(actor: Actor, id: string): Promise<CommitmentSignatureView & { text: string; versionTitle: string }> {
  const filter: Record<string, unknown> = { _id: new Types.ObjectId(id) };
  if (actor.role !== 'operator') filter.orgId = new Types.ObjectId(actor.orgId);
  const s = await CommitmentSignature.findOne(filter).lean<CommitmentSignatureDoc>();
  if (!s) throw new NotFoundError({ code: 'SIGNATURE_NOT_FOUND', message: msg('errorCodes.SIGNATURE_NOT_FOUND') });
  const v = await CommitmentVersion.findById(s.versionId, { title: 1 }).lean<{ title: string }>();
  return { ...toSignatureView(s), text: s.text, versionTitle: v?.title ?? DEFAULT_COMMITMENT_TITLE };
}

/** The suspension in force for an organisation at `at`, if any (the latest-ending one). */
export async function activeSuspension(orgId: string, at: Date = now()): Promise<SanctionDoc | null> {
  return Sanction.findOne({
    orgId: new Types.ObjectId(orgId),
    kind: 'suspension',
    startsAt: trusted({ $lte: at }),
    endsAt: trusted({ $gt: at }),
    liftedAt: trusted({ $exists: false }),
  })
    .sort({ endsAt: -1 })
    .lean<SanctionDoc>();
}

/** Whether the organisation holds a signature of the version in force at `at`. */
export async function commitmentStatus(orgId: string, at: Date = now()): Promise<{ version: CommitmentVersionDoc | null; signed: boolean }> {
  const version = await versionInForce(at);
  if (!version) return { version: null, signed: false };
  const signed = await CommitmentSignature.exists({ orgId: new Types.ObjectId(orgId), versionId: version._id });
  return { version, signed: Boolean(signed) };
}

/**
 * The trading gate: quoting, bidding, revising quotes, being chosen for a new order and
 * confirming orders need a signature of the commitment version in force and no active suspension.
 * Throws a 422 that says exactly why.
 */
export async function assertMayTrade(distributorOrgId: string, action: TradingAction): Promise<void> {
  if (!Types.ObjectId.isValid(distributorOrgId)) throw new ValidationError({ code: 'INVALID_ORG_ID', message: msg('errorCodes.INVALID_ORG_ID') });
  const at = now();
  const { version, signed } = await commitmentStatus(distributorOrgId, at);
  if (!version) {
    throw new RuleViolationError({
      code: 'COMMITMENT_NOT_SIGNED',
      message: msg('errorCodes.COMMITMENT_NONE_IN_FORCE', { action: actionParam(action) }),
      details: [{ action }],
    });
  }
  if (!signed) {
    throw new RuleViolationError({
      code: 'COMMITMENT_NOT_SIGNED',
      message: msg('errorCodes.COMMITMENT_NOT_SIGNED', { version: version.version, effectiveAt: dateTime(version.effectiveAt), action: actionParam(action) }),
      details: [{ action, version: version.version, versionId: String(version._id), effectiveAt: version.effectiveAt.toISOString() }],
    });
  }
  const suspension = await activeSuspension(distributorOrgId, at);
  if (suspension) {
    throw new RuleViolationError({
      code: 'DISTRIBUTOR_SUSPENDED',
      message: msg('errorCodes.DISTRIBUTOR_SUSPENDED', { endsAt: dateTime(suspension.endsAt), action: actionParam(action), reason: suspension.reason }),
      details: [{ action, until: suspension.endsAt.toISOString(), reason: suspension.reason, sanctionId: String(suspension._id) }],
    });
  }
}
