// Open data: a published round as an OCDS 1.1 release package (tender, bids summary via the bids
// extension, one award per listed distributor and line). Amounts are CNY decimals as OCDS expects.
import { Types } from 'mongoose';
import { platform } from '../../platform/context';
import { ConflictError, NotFoundError } from '../../platform/errors';
import { fenToYuanString } from '../../platform/money';
import { Listing, Round, type ListingRecord, type RoundRecord } from './quotation.model';
import { msg } from '../../platform/messages';
import { getVbpSettings } from '../vbp';


function cny(fen: number) {
  return { amount: Number(fenToYuanString(fen)), currency: 'CNY' };
}

/** The OCDS release package of a published (or expired) round. */
export async function ocdsReleasePackage(roundId: string) {
  const round = Types.ObjectId.isValid(roundId) ? await Round.findById(roundId).lean<RoundRecord>() : null;
  if (!round || round.status === 'draft') throw new NotFoundError({ code: 'ROUND_NOT_FOUND', message: msg('errorCodes.ROUND_NOT_FOUND') });
  if (round.status !== 'published' && round.status !== 'expired') {
    throw new ConflictError({ code: 'ROUND_NOT_PUBLISHED', message: msg('errorCodes.ROUND_NOT_PUBLISHED') });
  }
  const listing = await Listing.find({ roundId: round._id }).sort({ lineId: 1, rank: 1 }).lean<ListingRecord[]>();
  const publishedAt = round.publishedAt!.toISOString();
  const base = platform().config.publicUrl;
  const suppliers = new Map<string, string>();
  for (const l of listing) suppliers.set(String(l.distributorOrgId), l.distributorName);
  // NOTE: one publisher, one prefix: the operator's OCDS setting, shared with the VBP tenders.
  const { ocds } = await getVbpSettings();
  const ocid = `${ocds.ocidPrefix}-${round.no}`;
  const release = {
    ocid,
    id: `${round.no}-award-${round.publishedAt!.getTime()}`,
    date: publishedAt,
    tag: ['tender', 'award'],
    initiationType: 'tender',
    language: 'zh',
    parties: [
      { id: 'GPO', name: '药品集团采购平台', roles: ['procuringEntity', 'buyer'] },
      ...[...suppliers].map(([id, name]) => ({ id, name, roles: ['tenderer', 'supplier'] })),
    ],
    buyer: { id: 'GPO', name: '药品集团采购平台' },
    tender: {
      id: round.no,
      title: round.title,
      description: round.description ?? '短缺药品报价（挂网）',
      status: 'complete',
      procuringEntity: { id: 'GPO', name: '药品集团采购平台' },
      procurementMethod: 'open',
      procurementMethodDetails: `短缺药品报价轮次（可见性：${round.visibility}；最小降幅 ${round.minDecrementBp} 基点）`,
      mainProcurementCategory: 'goods',
      awardCriteria: 'priceOnly',
      submissionMethod: ['electronicAuction'],
      tenderPeriod: { startDate: round.opensAt.toISOString(), endDate: round.closesAt.toISOString() },
      numberOfTenderers: suppliers.size,
      tenderers: [...suppliers].map(([id, name]) => ({ id, name })),
      items: round.lines.map((l) => ({
        id: String(l._id),
        description: `${l.drug.genericNameZh} ${l.drug.specification}（${l.drug.manufacturer}）`,
        classification: { scheme: 'CN-NHSA', id: l.drug.nhsaCode, description: l.drug.genericNameZh },
        additionalClassifications: [{ scheme: 'CN-YPBWM', id: l.drug.standardCode, description: '药品本位码' }],
        unit: { name: l.drug.packUnit, value: cny(l.referenceFen) },
        dosageForm: l.drug.dosageForm,
      })),
    },
    bids: {
      statistics: [
        { id: 'validBids', measure: 'validBids', value: listing.length, date: publishedAt },
        ...round.lines.map((l) => ({ id: `validBids-${String(l._id)}`, measure: 'validBids', value: listing.filter((e) => String(e.lineId) === String(l._id)).length, date: publishedAt, relatedLot: String(l._id) })),
      ],
      details: listing.map((e) => ({
        id: String(e.quoteId),
        date: e.quotedAt.toISOString(),
        status: 'valid',
        tenderers: [{ id: String(e.distributorOrgId), name: e.distributorName }],
        value: cny(e.unitPriceFen),
        relatedLots: [String(e.lineId)],
      })),
    },
    awards: listing.map((e) => ({
      id: `${String(e.lineId)}-${String(e.distributorOrgId)}`,
      title: `${e.drug.genericNameZh} 挂网（第 ${e.rank} 名）`,
      status: e.status === 'listed' ? 'active' : e.status === 'withdrawn' ? 'cancelled' : 'unsuccessful',
      date: publishedAt,
      // NOTE: an award's value is its total; a listing fixes a unit price, not a quantity, so the
      // price is the item's unit value and the award carries no value.
      suppliers: [{ id: String(e.distributorOrgId), name: e.distributorName }],
      items: [{ id: String(e.lineId), description: e.drug.genericNameZh, unit: { name: e.drug.packUnit, value: cny(e.unitPriceFen) } }],
      contractPeriod: { startDate: e.publishedAt.toISOString(), endDate: e.expiresAt.toISOString() },
      relatedBid: String(e.quoteId),
    })),
  };
  return {
    uri: `${base}/api/v1/rounds/${roundId}/ocds`,
    version: '1.1',
    extensions: ['https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/v1.1.5/extension.json'],
    publishedDate: publishedAt,
    publisher: { name: '药品集团采购平台' },
    license: 'https://creativecommons.org/licenses/by/4.0/',
    releases: [release],
  };
}
