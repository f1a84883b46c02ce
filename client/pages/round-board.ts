// The live quotation board: follows one round over the page's socket, updates the cells the viewer
// may see as pushes arrive (no reloads), ticks the countdown against the server clock, and submits
// quotes with an acknowledgement. On (re)connect it re-sends `round:watch` and repaints from the
// answer, so a dropped connection never leaves a gap.
import type { RoundLineDelta, RoundLinesPayload } from '../../server/platform/realtime.events';
import { newIdempotencyKey } from '../lib/api';
import { formatDateTime, formatMoney } from '../lib/format';
import { pageLang } from '../lib/i18n';
import { getSocket } from '../lib/socket';
import { showToast } from '../lib/toast';

type Messages = Record<string, string>;

interface OwnQuote {
  quoteId: string;
  priceFen: number;
  receivedAt: string;
  status: 'active' | 'withdrawn';
  rank: number | null;
}

interface BoardLine {
  lineId: string;
  referenceFen: number;
  minDecrementFen: number;
  quoteCount?: number;
  bestPriceFen?: number | null;
  quotes?: { alias: string; priceFen: number; receivedAt: string; seq?: number; rank: number; distributorName?: string | null }[];
  own?: OwnQuote | null;
  nextMaxPriceFen?: number;
}

interface BoardState {
  round: { id: string; status: string; opensAt: string; closesAt: string; extensions: number; maxExtensions: number; serverNow: string; visibility: string };
  seq: number;
  viewer: { role: string; alias: string | null };
  lines: BoardLine[];
}

interface Timing {
  roundId: string;
  status: string;
  opensAt: string;
  closesAt: string;
  extensions: number;
  maxExtensions: number;
  serverNow: string;
  seq?: number;
}

type Ack<T> = { data?: T; error?: { code: string; message: string } };

function readJson<T>(id: string, fallback: T): T {
  try {
    return JSON.parse(document.getElementById(id)?.textContent ?? '') as T;
  } catch {
    return fallback;
  }
}

const root = document.querySelector<HTMLElement>('[data-board]');
const messages = readJson<Messages>('board-i18n', {});
let state = readJson<BoardState | null>('board-state', null);
const lang = pageLang();
const money = (fen: number | null | undefined) => (fen === null || fen === undefined ? '—' : formatMoney(fen, lang));
const msg = (key: string, vars: Record<string, string | number> = {}) => (messages[key] ?? key).replace(/\{(\w+)\}/g, (w, k: string) => (k in vars ? String(vars[k]) : w));

/** Clock offset: server time minus browser time, from the last state or timing push. */
let offsetMs = 0;
const lineSeq = new Map<string, number>();

function setOffset(serverNow: string): void {
  const server = Date.parse(serverNow);
  if (!Number.isNaN(server)) offsetMs = server - Date.now();
}

function row(lineId: string): HTMLTableRowElement | null {
  return document.querySelector<HTMLTableRowElement>(`tr[data-line-id="${CSS.escape(lineId)}"]`);
}

function cell(lineId: string, name: string): HTMLElement | null {
  return row(lineId)?.querySelector<HTMLElement>(`[data-cell="${name}"]`) ?? null;
}

function flash(lineId: string): void {
  const r = row(lineId);
  if (!r) return;
  r.classList.remove('is-updated');
  void r.offsetWidth;
  r.classList.add('is-updated');
}

function badge(text: string, tone: string): HTMLSpanElement {
  const span = document.createElement('span');
  span.className = `badge badge--${tone}`;
  span.textContent = text;
  return span;
}

function paintRanking(lineId: string, quotes: NonNullable<BoardLine['quotes']>): void {
  const target = cell(lineId, 'ranking');
  if (!target) return;
  target.replaceChildren();
  if (quotes.length === 0) {
    const none = document.createElement('span');
    none.className = 'muted';
    none.textContent = msg('noQuote');
    target.append(none);
    return;
  }
  const list = document.createElement('ol');
  list.className = 'ranking';
  for (const q of quotes) {
    const li = document.createElement('li');
    const price = document.createElement('span');
    price.className = 'mono';
    price.textContent = money(q.priceFen);
    const time = document.createElement('span');
    time.className = 'muted small';
    time.textContent = formatDateTime(q.receivedAt, true);
    li.append(badge(q.alias, 'neutral'), document.createTextNode(q.distributorName ? ` ${q.distributorName} ` : ' '), price, document.createTextNode(' '), time);
    list.append(li);
  }
  target.append(list);
}

