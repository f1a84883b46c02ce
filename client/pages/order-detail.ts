// One order: live status and tracking (socket `order:watch` + pushes), and the forms for the moves
// this user may make — confirm / reject (distributor), ship with codes, tracking, cancel, and the
// acceptance form where a barcode scanner "types" each traceability code followed by Enter.
import type { OrderTrackingPayload, OrderUpdatedPayload } from '../../server/platform/realtime.events';
import { api } from '../lib/api';
import { formatDateTime } from '../lib/format';
import { getSocket } from '../lib/socket';
import { openCameraScan, stopCameraScan, type CameraLabels, type ScanOutcome } from '../lib/camera-scan';
import { parseGs1, readScan, scannedCode, type Scan } from '../../server/modules/orders/orders.gs1';
import { busy, clearFormError, el, fill, readJson, showFormError, splitCodes, type Messages } from './order-shared';

interface PageData {
  orderId: string;
  status: string;
  seq: number;
  shipmentLines: { lineNo: number; quantity: number; codes: string[] }[];
  trackingLabels: Record<string, string>;
  statusLabels: Record<string, string>;
  acceptLabels: { unknownCode: string; duplicateCode: string; scanned: string };
  shipLines: { lineNo: number; tracePrefix: string }[];
  referenceYear: number;
  shipLabels: Record<'codesCount' | 'markOk' | 'markLength' | 'markPrefix' | 'markDuplicate' | 'markUnreadable' | 'markGs1' | 'filledFromScan', string>;
  cameraLabels: CameraLabels & Record<'line' | 'accepted' | 'acceptedGs1' | 'acceptedOtherLine' | 'refused' | 'duplicate', string>;
}

const m = readJson<Messages>('orders-messages', {});
const page = readJson<PageData>('orders-page', { orderId: '', status: '', seq: 0, shipmentLines: [], trackingLabels: {}, statusLabels: {}, acceptLabels: { unknownCode: '', duplicateCode: '', scanned: '' }, shipLines: [], referenceYear: new Date().getFullYear(), shipLabels: { codesCount: '', markOk: '', markLength: '', markPrefix: '', markDuplicate: '', markUnreadable: '', markGs1: '', filledFromScan: '' }, cameraLabels: { line: '', starting: '', loading: '', ready: '', accepted: '', acceptedGs1: '', acceptedOtherLine: '', refused: '', duplicate: '', denied: '', absent: '', unavailable: '', insecure: '', decoderFailed: '' } });
const base = `/api/v1/orders/${page.orderId}`;
let status = page.status;

function reloadSoon(): void {
  const notice = document.querySelector<HTMLElement>('[data-reload-notice]');
  if (notice) {
    notice.textContent = m.reloadNeeded ?? '';
    notice.hidden = false;
  }
  setTimeout(() => location.reload(), 400);
}

function setStatus(next: string): void {
  const badge = document.querySelector<HTMLElement>('[data-order-status] .badge');
  if (badge) {
    badge.textContent = page.statusLabels[next] ?? next;
    badge.dataset.status = next;
  }
}

// ---- live ----
const socket = getSocket();
const watch = () =>
  socket.emit('order:watch', { orderId: page.orderId }, (raw) => {
    const reply = raw as unknown as { data?: { order: { status: string; events: unknown[] }; shipment: { tracking: unknown[] } | null } };
    const live = document.querySelector<HTMLElement>('[data-live]');
    if (live) live.hidden = !reply?.data;
    // NOTE: the answer is the state after joining the room; a change made since the page was drawn
    // (a new state, or a tracking entry the page does not show) reloads it.
    if (!reply?.data) return;
    const shownTracking = document.querySelectorAll('[data-tracking-list] li').length;
    const missed = reply.data.order.status !== status || reply.data.order.events.length > page.seq || (reply.data.shipment?.tracking.length ?? 0) > shownTracking;
    if (missed) reloadSoon();
  });
socket.on('connect', watch);
if (socket.connected) watch();

