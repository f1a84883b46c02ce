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

/** An order changed state (to the hospital's and distributor's organisations and the order's room). */
export interface OrderUpdatedPayload {
  orderId: string;
  orderNo: string;
  status: string;
  change: 'placed' | 'status' | 'deadline_missed';
  hospitalOrgId: string;
  distributorOrgId: string;
  /** number of stored events: a client that already applied this seq can ignore a repeat */
  seq: number;
  at: string;
}

/** A tracking event of an order's shipment (same rooms as order:updated). */
export interface OrderTrackingPayload {
  orderId: string;
  orderNo: string;
  shipmentId: string;
  status: string;
  kind: 'picked' | 'departed' | 'location' | 'delivered';
  location?: string;
  note?: string;
  eta?: string;
  at: string;
  seq: number;
}

/** An invoice was paid (early or at its due date) or went overdue (to the hospital, distributor and bank). */
export interface InvoiceSettledPayload {
  invoiceId: string;
  invoiceNo: string;
  status: 'open' | 'paid' | 'overdue';
  amountFen: number;
  paidFen: number;
  paidAt?: string;
}

/** The bank advanced money on an invoice for the hospital (to the hospital and the bank). */
export interface AdvanceMadePayload {
  advanceId?: string;
  invoiceId: string;
  invoiceNo: string;
  principalFen: number;
  hospitalOrgId: string;
}

/** A hospital repaid its bank (to the hospital and the bank). */
export interface RepaymentRecordedPayload {
  repaymentId: string;
  hospitalOrgId: string;
  amountFen: number;
  interestFen: number;
  principalFen: number;
}

/** Money came into a hospital's working-capital account (to the hospital). */
export interface AccountCreditedPayload {
  kind: 'prepayment' | 'deposit';
  amountFen: number;
  balanceFen: number;
}

/** VBP: a distributor's own live rank on a tender line (rank-only tenders; to its organisation). */
export interface VbpRankPayload {
  tenderId: string;
  lineId: string;
  rank: number;
  bidders: number;
}

/** VBP: how many bids a tender line has (operators only; never prices before the opening). */
export interface VbpBidCountPayload {
  tenderId: string;
  lineId: string;
  bids: number;
}

/** A quote on a round line as the operator sees it live (by alias). */
export interface RoundQuoteDelta {
  alias: string;
  priceFen: number;
  receivedAt: string;
  seq: number;
  /** The quote's rank on the line (after the commit for the distributor's last change in it); null when withdrawn. */
  rank: number | null;
  status: 'active' | 'withdrawn';
}

/**
 * One line a commit changed, as one room's viewers may see it; each field is there only for whom it
 * is meant: `quotes` (every change, by alias), `quoteCount` and `bestPriceFen` for operators (and for
 * every distributor in `best` mode); `own` and `nextMaxPriceFen` for the distributor that quoted;
 * `rank` for a distributor whom others' quotes moved (never in `sealed` mode).
 */
export interface RoundLineDelta {
  lineId: string;
  quoteCount?: number;
  bestPriceFen?: number | null;
  quotes?: RoundQuoteDelta[];
  own?: { quoteId: string; priceFen: number; receivedAt: string; status: 'active' | 'withdrawn'; rank: number | null };
  nextMaxPriceFen?: number;
  rank?: number;
}

/** A round's committed quote changes, one push per room per commit; `seq` is the round's sequence after the commit. */
export interface RoundLinesPayload {
  roundId: string;
  seq: number;
  lines: RoundLineDelta[];
}

export interface ServerToClientEvents {
  'notification:created': (n: NotificationPayload) => void;
  'credit:standing_changed': (s: CreditStandingPayload) => void;
  'credit:breach_recorded': (b: CreditBreachPayload) => void;
  'order:updated': (o: OrderUpdatedPayload) => void;
  'order:tracking': (t: OrderTrackingPayload) => void;
  'invoice:settled': (i: InvoiceSettledPayload) => void;
  'advance:made': (a: AdvanceMadePayload) => void;
  'repayment:recorded': (r: RepaymentRecordedPayload) => void;
  'account:credited': (a: AccountCreditedPayload) => void;
  /** `unreadNotifications` is counted up to 100; `unreadNotificationsCapped` says there are that many or more. */
  'session:ready': (s: { userId: string; orgId: string; role: string; unreadNotifications: number; unreadNotificationsCapped: boolean }) => void;
  'vbp:rank': (r: VbpRankPayload) => void;
  'vbp:bid_count': (c: VbpBidCountPayload) => void;
  'vbp:tender_opened': (t: { tenderId: string; status: string }) => void;
  'vbp:tender_awarded': (t: { tenderId: string; contracts?: number }) => void;
  'vbp:alert': (a: { contractId: string; kind: string; checkKind: string; index: number }) => void;
  'vbp:backup_promoted': (p: { contractId: string; promotedContractId: string }) => void;
  'round:lines': (p: RoundLinesPayload) => void;
  [event: string]: (...args: any[]) => void;
}

export interface ClientToServerEvents {
  'notification:read': (payload: { id: string }, ack: Ack<{ unread: number; unreadCapped: boolean }>) => void;
  'order:watch': (payload: { orderId: string }, ack: Ack<unknown>) => void;
  'order:unwatch': (payload: { orderId: string }, ack: Ack<{ ok: true }>) => void;
  [event: string]: (...args: any[]) => void;
}

export interface InterServerEvents {
  ping: () => void;
}
