// Catalogue page: CSV/XLSX import with a per-row error report (the server imports all rows or none).
import { setupImportForm } from '../lib/import-form';

setupImportForm({ messagesId: 'catalogue-i18n', url: () => '/api/v1/catalogue/import' });
