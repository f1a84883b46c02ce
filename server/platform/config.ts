import { availableParallelism } from 'node:os';
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseInstant } from './clock';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

function isProxyAddress(p: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(p)) return true;
  const [ip, bits, ...rest] = p.split('/');
  if (rest.length > 0 || !ip || isIP(ip) === 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (isIP(ip) === 4 ? 32 : 128));
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LOCAL_SECRET_FILE = 'jwt-secret';

/**
 * Outside production without JWT_SECRET: a random secret made on the first start and kept in the data
 * directory (mode 0600), so every later start and every process on this machine signs alike.
 */
function localSecret(dataDir: string): string {
  const file = path.join(dataDir, LOCAL_SECRET_FILE);
  mkdirSync(dataDir, { recursive: true });
  // NOTE: written aside and linked into place, so a process starting at the same moment never reads
  // a half-written file, and the first one to link wins.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
  try {
    linkSync(draft, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(draft);
  }
  // NOTE: a copy restored with looser permissions is tightened rather than trusted as it is.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < 32) throw new ConfigError(`Invalid configuration:\n  JWT_SECRET: unset, and ${file} does not hold a secret of at least 32 characters (delete it to make a new one)`);
  return secret;
}

/** Every environment variable the app reads, with its default. `.env.example` documents each one. */
export const EnvSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    PUBLIC_URL: z.string().url().optional(),
    ALLOWED_ORIGINS: z.string().optional(),
    MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://').optional(),
    MONGODB_DB: z.string().regex(/^[A-Za-z0-9_-]{1,60}$/).default('gpo'),
    ENGINE_PORT: z.coerce.number().int().min(0).max(65535).default(27018),
    ENGINE_DBPATH: z.string().min(1).default('./data/mongo'),
    REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
    REDIS_AUTOSTART: bool.default(true),
    QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/).default('gpo'),
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    DATA_DIR: z.string().min(1).default('./data'),
    SESSION_TTL_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(12),
    COOKIE_SECURE: bool.optional(),
    DEMO_MODE: bool.optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    LOGIN_RATE_LIMIT: z.coerce.number().int().min(1).default(10),
    TRUST_PROXY: z
      .string()
      .refine((v) => v === 'none' || v.split(',').every((p) => isProxyAddress(p.trim())), "must be 'none' or a comma-separated list of addresses, CIDR ranges, loopback, linklocal or uniquelocal")
      .optional(),
    QUOTE_RATE_LIMIT: z.coerce.number().int().min(1).default(120),
    ROUND_LEASE_MS: z.coerce.number().int().min(200).max(60_000).default(3000),
    BODY_LIMIT: z.string().regex(/^\d+(kb|mb)$/).default('1mb'),
    CLOCK_START: z
      .string()
      .refine((v) => { try { parseInstant(v, 'CLOCK_START'); return true; } catch { return false; } }, 'must be an ISO-8601 instant with a zone, e.g. 2027-01-31T15:59:59Z')
      .optional(),
    CLOCK_STARTED_AT: z.coerce.number().int().positive().optional(),
    MONGODB_SERVER_SELECTION_MS: z.coerce.number().int().min(100).max(120_000).default(2000),
    MONGODB_HEARTBEAT_MS: z.coerce.number().int().min(500).max(60_000).default(1000),
    FAULT_CRASH_AFTER_COMMIT: z.string().regex(/^[a-z_.,]+$/).optional(),
    OUTBOX_SWEEP_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
    SCHEDULE_SWEEP_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
    PDF_WORKERS: z.coerce.number().int().min(0).max(32).optional(),
    PDF_WORKER_PRIORITY: z.enum(['idle', 'low']).default('idle'),
    PDF_RENDER_CPUS: z.enum(['spare', 'all']).default('spare'),
  })
  .strict();

export type Env = z.infer<typeof EnvSchema>;

/** How the PDF render processes yield the CPU to the event loop: SCHED_IDLE, or the lowest nice value. */
export type PdfWorkerPriority = Env['PDF_WORKER_PRIORITY'];

/** Which CPUs the PDF render processes run on: every one but the first (`spare`), or all of them. */
export type PdfRenderCpus = Env['PDF_RENDER_CPUS'];