socket.on('order:updated', (e: OrderUpdatedPayload) => {
  if (e.orderId !== page.orderId || e.seq <= page.seq) return;
  page.seq = e.seq;
  if (e.status !== status) {
    status = e.status;
    setStatus(e.status);
    reloadSoon();
  }
});

const seenTracking = new Set<number>();
socket.on('order:tracking', (e: OrderTrackingPayload) => {
  if (e.orderId !== page.orderId || seenTracking.has(e.seq)) return;
  seenTracking.add(e.seq);
  const list = document.querySelector<HTMLElement>('[data-tracking-list]');
  if (list) {
    const li = el('li', { 'data-tracking-kind': e.kind });
    li.append(el('time', { datetime: e.at }, formatDateTime(e.at)), ' ', el('span', { class: 'badge badge--info' }, page.trackingLabels[e.kind] ?? e.kind));
    if (e.location) li.append(` ${e.location}`);
    if (e.note) li.append(' ', el('span', { class: 'muted' }, e.note));
    list.append(li);
    document.querySelector<HTMLElement>('[data-no-tracking]')?.setAttribute('hidden', '');
  }
  if (e.status !== status) {
    status = e.status;
    setStatus(e.status);
    reloadSoon();
  }
});

// ---- forms ----
function intValue(root: ParentNode, name: string): number {
  const v = root.querySelector<HTMLInputElement>(`[name="${name}"]`)?.value ?? '';
  return /^\d+$/.test(v.trim()) ? Number(v) : NaN;
}

function textValue(root: ParentNode, name: string): string {
  return (root.querySelector<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>(`[name="${name}"]`)?.value ?? '').trim();
}

/**
 * The page's controls that do nothing without this script are drawn disabled (`data-needs-js`): a
 * click or Enter before it ran would submit the form natively, to this page with the fields in the URL.
 */
function enableControls(root: ParentNode): void {
  for (const control of root.querySelectorAll<HTMLButtonElement | HTMLInputElement>('[data-needs-js]')) control.disabled = false;
}

function onSubmit(selector: string, build: (form: HTMLFormElement) => { path: string; body: unknown } | null): void {
  const form = document.querySelector<HTMLFormElement>(selector);
  if (!form) return;
  enableControls(form);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    stopCameraScan();
    void busy(form, async () => {
      clearFormError(form);
      const request = build(form);
      if (!request) return;
      try {
        await api('POST', `${base}/${request.path}`, request.body);
        location.reload();
      } catch (err) {
        showFormError(form, err, m.failed ?? 'failed');
      }
    });
  });
}

onSubmit('[data-confirm-form]', (form) => {
  const lines = Array.from(form.querySelectorAll<HTMLElement>('[data-confirm-line]')).map((row) => ({
    lineNo: Number(row.dataset.confirmLine),
    quantity: Number(row.dataset.quantity),
    confirmedQty: intValue(row, 'confirmedQty'),
    backorderQty: intValue(row, 'backorderQty') || 0,
    reason: textValue(row, 'reason'),
  }));
  const full = lines.every((l) => l.confirmedQty === l.quantity && l.backorderQty === 0);
  return {
    path: 'confirm',
    body: full ? {} : { lines: lines.map((l) => ({ lineNo: l.lineNo, confirmedQty: Number.isNaN(l.confirmedQty) ? -1 : l.confirmedQty, backorderQty: l.backorderQty, ...(l.reason ? { reason: l.reason } : {}) })) },
  };
});

document.querySelectorAll<HTMLFormElement>('[data-reason-form]').forEach((form) => {
  onSubmit(`[data-reason-form="${form.dataset.reasonForm}"]`, (f) => ({ path: f.dataset.reasonForm === 'reject' ? 'reject' : 'cancel', body: { reason: textValue(f, 'reason') } }));
});

// Ship: every code is checked as it is typed or scanned — 20 digits, the drug's product prefix, not
// twice on this shipment — and marked on the spot; a GS1 DataMatrix scan gives its serial as the
// code and fills the line's batch and expiry when they are empty. The server checks all of it again.
const shipLines = Array.from(document.querySelectorAll<HTMLElement>('[data-ship-line]'));
const prefixOf = new Map(page.shipLines.map((l) => [l.lineNo, l.tracePrefix]));

