// Typed socket.io event maps shared by the server and the client (the client imports types only).
// Commands are `entity:verb` and answer through an acknowledgement; notifications are past tense.

/** The acknowledgement every command answers with. */
export type Ack<T> = (reply: { data: T } | { error: { code: string; message: string; details: unknown[] } }) => void;

export interface NotificationPayload {
  id: string;
  kind: string;
  title: string;
  body: string;
  link?: string;
  createdAt: string;
}

export interface ServerToClientEvents {
  'notification:created': (n: NotificationPayload) => void;
  'session:ready': (s: { userId: string; orgId: string; role: string; unreadNotifications: number }) => void;
  [event: string]: (...args: any[]) => void;
}

export interface ClientToServerEvents {
  'notification:read': (payload: { id: string }, ack: Ack<{ unread: number }>) => void;
  [event: string]: (...args: any[]) => void;
}

export interface InterServerEvents {
  ping: () => void;
}
