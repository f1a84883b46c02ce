import { pino, type Logger } from 'pino';
import { currentContext } from './request-context';

/** The process logger; every line carries the request id of the HTTP request, socket event or job in progress. */
export function createLogger(level: string, name = 'gpo'): Logger {
  return pino({
    name,
    level,
    mixin() {
      const ctx = currentContext();
      return ctx ? { requestId: ctx.requestId, userId: ctx.userId } : {};
    },
    redact: { paths: ['password', '*.password', 'req.headers.authorization', 'req.headers.cookie'], remove: true },
  });
}

export type { Logger };
