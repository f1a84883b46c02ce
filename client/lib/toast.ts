export type ToastTone = 'info' | 'success' | 'warning' | 'danger';

export interface ToastOptions {
  title?: string;
  body?: string;
  tone?: ToastTone;
  /** Makes the toast a link (e.g. to the notification's target). */
  href?: string;
  linkLabel?: string;
  /** Milliseconds before it hides itself; 0 keeps it until dismissed. */
  timeoutMs?: number;
  dismissLabel?: string;
}

function container(): HTMLElement {
  let el = document.querySelector<HTMLElement>('[data-toasts]');
  if (!el) {
    el = document.createElement('div');
    el.className = 'toasts';
    el.dataset.toasts = '';
    el.setAttribute('aria-live', 'polite');
    document.body.append(el);
  }
  return el;
}

/** Shows a toast in the layout's toast stack; returns a function that removes it. */
export function showToast(options: ToastOptions): () => void {
  const toast = document.createElement('div');
  toast.className = `toast toast--${options.tone ?? 'info'}`;
  toast.setAttribute('role', options.tone === 'danger' ? 'alert' : 'status');

  const content = document.createElement('div');
  content.className = 'toast__content';
  if (options.title) {
    const title = document.createElement('p');
    title.className = 'toast__title';
    title.textContent = options.title;
    content.append(title);
  }
  if (options.body) {
    const body = document.createElement('p');
    body.className = 'toast__body';
    body.textContent = options.body;
    content.append(body);
  }
  if (options.href) {
    const link = document.createElement('a');
    link.className = 'toast__link';
    link.href = options.href;
    link.textContent = options.linkLabel ?? '→';
    content.append(link);
  }
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'toast__close';
  close.setAttribute('aria-label', options.dismissLabel ?? '×');
  close.textContent = '×';

  toast.append(content, close);
  container().append(toast);

  let timer: ReturnType<typeof setTimeout> | undefined;
  const remove = () => {
    if (timer) clearTimeout(timer);
    toast.remove();
  };
  close.addEventListener('click', remove);
  const timeout = options.timeoutMs ?? 6000;
  if (timeout > 0) timer = setTimeout(remove, timeout);
  return remove;
}
