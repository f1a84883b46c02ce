// The double-entry ledger of the bank-guarantee scheme.
//
// Sign convention: a posting's amountFen is positive for a debit and negative for a credit; the
// postings of every journal entry sum to zero. An account's stored balanceFen is the sum of all its
// postings (debits minus credits). Each account type has a normal side; shown balances are
// balanceFen for debit-normal accounts and −balanceFen for credit-normal ones, so a healthy
// account shows a non-negative amount. Every entry has a unique idempotencyKey and is inserted in
// the same MongoDB transaction as the balance updates, so balances always equal the sum of entries
// (checkLedger recomputes them).
//
// Chart of accounts (one currency, CNY), written from the point of view of the scheme — the guarantee
// banks and the platform's supervised account together:
//   supervised                       platform  debit   监管账户 cash; every payment passes through it in
//                                                      the same entry (in, then out), so it ends at 0
//   bank_clearing:<hosp>:<bank>      bank      debit   the bank's cash in the scheme for this hospital:
//                                                      + money paid in (prepayments, deposits,
//                                                      transfers), − paid out
//   working_capital:<hosp>:<bank>    hospital  credit  the hospital's 周转金 held by its bank
//   advance_principal:<hosp>:<bank>  hospital  debit   advance principal the hospital owes the bank
//   interest_receivable:<hosp>:<bank> hospital debit   accrued interest the hospital owes the bank
//   interest_income:<bank>           bank      credit  interest the bank has earned
//   invoice_receivable:<hosp>        hospital  debit   drug invoices the hospital still has to pay
//   distributor_payable:<dist>:<hosp> distr.   credit  invoice money the hospital still owes the distributor
//
// NOTE: the bank's cash and the distributor's claim are kept per hospital (sub-ledgers) so that
// settlements of different hospitals never write the same account; a bank's or a distributor's
// total is the sum of its sub-accounts.
//
// Entries (Dr = debit, Cr = credit):
//   invoice      Dr invoice_receivable, Cr distributor_payable            (accepted delivery)
//   prepayment   Dr bank_clearing, Cr working_capital                     (insurance fund prepays)
//   deposit      Dr bank_clearing, Cr working_capital                     (hospital deposits)
//   settlement / invoice_payment (a from the account, d advanced, p = a + d):
//                Dr working_capital a, Cr bank_clearing a,               (bank pays from the account)
//                Dr advance_principal d, Cr bank_clearing d,             (bank advances the shortfall)
//                Dr supervised p, Cr invoice_receivable p,               (supervised account receives)
//                Dr distributor_payable p, Cr supervised p               (and pays the distributor)
//   interest     Dr interest_receivable, Cr interest_income
//   repayment    Dr working_capital (from the account) or Dr bank_clearing (a transfer),
//                Cr interest_receivable (interest first), Cr advance_principal (then principal)
import mongoose, { Types, type ClientSession } from 'mongoose';
import { now } from '../../platform/context';
import { RuleViolationError } from '../../platform/errors';
import { trusted } from '../../platform/mongo';
import { sumFen } from '../../platform/money';
import { JournalEntry, LedgerAccount, type AccountType, type EntryKind, type JournalEntryDoc, type LedgerAccountDoc } from './finance.model';
import type { Message } from '../../platform/messages';

const NORMAL_SIDE: Record<AccountType, 'debit' | 'credit'> = {
  supervised: 'debit',
  bank_clearing: 'debit',
  working_capital: 'credit',
  advance_principal: 'debit',
  interest_receivable: 'debit',
  interest_income: 'credit',
  invoice_receivable: 'debit',
  distributor_payable: 'credit',
};

/** A ledger account named by what it is; the key is its unique identity. */
export interface AccountRef {
  key: string;
  type: AccountType;
  ownerOrgId?: string;
  bankOrgId?: string;
}