function paintOperatorLine(lineId: string, quoteCount: number, bestPriceFen: number | null, quotes: NonNullable<BoardLine['quotes']>): void {
  const count = cell(lineId, 'count');
  if (count) count.textContent = String(quoteCount);
  const best = cell(lineId, 'best');
  if (best) best.textContent = money(bestPriceFen);
  paintRanking(lineId, quotes);
}

function paintOwn(lineId: string, own: OwnQuote | null, nextMaxPriceFen?: number): void {
  const price = cell(lineId, 'own-price');
  if (price) {
    price.replaceChildren(document.createTextNode(own ? money(own.priceFen) : msg('noQuote')));
    if (own?.status === 'withdrawn') price.append(document.createElement('br'), badge(msg('withdrawnStatus'), 'neutral'));
  }
  paintRank(lineId, own && own.status === 'active' ? own.rank : null, Boolean(own && own.status === 'active'));
  const form = row(lineId)?.querySelector<HTMLFormElement>('[data-quote-form]');
  if (form) {
    const withdraw = form.querySelector<HTMLButtonElement>('[data-withdraw]');
    if (withdraw) withdraw.hidden = !own || own.status !== 'active';
    if (nextMaxPriceFen !== undefined) {
      const input = form.querySelector<HTMLInputElement>('[data-price-input]');
      if (input) {
        input.dataset.nextMax = String(nextMaxPriceFen);
        input.placeholder = `≤ ${money(nextMaxPriceFen)}`;
      }
      const help = form.querySelector<HTMLElement>('[data-next-max-text]');
      if (help) help.textContent = (messages.maxAllowed ?? help.textContent ?? '').replace('{amount}', money(nextMaxPriceFen));
    }
  }
}

function paintRank(lineId: string, rank: number | null, hasActive: boolean): void {
  const target = cell(lineId, 'own-rank');
  if (!target) return;
  target.replaceChildren();
  if (rank !== null) target.append(badge(msg('rank', { rank }), rank === 1 ? 'success' : 'info'));
  else if (hasActive && state?.round.visibility === 'sealed') {
    const s = document.createElement('span');
    s.className = 'muted small';
    s.textContent = msg('sealed');
    target.append(s);
  } else target.textContent = '—';
}

function paintBest(lineId: string, bestPriceFen: number | null): void {
  const best = cell(lineId, 'best');
  if (best) best.textContent = money(bestPriceFen);
}

function paintTiming(t: Pick<Timing, 'status' | 'opensAt' | 'closesAt' | 'extensions' | 'serverNow'>): void {
  if (!root) return;
  root.dataset.status = t.status;
  const countdown = root.querySelector<HTMLElement>('[data-countdown]');
  if (countdown) {
    countdown.dataset.closesAt = t.closesAt;
    countdown.dataset.opensAt = t.opensAt;
  }
  const closesText = root.querySelector<HTMLElement>('[data-closes-at-text]');
  if (closesText) closesText.textContent = formatDateTime(t.closesAt, true);
  const ext = root.querySelector<HTMLElement>('[data-extensions]');
  if (ext) ext.textContent = String(t.extensions);
  const status = root.querySelector<HTMLElement>('[data-round-status] .badge');
  if (status && status.dataset.status !== t.status) {
    status.dataset.status = t.status;
    status.textContent = messages[`status_${t.status}`] ?? t.status;
  }
  setOffset(t.serverNow);
  tick();
}

/** The operator's copy of each line's ranking, re-ranked from each pushed quote (a delta). */
const operatorLines = new Map<string, NonNullable<BoardLine['quotes']>>();

type OperatorQuote = NonNullable<BoardLine['quotes']>[number];

/** The same order as the server's ranking: price, then earlier receipt, then lower sequence number. */
function rerank(quotes: OperatorQuote[]): OperatorQuote[] {
  return [...quotes]
    .sort((a, b) => a.priceFen - b.priceFen || Date.parse(a.receivedAt) - Date.parse(b.receivedAt) || (a.seq ?? 0) - (b.seq ?? 0))
    .map((q, i) => ({ ...q, rank: i + 1 }));
}

