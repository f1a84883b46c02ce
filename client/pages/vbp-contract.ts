// Contract page (pharmacist): orders against the VBP contract through the orders API, at the
// contract price locked by the server.
import { api, ApiError } from '../lib/api';

interface PageData {
  contractId: string;
  drugId: string;
  distributorOrgId: string;
  priceFen: number;
  placed: string;
}

function setup(): void {
  const form = document.querySelector<HTMLFormElement>('[data-contract-order]');
  const result = document.querySelector<HTMLElement>('[data-order-result]');
  const error = document.querySelector<HTMLElement>('[data-order-error]');
  let page: PageData;
  try {
    page = JSON.parse(document.getElementById('vbp-contract-data')?.textContent ?? '') as PageData;
  } catch {
    return;
  }
  if (!form || !result || !error) return;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const qtyInput = form.querySelector<HTMLInputElement>('[name=quantity]')!;
    const quantity = Number(qtyInput.value.trim());
    error.hidden = true;
    if (!Number.isInteger(quantity) || quantity < 1) {
      error.textContent = qtyInput.validationMessage || '≥ 1';
      error.hidden = false;
      qtyInput.setAttribute('aria-invalid', 'true');
      return;
    }
    qtyInput.removeAttribute('aria-invalid');
    const urgency = form.querySelector<HTMLSelectElement>('[name=urgency]')!.value;
    const button = form.querySelector<HTMLButtonElement>('button')!;
    button.disabled = true;
    try {
      const body = { urgency, lines: [{ drugId: page.drugId, distributorOrgId: page.distributorOrgId, source: 'contract', refId: page.contractId, quantity, expectedUnitPriceFen: page.priceFen }] };
      const res = await api<{ data: { id: string; orderNo: string }[] }>('POST', '/api/v1/orders', body);
      const order = res.data[0]!;
      const link = document.createElement('a');
      link.href = `/orders/${order.id}`;
      link.textContent = order.orderNo;
      const note = document.createElement('div');
      note.className = 'alert alert--success';
      note.setAttribute('role', 'status');
      note.append(`${page.placed} `, link);
      result.replaceChildren(note);
      qtyInput.value = '';
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : String(err);
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
}

setup();