/** The accounts of the chart, by party. */
export const accounts = {
  supervised: (): AccountRef => ({ key: 'supervised', type: 'supervised' }),
  bankClearing: (hospital: string, bank: string): AccountRef => ({ key: `bank_clearing:${hospital}:${bank}`, type: 'bank_clearing', ownerOrgId: bank, bankOrgId: bank }),
  workingCapital: (hospital: string, bank: string): AccountRef => ({ key: `working_capital:${hospital}:${bank}`, type: 'working_capital', ownerOrgId: hospital, bankOrgId: bank }),
  advancePrincipal: (hospital: string, bank: string): AccountRef => ({ key: `advance_principal:${hospital}:${bank}`, type: 'advance_principal', ownerOrgId: hospital, bankOrgId: bank }),
  interestReceivable: (hospital: string, bank: string): AccountRef => ({ key: `interest_receivable:${hospital}:${bank}`, type: 'interest_receivable', ownerOrgId: hospital, bankOrgId: bank }),
  interestIncome: (bank: string): AccountRef => ({ key: `interest_income:${bank}`, type: 'interest_income', ownerOrgId: bank, bankOrgId: bank }),
  invoiceReceivable: (hospital: string): AccountRef => ({ key: `invoice_receivable:${hospital}`, type: 'invoice_receivable', ownerOrgId: hospital }),
  distributorPayable: (distributor: string, hospital: string): AccountRef => ({ key: `distributor_payable:${distributor}:${hospital}`, type: 'distributor_payable', ownerOrgId: distributor }),
};

/** An account balance as people read it: positive on the account's normal side. */
export function shownBalance(account: Pick<LedgerAccountDoc, 'normalSide' | 'balanceFen'> | null | undefined): number {
  if (!account) return 0;
  return account.normalSide === 'debit' ? account.balanceFen : -account.balanceFen;
}

const known = new Set<string>();

/** Creates the accounts that do not exist yet (idempotent, outside any transaction; call before opening one). */
export async function ensureAccounts(refs: AccountRef[]): Promise<void> {
  const missing = [...new Map(refs.filter((r) => !known.has(r.key)).map((r) => [r.key, r])).values()];
  if (missing.length === 0) return;
  await LedgerAccount.bulkWrite(
    missing.map((r) => {
      const { _id, ...fields } = newAccount(r);
      void _id;
      return { updateOne: { filter: { key: r.key }, update: { $setOnInsert: fields }, upsert: true } };
    }),
    { ordered: false },
  );
  for (const r of missing) known.add(r.key);
}

/**
 * Ids of the accounts, read inside the transaction; an account the transaction cannot see yet is
 * created in it. NOTE: services call ensureAccounts before opening their own transaction so this
 * rarely inserts; inside a caller's transaction (orders → invoice) it may.
 */
async function accountIdsIn(refs: AccountRef[], session: ClientSession): Promise<Map<string, Types.ObjectId>> {
  const unique = [...new Map(refs.map((r) => [r.key, r])).values()];
  const found = await LedgerAccount.find({ key: trusted({ $in: unique.map((r) => r.key) }) }, { key: 1 }).session(session).lean<{ _id: Types.ObjectId; key: string }[]>();
  const ids = new Map(found.map((a) => [a.key, a._id]));
  const missing = unique.filter((r) => !ids.has(r.key));
  if (missing.length > 0) {
    const docs = missing.map((r) => newAccount(r));
    await LedgerAccount.insertMany(docs, { session });
    for (const d of docs) ids.set(d.key, d._id);
  }
  return ids;
}

function newAccount(r: AccountRef): LedgerAccountDoc {
  return {
    _id: new Types.ObjectId(),
    key: r.key,
    type: r.type,
    ...(r.ownerOrgId ? { ownerOrgId: new Types.ObjectId(r.ownerOrgId) } : {}),
    ...(r.bankOrgId ? { bankOrgId: new Types.ObjectId(r.bankOrgId) } : {}),
    currency: 'CNY',
    normalSide: NORMAL_SIDE[r.type],
    balanceFen: 0,
    createdAt: now(),
  };
}

/** Reads accounts by ref (inside the session when given); missing accounts read as balance 0. */
export async function readAccounts(refs: AccountRef[], session?: ClientSession): Promise<Map<string, LedgerAccountDoc | undefined>> {
  const docs = await LedgerAccount.find({ key: trusted({ $in: refs.map((r) => r.key) }) })
    .session(session ?? null)
    .lean<LedgerAccountDoc[]>();
  const byKey = new Map(docs.map((d) => [d.key, d]));
  return new Map(refs.map((r) => [r.key, byKey.get(r.key)]));
}

/**
 * `Promise.all` for the operations of one transaction: waits for every one to finish before failing,
 * so the transaction never aborts (or retries) under an operation still in flight.
 */