/** Applies one line of a `round:lines` push: the operator's quotes (re-ranked here), the best price, the viewer's own quote or rank. */
function applyLine(line: RoundLineDelta): void {
  if (line.quotes) {
    let quotes = operatorLines.get(line.lineId) ?? [];
    for (const { status, ...quote } of line.quotes) {
      const others = quotes.filter((q) => q.alias !== quote.alias);
      quotes = status === 'active' && quote.rank !== null ? [...others, { ...quote, rank: quote.rank }] : others;
    }
    const next = rerank(quotes);
    operatorLines.set(line.lineId, next);
    paintOperatorLine(line.lineId, line.quoteCount ?? next.length, line.bestPriceFen ?? null, next);
  } else if (line.bestPriceFen !== undefined) paintBest(line.lineId, line.bestPriceFen);
  if (line.own) paintOwn(line.lineId, line.own, line.nextMaxPriceFen);
  if (line.rank !== undefined) paintRank(line.lineId, line.rank, true);
}

function paintState(next: BoardState): void {
  state = next;
  paintTiming(next.round);
  for (const line of next.lines) {
    lineSeq.set(line.lineId, next.seq);
    if (line.quotes) operatorLines.set(line.lineId, line.quotes);
    if (line.quotes) paintOperatorLine(line.lineId, line.quoteCount ?? line.quotes.length, line.bestPriceFen ?? null, line.quotes);
    if (line.own !== undefined) paintOwn(line.lineId, line.own, line.nextMaxPriceFen);
    if (line.bestPriceFen !== undefined && !line.quotes) paintBest(line.lineId, line.bestPriceFen);
  }
}

