import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Types } from 'mongoose';
import { hashPassword, signSessionToken, verifyPassword, type Actor } from '../../platform/auth';
import { now, platform } from '../../platform/context';
import { trusted } from '../../platform/mongo';
import { ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError, ValidationError } from '../../platform/errors';
import { t } from '../../platform/i18n';
import { afterKeyCursor, beforeCursor, pageByKey, pageOf } from '../../platform/pagination';
import { escapeRegex, searchFilter } from '../../platform/search';
import { beginAttempt, clearFailures, recordFailure } from '../../platform/rate-limit';
import { OrgTypes, ROLES_BY_ORG_TYPE, type OrgType, type Role } from '../../platform/schemas';
import { msg } from '../../platform/messages';
import { withCommand } from '../../platform/unit-of-work';
import { Organisation, Session, User, type OrganisationDoc, type UserDoc } from './identity.model';
import { SessionRevoked, UserCreated } from '../../events/identity';
import { cachedRecipients, type Recipient } from './identity.recipients-cache';
import { cachedSession, forgetUser } from './identity.session-cache';
import type { CreateOrganisationInput, CreateUserInput, OrgListInput, OrgSearchInput, UserListInput } from './identity.schemas';

const LOGIN_WINDOW_MS = 15 * 60_000;
// NOTE: only failed sign-ins count (OWASP ASVS 2.2.1). An account's delay stays short so that nobody
// can keep its owner out with wrong passwords; an address's grows longer (a guesser from one place).
const ACCOUNT_DELAY_CAP_MS = 5_000;
const ADDRESS_DELAY_CAP_MS = 5 * 60_000;

/** The cookie that marks a browser which signed in to an account before (OWASP "device cookies"). */
export const DEVICE_COOKIE = 'gpo_device';
export const DEVICE_COOKIE_TTL_MS = 180 * 24 * 3600_000;

function accountHash(email: string): string {
  return createHash('sha256').update(email.toLowerCase()).digest('base64url').slice(0, 22);
}

function deviceMac(secret: string, id: string, who: string): string {
  return createHmac('sha256', secret).update(`device:${id}.${who}`).digest('base64url');
}

/** The device id a valid device cookie for this account carries, else undefined. */
function deviceOf(token: string | undefined, email: string): string | undefined {
  const m = token ? /^([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(token) : null;
  if (!m || m[2] !== accountHash(email)) return undefined;
  const expected = Buffer.from(deviceMac(platform().config.jwtSecret, m[1]!, m[2]!));
  const given = Buffer.from(m[3]!);
  return expected.length === given.length && timingSafeEqual(expected, given) ? m[1] : undefined;
}

function newDeviceToken(email: string): string {
  const id = randomBytes(12).toString('base64url');
  const who = accountHash(email);
  return `${id}.${who}.${deviceMac(platform().config.jwtSecret, id, who)}`;
}

function loginSubjects(email: string, ip: string | undefined, device: string | undefined) {
  const { config } = platform();
  // NOTE: a browser that signed in to this account before answers to its own device's failures, not
  // to the account's: whoever hammers the account cannot hold its owner out even for the short delay.
  const account = device
    ? { name: 'login-device', subject: device, policy: { freeFailures: config.loginRateLimit, baseMs: 2_000, capMs: ADDRESS_DELAY_CAP_MS, windowMs: LOGIN_WINDOW_MS } }
    : { name: 'login-account', subject: email.toLowerCase(), policy: { freeFailures: config.loginRateLimit, baseMs: 2_000, capMs: ACCOUNT_DELAY_CAP_MS, windowMs: LOGIN_WINDOW_MS } };
  const address = {
    name: 'login-address',
    subject: ip ?? 'unknown',
    policy: { freeFailures: config.loginRateLimit * 5, baseMs: 2_000, capMs: ADDRESS_DELAY_CAP_MS, windowMs: LOGIN_WINDOW_MS },
  };
  return { account, address, both: [account, address] };
}

let dummyHash: Promise<string> | undefined;

/** scrypt cost: production strength, cheaper only under NODE_ENV=test to keep the suite fast. */
export function passwordCost(): number {
  return platform().config.env === 'test' ? 1 << 12 : 1 << 15;
}

/**
 * Verifies email and password and opens a session. Failed attempts slow down further attempts on the
 * account (a few seconds at most) and from the address (longer); successful ones are never limited.
 */
export async function login(email: string, password: string, meta: { ip?: string; userAgent?: string; deviceToken?: string }) {
  const { config } = platform();
  const device = deviceOf(meta.deviceToken, email);
  const subjects = loginSubjects(email, meta.ip, device);
  await beginAttempt(subjects.both, now());
  const user = await User.findOne({ email }).lean<UserDoc>();
  // NOTE: hash against a dummy when the account is unknown so timing does not reveal which emails exist.
  dummyHash ??= hashPassword('not-a-real-password-0', passwordCost());
  const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyHash));
  if (!user || !ok || user.disabled) {
    await recordFailure(subjects.both, now());
    throw new UnauthenticatedError({ code: 'INVALID_CREDENTIALS', message: msg('errorCodes.INVALID_CREDENTIALS') });
  }
  const org = await Organisation.findById(user.orgId).lean<OrganisationDoc>();
  if (!org || !org.active) throw new UnauthenticatedError({ code: 'ORGANISATION_INACTIVE', message: msg('errorCodes.ORGANISATION_INACTIVE') });
  await clearFailures(subjects.account);
  if (device) await clearFailures(loginSubjects(email, meta.ip, undefined).account);
  const sessionId = randomBytes(24).toString('base64url');
  const createdAt = now();
  const expiresAt = new Date(createdAt.getTime() + config.sessionTtlSeconds * 1000);
  await Session.create({ _id: sessionId, userId: user._id, createdAt, expiresAt, ip: meta.ip, userAgent: meta.userAgent?.slice(0, 300) });
  const actor = toActor(user, org, sessionId);
  await withCommand(actor, async (uow) => {
    await User.updateOne({ _id: user._id }, { $set: { lastLoginAt: createdAt } }, { session: uow.session });
    uow.audit({ action: 'auth.login', targetType: 'user', targetId: actor.id, summary: msg('admin.summaries.login', { email: actor.email }) });
  });
  const token = await signSessionToken(config, { userId: String(user._id), sessionId, issuedAt: createdAt, expiresAt });
  return { token, expiresAt, actor, deviceToken: device ? meta.deviceToken! : newDeviceToken(email) };
}

