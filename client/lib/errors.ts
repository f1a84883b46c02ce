import { ApiError } from './api';
import { t } from './i18n';
import { showToast } from './toast';

/** Shows a failed action as a danger toast: the server's message, else a generic one. */
export function toastError(err: unknown): void {
  const network = err instanceof ApiError && err.status === 0;
  const message = network ? t('networkError') : err instanceof ApiError && err.message ? err.message : t('requestFailed');
  showToast({ tone: 'danger', body: message, dismissLabel: t('dismiss'), timeoutMs: 8000 });
}