export interface Config {
  env: Env['NODE_ENV'];
  host: string;
  port: number;
  publicUrl: string;
  allowedOrigins: string[];
  mongodbUri?: string;
  mongodbDb: string;
  enginePort: number;
  engineDbpath: string;
  redisUrl?: string;
  redisAutostart: boolean;
  queuePrefix: string;
  /** Signs session tokens and CSRF tokens: JWT_SECRET, or outside production a random one kept in `dataDir`. */
  jwtSecret: string;
  /** Local state of this installation (the generated development secret). */
  dataDir: string;
  sessionTtlSeconds: number;
  cookieSecure: boolean;
  demoMode: boolean;
  logLevel: Env['LOG_LEVEL'];
  loginRateLimit: number;
  /** Proxies whose X-Forwarded-For is believed (Express `trust proxy`); false: none, the peer is the client. */
  trustProxy: false | string[];
  quoteRateLimit: number;
  /** How long a web process's ownership of a live round lasts unless renewed (it is, while the round has quotes). */
  roundLeaseMs: number;
  bodyLimit: string;
  /** Where the business clock starts (tests, simulations, demos of a future date); unset: the wall clock. */
  clockStart?: Date;
  /** The wall-clock time (epoch ms) at which the clock read `clockStart` (default: process start). */
  clockStartedAt?: number;
  /** How long a database operation waits for a usable server before the request fails with 503. */
  mongodbServerSelectionMs: number;
  /** How often the driver checks the database (and finds it again after an outage). */
  mongodbHeartbeatMs: number;
  /** Fault drill (never in production): the process kills itself right after committing one of these events, before dispatching it. */
  faultCrashAfterCommit: string[];
  /** How often a worker re-dispatches events a crash left undispatched. */
  outboxSweepMs: number;
  /** How often a worker reschedules due work whose job is missing (e.g. Redis restarted empty). */
  scheduleSweepMs: number;
  /** Processes rendering PDFs (0: render on the event loop, for debugging). */
  pdfWorkers: number;
  /** How the PDF render processes yield to the event loop (see server/pdf-process.ts). */
  pdfWorkerPriority: PdfWorkerPriority;
  /** Which CPUs the PDF render processes run on (see server/pdf-process.ts). */
  pdfRenderCpus: PdfRenderCpus;
}

export class ConfigError extends Error {}

/**
 * Parses the environment once into a frozen, typed config; fails fast with every problem listed.
 * The only reader of process.env in the app.
 */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const known = Object.keys(EnvSchema.shape);
  const picked = Object.fromEntries(Object.entries(source).filter(([k, v]) => known.includes(k) && v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}\nSee .env.example for every setting.`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  if (production && e.FAULT_CRASH_AFTER_COMMIT) throw new ConfigError('Invalid configuration:\n  FAULT_CRASH_AFTER_COMMIT: a fault drill, not allowed in production');
  if (production && e.CLOCK_START) throw new ConfigError('Invalid configuration:\n  CLOCK_START: not allowed in production (the business clock is the wall clock)');
  if (production && !e.JWT_SECRET) throw new ConfigError('Invalid configuration:\n  JWT_SECRET: required in production (at least 32 characters)');
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, '');
  const allowedOrigins = [publicUrl, ...(e.ALLOWED_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean)];
  return Object.freeze({
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    publicUrl,
    allowedOrigins,
    mongodbUri: e.MONGODB_URI,
    mongodbDb: e.MONGODB_DB,
    enginePort: e.ENGINE_PORT,
    engineDbpath: e.ENGINE_DBPATH,
    redisUrl: e.REDIS_URL,
    redisAutostart: e.REDIS_AUTOSTART,
    queuePrefix: e.QUEUE_PREFIX,
    jwtSecret: e.JWT_SECRET ?? localSecret(path.resolve(ROOT, e.DATA_DIR)),
    dataDir: path.resolve(ROOT, e.DATA_DIR),
    sessionTtlSeconds: e.SESSION_TTL_HOURS * 3600,
    cookieSecure: e.COOKIE_SECURE ?? publicUrl.startsWith('https://'),
    demoMode: e.DEMO_MODE ?? !production,
    logLevel: e.LOG_LEVEL,
    loginRateLimit: e.LOGIN_RATE_LIMIT,
    trustProxy: !e.TRUST_PROXY || e.TRUST_PROXY === 'none' ? false : e.TRUST_PROXY.split(',').map((p) => p.trim()),
    quoteRateLimit: e.QUOTE_RATE_LIMIT,
    roundLeaseMs: e.ROUND_LEASE_MS,
    bodyLimit: e.BODY_LIMIT,
    clockStart: e.CLOCK_START ? parseInstant(e.CLOCK_START, 'CLOCK_START') : undefined,
    clockStartedAt: e.CLOCK_STARTED_AT,
    mongodbServerSelectionMs: e.MONGODB_SERVER_SELECTION_MS,
    mongodbHeartbeatMs: e.MONGODB_HEARTBEAT_MS,
    faultCrashAfterCommit: (e.FAULT_CRASH_AFTER_COMMIT ?? '').split(',').filter(Boolean),
    outboxSweepMs: e.OUTBOX_SWEEP_MS,
    scheduleSweepMs: e.SCHEDULE_SWEEP_MS,
    pdfWorkers: e.PDF_WORKERS ?? Math.min(2, availableParallelism()),
    pdfWorkerPriority: e.PDF_WORKER_PRIORITY,
    pdfRenderCpus: e.PDF_RENDER_CPUS,
  });
}
