// Standalone engine process:
//   npm run engine -- --port 27018 --dbpath ./data/mongo [--host 127.0.0.1] [--fsync always|batch|never]
//   npm run engine -- --port 27018 --memory
// It reports itself as the primary of a one-node replica set (--replSet NAME, default rs0): the
// plain URI mongodb://127.0.0.1:PORT/ works, and so do ?replicaSet=NAME and ?directConnection=true.
// Prints `engine ready on mongodb://127.0.0.1:PORT` once listening. SIGINT/SIGTERM flush the
// journal, release the directory lock and exit. With --exit-with-parent (used by spawn.ts) the
// process also exits when its parent goes away (stdin closes or it is re-parented).
import { USAGE, UsageError, parseArgs } from './cli-args';
import { recordGcPauses } from './gc-log';
import { startEngine } from './index';

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    if (e.message !== 'help') process.stderr.write(`error: ${e.message}\n`);
    process.stderr.write(`${USAGE}\n`);
    process.exit(e.message === 'help' ? 0 : 2);
  }
  const log = (m: string) => {
    if (!args.quiet) process.stderr.write(`[engine] ${m}\n`);
  };
  recordGcPauses();
  let running;
  try {
    running = await startEngine({ port: args.port, host: args.host, dbpath: args.dbpath, memory: args.memory, fsync: args.fsync, logger: log, replSet: args.replSet, advertise: args.advertise, compactBytes: args.compactBytes, ...(args.transactionLifetimeMs ? { transactionLifetimeMs: args.transactionLifetimeMs } : {}) });
  } catch (e) {
    process.stderr.write(`[engine] failed to start: ${(e as Error).message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log(`${why}: shutting down`);
    try {
      await running.close();
    } catch (e) {
      process.stderr.write(`[engine] error while closing: ${(e as Error).message}\n`);
      process.exit(1);
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  if (args.exitWithParent) {
    const ppid = process.ppid;
    process.stdin.on('end', () => void stop('parent closed stdin'));
    process.stdin.on('close', () => void stop('parent closed stdin'));
    process.stdin.on('error', () => void stop('parent pipe error'));
    process.stdin.resume();
    const t = setInterval(() => {
      if (process.ppid !== ppid) void stop('parent exited');
    }, 1000);
    t.unref();
  }
  process.stdout.write(`engine ready on mongodb://127.0.0.1:${running.port}\n`);
  log(`${args.memory ? 'in memory' : `dbpath ${args.dbpath} (fsync ${args.fsync})`}, listening on ${args.host}:${running.port}`);
}

void main();
