// Helpers shared by the order pages (imported by order-new, order-detail and orders-list).
import { ApiError } from '../lib/api';

export type Messages = Record<string, string>;

export function readJson<T>(id: string, fallback: T): T {
  try {
    const text = document.getElementById(id)?.textContent;
    return text ? (JSON.parse(text) as T) : fallback;
  } catch {
    return fallback;
  }
}

export function fill(template: string | undefined, vars: Record<string, string | number>): string {
  return (template ?? '').replace(/\{(\w+)\}/g, (whole, k: string) => (k in vars ? String(vars[k]) : whole));
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Shows a form's error: the message in the form's alert, and each detail next to its line or field. */
export function showFormError(form: HTMLElement, err: unknown, fallback: string): void {
  clearFormError(form);
  const alert = form.querySelector<HTMLElement>('[data-form-error]');
  const message = err instanceof ApiError ? err.message : fallback;
  if (alert) {
    alert.textContent = message;
    alert.hidden = false;
  }
  if (!(err instanceof ApiError)) return;
  for (const d of err.details as { lineNo?: number; path?: (string | number)[]; message?: string }[]) {
    const key = d?.lineNo ? `line-${d.lineNo}` : Array.isArray(d?.path) ? String(d.path.at(-1)) : undefined;
    const target = key ? form.querySelector<HTMLElement>(`[data-error-for="${key}"]`) : null;
    if (target && d.message) {
      target.textContent = target.hidden ? d.message : `${target.textContent} ${d.message}`;
      target.hidden = false;
      target.closest('.field')?.classList.add('field--invalid');
    }
  }
}

export function clearFormError(form: HTMLElement): void {
  form.querySelectorAll<HTMLElement>('[data-form-error], [data-error-for]').forEach((e) => {
    e.hidden = true;
    e.textContent = '';
  });
  form.querySelectorAll('.field--invalid').forEach((e) => e.classList.remove('field--invalid'));
}

/** Disables a form's buttons while `run` is in flight (a double click sends one request). */
export async function busy(form: HTMLFormElement, run: () => Promise<void>): Promise<void> {
  const buttons = Array.from(form.querySelectorAll<HTMLButtonElement>('button'));
  if (buttons.some((b) => b.getAttribute('aria-busy') === 'true')) return;
  buttons.forEach((b) => {
    b.disabled = true;
    b.setAttribute('aria-busy', 'true');
  });
  try {
    await run();
  } finally {
    buttons.forEach((b) => {
      b.disabled = false;
      b.removeAttribute('aria-busy');
    });
  }
}

/** Codes typed, scanned or pasted: any run of whitespace, commas or semicolons separates them. */
export function splitCodes(text: string): string[] {
  return text.split(/[\s,;，；]+/).map((c) => c.trim()).filter(Boolean);
}
