// The announcement of a published round (挂网结果公告): Chinese text with the embedded CJK font, the
// listing per line with prices and reductions, and the report's summary. Same round → same bytes.
import { Types } from 'mongoose';
import type { Actor } from '../../platform/auth';
import { ConflictError, NotFoundError } from '../../platform/errors';
import { renderPdf } from '../../platform/pdf';
import { formatPercentBp } from '../../platform/view-helpers/formatters';
import { Listing, Round, type ListingRecord, type RoundRecord } from './quotation.model';
import { msg } from '../../platform/messages';

const VISIBILITY_ZH = { rank: '显示排名', best: '显示最低价', sealed: '密封报价' } as const;

/** The announcement PDF of a published round (operator and hospitals). */
export async function announcementPdf(actor: Actor, roundId: string): Promise<{ filename: string; body: Buffer }> {
  const round = Types.ObjectId.isValid(roundId) ? await Round.findById(roundId).lean<RoundRecord>() : null;
  if (!round || round.status === 'draft' || !['operator', 'pharmacist', 'hospital_finance'].includes(actor.role)) {
    throw new NotFoundError({ code: 'ROUND_NOT_FOUND', message: msg('errorCodes.ROUND_NOT_FOUND') });
  }
  if (round.status !== 'published' && round.status !== 'expired') {
    throw new ConflictError({ code: 'ROUND_NOT_PUBLISHED', message: msg('errorCodes.ROUND_NOT_PUBLISHED_2') });
  }
  const listing = await Listing.find({ roundId: round._id }).sort({ lineId: 1, rank: 1 }).lean<ListingRecord[]>();
  const report = round.report!;
  const body = await renderPdf(
    { title: `${round.title} 挂网结果公告`, subject: `${round.no} 短缺药品报价结果`, date: round.publishedAt!, lang: 'zh' },
    (_doc, kit) => {
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
          ['品种数', String(report.overall.lineCount)],
          ['有报价品种', String(report.overall.quotedLineCount)],
          ['有效报价数', String(report.overall.quoteCount)],
          ['参与企业数', String(report.overall.distributorCount)],
          ['挂网发布', kit.datetime(round.publishedAt)],
          ['挂网有效期至', kit.date(round.listingExpiresAt)],
        ],
        { columns: 2 },
      );
      kit.heading('挂网目录', 2);
      const rows: string[][] = [];
      for (const line of round.lines) {
        const entries = listing.filter((e) => String(e.lineId) === String(line._id));
        const drug = `${line.drug.genericNameZh}\n${line.drug.specification} · ${line.drug.packUnit}\n${line.drug.manufacturer}`;
        if (entries.length === 0) {
          rows.push([String(line.no), drug, kit.money(line.referenceFen), '无有效报价', '—', '—']);
          continue;
        }
        entries.forEach((e, i) => {
          rows.push([i === 0 ? String(line.no) : '', i === 0 ? drug : '', i === 0 ? kit.money(line.referenceFen) : '', `${e.rank}. ${e.distributorName}`, kit.money(e.unitPriceFen), formatPercentBp(e.reductionBp)]);
        });
      }
      kit.table({
        columns: [
          { header: '序号', width: 34, align: 'center' },
          { header: '药品（通用名 / 规格 / 生产企业）', width: 150 },
          { header: '参考价', width: 66, align: 'right' },
          { header: '配送企业' },
          { header: '挂网价', width: 66, align: 'right' },
          { header: '降幅', width: 48, align: 'right' },
        ],
        rows,
      });
      kit.heading('结果汇总', 2);
      const clearly = round.lines.filter((l) => report.overall.linesClearlyBelowReference.includes(String(l._id)));
      const none = round.lines.filter((l) => report.overall.linesWithoutQuotes.includes(String(l._id)));
      kit.keyValues([
        ['平均降幅', report.overall.averageReductionBp === null ? '—' : formatPercentBp(report.overall.averageReductionBp)],
        ['参考价合计', kit.money(report.overall.totalReferenceFen)],
        ['最低价合计', kit.money(report.overall.totalBestFen)],
        [`明显低于参考价（降幅 ≥ ${formatPercentBp(report.overall.clearlyBelowBp)}）`, clearly.length ? clearly.map((l) => l.drug.genericNameZh).join('、') : '无'],
        ['无报价品种', none.length ? none.map((l) => l.drug.genericNameZh).join('、') : '无'],
      ]);
      kit.space();
      kit.paragraph('挂网企业须按承诺向本市所有医疗机构无差别配送；挂网后撤回报价的，按信用管理规定记录违约。', { muted: true });
    },
  );
  return { filename: `${round.no}-announcement.pdf`, body };
}
