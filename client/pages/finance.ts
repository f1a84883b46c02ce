// Finance pages: confirm money movements before sending, send each form once, and tell the user when
// money moved elsewhere (an invoice settled, an advance made, the account credited) with a reload link.
import type { AccountCreditedPayload, AdvanceMadePayload, InvoiceSettledPayload, RepaymentRecordedPayload } from '../../server/platform/realtime.events';
import { getSocket } from '../lib/socket';
import { showToast } from '../lib/toast';

type Messages = Record<string, string>;

function messages(): Messages {
  try {
    return JSON.parse(document.getElementById('finance-i18n')?.textContent || '{}') as Messages;
  } catch {
    return {};
  }
}

const msg = messages();
const ft = (key: string, vars: Record<string, string | number> = {}) =>
  (msg[key] ?? key).replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));

for (const form of document.querySelectorAll<HTMLFormElement>('form[data-finance-form]')) {
  form.addEventListener('submit', (event) => {
    const question = form.dataset.confirm;
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (form.dataset.sent === 'true') {
      event.preventDefault();
      return;
    }
    form.dataset.sent = 'true';
    for (const button of form.querySelectorAll<HTMLButtonElement>('button[type="submit"]')) {
      button.disabled = true;
      button.setAttribute('aria-busy', 'true');
    }
  });
}

function announce(title: string, body: string, tone: 'info' | 'success' | 'warning' = 'info'): void {
  showToast({ title, body, tone, href: location.pathname + location.search, linkLabel: ft('reload'), dismissLabel: ft('dismiss'), timeoutMs: 0 });
}

if (document.body.dataset.authenticated === 'true' && document.getElementById('finance-i18n')) {
  const socket = getSocket();
  socket.on('invoice:settled', (i: InvoiceSettledPayload) => {
    announce(ft(`invoice.${i.status}`, { no: i.invoiceNo }), ft('changed'), i.status === 'overdue' ? 'warning' : 'success');
  });
  socket.on('advance:made', (a: AdvanceMadePayload) => announce(ft('advanceMade', { no: a.invoiceNo }), ft('changed')));
  socket.on('account:credited', (a: AccountCreditedPayload) => announce(ft(`credited.${a.kind}`), ft('changed'), 'success'));
  socket.on('repayment:recorded', (_r: RepaymentRecordedPayload) => announce(ft('repaid'), ft('changed'), 'success'));
}
