import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../server/platform/realtime.events';

export type AppSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

let socket: AppSocket | undefined;

/**
 * The page's one socket.io connection (websocket only; the server authenticates the handshake with
 * the session cookie). Created on first use; socket.io reconnects by itself with backoff.
 */
export function getSocket(): AppSocket {
  socket ??= io({ transports: ['websocket'], withCredentials: true });
  return socket;
}
