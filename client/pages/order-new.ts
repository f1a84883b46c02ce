// New order: find a drug, choose among its listed distributors (cheapest first, with credit badges)
// or order at the catalogue reference price, collect a cart, and place it (one order per distributor).
import { api, ApiError, newIdempotencyKey } from '../lib/api';
import { formatMoney } from '../lib/format';
import { pageLang } from '../lib/i18n';
import type { PickerChange, PickerOption } from '../lib/picker';
import { showToast } from '../lib/toast';
import { el, fill, readJson, type Messages } from './order-shared';

interface PageData {
  sourceLabels: Record<string, string>;
  labels: Record<string, string>;
}
interface Drug {
  id: string;
  genericNameZh: string;
  genericNameEn: string;
  dosageForm: string;
  specification: string;
  manufacturer: string;
  referencePriceFen: number | null;
}
interface Listing {
  listingId: string;
  distributorOrgId: string;
  distributorName: string;
  unitPriceFen: number;
  credit: { grade: string; riskWarning: boolean; suspended: boolean } | null;
}
/** A hit of /api/v1/orders/distributors/search. */
interface DistributorChoice {
  id: string;
  name: string;
  label: string;
  credit: Listing['credit'];
  trading: 'open' | 'suspended';
}
interface CartLine {
  drugId: string;
  drugName: string;
  distributorOrgId: string;
  distributorName: string;
  source: 'listing' | 'catalogue';
  refId?: string;
  unitPriceFen: number;
  quantity: number;
}

const m = readJson<Messages>('orders-messages', {});
const page = readJson<PageData>('orders-page', { sourceLabels: {}, labels: {} });
const lang = pageLang();
const money = (fen: number) => formatMoney(fen, lang);
const CART_KEY = 'orders.cart';

let cart: CartLine[] = readCart();
let current: Drug | undefined;
let placeKey: string | undefined;

