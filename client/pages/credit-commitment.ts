// Commitment signing: the button is enabled once the reader ticks "I have read"; it sends the
// SHA-256 of the text shown, so the server refuses if the text changed meanwhile.
import { api, ApiError } from '../lib/api';
import { registerAction } from '../lib/actions';

const box = document.querySelector<HTMLElement>('[data-commitment]');
const agree = document.querySelector<HTMLInputElement>('[data-agree]');
const button = document.querySelector<HTMLButtonElement>('[data-action="commitment-sign"]');
const errorEl = document.querySelector<HTMLElement>('[data-sign-error]');

agree?.addEventListener('change', () => {
  if (button) button.disabled = !agree.checked;
});

registerAction('commitment-sign', async () => {
  if (!box || !agree?.checked) return;
  if (errorEl) errorEl.hidden = true;
  try {
    await api('POST', '/api/v1/credit/commitment/sign', { versionId: box.dataset.versionId, textSha256: box.dataset.textSha256 });
    window.location.reload();
  } catch (err) {
    if (errorEl) {
      errorEl.textContent = err instanceof ApiError ? err.message : String(err);
      errorEl.hidden = false;
    }
    throw err;
  }
});