/** Revokes a session: its token stops working everywhere at once. */
export async function logout(actor: Actor): Promise<void> {
  await withCommand(actor, async (uow) => {
    await Session.updateOne({ _id: actor.sessionId, revokedAt: trusted({ $exists: false }) }, { $set: { revokedAt: uow.at } }, { session: uow.session });
    uow.audit({ action: 'auth.logout', targetType: 'user', targetId: actor.id, summary: msg('admin.summaries.logout', { email: actor.email }) });
    uow.emit(SessionRevoked, { sessionId: actor.sessionId, userId: actor.id }, { key: `session-revoked:${actor.sessionId}` });
  });
}

function toActor(user: UserDoc, org: OrganisationDoc, sessionId: string): Actor {
  return {
    id: String(user._id),
    sessionId,
    email: user.email,
    name: user.name,
    role: user.role as Role,
    orgId: String(org._id),
    orgType: org.type as OrgType,
    orgName: org.name,
    hospitalLevel: org.hospitalLevel ?? undefined,
    lang: user.lang === 'zh' || user.lang === 'en' ? user.lang : undefined,
  };
}

async function readSession(sessionId: string): Promise<{ actor: Actor; expiresAt: Date } | null> {
  const session = await Session.findById(sessionId).lean<{ userId: Types.ObjectId; expiresAt: Date; revokedAt?: Date }>();
  if (!session || session.revokedAt || session.expiresAt <= now()) return null;
  const user = await User.findById(session.userId).lean<UserDoc>();
  if (!user || user.disabled) return null;
  const org = await Organisation.findById(user.orgId).lean<OrganisationDoc>();
  if (!org || !org.active) return null;
  return { actor: toActor(user, org, sessionId), expiresAt: session.expiresAt };
}

/**
 * The session resolver the platform's auth uses: a live, unexpired, unrevoked session of an enabled
 * user, remembered briefly (identity.session-cache.ts); a sign-out drops it everywhere at once.
 */
export async function resolveSession(sessionId: string): Promise<Actor | null> {
  return cachedSession(sessionId, readSession);
}

/** Operator: admits an organisation (hospital, distributor, bank or another operator org). */
export async function createOrganisation(actor: Actor, input: CreateOrganisationInput) {
  const existing = await Organisation.exists({ name: input.name });
  if (existing) throw new ConflictError({ code: 'ORGANISATION_EXISTS', message: msg('errorCodes.ORGANISATION_EXISTS', { name: input.name }) });
  return withCommand(actor, async (uow) => {
    const [org] = await Organisation.create([{ ...input, active: true }], { session: uow.session });
    uow.audit({ action: 'organisation.create', targetType: 'organisation', targetId: String(org!._id), summary: msg('admin.summaries.organisationCreated', { name: input.name, type: { msg: `orgTypes.${input.type}` } }) });
    return org!.toJSON();
  });
}

