// The round's audit trail (every quote event with server time), its CSV export, and the operator's
// replay of the ranking history rebuilt from the stored events alone.
import { hasMessage, t, type Lang } from '../../platform/i18n';
import { Types } from 'mongoose';
import { NotFoundError } from '../../platform/errors';
import { fenToYuanString } from '../../platform/money';
import { csvExport } from '../../platform/tabular';
import { QuoteEvent, Round, type QuoteEventRecord, type RoundRecord } from './quotation.model';
import { rankQuotes } from './quotation.rules';
import { msg } from '../../platform/messages';

async function roundOrThrow(roundId: string): Promise<RoundRecord> {
  const round = Types.ObjectId.isValid(roundId) ? await Round.findById(roundId, { report: 0 }).lean<RoundRecord>() : null;
  if (!round) throw new NotFoundError({ code: 'ROUND_NOT_FOUND', message: msg('errorCodes.ROUND_NOT_FOUND') });
  return round;
}

async function eventsOf(roundId: Types.ObjectId): Promise<QuoteEventRecord[]> {
  return QuoteEvent.find({ roundId }).sort({ at: 1, _id: 1 }).lean<QuoteEventRecord[]>();
}

export function eventView(e: QuoteEventRecord) {
  return {
    id: String(e._id),
    at: e.at.toISOString(),
    type: e.type,
    seq: e.seq ?? null,
    lineId: e.lineId ? String(e.lineId) : null,
    lineNo: e.lineNo ?? null,
    alias: e.alias ?? null,
    distributorName: e.distributorName ?? null,
    priceFen: e.priceFen ?? null,
    previousPriceFen: e.previousPriceFen ?? null,
    code: e.code ?? null,
    message: e.message ?? null,
    closesAt: e.closesAt?.toISOString() ?? null,
    extensionNumber: e.extensionNumber ?? null,
    channel: e.channel ?? null,
  };
}

/** Operator: every event of a round in server-time order. */
export async function roundEvents(roundId: string) {
  const round = await roundOrThrow(roundId);
  return { round: { id: roundId, no: round.no, title: round.title }, data: (await eventsOf(round._id)).map(eventView) };
}

/** Milliseconds-precise ISO time in Asia/Shanghai, e.g. 2026-11-23T09:30:00.123+08:00. */
function shanghaiIso(d: Date): string {
  return `${new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 23)}+08:00`;
}

/** Operator: the audit trail as CSV (UTF-8 with BOM, Chinese headers). */
export async function roundEventsCsv(roundId: string, lang: Lang = 'zh'): Promise<{ filename: string; body: Buffer }> {
  const round = await roundOrThrow(roundId);
  const lines = new Map(round.lines.map((l) => [String(l._id), l]));
  const rows = (await eventsOf(round._id)).map((e) => {
    const line = e.lineId ? lines.get(String(e.lineId)) : undefined;
    return [
      shanghaiIso(e.at),
      e.seq ?? '',
      hasMessage(lang, `quotation.events.${e.type}`) ? t(lang, `quotation.events.${e.type}`) : e.type,
      line?.no ?? '',
      line?.drug.genericNameZh ?? '',
      e.alias ?? '',
      e.distributorName ?? '',
      e.priceFen == null ? '' : fenToYuanString(e.priceFen),
      e.previousPriceFen == null ? '' : fenToYuanString(e.previousPriceFen),
      e.code ?? '',
      e.code && hasMessage(lang, `errorCodes.${e.code}`) ? t(lang, `errorCodes.${e.code}`, {}).replace(/\s*[(（]?\{\w+\}[)）]?/g, '') : (e.message ?? ''),
      e.closesAt ? shanghaiIso(e.closesAt) : '',
      e.channel ?? '',
    ];
  });
  const header = lang === 'zh'
    ? ['服务器时间', '序号', '事件', '行号', '药品', '代号', '配送企业', '报价（元）', '原报价（元）', '拒绝代码', '说明', '截止时间', '渠道']
    : ['Server time', 'Seq', 'Event', 'Line', 'Drug', 'Alias', 'Distributor', 'Price (CNY)', 'Previous price (CNY)', 'Refusal code', 'Note', 'Closes at', 'Channel'];
  return { filename: `${round.no}-events.csv`, body: csvExport(header, rows) };
}

export interface ReplayStep {
  seq: number | null;
  at: string;
  type: string;
  lineId: string | null;
  lineNo: number | null;
  alias: string | null;
  priceFen: number | null;
  closesAt: string | null;
  /** The line's ranking right after this event (by alias). */
  ranking: { alias: string; priceFen: number; rank: number }[];
}

/**
 * Operator: the ranking history of a round, replayed from its events: after each accepted submit,
 * revision or withdrawal the ranking of that line; extensions and the close are steps too.
 */
export async function replayRound(roundId: string, onlyLineId?: string) {
  const round = await roundOrThrow(roundId);
  const state = new Map<string, Map<string, { distributorId: string; priceFen: number; receivedAt: Date; seq: number }>>();
  const steps: ReplayStep[] = [];
  for (const e of await eventsOf(round._id)) {
    const lineKey = e.lineId ? String(e.lineId) : null;
    if (['submitted', 'revised', 'withdrawn'].includes(e.type) && lineKey && e.alias) {
      const line = state.get(lineKey) ?? new Map();
      if (e.type === 'withdrawn') line.delete(e.alias);
      else line.set(e.alias, { distributorId: e.alias, priceFen: e.priceFen!, receivedAt: e.at, seq: e.seq ?? 0 });
      state.set(lineKey, line);
    } else if (!['extended', 'closed', 'opened', 'published', 'cancelled'].includes(e.type)) continue;
    if (onlyLineId && lineKey && lineKey !== onlyLineId) continue;
    const ranking = lineKey ? rankQuotes([...(state.get(lineKey)?.values() ?? [])]).map((q) => ({ alias: q.distributorId, priceFen: q.priceFen, rank: q.rank })) : [];
    steps.push({
      seq: e.seq ?? null,
      at: e.at.toISOString(),
      type: e.type,
      lineId: lineKey,
      lineNo: e.lineNo ?? null,
      alias: e.alias ?? null,
      priceFen: e.priceFen ?? null,
      closesAt: e.closesAt?.toISOString() ?? null,
      ranking,
    });
  }
  return { round: { id: roundId, no: round.no, title: round.title, status: round.status, lines: round.lines.map((l) => ({ lineId: String(l._id), no: l.no, name: l.drug.genericNameZh, referenceFen: l.referenceFen })) }, steps };
}
