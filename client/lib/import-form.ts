// A CSV/XLSX import form with a per-row error report (the server imports all rows or none).
// The page provides `[data-import-form]` (a file input and buttons with value="true" for a dry run),
// `[data-import-result]`, and its messages as JSON in a <script id="…"> element.
import { csrfToken, newIdempotencyKey } from './api';

type Messages = Record<string, string>;

interface RowError {
  row: number;
  field?: string;
  code: string;
  message: string;
}

function messages(id: string): Messages {
  try {
    return JSON.parse(document.getElementById(id)?.textContent ?? '{}') as Messages;
  } catch {
    return {};
  }
}

function fill(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, k: string) => (k in vars ? String(vars[k]) : whole));
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function showReport(target: HTMLElement, m: Messages, tone: 'success' | 'danger', summary: string, errors: RowError[] = []): void {
  target.replaceChildren(el('div', { class: `alert alert--${tone}`, role: tone === 'danger' ? 'alert' : 'status' }, summary));
  if (errors.length === 0) return;
  const table = el('table', { class: 'table table--compact', 'data-import-errors': '' });
  const head = el('tr');
  head.append(el('th', {}, m.row ?? 'Row'), el('th', {}, m.field ?? 'Field'), el('th', {}, m.problem ?? 'Problem'));
  const thead = el('thead');
  thead.append(head);
  const tbody = el('tbody');
  for (const e of errors) {
    const tr = el('tr', { 'data-row': String(e.row) });
    tr.append(el('td', { class: 'mono' }, String(e.row)), el('td', { class: 'mono' }, e.field ?? ''), el('td', { class: 'wrap' }, e.message));
    tbody.append(tr);
  }
  table.append(thead, tbody);
  const wrap = el('div', { class: 'table-wrap' });
  wrap.append(table);
  target.append(wrap);
}

/** Wires the page's import form to POST the file to `url(form)?dryRun=…` and show the report. */
export function setupImportForm(opts: { messagesId: string; url: (form: HTMLFormElement) => string }): void {
  const form = document.querySelector<HTMLFormElement>('[data-import-form]');
  const result = document.querySelector<HTMLElement>('[data-import-result]');
  if (!form || !result) return;
  const m = messages(opts.messagesId);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const dryRun = ((event as SubmitEvent).submitter as HTMLButtonElement | null)?.value === 'true';
    const file = form.querySelector<HTMLInputElement>('input[type=file]')?.files?.[0];
    if (!file) {
      showReport(result, m, 'danger', m.chooseFile ?? 'Choose a file.');
      return;
    }
    const body = new FormData();
    body.append('file', file);
    const buttons = Array.from(form.querySelectorAll<HTMLButtonElement>('button'));
    buttons.forEach((b) => (b.disabled = true));
    try {
      const response = await fetch(`${opts.url(form)}?dryRun=${dryRun}`, {
        method: 'POST',
        body,
        credentials: 'same-origin',
        headers: { Accept: 'application/json', 'x-csrf-token': csrfToken(), 'Idempotency-Key': newIdempotencyKey() },
      });
      const json = (await response.json().catch(() => ({}))) as { rows?: number; imported?: number; error?: { message: string; details?: unknown[] } };
      if (response.ok) {
        showReport(result, m, 'success', fill(dryRun ? (m.checked ?? '{rows}') : (m.imported ?? '{imported}'), { rows: json.rows ?? 0, imported: json.imported ?? 0 }));
        if (!dryRun) setTimeout(() => location.reload(), 1200);
      } else {
        const details = (json.error?.details ?? []).filter((d): d is RowError => typeof (d as RowError)?.row === 'number');
        showReport(result, m, 'danger', json.error?.message ?? m.failed ?? 'Failed', details);
      }
    } catch {
      showReport(result, m, 'danger', m.failed ?? 'Failed');
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  });
}
