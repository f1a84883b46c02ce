import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import { Server, type Socket } from 'socket.io';
import type { z } from 'zod';
import { authenticate, extractToken, type Actor, type SessionResolver } from './auth';
import { systemClock, type Clock } from './clock';
import type { Config } from './config';
import { handleError } from './error-handler';
import { resolveLang, type Lang } from './i18n';
import { msg, renderMessage } from './messages';
import type { Logger } from './logger';
import { runWithContext } from './request-context';
import type { Ack, ClientToServerEvents, InterServerEvents, ServerToClientEvents } from './realtime.events';
import { parse } from './validate';

export interface SocketData {
  actor: Actor;
}

export type AppServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type AppSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export const rooms = {
  user: (id: string) => `user:${id}`,
  org: (id: string) => `org:${id}`,
  role: (role: string) => `role:${role}`,
  entity: (kind: string, id: string) => `${kind}:${id}`,
};

/** Everything a module needs to push live updates, from a web process or a worker. */
export interface Broadcaster {
  toUser(userId: string, event: string, payload: unknown): void;
  toOrg(orgId: string, event: string, payload: unknown): void;
  toRole(role: string, event: string, payload: unknown): void;
  /** Several rooms at once: one broadcast, and a socket in more than one of them gets the event once. */
  toRoom(room: string | readonly string[], event: string, payload: unknown): void;
  /** Sockets currently in a room, across every process (for per-viewer filtering). */
  socketsIn(room: string): Promise<{ id: string; actor: Actor }[]>;
  /** Emits to one socket by id, wherever it is connected. */
  toSocket(socketId: string, event: string, payload: unknown): void;
}

/** A module's socket handlers, registered on every authenticated connection. */
export type SocketModule = (socket: AppSocket, broadcaster: Broadcaster) => void;

/** Registers a command with a validated payload and a `{data}` / `{error}` acknowledgement. */
export function onCommand<S extends z.ZodType, T>(
  socket: AppSocket,
  logger: Logger,
  event: string,
  schema: S,
  handler: (payload: z.output<S>, actor: Actor) => Promise<T>,
): void {
  socket.on(event, async (payload: unknown, ack?: Ack<T>) => {
    const reply = typeof ack === 'function' ? ack : () => undefined;
    await runWithContext({ userId: socket.data.actor.id, orgId: socket.data.actor.orgId }, async () => {
      try {
        const data = await handler(parse(schema, payload, `event ${event}`), socket.data.actor);
        reply({ data });
      } catch (err) {
        reply(handleError(err, logger, { event, socket: socket.id }, socketLang(socket)).body);
      }
    });
  });
}

/** The language a socket's acknowledgements are written in: the user's, else the handshake's cookie or Accept-Language. */
export function socketLang(socket: AppSocket): Lang {
  const headers = socket.handshake.headers;
  return socket.data.actor?.lang ?? resolveLang({ headers: { cookie: headers.cookie, 'accept-language': headers['accept-language'] } });
}

/** A page served by this very host (e.g. a test app on a random port) may always connect. */
function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return Boolean(host) && new URL(origin).host === host;
  } catch {
    return false;
  }
}

export interface Realtime extends Broadcaster {
  io: AppServer;
  close(): Promise<void>;
}

/**
 * socket.io on the HTTP server (or detached, for workers that only broadcast), sharing broadcasts
 * across processes through the Redis Streams adapter. The handshake is authenticated with the same
 * token or session cookie as HTTP, and its Origin must be one of ours.
 */