export async function inTransactionAll<T extends readonly unknown[] | []>(ops: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled: PromiseSettledResult<unknown>[] = await Promise.allSettled(ops as readonly unknown[]);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}

/** The accounts of these types owned by a hospital, at any bank, by key (inside the session when given). */
export async function hospitalAccounts(hospital: string, types: AccountType[], session?: ClientSession): Promise<Map<string, LedgerAccountDoc>> {
  const docs = await LedgerAccount.find({ ownerOrgId: new Types.ObjectId(hospital), type: trusted({ $in: types }) })
    .session(session ?? null)
    .lean<LedgerAccountDoc[]>();
  return new Map(docs.map((d) => [d.key, d]));
}

export interface PostingInput {
  account: AccountRef;
  amountFen: number;
}

/** A bound on an account's shown balance after the entry; breaking it refuses the whole entry. */
export interface BalanceGuard {
  account: AccountRef;
  /** The shown balance must stay at or above this (e.g. 0: no overdraft of a working-capital account). */
  minShownFen?: number;
  /** The shown balance must stay at or below this (e.g. a guarantee line's limit). */
  maxShownFen?: number;
  code: string;
  message: Message;
}

export interface EntryInput {
  idempotencyKey: string;
  kind: EntryKind;
  memo: string;
  postings: PostingInput[];
  guards?: BalanceGuard[];
  refs?: { hospitalOrgId?: string; bankOrgId?: string; distributorOrgId?: string; invoiceId?: string; advanceId?: string; reference?: string; actorId?: string };
  postedAt?: Date;
}

/** Test-only fault injection: a named point inside a transaction can throw to simulate a crash there. */
const faultPoints = new Map<string, () => void>();
export const financeFaults = {
  set(point: string, fn: () => void): void {
    faultPoints.set(point, fn);
  },
  clear(): void {
    faultPoints.clear();
  },
  hit(point: string): void {
    faultPoints.get(point)?.();
  },
};

/** Thrown inside a transaction when an entry with the same idempotency key already exists. */
export class EntryExistsError extends Error {
  constructor(readonly idempotencyKey: string) {
    super(`journal entry ${idempotencyKey} already exists`);
  }
}

function toOid(id: string | undefined): Types.ObjectId | undefined {
  return id ? new Types.ObjectId(id) : undefined;
}

/**
 * Posts one balanced journal entry and its balance updates inside `session`'s transaction. An entry
 * with the same idempotency key makes it throw EntryExistsError (the caller's transaction then does
 * nothing); a broken guard throws a RuleViolationError (422) and nothing is stored.
 */
export async function postEntry(input: EntryInput, session: ClientSession): Promise<JournalEntryDoc> {
  return (await postEntries([input], session))[0]!;
}

function assertBalanced(input: EntryInput): void {
  if (input.postings.length < 2) throw new Error('a journal entry needs at least two postings');
  for (const p of input.postings) {
    if (!Number.isSafeInteger(p.amountFen) || p.amountFen === 0) throw new Error(`posting to ${p.account.key} must be a non-zero integer fen amount`);
  }
  if (sumFen(input.postings.map((p) => p.amountFen)) !== 0) throw new Error(`journal entry ${input.idempotencyKey} does not balance`);
  for (const g of input.guards ?? []) {
    if (!input.postings.some((p) => p.account.key === g.account.key)) throw new Error(`guard on ${g.account.key}, which the entry does not touch`);
  }
}

/** The bounds on an account's stored balance before the entries for every guard to hold after each entry in turn. */
interface RawBounds {
  ref: AccountRef;
  delta: number;
  min?: number;
  max?: number;
  guards: BalanceGuard[];
}

/**
 * Posts many balanced journal entries, in order, inside `session`'s transaction with one write per
 * collection: the entries in one insert, each touched account's balance moved once by its net change.
 * Every entry is checked as `postEntry` checks it (balanced, integer fen, unique key; an existing key
 * throws EntryExistsError) and every guard must hold after its own entry as if the entries were
 * posted one by one; a broken guard throws its RuleViolationError and nothing is stored.
 */
