import { randomBytes } from 'node:crypto';
import { io as ioClient, type Socket } from 'socket.io-client';
import request from 'supertest';
import type { Actor } from '../../server/platform/auth';
import type { OrgType, Role } from '../../server/platform/schemas';
import { createOrganisation, createUser, login } from '../../server/modules/identity';
import { testApp } from './global';

const uniq = () => randomBytes(4).toString('hex');

const SYSTEM: Actor = {
  id: '000000000000000000000000',
  sessionId: 'factory',
  email: 'factory@test',
  name: 'test factory',
  role: 'operator',
  orgId: '000000000000000000000000',
  orgType: 'operator',
  orgName: 'test',
};

const ORG_TYPE_OF: Record<Role, OrgType> = {
  operator: 'operator',
  pharmacist: 'hospital',
  hospital_finance: 'hospital',
  distributor: 'distributor',
  bank_officer: 'bank',
};

/** Creates an organisation with a unique name; hospitals get a level and an address. */
export async function buildOrg(overrides: { type?: OrgType; name?: string; hospitalLevel?: 1 | 2 | 3; address?: string } = {}) {
  const type = overrides.type ?? 'hospital';
  const org = await createOrganisation(SYSTEM, {
    name: overrides.name ?? `${type}-${uniq()}`,
    type,
    ...(type === 'hospital' ? { hospitalLevel: overrides.hospitalLevel ?? 2, address: overrides.address ?? '测试市测试路 1 号' } : {}),
  });
  return org as unknown as { id: string; name: string; type: OrgType; hospitalLevel?: number };
}

export interface TestUser {
  id: string;
  name: string;
  email: string;
  password: string;
  role: Role;
  org: { id: string; name: string; type: OrgType };
  token: string;
  /** supertest against the running app with the bearer token set */
  api: () => TestApi;
}

export interface TestApi {
  get(path: string): request.Test;
  post(path: string, body?: unknown): request.Test;
  put(path: string, body?: unknown): request.Test;
  patch(path: string, body?: unknown): request.Test;
  delete(path: string): request.Test;
}

export function apiWithToken(token: string | undefined): TestApi {
  const base = testApp().url;
  const auth = (t: request.Test) => (token ? t.set('Authorization', `Bearer ${token}`) : t);
  return {
    get: (p) => auth(request(base).get(p)),
    post: (p, b) => auth(request(base).post(p)).send(b as object),
    put: (p, b) => auth(request(base).put(p)).send(b as object),
    patch: (p, b) => auth(request(base).patch(p)).send(b as object),
    delete: (p) => auth(request(base).delete(p)),
  };
}

/** Creates a user with the role (in a new organisation of the right type unless one is given) and signs in. */
export async function buildUser(role: Role, opts: { org?: { id: string; name: string; type: OrgType }; hospitalLevel?: 1 | 2 | 3 } = {}): Promise<TestUser> {
  const org = opts.org ?? (await buildOrg({ type: ORG_TYPE_OF[role], hospitalLevel: opts.hospitalLevel }));
  const email = `${role}-${uniq()}@test.gpo`;
  const password = `pw-${uniq()}-123`;
  const name = `${role} ${uniq()}`;
  const user = (await createUser(SYSTEM, { orgId: org.id, name, email, role, password })) as unknown as { id: string };
  const session = await login(email, password, { ip: `factory-${uniq()}` });
  return { id: user.id, name, email, password, role, org: { id: org.id, name: org.name, type: org.type }, token: session.token, api: () => apiWithToken(session.token) };
}

/** A socket.io client authenticated with the user's token; resolves once connected. */
export async function connectSocket(token: string | undefined, opts: { origin?: string } = {}): Promise<Socket> {
  const socket = ioClient(testApp().url, {
    transports: ['websocket'],
    auth: token ? { token } : {},
    extraHeaders: opts.origin ? { origin: opts.origin } : undefined,
    reconnection: false,
    forceNew: true,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
  return socket;
}

/** Waits for one event on a socket, failing after `ms`. */
export function nextEvent<T = unknown>(socket: Socket, event: string, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    socket.once(event, (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

/** Emits a command and resolves with its acknowledgement. */
export function emitAck<T = unknown>(socket: Socket, event: string, payload: unknown, ms = 5000): Promise<{ data?: T; error?: { code: string; message: string; details: unknown[] } }> {
  return socket.timeout(ms).emitWithAck(event, payload);
}
