/** Handles a click on an element with `data-action="<name>"`; may return a promise. */
export type ActionHandler = (el: HTMLElement, event: MouseEvent) => unknown;

const handlers = new Map<string, ActionHandler>();

/** Registers the handler for `[data-action="<name>"]` buttons and links (page scripts and main.ts). */
export function registerAction(name: string, handler: ActionHandler): void {
  handlers.set(name, handler);
}

/**
 * One delegated click listener for every `[data-action]`. While an async handler runs the element is
 * busy and disabled, so a double click does not send a request twice; afterwards it is enabled again
 * unless the handler marked it `data-stay-disabled`.
 */
export function listenForActions(root: Document | HTMLElement = document): void {
  root.addEventListener('click', (event) => {
    const el = (event.target as Element | null)?.closest<HTMLElement>('[data-action]');
    if (!el || el.getAttribute('aria-busy') === 'true' || (el as HTMLButtonElement).disabled) return;
    const handler = handlers.get(el.dataset.action ?? '');
    if (!handler) return;
    event.preventDefault();
    const result = handler(el, event as MouseEvent);
    if (!(result instanceof Promise)) return;
    el.setAttribute('aria-busy', 'true');
    if (el instanceof HTMLButtonElement) el.disabled = true;
    void result
      .catch(() => undefined)
      .finally(() => {
        el.removeAttribute('aria-busy');
        if (el instanceof HTMLButtonElement && !el.hasAttribute('data-stay-disabled')) el.disabled = false;
      });
  });
}