export async function postEntries(inputs: readonly EntryInput[], session: ClientSession): Promise<JournalEntryDoc[]> {
  if (inputs.length === 0) return [];
  const keys = new Set<string>();
  for (const input of inputs) {
    assertBalanced(input);
    if (keys.has(input.idempotencyKey)) throw new Error(`journal entry ${input.idempotencyKey} is posted twice`);
    keys.add(input.idempotencyKey);
  }
  // NOTE: one read at a time here: the first statement of a transaction starts it, and a caller may
  // post as its first statement.
  const existing = await JournalEntry.findOne({ idempotencyKey: trusted({ $in: [...keys] }) }, { idempotencyKey: 1 }).session(session).lean<{ idempotencyKey: string }>();
  if (existing) throw new EntryExistsError(existing.idempotencyKey);
  const ids = await accountIdsIn(inputs.flatMap((input) => [...input.postings.map((p) => p.account), ...(input.guards ?? []).map((g) => g.account)]), session);

  const at = now();
  const entries: JournalEntryDoc[] = inputs.map((input) => {
    const refs = input.refs ?? {};
    return {
      _id: new Types.ObjectId(),
      idempotencyKey: input.idempotencyKey,
      kind: input.kind,
      postedAt: input.postedAt ?? at,
      memo: input.memo,
      postings: input.postings.map((p) => ({ accountId: ids.get(p.account.key)!, accountKey: p.account.key, amountFen: p.amountFen })),
      hospitalOrgId: toOid(refs.hospitalOrgId),
      bankOrgId: toOid(refs.bankOrgId),
      distributorOrgId: toOid(refs.distributorOrgId),
      invoiceId: toOid(refs.invoiceId),
      advanceId: toOid(refs.advanceId),
      reference: refs.reference,
      actorId: toOid(refs.actorId),
    };
  });

  // Net change per account and, for guarded accounts, the stored balance before the entries that keeps
  // every guard true after its own entry: shown = sign × (raw + change so far), bounded entry by entry.
  const byAccount = new Map<string, RawBounds>();
  for (const input of inputs) {
    for (const p of input.postings) {
      const row = byAccount.get(p.account.key) ?? { ref: p.account, delta: 0, guards: [] };
      row.delta += p.amountFen;
      byAccount.set(p.account.key, row);
    }
    for (const g of input.guards ?? []) {
      const row = byAccount.get(g.account.key)!;
      const sign = NORMAL_SIDE[row.ref.type] === 'debit' ? 1 : -1;
      row.guards.push(g);
      const lower: number[] = [];
      const upper: number[] = [];
      if (g.minShownFen !== undefined) (sign === 1 ? lower : upper).push(sign === 1 ? g.minShownFen - row.delta : -g.minShownFen - row.delta);
      if (g.maxShownFen !== undefined) (sign === 1 ? upper : lower).push(sign === 1 ? g.maxShownFen - row.delta : -g.maxShownFen - row.delta);
      for (const b of lower) row.min = row.min === undefined ? b : Math.max(row.min, b);
      for (const b of upper) row.max = row.max === undefined ? b : Math.min(row.max, b);
    }
  }

  const updates: { key: string; id: Types.ObjectId; row: RawBounds; filter: Record<string, unknown> }[] = [];
  for (const [key, row] of byAccount) {
    // NOTE: a pass-through account (the supervised account within one payment) nets to zero and is
    // not written, so concurrent payments do not all conflict on it.
    if (row.delta === 0 && row.guards.length === 0) continue;
    const id = ids.get(key)!;
    const filter: Record<string, unknown> = { _id: id };
    if (row.guards.length > 0) {
      const bounds: Record<string, number> = {};
      if (row.min !== undefined) bounds.$gte = row.min;
      if (row.max !== undefined) bounds.$lte = row.max;
      filter.balanceFen = trusted(bounds);
    }
    updates.push({ key, id, row, filter });
  }
  // NOTE: the entries and the balances are written together (one round trip); a failure of either
  // aborts the transaction, so neither is kept without the other.
  const [, res] = await inTransactionAll([
    JournalEntry.insertMany(entries, { session }),
    updates.length > 0
      ? LedgerAccount.bulkWrite(
          updates.map((u) => ({ updateOne: { filter: u.filter, update: { $inc: { balanceFen: u.row.delta } } } })),
          { session, ordered: true },
        )
      : { matchedCount: 0 },
  ]);
  if (res.matchedCount !== updates.length) {
    // NOTE: rare (callers decide from balances read in the same transaction); the throw aborts the
    // transaction, so the updates that did apply are undone. An account left out of its bounds is one
    // whose update did not apply.
    const found = await LedgerAccount.find({ _id: trusted({ $in: updates.map((u) => u.id) }) }, { balanceFen: 1 }).session(session).lean<{ _id: Types.ObjectId; balanceFen: number }[]>();
    const stored = new Map(found.map((a) => [String(a._id), a.balanceFen]));
    const missing = updates.find((u) => !stored.has(String(u.id)));
    if (missing) throw new Error(`ledger account ${missing.key} is missing`);
    const outside = (u: (typeof updates)[number]) => {
      const raw = stored.get(String(u.id))!;
      return (u.row.min !== undefined && raw < u.row.min) || (u.row.max !== undefined && raw > u.row.max);
    };
    const broken = updates.find((u) => u.row.guards.length > 0 && outside(u)) ?? updates.find((u) => u.row.guards.length > 0);
    if (broken) throw new RuleViolationError({ code: broken.row.guards[0]!.code, message: broken.row.guards[0]!.message });
    throw new Error('ledger accounts refused the entries');
  }
  return entries;
}
/** True for a duplicate-key error on the journal's idempotency key (a concurrent twin committed first) or an account key. */
export function isDuplicateEntry(err: unknown): boolean {
  if (err instanceof EntryExistsError) return true;
  const e = err as { code?: number; keyPattern?: Record<string, unknown> };
  // NOTE: a duplicate account key means a concurrent transaction created the same new account: retry too.
  return e?.code === 11000 && (!e.keyPattern || 'idempotencyKey' in e.keyPattern || 'key' in e.keyPattern);
}

