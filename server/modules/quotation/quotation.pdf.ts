// Loads a published round for its announcement PDF (who may see it, the listing) and renders it in
// the PDF workers (layout in quotation.documents.ts). Same round → same bytes.
import { Types } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { ConflictError, NotFoundError } from '../../platform/errors';
import type { Lang } from '../../platform/i18n';
import { renderDocument } from '../../platform/pdf-pool';
import { AnnouncementDocument, type AnnouncementData } from './quotation.documents';
import { Listing, Round, type ListingRecord, type RoundRecord } from './quotation.model';
import { msg } from '../../platform/messages';

/** The announcement PDF of a published round (operator and hospitals). */
export async function announcementPdf(actor: Actor, roundId: string, lang: Lang = 'zh'): Promise<{ filename: string; body: Buffer }> {
  const round = Types.ObjectId.isValid(roundId) ? await Round.findById(roundId).lean<RoundRecord>() : null;
  if (!round || round.status === 'draft' || !['operator', 'pharmacist', 'hospital_finance'].includes(actor.role)) {
    throw new NotFoundError({ code: 'ROUND_NOT_FOUND', message: msg('errorCodes.ROUND_NOT_FOUND') });
  }
  if (round.status !== 'published' && round.status !== 'expired') {
    throw new ConflictError({ code: 'ROUND_NOT_PUBLISHED', message: msg('errorCodes.ROUND_NOT_PUBLISHED_2') });
  }
  const listing = await Listing.find({ roundId: round._id }).sort({ lineId: 1, rank: 1 }).lean<ListingRecord[]>();
  const report = round.report!;
  const data: AnnouncementData = {
    no: round.no,
    title: round.title,
    visibility: round.visibility,
    opensAt: round.opensAt.toISOString(),
    closesAt: round.closesAt.toISOString(),
    publishedAt: round.publishedAt!.toISOString(),
    ...(round.listingExpiresAt ? { listingExpiresAt: round.listingExpiresAt.toISOString() } : {}),
    lines: round.lines.map((line) => ({
      no: line.no,
      genericNameZh: line.drug.genericNameZh,
      specification: line.drug.specification,
      packUnit: line.drug.packUnit,
      manufacturer: line.drug.manufacturer,
      referenceFen: line.referenceFen,
      entries: listing
        .filter((e) => String(e.lineId) === String(line._id))
        .map((e) => ({ rank: e.rank, distributorName: e.distributorName, unitPriceFen: e.unitPriceFen, reductionBp: e.reductionBp })),
    })),
    overall: {
      lineCount: report.overall.lineCount,
      quotedLineCount: report.overall.quotedLineCount,
      quoteCount: report.overall.quoteCount,
      distributorCount: report.overall.distributorCount,
      averageReductionBp: report.overall.averageReductionBp,
      totalReferenceFen: report.overall.totalReferenceFen,
      totalBestFen: report.overall.totalBestFen,
      clearlyBelowBp: report.overall.clearlyBelowBp,
    },
    clearlyBelowNames: round.lines.filter((l) => report.overall.linesClearlyBelowReference.includes(String(l._id))).map((l) => l.drug.genericNameZh),
    withoutQuotesNames: round.lines.filter((l) => report.overall.linesWithoutQuotes.includes(String(l._id))).map((l) => l.drug.genericNameZh),
  };
  return { filename: `${round.no}-announcement.pdf`, body: await renderDocument(AnnouncementDocument, data, lang) };
}
