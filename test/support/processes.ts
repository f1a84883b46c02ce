// Child processes for scale-out tests, the scale benchmark and the load script: the embedded engine
// (its own process), N web processes (`server/index.ts --role web`, each on its own port) and M
// workers (`--role worker`), all against one database, the local Redis and a queue prefix unique to
// the cluster. Every child exits with its parent (stdin lifeline), and `stop()` kills what is left.
// This file must not import the mocha globals: bench/ uses it too.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import mongoose, { type Connection, Types } from 'mongoose';
import { io as ioClient, type Socket } from 'socket.io-client';
import request from 'supertest';
import { generateValidGtin13, gs1CheckDigit } from '../../server/modules/catalogue/catalogue.codes';
import { hashPassword } from '../../server/platform/auth';
import { createLogger } from '../../server/platform/logger';
import { ensureRedis } from '../../server/platform/redis';
import { spawnEngine, type SpawnedEngine } from '../../server/engine/spawn';
import { testClock } from './global';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
// NOTE: a child must not outlive its parent (a crashed mocha run would leave servers behind): the
// preload exits it gracefully when the stdin pipe closes or it is re-parented.
const LIFELINE = `data:text/javascript,${encodeURIComponent(
  "const p=process.ppid;const bye=()=>process.kill(process.pid,'SIGTERM');process.stdin.on('end',bye);process.stdin.on('error',bye);process.stdin.resume();setInterval(()=>{if(process.ppid!==p)bye()},1000).unref();",
)}`;

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export type ProcessRole = 'web' | 'worker' | 'all';

/** One app process started by this helper. */
export interface AppProcess {
  name: string;
  role: ProcessRole;
  pid: number;
  /** web processes only */
  port?: number;
  url?: string;
  child: ChildProcess;
  alive(): boolean;
  /** Sends the signal and waits for the exit (SIGTERM escalates to SIGKILL after `graceMs`). */
  kill(signal?: 'SIGTERM' | 'SIGKILL', graceMs?: number): Promise<void>;
  /** The last lines the process printed (for failure messages). */
  output(): string;
}

export interface ClusterOptions {
  web: number;
  workers: number;
  /** a short name for logs, queue prefix and database name */
  name?: string;
  /** `test` (cheap password hashes) or `production` */
  nodeEnv?: 'test' | 'production';
  logLevel?: string;
  /** extra environment for every app process (e.g. QUOTE_RATE_LIMIT) */
  env?: Record<string, string>;
  /** extra environment for the web processes started with the cluster (e.g. a fault drill) */
  webEnv?: Record<string, string>;
  /** ports to reserve for web processes started later with `startWeb()` (default: `web`) */
  webSlots?: number;
  /** Redis to use (default: REDIS_URL, else 127.0.0.1:6379, else a local redis-server) */
  redisUrl?: string;
  readyTimeoutMs?: number;
  /** forward every child's output to this process's stderr (or set SCALE_LOG=1) */
  echo?: boolean;
  /** extra node flags for the app processes, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] */
  nodeArgs?: string[];
  /** keep the engine's data in this directory (journal + snapshots) instead of memory */
  engineDbpath?: string;
  /** how long the engine leaves a transaction open before aborting it (default 60 s, as mongod): a process killed mid-commit holds its writes that long */
  engineTransactionLifetimeMs?: number;
}

export interface Cluster {
  name: string;
  mongoUri: string;
  dbName: string;
  redisUrl: string;
  queuePrefix: string;
  jwtSecret: string;
  engine: SpawnedEngine;
  webs: AppProcess[];
  workers: AppProcess[];
  /** Starts one more web process on the next reserved port (or a fresh one), with extra environment. */
  startWeb(env?: Record<string, string>): Promise<AppProcess>;
  startWorker(env?: Record<string, string>): Promise<AppProcess>;
  /** A Mongoose connection of this process to the cluster's database (raw collections for assertions). */
  db(): Promise<Connection>;
  /** The cluster's job queue (producer side), to enqueue duplicate jobs in tests. */
  queue(): Queue;
  /** Kills every child, stops the engine, removes the cluster's Redis keys. Safe to call twice. */
  stop(): Promise<void>;
}

/** A free TCP port on loopback (released before returning; the child binds it). */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/**
 * `count` distinct free ports. Each is held until all are found: a port reserved and let go at
 * once can be handed out again by the next reservation (two servers then meet on one port).
 */