/** Operator: creates a user in an organisation with a role that fits the organisation's type. */
export async function createUser(actor: Actor, input: CreateUserInput) {
  const org = await Organisation.findById(input.orgId).lean<OrganisationDoc>();
  if (!org) throw new NotFoundError({ code: 'ORGANISATION_NOT_FOUND', message: msg('errorCodes.ORGANISATION_NOT_FOUND') });
  const allowed = ROLES_BY_ORG_TYPE[org.type as OrgType];
  if (!allowed.includes(input.role)) {
    throw new ValidationError({
      code: 'ROLE_NOT_FOR_ORGANISATION',
      message: msg('errorCodes.ROLE_NOT_FOR_ORGANISATION', { type: { msg: `orgTypes.${org.type}` }, allowed: { list: allowed.map(String) } }),
      details: [{ path: 'role', allowed }],
    });
  }
  if (await User.exists({ email: input.email })) throw new ConflictError({ code: 'EMAIL_TAKEN', message: msg('errorCodes.EMAIL_TAKEN') });
  const passwordHash = await hashPassword(input.password, passwordCost());
  return withCommand(actor, async (uow) => {
    const [user] = await User.create([{ orgId: org._id, name: input.name, email: input.email, role: input.role, passwordHash }], { session: uow.session });
    uow.emit(UserCreated, { userId: String(user!._id), orgId: String(org._id), role: input.role });
    uow.audit({ action: 'user.create', targetType: 'user', targetId: String(user!._id), summary: msg('admin.summaries.userCreated', { email: input.email, role: { msg: `roles.${input.role}` }, org: org.name }) });
    return user!.toJSON();
  });
}

/** What an organisation row of the operator's list shows. */
function orgRow(o: OrganisationDoc, userCount: number) {
  return {
    id: String(o._id),
    name: o.name,
    type: o.type as OrgType,
    hospitalLevel: o.hospitalLevel ?? undefined,
    address: o.address ?? undefined,
    creditCode: o.creditCode ?? undefined,
    active: o.active,
    userCount,
  };
}

const ORG_SEARCH = { name: 'name' };

/** Operator: one page of organisations by name, found by name fragment or pinyin, with each one's user count. */
export async function listOrganisations(q: Partial<OrgListInput> = {}) {
  const limit = q.limit ?? 50;
  const and: Record<string, unknown>[] = [];
  const search = searchFilter(q.q, ORG_SEARCH);
  if (search) and.push(search);
  const after = afterKeyCursor('name', q.cursor);
  if (after.$or) and.push(after);
  const filter: Record<string, unknown> = { ...(q.type ? { type: q.type } : {}), ...(and.length ? { $and: and } : {}) };
  const rows = await Organisation.find(filter, { name: 1, type: 1, hospitalLevel: 1, address: 1, creditCode: 1, active: 1 }).sort({ name: 1, _id: 1 }).limit(limit + 1).lean<OrganisationDoc[]>();
  const page = pageByKey(rows, limit, (o) => o.name);
  const counts = page.rows.length
    ? await User.aggregate<{ _id: Types.ObjectId; n: number }>([{ $match: { orgId: { $in: page.rows.map((o) => o._id) } } }, { $group: { _id: '$orgId', n: { $sum: 1 } } }])
    : [];
  const byOrg = new Map(counts.map((c) => [String(c._id), c.n]));
  return { data: page.rows.map((o) => orgRow(o, byOrg.get(String(o._id)) ?? 0)), nextCursor: page.nextCursor };
}

/** Operator: one page of users, newest first, found by name or email fragment, optionally of one organisation or role. */
export async function listUsers(q: Partial<UserListInput> = {}) {
  const limit = q.limit ?? 50;
  const and: Record<string, unknown>[] = [];
  const text = q.q?.trim();
  // NOTE: the name by pinyin initials, full pinyin or a fragment (platform/search.ts), or a fragment of the e-mail.
  const byName = searchFilter(text, { name: 'name' });
  if (text && byName) and.push({ $or: [...(byName.$or as Record<string, unknown>[]), { email: trusted({ $regex: escapeRegex(text.toLowerCase()) }) }] });
  const before = beforeCursor('createdAt', q.cursor);
  if (before.$or) and.push(before);
  const filter: Record<string, unknown> = { ...(q.orgId ? { orgId: new Types.ObjectId(q.orgId) } : {}), ...(q.role ? { role: q.role } : {}), ...(and.length ? { $and: and } : {}) };
  const rows = await User.find(filter, { passwordHash: 0 }).sort({ createdAt: -1, _id: -1 }).limit(limit + 1).lean<(UserDoc & { createdAt: Date })[]>();
  const page = pageOf(rows, limit, (u) => u.createdAt);
  const orgIds = [...new Set(page.rows.map((u) => String(u.orgId)))].map((id) => new Types.ObjectId(id));
  const orgs = new Map((orgIds.length ? await Organisation.find({ _id: trusted({ $in: orgIds }) }, { name: 1 }).lean<OrganisationDoc[]>() : []).map((o) => [String(o._id), o.name]));
  return {
    data: page.rows.map((u) => ({ id: String(u._id), name: u.name, email: u.email, role: u.role as Role, orgId: String(u.orgId), orgName: orgs.get(String(u.orgId)) ?? '', disabled: u.disabled })),
    nextCursor: page.nextCursor,
  };
}

