// Runs the engine as a child process (npm start without MONGODB_URI, multi-process tests).
// The child is `node --import tsx server/engine/cli.ts …` itself (no wrapper process), so its pid
// is the engine's; it exits when this process dies because it watches its stdin pipe.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface SpawnedEngine {
  /** `mongodb://127.0.0.1:PORT/` (append a database name); the driver discovers the one-node replica set */
  uri: string;
  port: number;
  pid: number;
  /** SIGTERM (clean shutdown: journal flushed, lock released), then SIGKILL after a grace period */
  stop(): Promise<void>;
  /** the child process (tests use it to SIGKILL the engine) */
  child: ChildProcess;
}

export interface SpawnEngineOptions {
  port?: number;
  dbpath?: string;
  memory?: boolean;
  host?: string;
  fsync?: 'always' | 'batch' | 'never';
  /** forward the engine's log lines (stderr) */
  logger?: (line: string) => void;
  /** how long to wait for the ready line (default 30 s) */
  timeoutMs?: number;
  /** replica set name (default rs0) */
  replSet?: string;
  /** with dbpath: journal size that triggers compaction (default 64 MiB) */
  compactBytes?: number;
  /** abort a transaction left open this long (default 60 s, as mongod) */
  transactionLifetimeMs?: number;
  /** extra node options for the child (e.g. --cpu-prof) */
  nodeArgs?: string[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
const cliPath = path.join(here, 'cli.ts');

export function spawnEngine(opts: SpawnEngineOptions = {}): Promise<SpawnedEngine> {
  const args = ['--port', String(opts.port ?? 0), '--exit-with-parent'];
  if (opts.dbpath && !opts.memory) args.push('--dbpath', opts.dbpath);
  else args.push('--memory');
  if (opts.host) args.push('--host', opts.host);
  if (opts.fsync) args.push('--fsync', opts.fsync);
  if (opts.replSet) args.push('--replSet', opts.replSet);
  if (opts.compactBytes) args.push('--compact-bytes', String(opts.compactBytes));
  if (opts.transactionLifetimeMs) args.push('--transaction-lifetime-ms', String(opts.transactionLifetimeMs));
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', tsx, cliPath, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env },
  });
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise<SpawnedEngine>((resolve, reject) => {
    let out = '';
    let errText = '';
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`engine did not become ready within ${timeoutMs} ms: ${errText.trim()}`)), timeoutMs);
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(e);
    };
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      if (!settled) errText += d;
      if (opts.logger) for (const line of d.split('\n')) if (line.trim()) opts.logger(line);
    });
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      if (settled) return; // later output (e.g. --trace-gc lines) is the caller's to read
      out += d;
      const m = /engine ready on (mongodb:\/\/[^\s]+:(\d+))/.exec(out);
      if (m && !settled) {
        settled = true;
        clearTimeout(timer);
        const port = Number(m[2]);
        const exited = new Promise<void>((r) => {
          if (child.exitCode !== null || child.signalCode !== null) r();
          else child.once('exit', () => r());
        });
        resolve({
          uri: `${m[1]}/`,
          port,
          pid: child.pid!,
          child,
          async stop() {
            if (child.exitCode === null && child.signalCode === null) {
              child.kill('SIGTERM');
              const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
              await exited;
              clearTimeout(t);
            }
            child.stdin?.destroy();
          },
        });
      }
    });
    child.on('error', (e) => fail(e));
    child.on('exit', (code, signal) => fail(new Error(`engine exited before it was ready (code ${code}, signal ${signal}): ${errText.trim()}`)));
    // the pipe is the lifeline: never end it while running; don't let it keep this process alive
    child.stdin!.on('error', () => undefined);
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    child.unref();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    (child.stderr as unknown as { unref?: () => void }).unref?.();
  });
}