const codesBox = (line: HTMLElement) => line.querySelector<HTMLTextAreaElement>('[data-ship-codes]')!;

/** How many times each code is entered on the whole shipment. */
function shipCodeCounts(): Map<string, number> {
  const seen = new Map<string, number>();
  for (const line of shipLines) for (const text of splitCodes(codesBox(line).value)) {
    const code = scannedCode(text, page.referenceYear);
    seen.set(code, (seen.get(code) ?? 0) + 1);
  }
  return seen;
}

/** What is wrong with one code on a line ('' when nothing): unreadable, not 20 digits, another product, entered twice. */
function shipCodeProblem(scan: Scan, prefix: string, duplicate: boolean): string {
  if (scan.kind === 'invalid') return page.shipLabels.markUnreadable;
  if (!/^\d{20}$/.test(scan.code)) return page.shipLabels.markLength;
  if (!scan.code.startsWith(prefix)) return fill(page.shipLabels.markPrefix, { prefix });
  if (duplicate) return page.shipLabels.markDuplicate;
  return '';
}

/** The line's codes that pass every check, against the packs it ships. */
function shipLineCount(line: HTMLElement): string {
  const good = line.querySelectorAll('[data-code-mark="ok"]').length;
  return fill(page.shipLabels.codesCount, { count: good, quantity: intValue(line, 'quantity') || 0 });
}

function markShipCodes(): void {
  const seen = shipCodeCounts();
  for (const line of shipLines) {
    const lineNo = Number(line.dataset.shipLine);
    const prefix = prefixOf.get(lineNo) ?? '';
    const texts = splitCodes(codesBox(line).value);
    const marks = texts.map((text) => {
      const scan = readScan(text, page.referenceYear);
      const problem = shipCodeProblem(scan, prefix, scan.kind !== 'invalid' && (seen.get(scan.code) ?? 0) > 1);
      let note = '';
      if (scan.kind === 'gs1') {
        note = fill(page.shipLabels.markGs1, { batchNo: scan.batchNo ?? '—', expiryDate: scan.expiryDate ?? '—' });
        fillFromScan(line, 'batchNo', scan.batchNo, '[data-filled-batch]');
        fillFromScan(line, 'expiryDate', scan.expiryDate, '[data-filled-expiry]');
      }
      const shownCode = scan.kind === 'invalid' ? text : scan.code;
      return el('li', { 'data-code-mark': problem ? 'bad' : 'ok', class: problem ? 'code-mark code-mark--bad' : 'code-mark code-mark--ok' }, `${problem ? '✗' : '✓'} ${shownCode} — ${problem || page.shipLabels.markOk}${note ? ` · ${note}` : ''}`);
    });
    line.querySelector<HTMLElement>('[data-code-marks]')!.replaceChildren(...marks);
    line.querySelector<HTMLElement>('[data-codes-count]')!.textContent = `(${shipLineCount(line)})`;
  }
}

/**
 * One code from the camera onto a ship line, through the same checks as a typed one; a code that
 * fails any of them (a duplicate above all) is refused and not added, since the camera also sees
 * barcodes that are not the pack's.
 */
function enterShipCode(line: HTMLElement, text: string): ScanOutcome {
  const labels = page.cameraLabels;
  const scan = readScan(text, page.referenceYear);
  const shown = scan.kind === 'invalid' ? text : scan.code;
  const duplicate = scan.kind !== 'invalid' && shipCodeCounts().has(scan.code);
  const problem = shipCodeProblem(scan, prefixOf.get(Number(line.dataset.shipLine)) ?? '', duplicate);
  if (duplicate && problem === page.shipLabels.markDuplicate) return { accepted: false, message: fill(labels.duplicate, { code: shown }) };
  if (problem) return { accepted: false, message: fill(labels.refused, { code: shown, reason: problem }) };
  const box = codesBox(line);
  const before = box.value.replace(/\s+$/, '');
  box.value = `${before}${before ? '\n' : ''}${entryText(text, scan)}`;
  markShipCodes();
  return scan.kind === 'gs1' && (scan.batchNo || scan.expiryDate)
    ? { accepted: true, message: fill(labels.acceptedGs1, { code: scan.code, batchNo: scan.batchNo ?? '—', expiryDate: scan.expiryDate ?? '—' }) }
    : { accepted: true, message: fill(labels.accepted, { code: shown }) };
}