export function createRealtime(
  httpServer: HttpServer | null,
  deps: { config: Config; logger: Logger; redisUrl: string; resolveSession: SessionResolver; clock?: Clock; modules: SocketModule[]; onConnect?: (socket: AppSocket) => Promise<void> },
): Realtime {
  // NOTE: auto-pipelining sends the XADDs of the broadcasts made in one tick (a batch of quotes makes
  // several per quote) in one write to Redis instead of one each.
  const adapterClient = new Redis(deps.redisUrl, { maxRetriesPerRequest: null, enableAutoPipelining: true });
  adapterClient.on('error', (err) => deps.logger.warn({ err: err.message }, 'socket adapter redis error'));
  const io: AppServer = new Server({
    adapter: createAdapter(adapterClient, { streamName: `${deps.config.queuePrefix}:socket.io`, channelPrefix: `${deps.config.queuePrefix}:socket.io` }),
    // NOTE: websocket only, like the browser client (client/lib/socket.ts): long-polling would need
    // sticky sessions across web processes, and no client of ours falls back to it.
    transports: ['websocket'],
    serveClient: false,
    cors: { origin: deps.config.allowedOrigins, credentials: true },
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000, skipMiddlewares: false },
  });

  const broadcaster: Broadcaster = {
    toUser: (id, event, payload) => void io.to(rooms.user(id)).emit(event, payload),
    toOrg: (id, event, payload) => void io.to(rooms.org(id)).emit(event, payload),
    toRole: (role, event, payload) => void io.to(rooms.role(role)).emit(event, payload),
    toRoom: (room, event, payload) => void io.to(typeof room === 'string' ? room : [...room]).emit(event, payload),
    toSocket: (socketId, event, payload) => void io.to(socketId).emit(event, payload),
    socketsIn: async (room) => {
      const sockets = await io.in(room).fetchSockets();
      return sockets.map((s) => ({ id: s.id, actor: s.data.actor }));
    },
  };

  if (httpServer) {
    io.attach(httpServer);
    io.use(async (socket, next) => {
      // The refusal is read by a person on the page: the page's language (cookie), else Accept-Language.
      const lang = resolveLang({ headers: { cookie: socket.handshake.headers.cookie, 'accept-language': socket.handshake.headers['accept-language'] } });
      const origin = socket.handshake.headers.origin;
      if (origin && !deps.config.allowedOrigins.includes(origin) && !sameOrigin(origin, socket.handshake.headers.host)) {
        next(Object.assign(new Error('ORIGIN_REFUSED'), { data: { code: 'ORIGIN_REFUSED', message: renderMessage(lang, msg('errorCodes.ORIGIN_REFUSED')) } }));
        return;
      }
      const authToken = typeof socket.handshake.auth?.token === 'string' ? socket.handshake.auth.token : undefined;
      const credential = authToken ? { token: authToken } : extractToken(socket.handshake.headers.authorization, socket.handshake.headers.cookie);
      const actor = credential ? await authenticate(deps.config, deps.resolveSession, credential.token, (deps.clock ?? systemClock).now()).catch(() => null) : null;
      if (!actor) {
        next(Object.assign(new Error('UNAUTHENTICATED'), { data: { code: 'UNAUTHENTICATED', message: renderMessage(lang, msg('errorCodes.UNAUTHENTICATED')) } }));
        return;
      }
      socket.data.actor = actor;
      next();
    });
    io.on('connection', async (socket) => {
      const actor = socket.data.actor;
      await socket.join([rooms.user(actor.id), rooms.org(actor.orgId), rooms.role(actor.role)]);
      for (const register of deps.modules) register(socket, broadcaster);
      if (deps.onConnect) await deps.onConnect(socket).catch((err) => handleError(err, deps.logger, { socket: socket.id }));
    });
  }

  return {
    ...broadcaster,
    io,
    async close() {
      io.disconnectSockets(true);
      // NOTE: a detached server (the worker role) has no engine: io.close() throws before calling
      // back, which left a worker hanging on SIGTERM; closing its adapters stops the stream polling.
      if (httpServer) await new Promise<void>((resolve) => void io.close(() => resolve()));
      else await Promise.allSettled([...io._nsps.values()].map((nsp) => nsp.adapter.close()));
      adapterClient.disconnect();
    },
  };
}
