// The published listing (挂网) hospitals order from, and its withdrawal (by the distributor: a credit
// breach; by a credit sanction: not a new breach).
import { Types } from 'mongoose';
import { decodeKeyCursor, pageByKey } from '../../platform/pagination';
import { escapeRegex } from '../../platform/search';
import type { Actor } from '../../platform/auth';
import { now, platform } from '../../platform/context';
import { ConflictError, NotFoundError } from '../../platform/errors';
import { QuoteWithdrawnAfterPublication } from '../../events/quotation';
import { msg } from '../../platform/messages';
import { withCommand, type UnitOfWork } from '../../platform/unit-of-work';
import { trusted } from '../../platform/mongo';
import { creditBadges } from '../credit';
import { Listing, QuoteEvent, type ListingRecord } from './quotation.model';
import type { ListingQueryInput } from './quotation.schemas';

function current(at: Date): Record<string, unknown> {
  return { status: 'listed', expiresAt: trusted({ $gt: at }), publishedAt: trusted({ $lte: at }) };
}

/**
 * The listing price a distributor currently offers for a drug (the most recently published one when
 * several rounds listed it), or null when it has no current listing for the drug.
 */
export async function findListingEntry(drugId: string | Types.ObjectId, distributorOrgId: string | Types.ObjectId, at: Date = now()): Promise<{ listingId: string; roundId: string; unitPriceFen: number; expiresAt: Date } | null> {
  if (!Types.ObjectId.isValid(String(drugId)) || !Types.ObjectId.isValid(String(distributorOrgId))) return null;
  const row = await Listing.findOne({ drugId: new Types.ObjectId(String(drugId)), distributorOrgId: new Types.ObjectId(String(distributorOrgId)), ...current(at) }, { roundId: 1, unitPriceFen: 1, expiresAt: 1 })
    .sort({ publishedAt: -1 })
    .lean<ListingRecord>();
  return row ? { listingId: String(row._id), roundId: String(row.roundId), unitPriceFen: row.unitPriceFen, expiresAt: row.expiresAt } : null;
}

export interface ListingEntryView {
  listingId: string;
  roundId: string;
  roundNo: string;
  lineId: string;
  drugId: string;
  distributorOrgId: string;
  distributorName: string;
  unitPriceFen: number;
  referenceFen: number;
  reductionBp: number;
  rank: number;
  publishedAt: Date;
  expiresAt: Date;
}

function entryView(r: ListingRecord): ListingEntryView {
  return {
    listingId: String(r._id),
    roundId: String(r.roundId),
    roundNo: r.roundNo,
    lineId: String(r.lineId),
    drugId: String(r.drugId),
    distributorOrgId: String(r.distributorOrgId),
    distributorName: r.distributorName,
    unitPriceFen: r.unitPriceFen,
    referenceFen: r.referenceFen,
    reductionBp: r.reductionBp,
    rank: r.rank,
    publishedAt: r.publishedAt,
    expiresAt: r.expiresAt,
  };
}

/** Every current listing entry for a drug, cheapest first (one per distributor: its latest round's price). */
export async function listingsForDrug(drugId: string | Types.ObjectId, at: Date = now()): Promise<ListingEntryView[]> {
  if (!Types.ObjectId.isValid(String(drugId))) return [];
  const rows = await Listing.find({ drugId: new Types.ObjectId(String(drugId)), ...current(at) }).sort({ publishedAt: -1 }).lean<ListingRecord[]>();
  const latest = new Map<string, ListingRecord>();
  for (const r of rows) if (!latest.has(String(r.distributorOrgId))) latest.set(String(r.distributorOrgId), r);
  return [...latest.values()].sort((a, b) => a.unitPriceFen - b.unitPriceFen || a.quotedAt.getTime() - b.quotedAt.getTime()).map(entryView);
}

/**
 * Hospitals (and the operator) browse the current listing by drug: per drug every distributor's
 * price, the reduction against reference, and the distributor's credit grade and risk warning.
 */