function readCart(): CartLine[] {
  try {
    const parsed = JSON.parse(sessionStorage.getItem(CART_KEY) ?? '[]') as CartLine[];
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

function saveCart(): void {
  sessionStorage.setItem(CART_KEY, JSON.stringify(cart));
  placeKey = undefined;
  renderCart();
}

function addLine(line: CartLine): void {
  const same = cart.find((l) => l.drugId === line.drugId && l.distributorOrgId === line.distributorOrgId);
  if (same) Object.assign(same, line, { quantity: same.quantity + line.quantity });
  else cart.push(line);
  saveCart();
  showToast({ tone: 'success', body: m.addedToCart, dismissLabel: '×', timeoutMs: 2000 });
}

function renderCart(errorLines: number[] = []): void {
  const body = document.querySelector<HTMLTableSectionElement>('[data-cart] tbody')!;
  body.replaceChildren();
  cart.forEach((l, i) => {
    const tr = el('tr', { 'data-cart-line': String(i + 1), ...(errorLines.includes(i + 1) ? { class: 'orders-line-error' } : {}) });
    const qty = el('input', { class: 'input', type: 'number', min: '1', step: '1', value: String(l.quantity), 'aria-label': `${l.drugName} ${page.labels.add ?? ''}` });
    qty.addEventListener('change', () => {
      const n = Number(qty.value);
      if (Number.isInteger(n) && n >= 1) {
        l.quantity = n;
        saveCart();
      }
    });
    const remove = el('button', { type: 'button', class: 'btn btn--ghost btn--sm' }, page.labels.remove);
    remove.addEventListener('click', () => {
      cart.splice(i, 1);
      saveCart();
    });
    const qtyCell = el('td', { class: 'num' });
    qtyCell.append(qty);
    const action = el('td', { class: 'col-action' });
    action.append(remove);
    tr.append(el('td', {}, l.drugName), el('td', {}, l.distributorName), el('td', {}, page.sourceLabels[l.source] ?? l.source), el('td', { class: 'num' }, money(l.unitPriceFen)), qtyCell, el('td', { class: 'num' }, money(l.unitPriceFen * l.quantity)), action);
    body.append(tr);
  });
  document.querySelector<HTMLElement>('[data-cart-total]')!.textContent = money(cart.reduce((s, l) => s + l.unitPriceFen * l.quantity, 0));
  document.querySelector<HTMLElement>('[data-cart-empty]')!.hidden = cart.length > 0;
  document.querySelector<HTMLButtonElement>('[data-place-order]')!.disabled = cart.length === 0;
}

async function search(q: string): Promise<void> {
  const list = document.querySelector<HTMLElement>('[data-drug-results]')!;
  list.replaceChildren(el('li', { class: 'muted' }, m.searching));
  const res = await api<{ data: Drug[] }>('GET', `/api/v1/catalogue/drugs?limit=20${q ? `&q=${encodeURIComponent(q)}` : ''}`);
  list.replaceChildren();
  if (res.data.length === 0) list.append(el('li', { class: 'muted' }, page.labels.noDrugs));
  for (const d of res.data) {
    const b = el('button', { type: 'button', class: 'btn btn--ghost', 'data-drug-id': d.id }, `${d.genericNameZh} ${d.dosageForm} ${d.specification} · ${d.manufacturer}`);
    b.addEventListener('click', () => void choose(d));
    const li = el('li');
    li.append(b);
    list.append(li);
  }
}

function gradeBadge(credit: Listing['credit']): HTMLElement {
  const span = el('span');
  if (!credit) return span;
  const tone = credit.suspended ? 'danger' : credit.grade === 'A' ? 'success' : credit.grade === 'B' ? 'info' : 'warning';
  span.append(el('span', { class: `badge badge--${tone}` }, `${page.labels.grade} ${credit.grade}`));
  if (credit.riskWarning) span.append(' ', el('span', { class: 'badge badge--warning' }, page.labels.riskWarning));
  if (credit.suspended) span.append(' ', el('span', { class: 'badge badge--danger' }, page.labels.suspended));
  return span;
}

// NOTE: the distributor picker shows each distributor's grade, as the listings table does; a suspended
// one is marked and cannot be chosen (ordering from it would be refused).
const distributorPicker = document.querySelector<HTMLElement>('[data-catalogue-form] [data-picker]')!;
distributorPicker.addEventListener('picker:option', (event) => {
  const { item, option } = (event as CustomEvent<PickerOption>).detail;
  const choice = item as unknown as DistributorChoice;
  option.append(' ', gradeBadge(choice.credit));
  if (choice.trading === 'suspended') {
    option.setAttribute('aria-disabled', 'true');
    option.classList.add('picker__option--disabled');
  }
});
distributorPicker.addEventListener('picker:change', (event) => {
  const { item } = (event as CustomEvent<PickerChange>).detail;
  const shown = document.querySelector<HTMLElement>('[data-catalogue-grade]')!;
  shown.replaceChildren();
  if (item) shown.append(gradeBadge((item as unknown as DistributorChoice).credit));
});

async function choose(d: Drug): Promise<void> {
  current = d;
  document.querySelector<HTMLElement>('[data-drug-panel]')!.hidden = false;
  document.querySelector<HTMLElement>('[data-drug-title]')!.textContent = `${d.genericNameZh} ${d.dosageForm} ${d.specification} · ${d.manufacturer}`;
  document.querySelector<HTMLElement>('[data-reference-price]')!.textContent = d.referencePriceFen ? `${page.labels.referencePrice} ${money(d.referencePriceFen)}` : '';
  const body = document.querySelector<HTMLTableSectionElement>('[data-listings] tbody')!;
  body.replaceChildren();
  const res = await api<{ data: Listing[] }>('GET', `/api/v1/orders/listings?drugId=${d.id}`);
  document.querySelector<HTMLElement>('[data-no-listings]')!.hidden = res.data.length > 0;
  for (const e of res.data) {
    const tr = el('tr', { 'data-listing-distributor': e.distributorOrgId });
    const qty = el('input', { class: 'input', type: 'number', min: '1', step: '1', value: '1', 'aria-label': `${e.distributorName} ${page.labels.add ?? ''}` });
    const add = el('button', { type: 'button', class: 'btn btn--secondary btn--sm', 'data-add-listing': e.distributorOrgId }, page.labels.add);
    if (e.credit?.suspended) add.disabled = true;
    add.addEventListener('click', () => {
      const n = Number(qty.value);
      if (!Number.isInteger(n) || n < 1) return void showToast({ tone: 'warning', body: m.quantityRequired, dismissLabel: '×' });
      addLine({ drugId: d.id, drugName: `${d.genericNameZh} ${d.specification}`, distributorOrgId: e.distributorOrgId, distributorName: e.distributorName, source: 'listing', refId: e.listingId, unitPriceFen: e.unitPriceFen, quantity: n });
    });
    const gradeCell = el('td');
    gradeCell.append(gradeBadge(e.credit));
    const qtyCell = el('td', { class: 'num' });
    qtyCell.append(qty);
    const action = el('td', { class: 'col-action' });
    action.append(add);
    tr.append(el('td', {}, e.distributorName), gradeCell, el('td', { class: 'num strong' }, money(e.unitPriceFen)), qtyCell, action);
    body.append(tr);
  }
}

document.querySelector<HTMLFormElement>('[data-drug-search]')!.addEventListener('submit', (event) => {
  event.preventDefault();
  void search(document.querySelector<HTMLInputElement>('[data-drug-q]')!.value.trim());
});

document.querySelector<HTMLFormElement>('[data-catalogue-form]')!.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!current?.referencePriceFen) return;
  // NOTE: the distributor picker (templates/partials/picker.hbs) keeps the chosen id in its hidden input.
  const chosen = document.querySelector<HTMLInputElement>('[data-catalogue-form] [data-picker-value]')!;
  const n = Number(document.querySelector<HTMLInputElement>('[data-catalogue-qty]')!.value);
  if (!chosen.value) return void showToast({ tone: 'warning', body: m.chooseDistributor, dismissLabel: '×' });
  if (!Number.isInteger(n) || n < 1) return void showToast({ tone: 'warning', body: m.quantityRequired, dismissLabel: '×' });
  const name = document.querySelector<HTMLInputElement>('#catalogue-distributor')!.value.replace(/（.*$/, '');
  addLine({ drugId: current.id, drugName: `${current.genericNameZh} ${current.specification}`, distributorOrgId: chosen.value, distributorName: name, source: 'catalogue', unitPriceFen: current.referencePriceFen, quantity: n });
});

