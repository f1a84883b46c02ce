// The announcement of a published round (挂网结果公告): Chinese text with the embedded CJK font, the
// listing per line with prices and reductions, and the report's summary. A pure layout from plain
// data, rendered in a PDF worker. Same round → same bytes.
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

const VISIBILITY_ZH = { rank: '显示排名', best: '显示最低价', sealed: '密封报价' } as const;

export const AnnouncementDocument = definePdf<AnnouncementData>('quotation.announcement', (round) => ({
  meta: { title: `${round.title} 挂网结果公告`, subject: `${round.no} 短缺药品报价结果`, date: new Date(round.publishedAt) },
  draw(kit) {
    const overall = round.overall;
    kit.heading('短缺药品报价结果公告');
    kit.paragraph(
      `${round.title}（编号 ${round.no}）于 ${kit.datetime(round.opensAt)} 开始报价，${kit.datetime(round.closesAt)} 截止。` +
        `报价不得高于参考价，截止后全部有效报价按价格由低到高挂网，医疗机构可自主选择配送企业采购。现将挂网结果公告如下。`,
    );
    kit.keyValues(
      [
        ['轮次编号', round.no],
        ['报价方式', VISIBILITY_ZH[round.visibility]],
        ['报价开始', kit.datetime(round.opensAt)],
        ['报价截止', kit.datetime(round.closesAt)],
        ['品种数', String(overall.lineCount)],
        ['有报价品种', String(overall.quotedLineCount)],
        ['有效报价数', String(overall.quoteCount)],
        ['参与企业数', String(overall.distributorCount)],
        ['挂网发布', kit.datetime(round.publishedAt)],
        ['挂网有效期至', kit.date(round.listingExpiresAt)],
      ],
      { columns: 2 },
    );
    kit.heading('挂网目录', 2);
    const rows: string[][] = [];
    for (const line of round.lines) {
      const drug = `${line.genericNameZh}\n${line.specification} · ${line.packUnit}\n${line.manufacturer}`;
      if (line.entries.length === 0) {
        rows.push([String(line.no), drug, kit.money(line.referenceFen), '无有效报价', '—', '—']);
        continue;
      }
      line.entries.forEach((e, i) => {
        rows.push([i === 0 ? String(line.no) : '', i === 0 ? drug : '', i === 0 ? kit.money(line.referenceFen) : '', `${e.rank}. ${e.distributorName}`, kit.money(e.unitPriceFen), formatPercentBp(e.reductionBp)]);
      });
    }
    kit.table({
      columns: [
        { header: '序号', align: 'center' },
        { header: '药品（通用名 / 规格 / 生产企业）' },
        { header: '参考价', align: 'right' },
        { header: '配送企业' },
        { header: '挂网价', align: 'right' },
        { header: '降幅', align: 'right' },
      ],
      rows,
    });
    kit.heading('结果汇总', 2);
    kit.keyValues([
      ['平均降幅', overall.averageReductionBp === null ? '—' : formatPercentBp(overall.averageReductionBp)],
      ['参考价合计', kit.money(overall.totalReferenceFen)],
      ['最低价合计', kit.money(overall.totalBestFen)],
      [`明显低于参考价（降幅 ≥ ${formatPercentBp(overall.clearlyBelowBp)}）`, round.clearlyBelowNames.length ? round.clearlyBelowNames.join('、') : '无'],
      ['无报价品种', round.withoutQuotesNames.length ? round.withoutQuotesNames.join('、') : '无'],
    ]);
    kit.space();
    kit.paragraph('挂网企业须按承诺向本市所有医疗机构无差别配送；挂网后撤回报价的，按信用管理规定记录违约。', { muted: true });
  },
}));