/**
 * The organisation types a user may look up by name (type-ahead pickers): the operator any; a
 * hospital the distributors it orders from and the banks it deals with; a distributor the hospitals
 * it delivers to. A bank none: it sees only the hospitals that chose it, which its own pages list.
 */
export function searchableOrgTypes(actor: Pick<Actor, 'role' | 'orgType'>): readonly OrgType[] {
  if (actor.role === 'operator') return OrgTypes;
  if (actor.orgType === 'hospital') return ['distributor', 'bank'];
  if (actor.orgType === 'distributor') return ['hospital'];
  return [];
}

/** Type-ahead search of organisations by name fragment, pinyin initials or full pinyin, within what the actor may search. */
export async function searchOrganisations(actor: Actor, q: OrgSearchInput, lang: 'zh' | 'en' = 'zh') {
  const allowed = searchableOrgTypes(actor);
  if (q.type ? !allowed.includes(q.type) : allowed.length === 0) {
    throw new ForbiddenError({ code: 'ORG_TYPE_NOT_SEARCHABLE', message: msg('errorCodes.ORG_TYPE_NOT_SEARCHABLE') });
  }
  const filter: Record<string, unknown> = { type: q.type ?? trusted({ $in: [...allowed] }) };
  if (actor.role !== 'operator') filter.active = true;
  const search = searchFilter(q.q, ORG_SEARCH);
  if (search) filter.$and = [search];
  const rows = await Organisation.find(filter, { name: 1, type: 1, hospitalLevel: 1 }).sort({ name: 1, _id: 1 }).limit(q.limit).lean<OrganisationDoc[]>();
  return {
    data: rows.map((o) => ({
      id: String(o._id),
      name: o.name,
      type: o.type as OrgType,
      hospitalLevel: o.hospitalLevel ?? undefined,
      label: o.hospitalLevel ? `${o.name}（${t(lang, `hospitalLevel.${o.hospitalLevel}`)}）` : o.name,
    })),
  };
}

/** Organisation lookup for other modules (names, types, levels, addresses). */
export async function getOrganisation(orgId: string | Types.ObjectId) {
  if (!Types.ObjectId.isValid(String(orgId))) return null;
  return Organisation.findById(orgId).lean<OrganisationDoc>();
}

export async function organisationsByType(type: OrgType) {
  return Organisation.find({ type, active: true }).sort({ name: 1 }).lean<OrganisationDoc[]>();
}

/** Users of an organisation, optionally limited to roles (for notifications). */
export async function usersOf(orgId: string | Types.ObjectId, roles?: Role[]) {
  const filter: Record<string, unknown> = { orgId: new Types.ObjectId(String(orgId)), disabled: false };
  if (roles) filter.role = trusted({ $in: roles });
  return User.find(filter, { passwordHash: 0 }).lean<UserDoc[]>();
}

/** The users of an organisation (optionally only some roles) who receive its notifications, with their language; remembered briefly. */
export async function recipientsOf(orgId: string | Types.ObjectId, roles?: Role[]): Promise<readonly Recipient[]> {
  return cachedRecipients(String(orgId), roles, () => {
    const filter: Record<string, unknown> = { orgId: new Types.ObjectId(String(orgId)), disabled: false };
    if (roles) filter.role = trusted({ $in: roles });
    return User.find(filter, { _id: 1, orgId: 1, lang: 1 }).lean<Recipient[]>();
  });
}

export async function usersWithRole(roles: Role[]) {
  return User.find({ role: trusted({ $in: roles }), disabled: false }, { passwordHash: 0 }).lean<UserDoc[]>();
}

/** Remembers the language a user chose (live notifications are rendered in it). */
export async function rememberLanguage(userId: string, lang: 'zh' | 'en'): Promise<void> {
  const res = await User.updateOne({ _id: new Types.ObjectId(userId), lang: trusted({ $ne: lang }) }, { $set: { lang } });
  if (res.modifiedCount > 0) forgetUser(userId);
}