function showCartError(err: unknown): void {
  const alert = document.querySelector<HTMLElement>('[data-cart-error]')!;
  alert.textContent = err instanceof ApiError ? err.message : m.failed;
  alert.hidden = false;
  const lines = err instanceof ApiError ? (err.details as { line?: number }[]).map((d) => d?.line).filter((n): n is number => typeof n === 'number') : [];
  renderCart(lines);
}

const placeForm = document.querySelector<HTMLFormElement>('[data-place-form]')!;
placeForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const button = document.querySelector<HTMLButtonElement>('[data-place-order]')!;
  if (button.getAttribute('aria-busy') === 'true' || cart.length === 0) return;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  document.querySelector<HTMLElement>('[data-cart-error]')!.hidden = true;
  // NOTE: the same key for the same cart, so a retry after a lost reply does not order twice.
  placeKey ??= newIdempotencyKey();
  const data = new FormData(placeForm);
  try {
    const res = await api<{ data: { id: string }[] }>(
      'POST',
      '/api/v1/orders',
      {
        urgency: data.get('urgency') === 'urgent' ? 'urgent' : 'regular',
        ...(String(data.get('note') ?? '').trim() ? { note: String(data.get('note')).trim() } : {}),
        lines: cart.map((l) => ({ drugId: l.drugId, distributorOrgId: l.distributorOrgId, source: l.source, ...(l.refId ? { refId: l.refId } : {}), quantity: l.quantity, expectedUnitPriceFen: l.unitPriceFen })),
      },
      { idempotencyKey: placeKey },
    );
    cart = [];
    sessionStorage.removeItem(CART_KEY);
    showToast({ tone: 'success', body: fill(page.labels.placed, { count: res.data.length }), dismissLabel: '×' });
    location.assign(res.data.length === 1 ? `/orders/${res.data[0]!.id}` : '/orders');
  } catch (err) {
    placeKey = undefined;
    showCartError(err);
  } finally {
    button.removeAttribute('aria-busy');
    button.disabled = cart.length === 0;
  }
});

const csvForm = document.querySelector<HTMLFormElement>('[data-csv-form]')!;
document.querySelector<HTMLInputElement>('[data-csv-file]')!.addEventListener('change', async (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (file) csvForm.querySelector<HTMLTextAreaElement>('textarea')!.value = await file.text();
});
csvForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const alert = csvForm.querySelector<HTMLElement>('[data-csv-error]')!;
  alert.hidden = true;
  const csv = csvForm.querySelector<HTMLTextAreaElement>('textarea')!.value;
  const urgency = new FormData(placeForm).get('urgency') === 'urgent' ? 'urgent' : 'regular';
  try {
    const res = await api<{ data: { id: string }[] }>('POST', '/api/v1/orders/import', { csv, urgency });
    location.assign(res.data.length === 1 ? `/orders/${res.data[0]!.id}` : '/orders');
  } catch (err) {
    alert.replaceChildren();
    alert.append(el('p', { class: 'strong' }, err instanceof ApiError ? err.message : m.failed));
    if (err instanceof ApiError) for (const d of err.details as { message?: string }[]) if (d?.message) alert.append(el('p', {}, d.message));
    alert.hidden = false;
  }
});

renderCart();
void search('');
// NOTE: a listing's order button opens this page with ?drugId= so the drug is already chosen.
const preselected = new URLSearchParams(location.search).get('drugId');
if (preselected && /^[a-f0-9]{24}$/.test(preselected)) {
  void api<Drug>('GET', `/api/v1/catalogue/drugs/${preselected}`).then((d) => choose(d)).catch(() => undefined);
}