export async function freePorts(count: number): Promise<number[]> {
  const held: net.Server[] = [];
  try {
    while (held.length < count) {
      const srv = net.createServer();
      srv.unref();
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => resolve());
      });
      held.push(srv);
    }
    return held.map((srv) => (srv.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(held.map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))));
  }
}

function ring(limit = 200) {
  const lines: string[] = [];
  return {
    push(chunk: string) {
      for (const line of chunk.split('\n')) {
        if (!line.trim()) continue;
        lines.push(line);
        if (lines.length > limit) lines.shift();
      }
    },
    text: () => lines.join('\n'),
  };
}

interface SpawnAppOptions {
  name: string;
  role: ProcessRole;
  env: Record<string, string>;
  port?: number;
  readyTimeoutMs: number;
  echo: boolean;
  /** how to tell a worker is running (web processes answer /readyz) */
  workerReady?: () => Promise<boolean>;
  nodeArgs?: string[];
}

async function waitReady(url: string, child: ChildProcess, ms: number, out: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`process exited before it was ready (code ${child.exitCode}, signal ${child.signalCode}):\n${out()}`);
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`not ready within ${ms} ms:\n${out()}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function waitWorkerReady(child: ChildProcess, ms: number, ready: () => Promise<boolean>, out: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`worker exited before it was ready (code ${child.exitCode}, signal ${child.signalCode}):\n${out()}`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`worker not ready within ${ms} ms:\n${out()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts `tsx server/index.ts --role <role>` and resolves once it serves /readyz (web) or runs (worker). */
export async function spawnApp(opts: SpawnAppOptions): Promise<AppProcess> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  Object.assign(env, opts.env, opts.port !== undefined ? { PORT: String(opts.port) } : {});
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', TSX, '--import', LIFELINE, path.join(ROOT, 'server/index.ts'), '--role', opts.role], {
    cwd: ROOT,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));
  const log = ring();
  let workerRunning = false;
  const onData = (d: string) => {
    log.push(d);
    if (d.includes('worker running')) workerRunning = true;
    if (opts.echo) for (const line of d.split('\n')) if (line.trim()) process.stderr.write(`[${opts.name}] ${line}\n`);
  };
  child.stdout!.setEncoding('utf8').on('data', onData);
  child.stderr!.setEncoding('utf8').on('data', onData);
  child.stdin!.on('error', () => undefined);
  const url = opts.port !== undefined ? `http://127.0.0.1:${opts.port}` : undefined;
  const proc: AppProcess = {
    name: opts.name,
    role: opts.role,
    pid: child.pid!,
    port: opts.port,
    url,
    child,
    alive: () => child.exitCode === null && child.signalCode === null,
    async kill(signal = 'SIGTERM', graceMs = 10_000) {
      if (!proc.alive()) return;
      child.kill(signal);
      const t = signal === 'SIGTERM' ? setTimeout(() => child.kill('SIGKILL'), graceMs) : undefined;
      await exited;
      if (t) clearTimeout(t);
    },
    output: () => log.text(),
  };
  try {
    if (opts.role !== 'worker') await waitReady(url!, child, opts.readyTimeoutMs, log.text);
    else await waitWorkerReady(child, opts.readyTimeoutMs, async () => workerRunning || ((await opts.workerReady?.()) ?? false), log.text);
  } catch (err) {
    await proc.kill('SIGKILL');
    throw new Error(`${opts.name}: ${(err as Error).message}`);
  }
  return proc;
}

/**
 * Removes the Redis keys of earlier clusters of this name whose owning process is gone (a run that
 * was killed never reached its `stop()`); the owner's pid is part of the prefix.
 */