export interface LedgerCheck {
  ok: boolean;
  accounts: number;
  entries: number;
  /** Accounts whose stored balance differs from the sum of their postings. */
  mismatches: { accountKey: string; storedFen: number; computedFen: number }[];
  /** Entries whose postings do not sum to zero. */
  unbalancedEntries: { idempotencyKey: string; sumFen: number }[];
  /** Sum of every stored balance (zero when the ledger is whole). */
  totalFen: number;
  checkedAt: Date;
}

/**
 * Recomputes every account balance from the journal and compares it with the stored balance. NOTE:
 * it reads inside one transaction, i.e. one snapshot, so money moving while it runs (jobs, users)
 * cannot make entries and balances look apart.
 */
export async function checkLedger(): Promise<LedgerCheck> {
  return mongoose.connection.transaction((session) => checkLedgerAt(session));
}

async function checkLedgerAt(session: ClientSession): Promise<LedgerCheck> {
  const computed = new Map<string, bigint>();
  const unbalancedEntries: LedgerCheck['unbalancedEntries'] = [];
  let entries = 0;
  const cursor = JournalEntry.find({}, { idempotencyKey: 1, postings: 1 }).session(session).lean<Pick<JournalEntryDoc, 'idempotencyKey' | 'postings'>[]>().cursor();
  for await (const entry of cursor as AsyncIterable<Pick<JournalEntryDoc, 'idempotencyKey' | 'postings'>>) {
    entries += 1;
    let sum = 0n;
    for (const p of entry.postings) {
      const id = String(p.accountId);
      computed.set(id, (computed.get(id) ?? 0n) + BigInt(p.amountFen));
      sum += BigInt(p.amountFen);
    }
    if (sum !== 0n) unbalancedEntries.push({ idempotencyKey: entry.idempotencyKey, sumFen: Number(sum) });
  }
  const all = await LedgerAccount.find({}, { key: 1, balanceFen: 1 }).session(session).lean<Pick<LedgerAccountDoc, '_id' | 'key' | 'balanceFen'>[]>();
  const mismatches: LedgerCheck['mismatches'] = [];
  let total = 0n;
  const known = new Set<string>();
  for (const a of all) {
    known.add(String(a._id));
    total += BigInt(a.balanceFen);
    const c = computed.get(String(a._id)) ?? 0n;
    if (c !== BigInt(a.balanceFen)) mismatches.push({ accountKey: a.key, storedFen: a.balanceFen, computedFen: Number(c) });
  }
  for (const [id, c] of computed) {
    if (!known.has(id)) mismatches.push({ accountKey: `(missing account ${id})`, storedFen: 0, computedFen: Number(c) });
  }
  return {
    ok: mismatches.length === 0 && unbalancedEntries.length === 0 && total === 0n,
    accounts: all.length,
    entries,
    mismatches,
    unbalancedEntries,
    totalFen: Number(total),
    checkedAt: now(),
  };
}
