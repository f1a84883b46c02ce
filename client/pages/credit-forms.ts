// Credit page forms: every <form data-credit-form data-endpoint=…> is sent to the JSON API. Files
// chosen in <input type=file name=files> are uploaded first (data-upload-purpose) and sent as fileIds.
// Refusals are shown next to the field they name ([data-error-for]) or above the buttons.
import { api, ApiError, csrfToken, type HttpMethod } from '../lib/api';
import { showToast } from '../lib/toast';

type Messages = Record<string, unknown>;
let messages: Messages | undefined;

function msgs(): Messages {
  if (messages) return messages;
  try {
    messages = JSON.parse(document.getElementById('credit-i18n')?.textContent || '{}') as Messages;
  } catch {
    messages = {};
  }
  return messages;
}

/** A `credit.client.*` message with `{name}` interpolation (the key when missing). */
export function ct(key: string, vars: Record<string, string | number> = {}): string {
  let node: unknown = msgs();
  for (const part of key.split('.')) node = node && typeof node === 'object' ? (node as Messages)[part] : undefined;
  if (typeof node !== 'string') return key;
  return node.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

function localized(err: ApiError): string {
  const own = ct(`errors.${err.code}`);
  return own === `errors.${err.code}` ? err.message : own;
}

async function uploadFiles(form: HTMLFormElement, purpose: string): Promise<string[]> {
  const ids: string[] = [];
  for (const input of form.querySelectorAll<HTMLInputElement>('input[type="file"][name="files"]')) {
    for (const file of input.files ?? []) {
      const data = new FormData();
      data.append('purpose', purpose);
      data.append('file', file, file.name);
      const res = await fetch('/api/v1/credit/files', { method: 'POST', body: data, credentials: 'same-origin', headers: { 'x-csrf-token': csrfToken(), Accept: 'application/json' } });
      const body = (await res.json().catch(() => ({}))) as { id?: string; error?: { code: string; message: string; details: unknown[] } };
      if (!res.ok || !body.id) {
        throw new ApiError(res.status, body.error ?? { code: 'UPLOAD_FAILED', message: `${file.name}: HTTP ${res.status}`, details: [] });
      }
      ids.push(body.id);
    }
  }
  return ids;
}

function bodyOf(form: HTMLFormElement, submitter: HTMLButtonElement | null): Record<string, unknown> {
  const omit = new Set((submitter?.dataset.omit ?? '').split(',').filter(Boolean));
  const body: Record<string, unknown> = {};
  for (const el of form.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>('input[name], select[name], textarea[name]')) {
    const name = el.name;
    if (!name || omit.has(name) || (el instanceof HTMLInputElement && el.type === 'file')) continue;
    const type = el.dataset.type;
    if (type === 'bool') {
      body[name] = (el as HTMLInputElement).checked;
      continue;
    }
    const raw = el.value.trim();
    if (raw === '') continue;
    if (type === 'int') body[name] = Number(raw);
    else if (type === 'datetime') body[name] = `${raw.length === 16 ? `${raw}:00` : raw}+08:00`;
    else body[name] = el instanceof HTMLTextAreaElement ? el.value : raw;
  }
  if (submitter?.name) body[submitter.name] = submitter.value;
  return body;
}

function clearErrors(form: HTMLFormElement): void {
  for (const el of form.querySelectorAll<HTMLElement>('[data-error-for], [data-form-error]')) {
    el.hidden = true;
    el.textContent = '';
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  for (const el of form.querySelectorAll('.field--invalid')) el.classList.remove('field--invalid');
}

function showErrors(form: HTMLFormElement, err: unknown): void {
  const formError = form.querySelector<HTMLElement>('[data-form-error]');
  if (!(err instanceof ApiError)) {
    if (formError) {
      formError.textContent = ct('errors.generic');
      formError.hidden = false;
    }
    return;
  }
  let placed = 0;
  for (const d of err.details as { path?: string; message?: string; code?: string }[]) {
    if (!d || typeof d.path !== 'string') continue;
    const field = d.path.split('.')[0] ?? '';
    const slot = form.querySelector<HTMLElement>(`[data-error-for="${CSS.escape(field)}"]`);
    if (!slot) continue;
    const missing = d.code === 'invalid_type' || (d.code === 'too_small' && !/\d/.test(d.message ?? ''));
    slot.textContent = missing ? ct('errors.required') : err.code === 'VALIDATION_FAILED' ? d.message ?? err.message : localized(err);
    slot.hidden = false;
    slot.closest('.field')?.classList.add('field--invalid');
    form.querySelector(`[name="${CSS.escape(field)}"]`)?.setAttribute('aria-invalid', 'true');
    placed += 1;
  }
  if (placed === 0 && formError) {
    formError.textContent = localized(err);
    formError.hidden = false;
  }
}

/** Wires every credit form on the page; `onDone` runs after a success (default: reload). */
export function wireCreditForms(onDone: (form: HTMLFormElement, result: unknown) => void = () => window.location.reload()): void {
  for (const form of document.querySelectorAll<HTMLFormElement>('form[data-credit-form]')) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (form.getAttribute('aria-busy') === 'true') return;
      const submitter = (event as SubmitEvent).submitter as HTMLButtonElement | null;
      clearErrors(form);
      form.setAttribute('aria-busy', 'true');
      const buttons = [...form.querySelectorAll<HTMLButtonElement>('button')];
      for (const b of buttons) b.disabled = true;
      try {
        const body = bodyOf(form, submitter);
        const purpose = form.dataset.uploadPurpose;
        if (purpose) {
          const ids = await uploadFiles(form, purpose);
          if (ids.length) body.fileIds = ids;
        }
        const result = await api((form.dataset.method as HttpMethod | undefined) ?? 'POST', form.dataset.endpoint ?? '', body);
        showToast({ tone: 'success', body: ct('saved'), timeoutMs: 3000 });
        onDone(form, result);
      } catch (err) {
        showErrors(form, err);
      } finally {
        form.removeAttribute('aria-busy');
        for (const b of buttons) b.disabled = false;
      }
    });
  }
}