/**
 * Current listings grouped by drug, a page of drugs at a time (by name, then id): the page's drugs
 * come from one grouped read, then only their entries are loaded.
 */
export async function browseListings(actor: Actor, q: ListingQueryInput) {
  const at = now();
  const filter: Record<string, unknown> = current(at);
  if (q.drugId) filter.drugId = new Types.ObjectId(q.drugId);
  if (q.roundId) filter.roundId = new Types.ObjectId(q.roundId);
  if (q.q) {
    const pattern = escapeRegex(q.q);
    filter.$or = [{ 'drug.genericNameZh': trusted({ $regex: pattern, $options: 'i' }) }, { 'drug.genericNameEn': trusted({ $regex: pattern, $options: 'i' }) }];
  }
  const after = q.cursor ? decodeKeyCursor(q.cursor) : undefined;
  const drugPage = await Listing.aggregate<{ _id: Types.ObjectId; name: string }>([
    { $match: filter },
    { $group: { _id: '$drugId', name: { $first: '$drug.genericNameZh' } } },
    ...(after ? [{ $match: { $or: [{ name: { $gt: after.key } }, { name: after.key, _id: { $gt: after.id } }] } }] : []),
    { $sort: { name: 1, _id: 1 } },
    { $limit: q.limit + 1 },
  ]);
  const page = pageByKey(drugPage, q.limit, (g) => g.name);
  const order = new Map(page.rows.map((g, i) => [String(g._id), i]));
  const rows = page.rows.length ? await Listing.find({ ...filter, drugId: trusted({ $in: page.rows.map((g) => g._id) }) }).sort({ publishedAt: -1 }).limit(5000).lean<ListingRecord[]>() : [];
  const byDrug = new Map<string, { drugId: string; drug: ListingRecord['drug']; referenceFen: number; entries: Map<string, ListingRecord> }>();
  for (const r of rows) {
    const key = String(r.drugId);
    const group = byDrug.get(key) ?? { drugId: key, drug: r.drug, referenceFen: r.referenceFen, entries: new Map() };
    if (!group.entries.has(String(r.distributorOrgId))) group.entries.set(String(r.distributorOrgId), r);
    byDrug.set(key, group);
  }
  const orgIds = [...new Set(rows.map((r) => String(r.distributorOrgId)))];
  const badges = orgIds.length ? await creditBadges(orgIds) : new Map();
  const drugs = [...byDrug.values()]
    .sort((a, b) => (order.get(a.drugId) ?? 0) - (order.get(b.drugId) ?? 0))
    .map((g) => {
      const entries = [...g.entries.values()].sort((a, b) => a.unitPriceFen - b.unitPriceFen || a.quotedAt.getTime() - b.quotedAt.getTime());
      return {
        drugId: g.drugId,
        drug: g.drug,
        referenceFen: g.referenceFen,
        bestPriceFen: entries[0]?.unitPriceFen ?? null,
        entries: entries.map((e, i) => {
          const badge = badges.get(String(e.distributorOrgId));
          return {
            ...entryView(e),
            position: i + 1,
            publishedAt: e.publishedAt.toISOString(),
            expiresAt: e.expiresAt.toISOString(),
            credit: badge ? { grade: badge.grade, score: badge.score, riskWarning: badge.riskWarning, suspended: badge.suspended } : null,
          };
        }),
      };
    });
  void actor;
  return { data: drugs, nextCursor: page.nextCursor };
}