/** True when a push is newer than what the line already shows. */
function fresh(lineId: string, seq: number): boolean {
  if (seq < (lineSeq.get(lineId) ?? 0)) return false;
  lineSeq.set(lineId, seq);
  return true;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function formatRemaining(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(total / 86_400);
  const clock = `${pad(Math.floor((total % 86_400) / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
  return days > 0 ? `${days}${msg('days')} ${clock}` : clock;
}

function tick(): void {
  const countdown = root?.querySelector<HTMLElement>('[data-countdown]');
  const label = root?.querySelector<HTMLElement>('[data-countdown-label]');
  if (!root || !countdown || !state) return;
  const status = root.dataset.status ?? state.round.status;
  if (status !== 'open' && status !== 'scheduled') {
    countdown.textContent = formatDateTime(countdown.dataset.closesAt, true);
    countdown.classList.remove('is-urgent');
    if (label) label.textContent = msg('ended');
    return;
  }
  const nowMs = Date.now() + offsetMs;
  const opensAt = Date.parse(countdown.dataset.opensAt ?? '');
  const closesAt = Date.parse(countdown.dataset.closesAt ?? '');
  if (nowMs < opensAt) {
    if (label) label.textContent = msg('opensIn');
    countdown.textContent = formatRemaining(opensAt - nowMs);
    return;
  }
  if (label) label.textContent = msg('closesIn');
  const left = closesAt - nowMs;
  countdown.textContent = formatRemaining(left);
  countdown.classList.toggle('is-urgent', left <= 120_000);
}

/** Reads "1950", "1,950.00" or "¥1,950.5" as fen; null when it is not an amount with at most 2 decimals. */
function parseYuan(text: string): number | null {
  const m = /^[¥￥]?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!m) return null;
  const fen = Number(m[1]!.replaceAll(',', '')) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return Number.isSafeInteger(fen) ? fen : null;
}

function showError(form: HTMLFormElement, message: string | null): void {
  const el = form.querySelector<HTMLElement>('[data-quote-error]');
  const input = form.querySelector<HTMLInputElement>('[data-price-input]');
  if (el) {
    el.hidden = !message;
    el.textContent = message ?? '';
  }
  input?.toggleAttribute('aria-invalid', Boolean(message));
  form.closest('td')?.classList.toggle('field--invalid', Boolean(message));
}

function setupForms(): void {
  const socket = getSocket();
  // NOTE: one key per submission, kept until the server answers, so a resend after a reconnect is
  // recognised as the same quote instead of a second one.
  const pendingKeys = new Map<string, { priceFen: number; key: string }>();
  document.addEventListener('submit', (event) => {
    const form = (event.target as HTMLElement).closest<HTMLFormElement>('[data-quote-form]');
    if (!form || !state) return;
    event.preventDefault();
    const lineId = form.dataset.lineId!;
    const input = form.querySelector<HTMLInputElement>('[data-price-input]')!;
    if (!input.value.trim()) return showError(form, msg('priceRequired'));
    const priceFen = parseYuan(input.value);
    if (priceFen === null || priceFen < 1) return showError(form, msg('invalidPrice'));
    showError(form, null);
    const pending = pendingKeys.get(lineId);
    const key = pending && pending.priceFen === priceFen ? pending.key : newIdempotencyKey();
    pendingKeys.set(lineId, { priceFen, key });
    const button = form.querySelector<HTMLButtonElement>('[data-quote-submit]');
    if (button) button.disabled = true;
    socket
      .timeout(10_000)
      .emitWithAck('quote:submit', { roundId: state.round.id, lineId, priceFen, clientKey: key })
      .then((reply: Ack<{ priceFen: number; rank: number | null; extended: boolean; closesAt: string }>) => {
        pendingKeys.delete(lineId);
        if (reply.error) {
          showError(form, reply.error.message);
          return;
        }
        input.value = '';
        const r = reply.data!;
        showToast({ tone: 'success', body: msg('quoteAccepted', { price: money(r.priceFen), rank: r.rank ?? '—' }), timeoutMs: 4000 });
      })
      .catch(() => showError(form, msg('quoteFailed')))
      .finally(() => {
        if (button) button.disabled = false;
      });
  });
  document.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('[data-withdraw]');
    const form = button?.closest<HTMLFormElement>('[data-quote-form]');
    if (!button || !form || !state) return;
    if (!window.confirm(msg('confirmWithdraw'))) return;
    button.disabled = true;
    socket
      .timeout(10_000)
      .emitWithAck('quote:withdraw', { roundId: state.round.id, lineId: form.dataset.lineId })
      .then((reply: Ack<unknown>) => {
        if (reply.error) showError(form, reply.error.message);
        else showToast({ tone: 'info', body: msg('withdrawn'), timeoutMs: 4000 });
      })
      .catch(() => showError(form, msg('quoteFailed')))
      .finally(() => {
        button.disabled = false;
      });
  });
}

function follow(): void {
  if (!state) return;
  const roundId = state.round.id;
  const socket = getSocket();
  const watch = () => {
    socket
      .timeout(10_000)
      .emitWithAck('round:watch', { roundId, sinceSeq: state?.seq ?? 0 })
      .then((reply: Ack<BoardState & { missed?: { lineId: string; seq: number }[] }>) => {
        if (!reply.data) return;
        const missed = reply.data.missed ?? [];
        paintState(reply.data);
        for (const lineId of new Set(missed.map((m) => m.lineId))) flash(lineId);
        if (missed.length > 0 && root?.dataset.live === 'true') showToast({ tone: 'info', body: msg('missedWhileAway', { n: missed.length }), timeoutMs: 5000 });
        if (root) root.dataset.live = 'true';
      })
      .catch(() => undefined);
  };
  socket.on('connect', watch);
  if (socket.connected) watch();

  // One push per commit: each line it changed, as this viewer may see it (see RoundLineDelta).
  socket.on('round:lines', (p: RoundLinesPayload) => {
    if (p.roundId !== roundId) return;
    for (const line of p.lines) {
      if (!fresh(line.lineId, p.seq)) continue;
      applyLine(line);
      flash(line.lineId);
    }
  });
  socket.on('round:timing', (t: Timing) => {
    if (t.roundId === roundId) paintTiming(t);
  });
  socket.on('round:extended', (t: Timing) => {
    if (t.roundId !== roundId) return;
    paintTiming(t);
    showToast({ tone: 'warning', body: msg('extended', { time: formatDateTime(t.closesAt, true), n: t.extensions, max: t.maxExtensions }), timeoutMs: 6000 });
  });
  for (const event of ['round:closed', 'round:published'] as const) {
    socket.on(event, (p: { roundId: string }) => {
      if (p.roundId !== roundId) return;
      showToast({ tone: 'info', body: msg(event === 'round:closed' ? 'closed' : 'published'), timeoutMs: 4000 });
      // The final view (results, listing) is laid out differently: show it fresh.
      setTimeout(() => location.reload(), 1500);
    });
  }
}

if (root && state) {
  setOffset(state.round.serverNow);
  for (const line of state.lines) lineSeq.set(line.lineId, state.seq);
  setupForms();
  follow();
  tick();
  setInterval(tick, 250);
}
