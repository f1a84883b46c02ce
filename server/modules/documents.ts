// Every module's PDF document layouts (pure: no database, no Express), for the PDF render processes.
// A module with a PDF adds its `<module>.documents.ts` here.
import './credit/credit.documents';
import './dashboard/dashboard.documents';
import './finance/finance.documents';
import './orders/orders.documents';
import './quotation/quotation.documents';
import './vbp/vbp.documents';