/** A distributor's own listing entries (current and past). */
export async function myListings(actor: Actor) {
  const rows = await Listing.find({ distributorOrgId: new Types.ObjectId(actor.orgId) }).sort({ publishedAt: -1, 'drug.genericNameZh': 1 }).limit(2000).lean<ListingRecord[]>();
  const at = now();
  return {
    data: rows.map((r) => ({
      ...entryView(r),
      publishedAt: r.publishedAt.toISOString(),
      expiresAt: r.expiresAt.toISOString(),
      drug: r.drug,
      roundTitle: r.roundTitle,
      status: r.status === 'listed' && r.expiresAt.getTime() <= at.getTime() ? 'expired' : r.status,
      withdrawnAt: r.withdrawnAt?.toISOString() ?? null,
      withdrawReason: r.withdrawReason ?? null,
    })),
  };
}

/**
 * A distributor withdraws its published listing entry. Hospitals can no longer order from it, and
 * the fact is recorded once as a domain event the credit module turns into a breach.
 */
export async function withdrawListing(actor: Actor, listingId: string, reason: string) {
  const at = now();
  const row = Types.ObjectId.isValid(listingId) ? await Listing.findOne({ _id: new Types.ObjectId(listingId), distributorOrgId: new Types.ObjectId(actor.orgId) }).lean<ListingRecord>() : null;
  if (!row) throw new NotFoundError({ code: 'LISTING_NOT_FOUND', message: msg('errorCodes.LISTING_NOT_FOUND') });
  if (row.status !== 'listed' || row.expiresAt.getTime() <= at.getTime()) {
    throw new ConflictError({ code: 'LISTING_NOT_ACTIVE', message: msg(row.status === 'listed' ? 'errorCodes.LISTING_EXPIRED' : 'errorCodes.LISTING_NOT_ACTIVE') });
  }
  await withCommand(actor, async (uow) => {
    const session = uow.session;
    const res = await Listing.updateOne({ _id: row._id, status: 'listed' }, { $set: { status: 'withdrawn', withdrawnAt: at, withdrawReason: reason } }, { session });
    if (res.modifiedCount !== 1) throw new ConflictError({ code: 'LISTING_NOT_ACTIVE', message: msg('errorCodes.LISTING_NOT_ACTIVE_2') });
    uow.audit({ action: 'listing.withdraw', targetType: 'listing', targetId: listingId, summary: msg('quotation.audit.listingWithdrawn', { drug: row.drug.genericNameZh, no: row.roundNo, reason }) });
    await QuoteEvent.create([{ roundId: row.roundId, at, type: 'listing_withdrawn', lineId: row.lineId, distributorOrgId: row.distributorOrgId, distributorName: row.distributorName, alias: row.alias, userId: new Types.ObjectId(actor.id), quoteId: row.quoteId, priceFen: row.unitPriceFen, message: reason }], { session });
    uow.emit(
      QuoteWithdrawnAfterPublication,
      {
        roundId: String(row.roundId),
        roundNo: row.roundNo,
        lineId: String(row.lineId),
        quoteId: String(row.quoteId),
        listingId: String(row._id),
        distributorOrgId: String(row.distributorOrgId),
        drugId: String(row.drugId),
        drugName: row.drug.genericNameZh,
        at: at.toISOString(),
        reason,
      },
      { key: `quote-withdrawn-after-publication:${String(row.quoteId)}` },
    );
  });
  return { listingId, status: 'withdrawn' as const, withdrawnAt: at.toISOString() };
}

/** Withdraws every current listing entry of a distributor (a credit sanction), in the caller's unit of work; returns how many. */
export async function withdrawListingsOf(uow: UnitOfWork, distributorOrgId: string, reason: string): Promise<number> {
  const res = await Listing.updateMany(
    { distributorOrgId: new Types.ObjectId(distributorOrgId), status: 'listed' },
    { $set: { status: 'withdrawn', withdrawnAt: uow.at, withdrawReason: reason } },
    { session: uow.session },
  );
  if (res.modifiedCount > 0) {
    uow.audit({ action: 'listing.withdraw_all', targetType: 'organisation', targetId: distributorOrgId, summary: msg('quotation.audit.listingsWithdrawn', { count: res.modifiedCount, reason }) });
  }
  return res.modifiedCount;
}
