// Messages a person reads (notifications, audit summaries, error texts) are stored as a catalogue key
// with parameters and rendered in the reader's language when read. Parameters that depend on the
// language (money, times, other messages) are typed so the renderer formats them per language, in
// Asia/Shanghai.
import { z } from 'zod';
import { t, type Lang } from './i18n';
import { formatDate, formatDateTime, formatMoney } from './view-helpers/formatters';

export type MessageParam =
  | string
  | number
  | { fen: number }
  | { date: string }
  | { datetime: string }
  | { msg: string; params?: MessageParams }
  | { list: string[] };
export type MessageParams = { [name: string]: MessageParam };

/** A catalogue key with its parameters. */
export interface Message {
  key: string;
  params?: MessageParams;
}

const Param: z.ZodType<MessageParam> = z.lazy(() =>
  z.union([
    z.string().max(2000),
    z.number(),
    z.object({ fen: z.number().int() }).strict(),
    z.object({ date: z.string() }).strict(),
    z.object({ datetime: z.string() }).strict(),
    z.object({ msg: z.string().max(200), params: z.record(z.string(), Param).optional() }).strict(),
    z.object({ list: z.array(z.string().max(200)).max(200) }).strict(),
  ]),
);

export const MessageParamsSchema = z.record(z.string(), Param);
export const MessageSchema = z.object({ key: z.string().min(1).max(200), params: MessageParamsSchema.optional() }).strict();

/** A message: `msg('orders.notice.accepted', { orderNo })`. */
export function msg(key: string, params?: MessageParams): Message {
  return params ? { key, params } : { key };
}

/** Money as a message parameter (formatted per language). */
export const fen = (amountFen: number): { fen: number } => ({ fen: amountFen });
/** An Asia/Shanghai calendar day as a message parameter. */
export const day = (at: Date): { date: string } => ({ date: at.toISOString() });
/** An Asia/Shanghai date and time as a message parameter. */
export const dateTime = (at: Date): { datetime: string } => ({ datetime: at.toISOString() });

function formatParam(lang: Lang, value: MessageParam): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if ('fen' in value) return formatMoney(value.fen, lang);
  if ('date' in value) return formatDate(value.date);
  if ('datetime' in value) return formatDateTime(value.datetime);
  if ('list' in value) return value.list.join(lang === 'zh' ? '、' : ', ');
  return renderMessage(lang, { key: value.msg, params: value.params });
}

/** The message in `lang` (falling back to Chinese), its parameters formatted for that language. */
export function renderMessage(lang: Lang, message: Message): string {
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.params ?? {})) vars[name] = formatParam(lang, value);
  return t(lang, message.key, vars);
}
