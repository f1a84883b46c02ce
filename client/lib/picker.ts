// Type-ahead picker (templates/partials/picker.hbs): an ARIA 1.2 combobox over a JSON search endpoint.
// Typing asks the endpoint for the first matches (name fragment, code, pinyin initials or full pinyin);
// the arrow keys move through them, Enter or a click chooses one, Escape closes the list. The chosen id
// is kept in a hidden input, so the form submits an id, never a name. A page may decorate each option
// (a grade badge, say) by listening for `picker:option` on the picker; an option it marks
// aria-disabled="true" is shown but cannot be chosen.
import { api } from './api';
import { t } from './i18n';

const DEBOUNCE_MS = 180;
const LIMIT = 10;

/** One search hit: the endpoints answer organisations ({ id, label | name }) or drugs (catalogue fields). */
export interface PickerItem {
  id: string;
  label?: string;
  name?: string;
  genericNameZh?: string;
  specification?: string;
  manufacturer?: string;
  [key: string]: unknown;
}

/** The text a hit is shown and chosen by. */
export function itemLabel(item: PickerItem): string {
  if (item.label) return item.label;
  if (item.genericNameZh) return `${item.genericNameZh} ${item.specification ?? ''}（${item.manufacturer ?? ''}）`.replace(' （', '（');
  return item.name ?? item.id;
}

export interface PickerChange {
  id: string;
  label: string;
  item: PickerItem | null;
}

/** Sent on the picker for every option it shows, before it is shown. */
export interface PickerOption {
  item: PickerItem;
  option: HTMLLIElement;
}

/** Makes one [data-picker] element work; returns it (idempotent: a second call does nothing). */
export function initPicker(root: HTMLElement): HTMLElement {
  if (root.dataset.pickerReady) return root;
  root.dataset.pickerReady = 'true';
  const input = root.querySelector<HTMLInputElement>('[data-picker-input]')!;
  const hidden = root.querySelector<HTMLInputElement>('[data-picker-value]')!;
  const list = root.querySelector<HTMLUListElement>('[data-picker-list]')!;
  const status = root.querySelector<HTMLElement>('[data-picker-status]');
  const endpoint = root.dataset.endpoint ?? '';
  let items: PickerItem[] = [];
  let active = -1;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inflight: AbortController | undefined;
  let chosenLabel = hidden.value ? input.value : '';

  // NOTE: a required picker is invalid until an entry is chosen (typing alone is no choice), so the
  // browser's own form validation stops the submit and says why.
  const required = root.dataset.required !== undefined;
  const syncValidity = () => input.setCustomValidity(required && !hidden.value ? t('pickerChoose') : '');
  const say = (text: string) => {
    if (status) status.textContent = text;
  };
  const close = () => {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  };
  const highlight = (i: number) => {
    active = i;
    list.querySelectorAll<HTMLElement>('[role="option"]').forEach((li, n) => {
      li.setAttribute('aria-selected', String(n === i));
      li.classList.toggle('picker__option--active', n === i);
      if (n === i) li.scrollIntoView?.({ block: 'nearest' });
    });
    if (i >= 0) input.setAttribute('aria-activedescendant', `${input.id}-opt-${i}`);
    else input.removeAttribute('aria-activedescendant');
  };
  const render = () => {
    list.replaceChildren(
      ...items.map((item, i) => {
        const li = document.createElement('li');
        li.id = `${input.id}-opt-${i}`;
        li.setAttribute('role', 'option');
        li.setAttribute('aria-selected', 'false');
        li.className = 'picker__option';
        li.dataset.id = item.id;
        li.textContent = itemLabel(item);
        // NOTE: mousedown, not click: the input's blur would close the list before a click lands.
        li.addEventListener('mousedown', (e) => {
          e.preventDefault();
          choose(i);
        });
        root.dispatchEvent(new CustomEvent<PickerOption>('picker:option', { detail: { item, option: li } }));
        return li;
      }),
    );
    if (items.length === 0) {
      const li = document.createElement('li');
      li.className = 'picker__empty';
      li.textContent = t('pickerNone');
      list.append(li);
    }
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    highlight(items.length ? 0 : -1);
    say(items.length ? t('pickerResults', { count: items.length }) : t('pickerNone'));
  };
  const choose = (i: number) => {
    const item = items[i];
    if (!item) return;
    const label = itemLabel(item);
    if (document.getElementById(`${input.id}-opt-${i}`)?.getAttribute('aria-disabled') === 'true') return void say(t('pickerUnavailable', { label }));
    hidden.value = item.id;
    input.value = label;
    chosenLabel = label;
    syncValidity();
    close();
    say(t('pickerChosen', { label }));
    hidden.dispatchEvent(new Event('change', { bubbles: true }));
    root.dispatchEvent(new CustomEvent<PickerChange>('picker:change', { bubbles: true, detail: { id: item.id, label, item } }));
  };
  const search = async () => {
    const q = input.value.trim();
    inflight?.abort();
    inflight = new AbortController();
    const sep = endpoint.includes('?') ? '&' : '?';
    try {
      const res = await api<{ data: PickerItem[] }>('GET', `${endpoint}${sep}q=${encodeURIComponent(q)}&limit=${LIMIT}`, undefined, { signal: inflight.signal });
      if (document.activeElement !== input) return;
      items = res.data.slice(0, LIMIT);
      render();
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      items = [];
      close();
      say(t('pickerFailed'));
    }
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void search(), DEBOUNCE_MS);
  };

  input.addEventListener('input', () => {
    if (hidden.value && input.value !== chosenLabel) {
      hidden.value = '';
      hidden.dispatchEvent(new Event('change', { bubbles: true }));
      root.dispatchEvent(new CustomEvent<PickerChange>('picker:change', { bubbles: true, detail: { id: '', label: '', item: null } }));
    }
    syncValidity();
    schedule();
  });
  input.addEventListener('focus', () => {
    if (!hidden.value) schedule();
  });
  input.addEventListener('blur', () => close());
  input.addEventListener('keydown', (e) => {
    const open = !list.hidden;
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      if (!open) return void search();
      if (items.length) highlight((active + 1) % items.length);
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      if (open && items.length) highlight((active - 1 + items.length) % items.length);
    } else if (e.key === 'Enter') {
      if (open && active >= 0) {
        e.preventDefault();
        choose(active);
      }
    } else if (e.key === 'Escape') {
      if (open) {
        e.preventDefault();
        close();
      }
    }
  });
  root.closest('form')?.addEventListener(
    'submit',
    (e) => {
      if (!required || hidden.value) return;
      e.preventDefault();
      e.stopImmediatePropagation();
      syncValidity();
      input.reportValidity();
    },
    true,
  );
  syncValidity();
  return root;
}

/** Starts every picker on the page (or under `scope`). */
export function initPickers(scope: ParentNode = document): void {
  scope.querySelectorAll<HTMLElement>('[data-picker]').forEach((el) => initPicker(el));
}
