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

/** A distributor's credit changed (to its organisation's room). */
export interface CreditStandingPayload {
  orgId: string;
  score: number;
  grade: 'A' | 'B' | 'C' | 'D';
  riskWarning: boolean;
  suspended: boolean;
  cause: string;
}

/** A breach was recorded (to the distributor's organisation and to operators). */
export interface CreditBreachPayload {
  id: string;
  orgId: string;
  orgName: string;
  code: string;
  zh: string;
  severity: string;
  points: number;
  status: string;
  appealDeadline: string;
}

export interface ServerToClientEvents {
  'notification:created': (n: NotificationPayload) => void;
  'credit:standing_changed': (s: CreditStandingPayload) => void;
  'credit:breach_recorded': (b: CreditBreachPayload) => void;
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
