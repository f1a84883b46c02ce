// The purchase order (采购订单) and the delivery note (随货同行单, GSP Art. 73 fields: supplier,
// manufacturer, generic name, dosage form, specification, batch, quantity, receiving unit, address,
// ship date): pure layouts from plain data, rendered in a PDF worker. Same data → same bytes.
import { t, type Lang } from '../../platform/i18n';
import type { PdfKit, PdfTable } from '../../platform/pdf';
import { definePdf } from '../../platform/pdf-documents';

export interface PurchaseOrderLineData {
  lineNo: number;
  drugName: string;
  dosageForm: string;
  specification: string;
  manufacturer: string;
  /** listing | catalogue | contract */
  sourceKind: string;
  quantity: number;
  packUnit: string;
  unitPriceFen: number;
  amountFen: number;
}

export interface PurchaseOrderData {
  orderNo: string;
  /** ISO instants */
  placedAt: string;
  confirmBy: string;
  hospitalName: string;
  distributorName: string;
  deliveryAddress: string;
  /** urgent | regular */
  urgency: string;
  placedByName: string;
  note?: string;
  totalFen: number;
  lines: PurchaseOrderLineData[];
}

export interface DeliveryNoteData {
  orderNo: string;
  hospitalName: string;
  distributorName: string;
  deliveryAddress: string;
  shipmentNo: string;
  shippedAt: string;
  shippedByName: string;
  carrier: string;
  trackingNo: string;
  lines: { drugName: string; dosageForm: string; specification: string; manufacturer: string; packUnit: string; batchNo: string; expiryDate: string; quantity: number; codeCount: number }[];
}

const tr = (lang: Lang, key: string, vars?: Record<string, unknown>) => t(lang, `orders.pdf.${key}`, vars);

/** The purchase order's table of lines (its columns are laid out from the measured text). */
export function purchaseOrderTable(o: PurchaseOrderData, lang: Lang, kit: Pick<PdfKit, 'money'>): PdfTable {
  return {
    columns: [
      { header: tr(lang, 'no'), align: 'right' },
      { header: tr(lang, 'genericName') },
      { header: tr(lang, 'formSpec') },
      { header: tr(lang, 'manufacturer') },
      { header: tr(lang, 'source') },
      { header: tr(lang, 'quantity'), align: 'right' },
      { header: tr(lang, 'unitPrice'), align: 'right' },
      { header: tr(lang, 'amount'), align: 'right' },
    ],
    rows: o.lines.map((l) => [
      String(l.lineNo),
      l.drugName,
      `${l.dosageForm} ${l.specification}`,
      l.manufacturer,
      t(lang, `orders.source.${l.sourceKind}`),
      `${l.quantity} ${l.packUnit}`,
      kit.money(l.unitPriceFen),
      kit.money(l.amountFen),
    ]),
  };
}

/** The hospital's purchase order, as placed (prices locked at order time). */
export const PurchaseOrderDocument = definePdf<PurchaseOrderData>('orders.purchase-order', (o, lang) => ({
  meta: { title: `${tr(lang, 'purchaseOrder')} ${o.orderNo}`, date: new Date(o.placedAt), subject: tr(lang, 'purchaseOrder') },
  draw(kit) {
    kit.heading(tr(lang, 'purchaseOrder'));
    kit.keyValues(
      [
        [tr(lang, 'orderNo'), o.orderNo],
        [tr(lang, 'placedAt'), kit.datetime(o.placedAt)],
        [tr(lang, 'buyer'), o.hospitalName],
        [tr(lang, 'supplier'), o.distributorName],
        [tr(lang, 'address'), o.deliveryAddress],
        [tr(lang, 'urgency'), t(lang, `orders.urgency.${o.urgency}`)],
        [tr(lang, 'placedBy'), o.placedByName],
        [tr(lang, 'confirmBy'), kit.datetime(o.confirmBy)],
      ],
      { columns: 2 },
    );
    kit.table(purchaseOrderTable(o, lang, kit));
    kit.keyValues([[tr(lang, 'total'), kit.money(o.totalFen)]]);
    if (o.note) kit.paragraph(`${tr(lang, 'note')}：${o.note}`);
    kit.signatureBlock([
      { title: tr(lang, 'buyerParty'), name: o.hospitalName, signedBy: o.placedByName, signedAt: o.placedAt },
      { title: tr(lang, 'supplierParty'), name: o.distributorName },
    ]);
  },
}));

/** The delivery note that travels with the goods (随货同行单), one row per shipped line and batch. */
export const DeliveryNoteDocument = definePdf<DeliveryNoteData>('orders.delivery-note', (s, lang) => ({
  meta: { title: `${tr(lang, 'deliveryNote')} ${s.shipmentNo}`, date: new Date(s.shippedAt), subject: tr(lang, 'deliveryNote') },
  draw(kit) {
    kit.heading(tr(lang, 'deliveryNote'));
    kit.keyValues(
      [
        [tr(lang, 'supplier'), s.distributorName],
        [tr(lang, 'shipmentNo'), s.shipmentNo],
        [tr(lang, 'receivingUnit'), s.hospitalName],
        [tr(lang, 'orderNo'), s.orderNo],
        [tr(lang, 'address'), s.deliveryAddress],
        [tr(lang, 'shipDate'), kit.date(s.shippedAt)],
        [tr(lang, 'carrier'), s.carrier],
        [tr(lang, 'trackingNo'), s.trackingNo],
      ],
      { columns: 2 },
    );
    kit.table({
      columns: [
        { header: tr(lang, 'genericName') },
        { header: tr(lang, 'dosageForm') },
        { header: tr(lang, 'specification') },
        { header: tr(lang, 'manufacturer') },
        { header: tr(lang, 'batchNo') },
        { header: tr(lang, 'expiry') },
        { header: tr(lang, 'quantity'), align: 'right' },
      ],
      rows: s.lines.map((l) => [l.drugName, l.dosageForm, l.specification, l.manufacturer, l.batchNo, l.expiryDate, `${l.quantity} ${l.packUnit}`]),
    });
    kit.paragraph(tr(lang, 'codesNote', { count: s.lines.reduce((n, l) => n + l.codeCount, 0) }), { muted: true, size: 9 });
    kit.signatureBlock([
      { title: tr(lang, 'supplierStamp'), name: s.distributorName, signedBy: s.shippedByName, signedAt: s.shippedAt },
      { title: tr(lang, 'receiverParty'), name: s.hospitalName },
    ]);
  },
}));
