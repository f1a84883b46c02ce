// Standalone engine process:
//   npm run engine -- --port 27018 --dbpath ./data/mongo [--host 127.0.0.1] [--fsync always|batch|never]
//   npm run engine -- --port 27018 --memory
// Prints `engine ready on mongodb://127.0.0.1:PORT` once listening. SIGINT/SIGTERM flush the
// journal, release the directory lock and exit. With --exit-with-parent (used by spawn.ts) the
// process also exits when its parent goes away (stdin closes or it is re-parented).
import { startEngine } from './index';

interface CliArgs {
  port: number;
  host: string;
  dbpath?: string;
  memory: boolean;
  fsync: 'always' | 'batch' | 'never';
  exitWithParent: boolean;
  quiet: boolean;
}

function usage(msg?: string): never {
  if (msg) process.stderr.write(`error: ${msg}\n`);
  process.stderr.write(
    'usage: tsx server/engine/cli.ts --port N (--dbpath DIR | --memory) [--host H] [--fsync always|batch|never]\n',
  );
  process.exit(2);
}

export function parseArgs(argv: string[]): CliArgs {
  const a: CliArgs = { port: 27017, host: '127.0.0.1', memory: false, fsync: 'batch', exitWithParent: false, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    switch (flag) {
      case '--port': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 0 || n > 65535) usage('--port must be 0..65535');
        a.port = n;
        break;
      }
      case '--host':
      case '--bind_ip':
        a.host = value();
        break;
      case '--dbpath':
        a.dbpath = value();
        break;
      case '--memory':
        a.memory = true;
        break;
      case '--fsync': {
        const v = value();
        if (v !== 'always' && v !== 'batch' && v !== 'never') usage('--fsync must be always, batch or never');
        a.fsync = v;
        break;
      }
      case '--exit-with-parent':
        a.exitWithParent = true;
        break;
      case '--quiet':
        a.quiet = true;
        break;
      case '--help':
      case '-h':
        usage();
        break;
      default:
        usage(`unknown option ${arg}`);
    }
  }
  if (!a.dbpath && !a.memory) usage('give --dbpath DIR or --memory');
  if (a.dbpath && a.memory) usage('--dbpath and --memory are exclusive');
  return a;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (m: string) => {
    if (!args.quiet) process.stderr.write(`[engine] ${m}\n`);
  };
  let running;
  try {
    running = await startEngine({ port: args.port, host: args.host, dbpath: args.dbpath, memory: args.memory, fsync: args.fsync, logger: log });
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
