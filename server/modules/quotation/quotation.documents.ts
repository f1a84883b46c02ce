// The announcement of a published round (挂网结果公告): Chinese text with the embedded CJK font, the
// listing per line with prices and reductions, and the report's summary. A pure layout from plain
// data, rendered in a PDF worker. Same round → same bytes.
import { t } from '../../platform/i18n';
import { definePdf } from '../../platform/pdf-documents';
import { formatPercentBp } from '../../platform/view-helpers/formatters';

export interface AnnouncementData {
  no: string;
  title: string;
  /** rank | best | sealed */
  visibility: 'rank' | 'best' | 'sealed';
  /** ISO instants */
  opensAt: string;
  closesAt: string;
  publishedAt: string;
  listingExpiresAt?: string;
  lines: {
    no: number;
    genericNameZh: string;
    specification: string;
    packUnit: string;
    manufacturer: string;
    referenceFen: number;
    /** the listing of this line, best price first */
    entries: { rank: number; distributorName: string; unitPriceFen: number; reductionBp: number }[];
  }[];
  overall: {
    lineCount: number;
    quotedLineCount: number;
    quoteCount: number;
    distributorCount: number;
    averageReductionBp: number | null;
    totalReferenceFen: number;
    totalBestFen: number;
    clearlyBelowBp: number;
  };
  /** generic names of the lines quoted clearly below the reference price, and of those without quotes */
  clearlyBelowNames: string[];
  withoutQuotesNames: string[];
}

export const AnnouncementDocument = definePdf<AnnouncementData>('quotation.announcement', (round, lang) => {
  const tr = (key: string, vars?: Record<string, unknown>) => t(lang, `quotation.pdf.${key}`, vars);
  const list = (names: string[]) => (names.length ? names.join(lang === 'zh' ? '、' : ', ') : tr('none'));
  return {
    meta: { title: tr('title', { title: round.title }), subject: tr('subject', { no: round.no }), date: new Date(round.publishedAt) },
    draw(kit) {
      const overall = round.overall;
      kit.heading(tr('heading'));
      kit.paragraph(tr('intro', { title: round.title, no: round.no, opensAt: kit.datetime(round.opensAt), closesAt: kit.datetime(round.closesAt) }));
      kit.keyValues(
        [
          [tr('roundNo'), round.no],
          [tr('mode'), tr(`visibility.${round.visibility}`)],
          [tr('opensAt'), kit.datetime(round.opensAt)],
          [tr('closesAt'), kit.datetime(round.closesAt)],
          [tr('lineCount'), String(overall.lineCount)],
          [tr('quotedLineCount'), String(overall.quotedLineCount)],
          [tr('quoteCount'), String(overall.quoteCount)],
          [tr('distributorCount'), String(overall.distributorCount)],
          [tr('publishedAt'), kit.datetime(round.publishedAt)],
          [tr('listingExpiresAt'), kit.date(round.listingExpiresAt)],
        ],
        { columns: 2 },
      );
      kit.heading(tr('listing'), 2);
      const rows: string[][] = [];
      for (const line of round.lines) {
        const drug = `${line.genericNameZh}\n${line.specification} · ${line.packUnit}\n${line.manufacturer}`;
        if (line.entries.length === 0) {
          rows.push([String(line.no), drug, kit.money(line.referenceFen), tr('noQuotes'), '—', '—']);
          continue;
        }
        line.entries.forEach((e, i) => {
          rows.push([i === 0 ? String(line.no) : '', i === 0 ? drug : '', i === 0 ? kit.money(line.referenceFen) : '', `${e.rank}. ${e.distributorName}`, kit.money(e.unitPriceFen), formatPercentBp(e.reductionBp)]);
        });
      }
      kit.table({
        columns: [
          { header: tr('columns.no'), align: 'center' },
          { header: tr('columns.drug') },
          { header: tr('columns.reference'), align: 'right' },
          { header: tr('columns.distributor') },
          { header: tr('columns.price'), align: 'right' },
          { header: tr('columns.reduction'), align: 'right' },
        ],
        rows,
      });
      kit.heading(tr('summary'), 2);
      kit.keyValues([
        [tr('averageReduction'), overall.averageReductionBp === null ? '—' : formatPercentBp(overall.averageReductionBp)],
        [tr('totalReference'), kit.money(overall.totalReferenceFen)],
        [tr('totalBest'), kit.money(overall.totalBestFen)],
        [tr('clearlyBelow', { threshold: formatPercentBp(overall.clearlyBelowBp) }), list(round.clearlyBelowNames)],
        [tr('withoutQuotes'), list(round.withoutQuotesNames)],
      ]);
      kit.space();
      kit.paragraph(tr('footnote'), { muted: true });
    },
  };
});