async function sweepStaleKeys(redisUrl: string, name: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    const stale = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `gpo_${name}_*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const m = new RegExp(`^(gpo_${name}_(\\d+)_[0-9a-f]+)`).exec(key);
        if (!m) continue;
        try {
          process.kill(Number(m[2]), 0);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ESRCH') stale.add(m[1]!);
        }
      }
    } while (cursor !== '0');
    for (const prefix of stale) {
      await redis.eval("for _,k in ipairs(redis.call('keys', ARGV[1])) do redis.call('del', k) end return 1", 0, `${prefix}*`);
    }
  } catch {
    // best effort: stale keys only take space
  } finally {
    redis.disconnect();
  }
}

/** Starts the engine, then the web and worker processes in parallel; resolves when all are ready. */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const name = (opts.name ?? 'scale').replace(/[^A-Za-z0-9]/g, '').slice(0, 12) || 'scale';
  const id = `${name}_${process.pid}_${randomBytes(3).toString('hex')}`;
  const echo = opts.echo ?? process.env.SCALE_LOG === '1';
  const readyTimeoutMs = opts.readyTimeoutMs ?? 90_000;
  const logger = createLogger('silent', 'processes');
  const redisUrl = opts.redisUrl ?? (await ensureRedis({ url: process.env.REDIS_URL, autostart: true, dataDir: path.join(ROOT, 'data/test'), logger })).url;
  await sweepStaleKeys(redisUrl, name);
  const engine = await spawnEngine({ ...(opts.engineDbpath ? { dbpath: opts.engineDbpath } : { memory: true }), ...(opts.engineTransactionLifetimeMs ? { transactionLifetimeMs: opts.engineTransactionLifetimeMs } : {}), port: 0, host: '127.0.0.1', ...(echo ? { logger: (l: string) => process.stderr.write(`[engine] ${l}\n`) } : {}) });
  const slots = Math.max(opts.webSlots ?? opts.web, opts.web);
  const ports = await freePorts(slots);
  const origins = ports.flatMap((p) => [`http://127.0.0.1:${p}`, `http://localhost:${p}`]).join(',');
  const jwtSecret = randomBytes(32).toString('hex');
  const dbName = `gpo_${id}`.slice(0, 60);
  const queuePrefix = `gpo_${id}`.slice(0, 40);
  const baseEnv: Record<string, string> = {
    NODE_ENV: opts.nodeEnv ?? 'test',
    HOST: '127.0.0.1',
    MONGODB_URI: engine.uri,
    MONGODB_DB: dbName,
    REDIS_URL: redisUrl,
    REDIS_AUTOSTART: 'false',
    QUEUE_PREFIX: queuePrefix,
    JWT_SECRET: jwtSecret,
    DEMO_MODE: 'false',
    ALLOWED_ORIGINS: origins,
    LOG_LEVEL: opts.logLevel ?? process.env.SCALE_LOG_LEVEL ?? 'warn',
    LOGIN_RATE_LIMIT: '1000',
    // the children's business clock follows the suite's (TEST_NOW) unless a test sets its own; in
    // production (the load script) it is the wall clock, which the config insists on
    ...(opts.nodeEnv === 'production' ? {} : testClock.timelineEnv()),
    ...opts.env,
  };

  const webs: AppProcess[] = [];
  const workers: AppProcess[] = [];
  let nextSlot = 0;
  let webCount = 0;
  let workerCount = 0;
  let conn: Connection | undefined;
  let queue: Queue | undefined;
  let queueRedis: Redis | undefined;
  let stopped = false;

  const startWeb = async (extraEnv: Record<string, string> = {}): Promise<AppProcess> => {
    webCount += 1;
    const n = webCount;
    for (let attempt = 0; ; attempt += 1) {
      const port = nextSlot < ports.length ? ports[nextSlot++]! : await freePort();
      try {
        const p = await spawnApp({ name: `web${n}`, role: 'web', env: { ...baseEnv, ...extraEnv }, port, readyTimeoutMs, echo, nodeArgs: opts.nodeArgs });
        webs.push(p);
        return p;
      } catch (err) {
        // NOTE: the reserved port can be taken between reservation and bind; try another one.
        if (attempt < 2 && /EADDRINUSE/.test((err as Error).message)) continue;
        throw err;
      }
    }
  };
  let startingWorkers = 0;
  const startWorker = async (extraEnv: Record<string, string> = {}): Promise<AppProcess> => {
    workerCount += 1;
    startingWorkers += 1;
    // NOTE: a worker is ready once its BullMQ connection is registered; counting the live ones tells.
    const workerReady = async () => (await cluster.queue().getWorkersCount()) >= workers.filter((w) => w.alive()).length + startingWorkers;
    try {
      const p = await spawnApp({ name: `worker${workerCount}`, role: 'worker', env: { ...baseEnv, ...extraEnv }, readyTimeoutMs, echo, workerReady, nodeArgs: opts.nodeArgs });
      workers.push(p);
      return p;
    } finally {
      startingWorkers -= 1;
    }
  };

  const cluster: Cluster = {
    name,
    mongoUri: engine.uri,
    dbName,
    redisUrl,
    queuePrefix,
    jwtSecret,
    engine,
    webs,
    workers,
    startWeb,
    startWorker,
    async db() {
      conn ??= await mongoose.createConnection(engine.uri, { dbName, maxPoolSize: 4 }).asPromise();
      return conn;
    },
    queue() {
      if (!queue) {
        queueRedis = new Redis(redisUrl, { maxRetriesPerRequest: null });
        queueRedis.on('error', () => undefined);
        queue = new Queue('jobs', { connection: queueRedis, prefix: queuePrefix });
      }
      return queue;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all([...webs, ...workers].map((p) => p.kill('SIGTERM', 5000).catch(() => undefined)));
      await queue?.close().catch(() => undefined);
      queueRedis?.disconnect();
      await conn?.close().catch(() => undefined);
      await engine.stop().catch(() => undefined);
      const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
      redis.on('error', () => undefined);
      await redis.eval("for _,k in ipairs(redis.call('keys', ARGV[1])) do redis.call('del', k) end return 1", 0, `${queuePrefix}*`).catch(() => undefined);
      redis.disconnect();
    },
  };

  try {
    // NOTE: the first process creates the collections and indexes alone; the others then find them
    // in place, which is much faster on a busy machine than five processes racing to create them.
    if (opts.web > 0) await startWeb(opts.webEnv);
    else if (opts.workers > 0) await startWorker();
    await Promise.all([...Array.from({ length: Math.max(0, opts.web - 1) }, () => startWeb(opts.webEnv)), ...Array.from({ length: opts.web > 0 ? opts.workers : Math.max(0, opts.workers - 1) }, () => startWorker())]);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

// ---------------------------------------------------------------------------------------------
// Talking to a cluster through its public surface.

export interface ClusterApi {
  get(path: string): request.Test;
  post(path: string, body?: unknown): request.Test;
  put(path: string, body?: unknown): request.Test;
  patch(path: string, body?: unknown): request.Test;
}

/** supertest against one process, with the bearer token set. */
export function apiAt(url: string, token?: string): ClusterApi {
  const auth = (t: request.Test) => (token ? t.set('Authorization', `Bearer ${token}`) : t);
  return {
    get: (p) => auth(request(url).get(p)),
    post: (p, b) => auth(request(url).post(p)).send(b as object),
    put: (p, b) => auth(request(url).put(p)).send(b as object),
    patch: (p, b) => auth(request(url).patch(p)).send(b as object),
  };
}

export interface ClusterUser {
  id: string;
  email: string;
  password: string;
  role: string;
  name: string;
  org: { id: string; name: string; type: string };
  token: string;
  /** the API through a given process (default: the first web process) */
  api(via?: AppProcess): ClusterApi;
}

const uniq = () => randomBytes(4).toString('hex');

function userOf(cluster: Cluster, u: Omit<ClusterUser, 'api'>): ClusterUser {
  return { ...u, api: (via) => apiAt((via ?? cluster.webs.find((w) => w.alive()) ?? cluster.webs[0]!).url!, u.token) };
}

async function signIn(cluster: Cluster, email: string, password: string) {
  const web = cluster.webs.find((w) => w.alive())!;
  const res = await apiAt(web.url!).post('/api/v1/auth/login', { email, password });
  if (res.status !== 200) throw new Error(`sign-in of ${email} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { token: string; user: { id: string; name: string; role: string; orgId: string; orgName: string; orgType: string } };
}

/**
 * The first operator of a fresh cluster database, written directly (a new deployment has no users
 * and no sign-up: this is the bootstrap step), then signed in through the API.
 */
export async function seedOperator(cluster: Cluster): Promise<ClusterUser> {
  const db = (await cluster.db()).db!;
  const orgId = new Types.ObjectId();
  const userId = new Types.ObjectId();
  const at = testClock.now();
  const name = `示范市医疗保障局 ${uniq()}`;
  const email = `operator-${uniq()}@scale.gpo`;
  const password = `pw-${uniq()}-operator`;
  await db.collection('organisations').insertOne({ _id: orgId, name, type: 'operator', active: true, createdAt: at, updatedAt: at });
  await db.collection('users').insertOne({ _id: userId, orgId, email, name: '平台运营', role: 'operator', passwordHash: await hashPassword(password, 1 << 12), disabled: false, createdAt: at, updatedAt: at });
  const session = await signIn(cluster, email, password);
  return userOf(cluster, { id: String(userId), email, password, role: 'operator', name: '平台运营', org: { id: String(orgId), name, type: 'operator' }, token: session.token });
}

const ORG_TYPE: Record<string, string> = { operator: 'operator', pharmacist: 'hospital', hospital_finance: 'hospital', distributor: 'distributor', bank_officer: 'bank' };

/** A user of the role (in a new organisation unless `org` is given), admitted by the operator through the API. */
export async function createClusterUser(
  cluster: Cluster,
  operator: ClusterUser,
  role: 'pharmacist' | 'hospital_finance' | 'distributor' | 'bank_officer' | 'operator',
  opts: { org?: ClusterUser['org']; orgName?: string; hospitalLevel?: 1 | 2 | 3 } = {},
): Promise<ClusterUser> {
  let org = opts.org;
  if (!org) {
    const type = ORG_TYPE[role]!;
    const res = await operator.api().post('/api/v1/organisations', {
      name: opts.orgName ?? `${type}-${uniq()}`,
      type,
      ...(type === 'hospital' ? { hospitalLevel: opts.hospitalLevel ?? 2, address: '示范市人民路 1 号' } : {}),
    });
    if (res.status !== 201) throw new Error(`admitting an organisation failed: ${res.status} ${JSON.stringify(res.body)}`);
    org = { id: res.body.id, name: res.body.name, type };
  }
  const email = `${role}-${uniq()}@scale.gpo`;
  const password = `pw-${uniq()}-${uniq()}`;
  const name = `${role} ${uniq()}`;
  const created = await operator.api().post('/api/v1/users', { orgId: org.id, name, email, role, password });
  if (created.status !== 201) throw new Error(`creating a user failed: ${created.status} ${JSON.stringify(created.body)}`);
  const session = await signIn(cluster, email, password);
  return userOf(cluster, { id: session.user.id, email, password, role, name, org, token: session.token });
}

/** Signs the commitment letter in force (the operator publishes the default text first if none is). */
export async function signClusterCommitment(operator: ClusterUser, distributor: ClusterUser): Promise<void> {
  const versions = await distributor.api().get('/api/v1/credit/commitment-versions');
  if (versions.status !== 200) throw new Error(`listing commitment versions failed: ${versions.status}`);
  if (!(versions.body.data as { state: string }[]).some((v) => v.state === 'in_force')) {
    const { readFileSync } = await import('node:fs');
    const body = readFileSync(path.join(ROOT, 'templates/commitments/default.zh.hbs'), 'utf8');
    const published = await operator.api().post('/api/v1/credit/commitment-versions', { title: '药品集团采购配送企业违约惩戒承诺书', body });
    if (published.status !== 201) throw new Error(`publishing the commitment failed: ${published.status} ${JSON.stringify(published.body)}`);
  }
  const preview = await distributor.api().get('/api/v1/credit/commitment');
  if (preview.status !== 200) throw new Error(`reading the commitment failed: ${preview.status} ${JSON.stringify(preview.body)}`);
  const signed = await distributor.api().post('/api/v1/credit/commitment/sign', { versionId: preview.body.version.id, textSha256: preview.body.textSha256 });
  if (signed.status !== 201) throw new Error(`signing the commitment failed: ${signed.status} ${JSON.stringify(signed.body)}`);
}

/** A socket.io client on one process (websocket transport, the page's Origin), connected. */
export async function socketAt(proc: AppProcess, token: string, opts: { reconnection?: boolean } = {}): Promise<Socket> {
  const socket = ioClient(proc.url!, {
    transports: ['websocket'],
    auth: { token },
    extraHeaders: { origin: proc.url! },
    reconnection: opts.reconnection ?? false,
    forceNew: true,
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket to ${proc.name} did not connect`)), 15_000);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('connect_error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  return socket;
}

/** Polls until `fn` returns something truthy, failing after `ms` with `what`. */
export async function waitFor<T>(fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, ms: number, what: string, everyMs = 100): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// ---------------------------------------------------------------------------------------------
// Domain data through the API (the cluster's database starts empty; codes only need to be unique in it).

let drugSerial = 0;
let traceSerial = 0;

/** Adds a catalogue drug with valid unique codes and a reference price in force since last week. */
export async function createDrug(operator: ClusterUser, opts: { referencePriceFen?: number; name?: string; via?: AppProcess; vbp?: boolean } = {}): Promise<{ id: string; tracePrefix: string; genericNameZh: string }> {
  drugSerial += 1;
  const n = drugSerial + (process.pid % 1000) * 100;
  const enterprise = String(10_000 + (n % 90_000)).padStart(5, '0');
  const body = `869${enterprise}${String(n % 100_000).padStart(5, '0')}`;
  const res = await operator.api(opts.via).post('/api/v1/catalogue/drugs', {
    genericNameZh: opts.name ?? `注射用测试药品${drugSerial}`,
    genericNameEn: `Test Drug ${drugSerial} for Injection`,
    dosageForm: '注射剂',
    formClass: 'small_volume_injection',
    specification: '10万单位',
    packUnit: '支',
    manufacturer: '示范制药有限公司',
    nhsaCode: `XB01AD${`D${String(n % 1000).padStart(3, '0')}`}A0020101${enterprise}`,
    standardCode: body + gs1CheckDigit(body),
    gtin: generateValidGtin13(600_000_000 + n),
    tracePrefix: String(3_000_000 + n),
    categories: opts.vbp ? { shortage: false, vbp: true, regular: false } : { shortage: true, vbp: false, regular: false },
    referencePriceFen: opts.referencePriceFen ?? 289_000,
    effectiveFrom: new Date(testClock.now().getTime() - 7 * 86_400_000).toISOString(),
  });
  if (res.status !== 201) throw new Error(`creating a drug failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** `n` traceability codes for a drug prefix, unique in this process. */
export function traceCodesFor(prefix: string, n: number): string[] {
  return Array.from({ length: n }, () => {
    traceSerial += 1;
    return `${prefix}${String(process.pid % 100_000).padStart(5, '0')}${String(traceSerial).padStart(8, '0')}`;
  });
}

export interface OpenedRound {
  id: string;
  lines: { lineId: string; drugId: string; referenceFen: number }[];
  closesAt: Date;
}

/** Creates and schedules a round over the drugs, open now; resolves once the opening job opened it. */
export async function openClusterRound(
  operator: ClusterUser,
  opts: { drugIds: string[]; closesInMs: number; visibility?: 'rank' | 'best' | 'sealed'; minDecrementBp?: number; title?: string; via?: AppProcess },
): Promise<OpenedRound> {
  const at = testClock.now().getTime();
  const created = await operator
    .api(opts.via)
    .post('/api/v1/rounds', {
      title: opts.title ?? `报价轮次 ${uniq()}`,
      lines: opts.drugIds.map((drugId) => ({ drugId })),
      opensAt: new Date(at).toISOString(),
      closesAt: new Date(at + opts.closesInMs).toISOString(),
      visibility: opts.visibility ?? 'rank',
      ...(opts.minDecrementBp !== undefined ? { minDecrementBp: opts.minDecrementBp } : {}),
      antiSniping: { windowSec: 1, extendSec: 1, maxExtensions: 0 },
    })
    .set('Idempotency-Key', `round-${uniq()}-${uniq()}`);
  if (created.status !== 201) throw new Error(`creating a round failed: ${created.status} ${JSON.stringify(created.body)}`);
  const id = created.body.id as string;
  const scheduled = await operator.api(opts.via).post(`/api/v1/rounds/${id}/schedule`);
  if (scheduled.status !== 200) throw new Error(`scheduling a round failed: ${scheduled.status} ${JSON.stringify(scheduled.body)}`);
  const board = await waitFor(
    async () => {
      const res = await operator.api(opts.via).get(`/api/v1/rounds/${id}`);
      return res.body.round?.status === 'open' ? res.body : undefined;
    },
    30_000,
    `round ${id} to open`,
    50,
  );
  return {
    id,
    lines: (board.lines as { lineId: string; drugId: string; referenceFen: number }[]).map((l) => ({ lineId: l.lineId, drugId: l.drugId, referenceFen: l.referenceFen })),
    closesAt: new Date(board.round.closesAt as string),
  };
}
