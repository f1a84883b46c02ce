// Demand declaration page (hospital): CSV/XLSX import with a per-row error report; the server stores
// every row or none, so a rejected file changes nothing.
import { setupImportForm } from '../lib/import-form';

setupImportForm({
  messagesId: 'vbp-import-i18n',
  url: (form) => `/api/v1/vbp/declarations/${encodeURIComponent(form.dataset.declarationId ?? '')}/import`,
});