/** A GS1 scan written the human-readable way, `(01)…(21)…`, so it reads in the box; anything else as it came. */
function entryText(text: string, scan: Scan): string {
  if (scan.kind !== 'gs1') return text;
  const fields = parseGs1(text);
  return fields ? Array.from(fields, ([ai, value]) => `(${ai})${value}`).join('') : text;
}

const cameraDialog = document.querySelector<HTMLDialogElement>('[data-camera-dialog]');
cameraDialog?.querySelector('[data-camera-close]')?.addEventListener('click', stopCameraScan);

/** Opens the camera for one line: `enter` takes each decoded code, `count` shows the line's progress. */
function scanWithCamera(lineNo: number, drug: string, enter: (text: string) => ScanOutcome, count: () => string): void {
  if (!cameraDialog) return;
  openCameraScan({ dialog: cameraDialog, subtitle: fill(page.cameraLabels.line, { lineNo, drug }), labels: page.cameraLabels, enter, count });
}

const legendText = (box: HTMLElement) => box.querySelector('legend')?.textContent?.replace(/^\d+\.\s*/, '').split(' · ')[0]?.trim() ?? '';

/** Puts a scanned batch or expiry into its field when the field is empty, and says so under it. */
function fillFromScan(line: HTMLElement, name: string, value: string | undefined, helpSelector: string): void {
  const input = line.querySelector<HTMLInputElement>(`[name="${name}"]`);
  if (!input || !value || input.value) return;
  input.value = value;
  const help = line.querySelector<HTMLElement>(helpSelector);
  if (help) help.textContent = page.shipLabels.filledFromScan;
}

for (const line of shipLines) {
  line.querySelector('[data-ship-codes]')?.addEventListener('input', markShipCodes);
  line.querySelector('[name="quantity"]')?.addEventListener('input', markShipCodes);
  line.querySelector('[data-camera-scan]')?.addEventListener('click', () =>
    scanWithCamera(Number(line.dataset.shipLine), legendText(line), (text) => enterShipCode(line, text), () => shipLineCount(line)),
  );
}
if (shipLines.length) markShipCodes();

onSubmit('[data-ship-form]', (form) => {
  const eta = textValue(form, 'eta');
  return {
    path: 'ship',
    body: {
      carrier: textValue(form, 'carrier'),
      trackingNo: textValue(form, 'trackingNo'),
      ...(eta ? { eta: new Date(eta).toISOString() } : {}),
      lines: Array.from(form.querySelectorAll<HTMLElement>('[data-ship-line]')).map((line) => ({
        lineNo: Number(line.dataset.shipLine),
        quantity: intValue(line, 'quantity'),
        ...(textValue(line, 'batchNo') ? { batchNo: textValue(line, 'batchNo') } : {}),
        ...(textValue(line, 'expiryDate') ? { expiryDate: textValue(line, 'expiryDate') } : {}),
        codes: splitCodes(textValue(line, 'codes')),
      })),
    },
  };
});

onSubmit('[data-track-form]', (form) => ({
  path: 'tracking',
  body: { kind: textValue(form, 'kind'), ...(textValue(form, 'location') ? { location: textValue(form, 'location') } : {}), ...(textValue(form, 'note') ? { note: textValue(form, 'note') } : {}) },
}));

// Acceptance: the scanner types a code and Enter; each code is matched to its shipment line.
const scanned = new Map<number, string[]>(page.shipmentLines.map((l) => [l.lineNo, []]));
const lineOfCode = new Map<string, number>();
for (const l of page.shipmentLines) for (const c of l.codes) lineOfCode.set(c, l.lineNo);

