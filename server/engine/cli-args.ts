// Argument parsing for cli.ts (kept separate so it can be tested without starting an engine).

export interface CliArgs {
  port: number;
  host: string;
  dbpath?: string;
  memory: boolean;
  fsync: 'always' | 'batch' | 'never';
  replSet?: string;
  advertise?: string;
  compactBytes?: number;
  /** abort a transaction left open this long (mongod's transactionLifetimeLimitSeconds; default 60 s) */
  transactionLifetimeMs?: number;
  exitWithParent: boolean;
  quiet: boolean;
}

export class UsageError extends Error {}

export const USAGE = 'usage: tsx server/engine/cli.ts --port N (--dbpath DIR | --memory) [--host H] [--fsync always|batch|never] [--replSet NAME] [--advertise HOST:PORT] [--compact-bytes N] [--transaction-lifetime-ms N]';

function usage(msg: string): never {
  throw new UsageError(msg);
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
      case '--replSet':
        a.replSet = value();
        break;
      case '--advertise':
        a.advertise = value();
        break;
      case '--compact-bytes': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1024) usage('--compact-bytes must be an integer ≥ 1024');
        a.compactBytes = n;
        break;
      }
      case '--transaction-lifetime-ms': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 100) usage('--transaction-lifetime-ms must be an integer ≥ 100');
        a.transactionLifetimeMs = n;
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
        usage('help');
        break;
      default:
        usage(`unknown option ${arg}`);
    }
  }
  if (!a.dbpath && !a.memory) usage('give --dbpath DIR or --memory');
  if (a.dbpath && a.memory) usage('--dbpath and --memory are exclusive');
  return a;
}
