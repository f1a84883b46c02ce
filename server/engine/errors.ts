// MongoDB-style server errors: `{ ok: 0, errmsg, code, codeName, errorLabels? }`.

export const CODES = {
  InternalError: 1,
  BadValue: 2,
  NoSuchKey: 4,
  FailedToParse: 9,
  TypeMismatch: 14,
  IllegalOperation: 20,
  EmptyArrayOperation: 21,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  PathNotViable: 28,
  ConflictingUpdateOperators: 40,
  CursorNotFound: 43,
  NamespaceExists: 48,
  DollarPrefixedFieldName: 52,
  InvalidIdField: 53,
  NotSingleValueField: 54,
  CommandNotFound: 59,
  ImmutableField: 66,
  CannotCreateIndex: 67,
  IndexAlreadyExists: 68,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  NoReplicationEnabled: 76,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  WriteConflict: 112,
  CommandNotSupported: 115,
  ConflictingOperationInProgress: 117,
  OperationNotSupportedInTransaction: 263,
  NoSuchTransaction: 251,
  TransactionTooOld: 225,
  InvalidPipelineOperator: 168,
  Location40324: 40324,
  DuplicateKey: 11000,
  BSONObjectTooLarge: 10334,
  Unauthorized: 13,
  NotImplemented: 238,
  ExceededTimeLimit: 50,
  Location16410: 16410,
} as const;

export type CodeName = keyof typeof CODES;

const NAMES = new Map<number, string>(Object.entries(CODES).map(([k, v]) => [v, k]));

export class ServerError extends Error {
  readonly code: number;
  readonly codeName: string;
  labels: string[];
  extra: Record<string, unknown>;

  constructor(code: number | CodeName, message: string, extra: Record<string, unknown> = {}, labels: string[] = []) {
    super(message);
    this.code = typeof code === 'number' ? code : CODES[code];
    this.codeName = NAMES.get(this.code) ?? (typeof code === 'string' ? code : `Location${this.code}`);
    this.labels = labels;
    this.extra = extra;
  }

  toReply(): Record<string, unknown> {
    const r: Record<string, unknown> = { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
    if (this.labels.length) r.errorLabels = this.labels;
    return r;
  }

  toWriteError(index: number): Record<string, unknown> {
    return { index, code: this.code, codeName: this.codeName, errmsg: this.message, ...this.extra };
  }
}

export function err(code: number | CodeName, message: string, extra?: Record<string, unknown>): ServerError {
  return new ServerError(code, message, extra);
}

export function writeConflict(): ServerError {
  return new ServerError(
    'WriteConflict',
    'Write conflict during plan execution and yielding is disabled. :: Please retry your operation or multi-document transaction.',
    {},
    ['TransientTransactionError'],
  );
}

export function notSupported(what: string): ServerError {
  return new ServerError('CommandNotSupported', `${what} is not supported by the embedded engine (use a real MongoDB via MONGODB_URI)`);
}

/** Converts anything thrown inside a command into a ServerError. */
export function toServerError(e: unknown): ServerError {
  if (e instanceof ServerError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  // mingo reports bad pipelines/expressions with plain errors
  return new ServerError('BadValue', msg);
}