function renderScans(): void {
  for (const l of page.shipmentLines) {
    const box = document.querySelector<HTMLElement>(`[data-accept-line="${l.lineNo}"]`);
    if (!box) continue;
    const codes = scanned.get(l.lineNo) ?? [];
    box.querySelector<HTMLElement>('[data-scanned-count]')!.textContent = fill(page.acceptLabels.scanned, { count: codes.length, quantity: l.quantity });
    box.querySelector<HTMLElement>('[data-accepted-qty]')!.textContent = String(codes.length);
    box.querySelector<HTMLElement>('[data-refused-qty]')!.textContent = String(l.quantity - codes.length);
    const list = box.querySelector<HTMLElement>('[data-scanned-list]')!;
    list.replaceChildren(...codes.map((c) => el('li', { 'data-scanned-code': c }, c)));
  }
}

/** One scanned code onto its shipment line: the problem's message when it is not in the shipment or already scanned. */
function enterAcceptCode(text: string): { lineNo?: number; code: string; problem?: string } {
  const code = scannedCode(text, page.referenceYear); // a GS1 DataMatrix names its pack by the serial
  const lineNo = lineOfCode.get(code);
  if (lineNo === undefined) return { code, problem: fill(page.acceptLabels.unknownCode, { code }) };
  if (scanned.get(lineNo)!.includes(code)) return { lineNo, code, problem: fill(page.acceptLabels.duplicateCode, { code }) };
  scanned.get(lineNo)!.push(code);
  return { lineNo, code };
}

const scanInput = document.querySelector<HTMLInputElement>('[data-scan-input]');
const scanError = document.querySelector<HTMLElement>('[data-scan-error]');
if (scanInput) scanInput.disabled = false;
scanInput?.addEventListener('keydown', (event) => {
  if (event.key !== 'Enter') return;
  event.preventDefault();
  const problems: string[] = [];
  for (const text of splitCodes(scanInput.value)) {
    const { problem } = enterAcceptCode(text);
    if (problem) problems.push(problem);
  }
  scanInput.value = '';
  if (scanError) {
    scanError.textContent = problems.join(' ');
    scanError.hidden = problems.length === 0;
  }
  renderScans();
});
renderScans();

for (const l of page.shipmentLines) {
  const box = document.querySelector<HTMLElement>(`[data-accept-line="${l.lineNo}"]`);
  box?.querySelector('[data-camera-scan]')?.addEventListener('click', () =>
    scanWithCamera(
      l.lineNo,
      legendText(box),
      (text) => {
        const result = enterAcceptCode(text);
        if (result.problem) return { accepted: false, message: `✗ ${result.problem}` };
        renderScans();
        const labels = page.cameraLabels;
        return { accepted: true, message: result.lineNo === l.lineNo ? fill(labels.accepted, { code: result.code }) : fill(labels.acceptedOtherLine, { code: result.code, lineNo: result.lineNo! }) };
      },
      () => fill(page.acceptLabels.scanned, { count: scanned.get(l.lineNo)?.length ?? 0, quantity: l.quantity }),
    ),
  );
}

onSubmit('[data-accept-form]', (form) => ({
  path: 'acceptance',
  body: {
    lines: page.shipmentLines.map((l) => {
      const box = form.querySelector<HTMLElement>(`[data-accept-line="${l.lineNo}"]`)!;
      const codes = scanned.get(l.lineNo) ?? [];
      const refused = l.quantity - codes.length;
      const reason = textValue(box, 'refusalReason');
      const note = textValue(box, 'note');
      return {
        lineNo: l.lineNo,
        acceptedQty: codes.length,
        refusedQty: refused,
        ...(refused > 0 && reason ? { refusalReason: reason } : {}),
        ...(note ? { note } : {}),
        batchNo: textValue(box, 'batchNo'),
        expiryDate: textValue(box, 'expiryDate'),
        codes,
      };
    }),
  },
}));

